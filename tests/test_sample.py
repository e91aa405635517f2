"""Sampling from the shipped DCGAN and from a conditional run: files, shapes, seeds."""

import numpy as np
from PIL import Image

from conftest import run_module
from ganlib.sample import sample_labels


def test_shipped_dcgan_writes_a_png_grid_by_default(tmp_path):
    result = run_module("ganlib.sample", "DCGAN", cwd=tmp_path, tf_log_level=None)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # TensorFlow's C++ start-up lines (cuInit, oneDNN) hidden
    path = tmp_path / "dcgan_samples.png"
    assert str(path) in result.stdout
    grid = np.asarray(Image.open(path))
    assert grid.shape == (2 * (8 * 30 + 2), 2 * (8 * 30 + 2))  # 8 x 8 digits, scaled 2x
    assert grid.std() > 30  # digits, not a blank or flat picture


def test_same_seed_same_images_and_npy_layout(tmp_path):
    from ganlib.sample import main

    first, again, other = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    for path, seed in ((first, 5), (again, 5), (other, 6)):
        assert main(["dcgan", "--num", "10", "--seed", str(seed), "--out", str(path)]) == 0
    images = np.load(first)
    assert images.shape == (10, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, np.load(again))
    assert not np.array_equal(images, np.load(other))


def test_zero_noise_spread_gives_identical_images(tmp_path):
    out = tmp_path / "same.npy"
    assert run_module("ganlib.sample", "dcgan", "--num", "4", "--std", "0", "--mean", "0.5",
                      "--out", out).returncode == 0
    images = np.load(out)
    assert all(np.array_equal(images[0], image) for image in images[1:])


def test_conditional_labels_cycle_through_the_trained_classes(tiny_cgan_run, tmp_path):
    card = {"num_classes": 10, "classes": [1, 4, 7]}
    assert sample_labels(card, 5)[:, 0].tolist() == [1, 4, 7, 1, 4]
    assert sample_labels(card, 3, label=4)[:, 0].tolist() == [4, 4, 4]
    out = tmp_path / "cgan.npy"
    result = run_module("ganlib.sample", "cgan", "--model", tiny_cgan_run / "generator.keras",
                        "--num", "6", "--label", "7", "--out", out)
    assert result.returncode == 0, result.stderr
    assert np.load(out).shape == (6, 28, 28)


def test_shipped_pokemon_generator_draws_colour_sprites_on_white(tmp_path):
    from ganlib.sample import main

    out = tmp_path / "sprites.npy"
    assert main(["dcgan", "--dataset", "pokemon", "--num", "6", "--out", str(out)]) == 0
    images = np.load(out)
    assert images.shape == (6, 64, 64, 3) and images.dtype == np.uint8
    # The white background the sprites were composited on, and colour in the middle.
    assert images[:, :4].mean() > 200
    centres = images[:, 20:44, 20:44].astype(float)
    assert centres.std() > 20 and np.abs(centres[..., 0] - centres[..., 2]).mean() > 5
