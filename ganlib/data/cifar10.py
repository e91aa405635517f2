"""CIFAR-10: 60,000 colour photos of 32 x 32 in 10 classes (class 3 is "cat").

Online, Keras's loader (its cache under ~/.keras/datasets, or a download of about 170 MB).
Offline, `--data-dir` points at the extracted `cifar-10-batches-py` folder of the
original archive (cifar-10-python.tar.gz): five training batches and one test batch, each
a Python pickle holding `data` (10,000 rows of 3,072 bytes: the red plane, then green,
then blue, each 32 x 32 row by row) and `labels`.
"""

import os
import pickle

import numpy as np

from ganlib.data.images import ImageData, first_line, pick_split
from ganlib.data.keras_cache import keras_cache_loads, keras_loader
from ganlib.errors import GanlibError

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"


def load_cifar10(split, data_dir=None):
    """CIFAR-10 as ImageData, from `data_dir`, Keras's cache or a Keras download."""
    if data_dir is not None:
        arrays, source = read_batches_folder(data_dir), f"the CIFAR-10 batches in {data_dir}"
    elif keras_cache_loads("cifar10", "cifar-10-batches-py"):
        arrays, source = _from_keras(), "Keras's CIFAR-10 cache"
    else:
        try:
            arrays, source = _from_keras(), "Keras's CIFAR-10 download"
        except Exception as keras_failure:
            raise GanlibError(
                f"no CIFAR-10 source: Keras's download failed ({first_line(keras_failure)}); "
                "download cifar-10-python.tar.gz on a connected machine, extract it, and pass "
                "--data-dir path/to/cifar-10-batches-py") from None
    images, labels = pick_split(arrays, split)
    return ImageData("cifar10", images, labels, CLASS_NAMES, source)


def _from_keras():
    (train_images, train_labels), (test_images, test_labels) = keras_loader("cifar10")
    return (train_images, train_labels.reshape(-1)), (test_images, test_labels.reshape(-1))


def read_batches_folder(folder):
    """((train images, labels), (test images, labels)) from a cifar-10-batches-py folder."""
    if not os.path.isdir(folder):
        raise GanlibError(f"--data-dir {folder} is not a folder; pass the extracted "
                          "cifar-10-batches-py folder")
    train = [read_batch(os.path.join(folder, name)) for name in TRAIN_BATCHES]
    test = read_batch(os.path.join(folder, TEST_BATCH))
    return ((np.concatenate([images for images, _ in train]),
             np.concatenate([labels for _, labels in train])), test)


def read_batch(path):
    """One CIFAR-10 pickle -> (uint8 images (N, 32, 32, 3), int labels (N,))."""
    if not os.path.isfile(path):
        raise GanlibError(f"{path} is missing; --data-dir must be the extracted "
                          "cifar-10-batches-py folder (data_batch_1..5 and test_batch)")
    try:
        with open(path, "rb") as file:
            # The archive's own format; only open pickles you trust (this one comes from the
            # CIFAR-10 authors' archive that you downloaded).
            batch = pickle.load(file, encoding="bytes")
        rows = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int32)
        images = rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    except Exception as error:  # a truncated or foreign file: many exception types
        raise GanlibError(f"cannot read CIFAR-10 batch {path} ({first_line(error)[:100]}); "
                          "extract the archive again") from None
    if len(images) != len(labels):
        raise GanlibError(f"{path} holds {len(images):,} images but {len(labels):,} labels; "
                          "extract the archive again")
    return np.ascontiguousarray(images), labels
