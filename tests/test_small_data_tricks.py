"""The small-data options of the train step: DiffAugment, an EMA generator, spectral norm.
Each test proves what the option does inside the compiled step, on real MNIST digits."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import batches, compiled_gan, small_knobs
from ganlib.data import take_subset
from ganlib.errors import GanlibError
from ganlib.tricks.diff_augment import DiffAugment, color, cutout, translate

SEED = tf.constant([7, 11], tf.int64)


def test_translation_moves_content_by_at_most_an_eighth_and_is_seeded():
    images = -np.ones((16, 16, 16, 1), np.float32)
    images[:, 8, 8] = 1.0  # one bright pixel in the middle
    moved = translate(tf.constant(images), SEED).numpy()
    again = translate(tf.constant(images), SEED).numpy()
    assert np.array_equal(moved, again)  # the same seed, the same shifts
    positions = [np.argwhere(picture[..., 0] == 1.0)[0] for picture in moved]
    shifts = np.abs(np.array(positions) - 8)
    assert shifts.max() <= 2 and shifts.max() > 0  # up to 16 / 8 = 2 pixels, not always 0
    assert not np.array_equal(moved, translate(tf.constant(images), SEED + 1).numpy())


def test_cutout_blanks_a_quarter_and_color_changes_only_colour_images():
    images = tf.ones((32, 16, 16, 3))
    cut = cutout(images, SEED).numpy()
    blanked = np.mean(cut == 0, axis=(1, 2, 3))
    assert 0.05 < blanked.mean() <= 0.25  # an 8 x 8 square, clipped at the borders
    changed = color(tf.random.stateless_uniform((8, 4, 4, 3), SEED, -1, 1), SEED).numpy()
    assert changed.shape == (8, 4, 4, 3) and np.isfinite(changed).all()


def test_gradients_flow_through_every_augmentation():
    images = tf.Variable(tf.random.stateless_uniform((4, 8, 8, 3), SEED, -1, 1))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(DiffAugment(("translation", "cutout", "color"))(images, SEED))
    gradient = tape.gradient(total, images).numpy()
    assert np.isfinite(gradient).all() and np.abs(gradient).sum() > 0


def test_diff_augment_changes_what_d_sees_in_the_step_and_stays_deterministic(mnist):
    data = take_subset(mnist, 128)

    def trained(augment):
        gan = compiled_gan("dcgan", data, small_knobs(diff_augment=augment))
        gan.fit(batches(gan, data, 32, 1), epochs=1, steps_per_epoch=3, verbose=0)
        return [np.asarray(v) for v in gan.discriminator.trainable_variables]

    plain, augmented, again = trained(""), trained("translation,cutout"), trained(
        "translation,cutout")
    assert all(np.array_equal(a, b) for a, b in zip(augmented, again))
    assert not all(np.allclose(a, b) for a, b in zip(plain, augmented))


def test_color_augmentation_is_refused_for_grey_images(mnist, tmp_path):
    from ganlib import train

    with pytest.raises(GanlibError, match="needs colour images"):
        compiled_gan("dcgan", take_subset(mnist, 64), small_knobs(diff_augment="color"))
    assert train.main(["dcgan", "--out", str(tmp_path / "run"), "--diff-augment",
                       "color"]) == 2
    assert not (tmp_path / "run").exists()


def test_spectral_norm_keeps_every_d_layer_at_slope_one(mnist):
    data = take_subset(mnist, 128)
    gan = compiled_gan("dcgan", data, small_knobs(spectral_norm=True))
    wrapped = [layer for layer in gan.discriminator.layers
               if type(layer).__name__ == "SpectralNormalization"]
    assert len(wrapped) == 3  # two convs and the logit
    gan.fit(batches(gan, data, 32, 1), epochs=1, steps_per_epoch=4, verbose=0)
    for layer in wrapped:
        kernel = np.asarray(layer.layer.kernel).reshape(-1, layer.layer.kernel.shape[-1])
        # Power iteration estimates the largest singular value; it is normalised to ~1.
        assert np.linalg.svd(kernel, compute_uv=False)[0] < 1.2


def test_ema_generator_is_the_average_of_the_trained_weights(mnist, tmp_path):
    from ganlib.checkpoints import load_checkpoint, save_checkpoint

    data = take_subset(mnist, 128)
    gan = compiled_gan("dcgan", data, small_knobs(ema=0.5))
    gan.fit(batches(gan, data, 32, 1), epochs=1, steps_per_epoch=4, verbose=0)
    current = [np.asarray(v) for v in gan.generator.trainable_variables]
    with gan.averaged_generator() as generator:
        averaged = [np.asarray(v) for v in generator.trainable_variables]
    after = [np.asarray(v) for v in gan.generator.trainable_variables]
    assert all(np.array_equal(a, b) for a, b in zip(current, after))  # restored afterwards
    assert not all(np.allclose(a, b) for a, b in zip(current, averaged))
    # The averages are training state: a checkpoint carries them to a resumed run.
    save_checkpoint(str(tmp_path / "c.npz"), gan, {"step": 4})
    fresh = compiled_gan("dcgan", data, small_knobs(ema=0.5), seed=1)
    load_checkpoint(str(tmp_path / "c.npz"), fresh)
    with fresh.averaged_generator() as generator:
        restored = [np.asarray(v) for v in generator.trainable_variables]
    assert all(np.array_equal(a, b) for a, b in zip(averaged, restored))


def test_a_run_with_ema_ships_the_averaged_generator(tmp_path):
    import keras

    from ganlib import train
    from ganlib.knobs import Knobs

    class LastRawWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):  # before the run saves its generator
            self.weights = [np.asarray(v) for v in self.model.generator.trainable_variables]

    raw = LastRawWeights()
    config = train.TrainConfig("dcgan", str(tmp_path / "run"), limit=96, epochs=1,
                               batch_size=32, knobs=Knobs(latent_dim=8, g_filters=0.25,
                                                          d_filters=0.25, ema=0.5))
    result = train.train(config, extra_callbacks=[raw], verbose=0)
    saved = keras.models.load_model(tmp_path / "run" / "generator.keras", compile=False)
    with result.gan.averaged_generator() as generator:
        expected = [np.asarray(v) for v in generator.weights]
    assert all(np.allclose(a, np.asarray(b)) for a, b in zip(expected, saved.weights))
    # The finished run's G is the saved one too: a notebook draws and measures what ships.
    assert all(np.array_equal(np.asarray(a), np.asarray(b))
               for a, b in zip(result.gan.generator.weights, saved.weights))
    # Before G's first update there is no average yet: the first grid shows G as it is.
    from PIL import Image

    first_grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "step_0000000.png"))
    first_image = first_grid[4:60, 4:60]  # 28 px scaled 2x, after the 2 px (x2) border
    assert first_image.std() > 1  # not the flat grey of all-zero weights
    # The average is not the last weights G trained to.
    assert not all(np.allclose(a, np.asarray(b))
                   for a, b in zip(raw.weights, saved.trainable_variables))


def test_the_average_warms_up_instead_of_remembering_the_first_weights():
    """m_t = min(decay, t / (t + 10)): step 0 copies, and the decay is reached gradually."""
    import keras

    from ganlib.tricks.ema import AdamWithAverage, warmed_up_momentum

    assert [round(float(warmed_up_momentum(t, 0.999)), 4) for t in (0, 10, 90, 10_000)] == \
        [0.0, 0.5, 0.9, 0.999]
    weight = keras.Variable([0.0])
    optimizer = AdamWithAverage(0.1, use_ema=True, ema_momentum=0.999)
    optimizer.build([weight])
    expected_average = 0.0
    for step in range(30):
        optimizer.apply_gradients([(keras.ops.convert_to_tensor([-1.0]), weight)])
        momentum = min(0.999, step / (step + 10))
        expected_average = momentum * expected_average + (1 - momentum) * float(weight[0])
    average = float(optimizer._model_variables_moving_average[0][0])
    assert average == pytest.approx(expected_average, rel=1e-4)
    # With Keras's fixed 0.999 the average would still sit near the first step's weight.
    assert average > 0.5 * float(weight[0])
