"""The notebooks' helpers: the latent explorer's widgets, morphs, the toy GAN, run settings."""

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def shipped_cdcgan():
    from ganlib.sample import load_generator, shipped_model_path

    return load_generator(shipped_model_path("cdcgan"))


@pytest.fixture(scope="module")
def shipped_dcgan():
    from ganlib.sample import load_generator, shipped_model_path

    return load_generator(shipped_model_path("dcgan"))


def _read_digit(image):
    """The shipped MNIST classifier's reading of one generated image."""
    from ganlib.classifier import features_and_probabilities, load_classifier

    _, probabilities = features_and_probabilities(load_classifier("mnist"), image[None])
    return int(np.argmax(probabilities[0]))


def test_moving_a_slider_redraws_the_picture(shipped_dcgan):
    from ganlib.explore import LatentExplorer

    explorer = LatentExplorer(*shipped_dcgan)
    before = explorer.image.value
    assert before[:4] == b"\x89PNG"
    explorer.sliders[0].value = 2.5
    assert explorer.latent()[0] == pytest.approx(2.5)
    assert explorer.image.value != before


def test_new_random_z_moves_the_sliders_and_the_picture(shipped_dcgan):
    from ganlib.explore import LatentExplorer

    explorer = LatentExplorer(*shipped_dcgan)
    sliders_before = [slider.value for slider in explorer.sliders]
    picture_before = explorer.image.value
    explorer.new_z_button.click()
    assert [slider.value for slider in explorer.sliders] != sliders_before
    assert explorer.image.value != picture_before


# What Chromium's slider (ipywidgets 8.1, range -3..3, step 0.1) sent back to the kernel for
# each value, read in tests/test_browser.py's JupyterLab: its own float arithmetic.
BROWSER_SLIDER_VALUES = {0.1: 0.10000000000000009, -0.5: -0.49999999999999956,
                         2.0: 2.000000000000001, 2.5: 2.5, -0.9: -0.8999999999999999,
                         1.6: 1.5999999999999996, 3.0: 3.0, -3.0: -3.0}


def test_slider_values_are_the_browsers_own_so_it_never_sends_them_back(shipped_dcgan):
    from ganlib.explore import LatentExplorer, on_slider_grid

    for typed, browser in BROWSER_SLIDER_VALUES.items():
        assert on_slider_grid(typed) == browser
        assert on_slider_grid(typed + 0.03) == browser  # snapped to the nearest step
    explorer = LatentExplorer(*shipped_dcgan)
    explorer.new_z_button.click()
    for index, slider in enumerate(explorer.sliders):
        assert on_slider_grid(slider.value) == slider.value
        assert explorer.latent()[index] == pytest.approx(slider.value)


def test_displayed_explorer_carries_a_square_png_for_readers_without_a_kernel(shipped_dcgan):
    import base64
    import io

    from PIL import Image

    from ganlib.explore import PICTURE_PIXELS, LatentExplorer

    explorer = LatentExplorer(*shipped_dcgan)
    bundle = explorer._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    picture = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert picture.size == (PICTURE_PIXELS, PICTURE_PIXELS)
    assert explorer.image.layout.width == explorer.image.layout.height == f"{PICTURE_PIXELS}px"


def test_interpolation_slider_ends_at_the_second_point(shipped_dcgan):
    from ganlib.explore import LatentExplorer

    explorer = LatentExplorer(*shipped_dcgan)
    explorer.interpolation_slider.value = 1.0
    np.testing.assert_allclose(explorer.latent(), explorer.end, atol=1e-5)


def test_class_selector_changes_the_digit_the_classifier_reads(shipped_cdcgan):
    from ganlib.explore import LatentExplorer

    explorer = LatentExplorer(*shipped_cdcgan)
    readings = {}
    for digit in (0, 3, 7):
        explorer.class_selector.value = digit
        assert explorer.label() == digit
        readings[digit] = _read_digit(explorer.render())
    assert readings == {0: 0, 3: 3, 7: 7}


def test_unconditional_explorer_has_no_class_selector(shipped_dcgan):
    from ganlib.explore import LatentExplorer

    assert LatentExplorer(*shipped_dcgan).class_selector is None


def test_slerp_keeps_the_ends_and_the_norm():
    from ganlib.explore import slerp

    rng = np.random.default_rng(0)
    start, end = rng.standard_normal((2, 100))
    np.testing.assert_allclose(slerp(start, end, 0.0), start, atol=1e-5)
    np.testing.assert_allclose(slerp(start, end, 1.0), end, atol=1e-5)
    # Two Gaussian vectors have about the same norm; the great circle keeps it in between.
    middle = np.linalg.norm(slerp(start, end, 0.5))
    assert min(np.linalg.norm(start), np.linalg.norm(end)) * 0.95 < middle


def test_soft_labels_reproduce_the_generator_and_morph_between_classes(shipped_cdcgan):
    from ganlib.explore import class_morph, soft_label_generator
    from ganlib.sample import generate_images, latent_noise

    generator, _ = shipped_cdcgan
    noise = latent_noise(3, 100, seed=1)
    labels = np.array([[1], [4], [9]], np.int32)
    soft = soft_label_generator(generator)
    np.testing.assert_allclose(np.asarray(soft([noise, np.eye(10, dtype=np.float32)[[1, 4, 9]]])),
                               generate_images(generator, noise, labels), atol=1e-5)
    morph = class_morph(generator, noise[0], 1, 7, steps=5)
    assert morph.shape == (5, 28, 28, 1)
    assert _read_digit(morph[0]) == 1 and _read_digit(morph[-1]) == 7


def test_toy_gan_learns_the_ring():
    from ganlib import toy

    assert toy.modes_covered(toy.ring_of_gaussians(2000)) == 8
    assert toy.modes_covered(toy.ring_of_gaussians(2000)[:1].repeat(2000, 0)) == 1
    run = toy.train_toy(steps=2000, snapshot_every=500)
    assert sorted(run.snapshots) == [0, 500, 1000, 1500, 2000]
    assert len(run.history["d_loss"]) == 2000
    # The untrained generator covers at most one mode; trained, it covers most of the ring.
    assert toy.modes_covered(run.snapshots[0]) <= 1
    assert toy.modes_covered(run.snapshots[2000]) >= 6


def test_run_config_is_the_shipped_recipe_or_a_quick_slice():
    from ganlib import modes

    card = modes.shipped_card("dcgan")
    full = modes.run_config("dcgan", "full", card["training_images"])
    # The epochs the shipped command planned, not where its early stopping ended the run.
    assert (full.epochs, full.split) == (modes.shipped_config(card).epochs, "all")
    assert full.out == os.path.join(modes.ROOT, "runs", "dcgan-mnist-full")
    pokemon = modes.run_config("dcgan", "full", 9_540, dataset="pokemon").resolved()
    # Every setting of the shipped run's command, data options and tricks included.
    assert (pokemon.augment, pokemon.knobs.g_filters, pokemon.knobs.ema) == ("flip", 0.5, 0.999)
    quick = modes.run_config("dcgan", "quick", card["training_images"])
    assert (quick.epochs, quick.limit) == (modes.QUICK_EPOCHS, modes.QUICK_IMAGES)
    assert not quick.out.startswith(modes.ROOT)


def test_toy_per_step_history_undoes_keras_running_means():
    from ganlib import toy

    run = toy.train_toy(steps=40, snapshot_every=20)
    values = np.array(run.history["d_loss"])
    running = np.cumsum(values) / np.arange(1, 41)  # what Keras logged
    assert np.abs(np.diff(values)).mean() > 3 * np.abs(np.diff(running)).mean()


def test_architecture_diagram_has_one_box_per_layer(shipped_cdcgan):
    from ganlib.tutorial import plot_architecture

    generator, _ = shipped_cdcgan
    figure = plot_architecture(generator)
    boxes = [text for text in figure.axes[0].texts if text.get_bbox_patch() is not None]
    assert len(boxes) == len(generator.layers)
    assert any("label" in box.get_text() for box in boxes)


def test_show_gif_thins_the_frames():
    from PIL import Image

    from conftest import ROOT
    from ganlib.tutorial import show_gif

    path = os.path.join(ROOT, "trained_models", "dcgan_mnist.gif")
    shown = show_gif(path, max_frames=5)
    import io

    with Image.open(io.BytesIO(shown.data)) as gif:
        assert gif.n_frames == 5
    assert len(shown.data) < os.path.getsize(path)


def test_a_mode_fixes_the_images_seen_not_the_epochs():
    from ganlib import modes

    for dataset_images in (5_000, 70_000):  # the offline sample and Keras's MNIST
        config = modes.run_config("dcgan", "full", dataset_images)
        images = modes.run_images(config.resolved(), dataset_images)
        target = modes.planned_images(modes.shipped_card("dcgan"))
        assert abs(images - target) <= dataset_images / 2, dataset_images
    short = modes.run_config("dcgan", "short", 5_000)
    assert modes.run_images(short.resolved(), 5_000) == pytest.approx(
        modes.SHORT_IMAGES["dcgan"], rel=0.03)


def test_full_mode_plans_what_the_shipped_command_planned_not_where_it_stopped():
    from ganlib import modes
    from ganlib.tricks.scheduled_dropout import dropout_rate_at

    # The shipped AD-GAN's command planned 340 epochs; early stopping ended it at 333. Its
    # dropout schedule ends a quarter into the *planned* run, so a full run of 333 epochs
    # would drop dropout at other epochs and train another model.
    card = modes.shipped_card("adgan")
    shipped = modes.shipped_config(card).resolved()
    assert card["early_stopping"]["stopped"] and card["epochs"] < shipped.epochs
    full = modes.run_config("adgan", "full", card["training_images"]).resolved()
    assert full.epochs == shipped.epochs and full.patience == shipped.patience
    knobs = shipped.knobs

    def schedule(epochs):
        return [dropout_rate_at(epoch, epochs, knobs.dropout_initial, knobs.dropout_final,
                                knobs.dropout_step, knobs.dropout_final_fraction)
                for epoch in range(card["epochs"])]

    assert full.knobs == knobs
    assert schedule(full.epochs) == schedule(shipped.epochs) != schedule(card["epochs"])
    # Where the shipped run stopped early, the run's first line says so.
    line = modes.describe(modes.run_config("adgan", "full", 5_000), "full", 5_000)
    assert "1,697,280 real images (340 epochs" in line
    assert f"ended it at {card['images_seen']:,} images" in line


def test_a_notebook_run_draws_one_progress_line_not_a_bar_per_epoch(capsys):
    from ganlib import modes

    result = modes.train_or_load("vanilla", "quick")  # 2 epochs of 10 steps, real digits
    out = capsys.readouterr().out
    assert "Epoch 1/" not in out  # Keras's own bars are off
    progress = [line for line in out.split("\n") if line.startswith("\rstep ")]
    assert len(progress) == 1, out  # every redraw rewrote the same line
    shown = progress[0].rsplit("\r", 1)[-1]  # what the line reads at the end
    assert shown.startswith("step 20 of 20 (100%) | epoch 2 of 2 | ")
    assert "images/s" in shown and "d_loss" in shown and "min left" not in shown  # done
    after = out.split(progress[0] + "\n", 1)[1]
    assert after.startswith("[ganlib] trained vanilla for 2 epochs")

    # The speed and time left, on a clock of ours so the numbers are exact: 100 steps of
    # 10 ms, then 3.96 s of end-of-epoch checks, in a run planned for 6,100 steps.
    from ganlib.progress import RunProgress, say

    now = [0.0]
    line = RunProgress(6_100, 64, interval=0, warmup=1, clock=lambda: now[0])
    line.set_model(result.gan)
    line.set_params({"epochs": 61})
    line.on_epoch_begin(0)
    for step in range(1, 101):
        now[0] += 0.01
        result.gan.step.assign(step)
        line.on_train_batch_end(step - 1, {"d_loss": 0.5, "g_loss": 2.0})
    # Before an epoch has ended, only the steps are timed, and the line says so.
    assert line.line(now[0]) == ("step 100 of 6,100 (2%) | epoch 1 of 61 | 6,400 images/s | "
                                 "about 1.0 min of steps left | d_loss 0.5 | g_loss 2")
    now[0] += 3.96
    line.on_epoch_end(0, {"fcd_500": 49.5})
    # 4.95 s for the 99 timed steps and their checks: 0.05 s a step, 6,000 steps left.
    assert line.line(now[0]) == ("step 100 of 6,100 (2%) | epoch 1 of 61 | 1,280 images/s | "
                                 "about 5.0 min left | d_loss 0.5 | g_loss 2 | fcd_500 49.5")
    capsys.readouterr()
    say("[ganlib] news")  # a message during training starts on a line of its own
    assert capsys.readouterr().out == "\n[ganlib] news\n"


def test_choose_refuses_an_unknown_mode_and_the_tests_always_get_quick(monkeypatch):
    from ganlib import modes
    from ganlib.errors import GanlibError

    with pytest.raises(GanlibError, match="unknown mode 'fast'"):
        modes.choose("fast")
    monkeypatch.setenv(modes.QUICK_ENV, "1")
    assert modes.choose("full") == "quick"
    monkeypatch.setenv(modes.QUICK_ENV, "")
    assert modes.choose("explore") == "explore"


def test_explore_mode_stands_the_shipped_model_in_for_a_run(shipped_dcgan):
    from ganlib import modes
    from ganlib.sample import generate_images, latent_noise

    run = modes.load_shipped("dcgan")
    noise = latent_noise(4, run.card["latent_dim"], seed=3)
    np.testing.assert_array_equal(generate_images(run.gan.generator, noise),
                                  generate_images(shipped_dcgan[0], noise))
    assert run.history and run.history[-1]["images_seen"] <= run.card["images_seen"]
    assert os.path.isfile(run.progress_gif)


def test_modes_command_refuses_an_unknown_family_in_one_line(capsys):
    from ganlib import modes

    assert modes.main(["dcgan", "stylegan"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no short run for 'stylegan'" in err
    assert "Traceback" not in err


def test_toy_exact_wasserstein_distance_of_a_shift_is_the_shift():
    from ganlib import toy

    points = toy.ring_of_gaussians(200, seed=3)
    assert toy.wasserstein_distance(points, points[::-1].copy()) == pytest.approx(0.0, abs=1e-9)
    assert toy.wasserstein_distance(points, points + [0.3, 0.4]) == pytest.approx(0.5)


def test_toy_wgan_critic_weights_stay_clipped_and_the_gp_critic_is_free():
    from ganlib import toy

    runs = {family: toy.train_toy(steps=20, batch_size=32, snapshot_every=10, family=family)
            for family in ("wgan", "wgan_gp")}
    clip = toy.TOY_FAMILIES["wgan"]["weight_clip"]
    for family, run in runs.items():
        weights = np.concatenate([np.ravel(v.numpy())
                                  for v in run.gan.discriminator.trainable_variables])
        if family == "wgan":
            assert np.abs(weights).max() <= clip + 1e-7
        else:
            assert np.abs(weights).max() > clip  # no clipping: Glorot weights are larger
        assert sorted(toy.true_distances(run)) == [0, 10, 20]
