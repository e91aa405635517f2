"""Datasets: real pixels, labels, class selection, equal batches, reproducible streams."""

import gzip
import os
import struct

import numpy as np
import pytest

from ganlib import data
from ganlib.data.mnist import FASHION_MNIST_DIR
from ganlib.errors import GanlibError


def test_mnist_is_real_digits_and_says_where_they_came_from(mnist, capsys):
    data.ANNOUNCED.clear()
    again = data.load_dataset("mnist")
    assert f"{len(again):,} images" in capsys.readouterr().out
    data.load_dataset("mnist")
    assert capsys.readouterr().out == ""  # said once per process, not at every load
    assert "OFFLINE MNIST SAMPLE" in mnist.source or "full 70,000" in mnist.source
    assert mnist.images.dtype == np.uint8 and mnist.image_shape == (28, 28, 1)
    counts = np.bincount(mnist.labels, minlength=10)
    assert len(counts) == 10 and counts.min() > 0.08 * len(mnist)  # all ten digits, balanced
    # Real MNIST: mostly black background, ~13% ink (a random or blank fixture is not).
    assert 25 < mnist.images.mean() < 40 and (mnist.images == 0).mean() > 0.7


def test_held_out_split_does_not_overlap_training(mnist):
    test = data.load_dataset("mnist", split="test", verbose=False)
    train_rows = {image.tobytes() for image in mnist.images}
    assert len(test) > 0 and not any(image.tobytes() in train_rows for image in test.images)


def test_class_selection_keeps_only_those_classes(mnist):
    subset = data.select_classes(mnist, [7, 1, 4])
    assert set(np.unique(subset.labels)) == {1, 4, 7}
    assert len(subset) == sum((mnist.labels == k).sum() for k in (1, 4, 7))


def test_unknown_class_dataset_and_split_are_clear_errors(mnist):
    with pytest.raises(GanlibError, match="class 12 does not exist"):
        data.select_classes(mnist, [1, 12])
    with pytest.raises(GanlibError, match="unknown dataset 'cifar100'"):
        data.load_dataset("cifar100")
    with pytest.raises(GanlibError, match="unknown split"):
        data.load_dataset("mnist", split="validation")


def test_batches_are_equal_sized_scaled_and_carry_noise(mnist):
    subset = data.take_subset(mnist, 100)
    stream = data.training_batches(subset, 16, latent_dim=8, critic_steps=2, seed=0,
                                   first_epoch=0, last_epoch=2)
    batches = list(stream.as_numpy_iterator())
    assert len(batches) == 2 * 3  # 100 // (16 x 2) = 3 full steps per epoch, remainder dropped
    for batch in batches:
        # One fresh real batch (and noise batch) per discriminator update of the step.
        assert batch["images"].shape == (16, 2, 28, 28, 1)
        assert batch["images"].min() >= -1.0 and batch["images"].max() <= 1.0
        assert batch["noise"].shape == (16, 2, 8) and batch["labels"].shape == (16, 2)
    # Each epoch is a different shuffle; no image repeats within an epoch, not even across
    # the critic updates of one step.
    first_epoch = np.concatenate([b["images"] for b in batches[:3]]).reshape(96, -1)
    second_epoch = np.concatenate([b["images"] for b in batches[3:]]).reshape(96, -1)
    assert not np.array_equal(first_epoch, second_epoch)
    assert len(np.unique(first_epoch, axis=0)) == 96


def test_stream_resumed_mid_epoch_is_the_same_stream(mnist):
    subset = data.take_subset(mnist, 64)
    whole = list(data.training_batches(subset, 16, 4, 1, seed=3, first_epoch=0,
                                       last_epoch=2).as_numpy_iterator())
    resumed = list(data.training_batches(subset, 16, 4, 1, seed=3, first_epoch=1,
                                         last_epoch=2, start_batch=2).as_numpy_iterator())
    assert len(resumed) == 2
    for expected, got in zip(whole[6:], resumed):
        for key in ("images", "labels", "noise"):
            np.testing.assert_array_equal(expected[key], got[key])


def test_batch_larger_than_dataset_is_a_clear_error(mnist):
    with pytest.raises(GanlibError, match="lower --batch-size"):
        data.steps_per_epoch(data.take_subset(mnist, 10), 64)
    with pytest.raises(GanlibError, match="5 critic steps"):
        data.steps_per_epoch(data.take_subset(mnist, 100), 32, critic_steps=5)


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_load_as_fashion_mnist(tmp_path):
    rng = np.random.default_rng(0)
    train_images, test_images = rng.integers(0, 256, (30, 28, 28)), rng.integers(0, 256, (10, 28, 28))
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", train_images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(30) % 10)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", test_images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(10))
    loaded = data.load_dataset("fashion_mnist", data_dir=str(tmp_path), verbose=False)
    np.testing.assert_array_equal(loaded.images[..., 0], train_images)
    np.testing.assert_array_equal(loaded.labels, np.arange(30) % 10)
    assert str(tmp_path) in loaded.source
    both = data.load_dataset("fashion_mnist", split="all", data_dir=str(tmp_path), verbose=False)
    assert len(both) == 40


def test_corrupt_or_missing_idx_files_are_clear_errors(tmp_path):
    with pytest.raises(GanlibError, match="missing from"):
        data.load_dataset("fashion_mnist", data_dir=str(tmp_path))
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / (stem + ".gz")).write_bytes(b"this is not gzip")
    with pytest.raises(GanlibError, match="cannot read IDX file"):
        data.load_dataset("fashion_mnist", data_dir=str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_DIR),
                    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")
def test_full_fashion_mnist_from_debian_files():
    fashion = data.load_dataset("fashion_mnist", verbose=False)
    assert fashion.images.shape == (60000, 28, 28, 1)
    assert np.bincount(fashion.labels).tolist() == [6000] * 10
    assert len(data.load_dataset("fashion_mnist", split="test", verbose=False)) == 10000
