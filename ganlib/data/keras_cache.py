"""Keras's own dataset loaders (`keras.datasets`), and whether their cache is usable offline."""

import contextlib
import io
import os

KERAS_CACHE = os.path.join(os.path.expanduser("~"), ".keras", "datasets")


def keras_cache_loads(name, folder):
    """True when Keras's cache holds the dataset whole (a failed download leaves a folder)."""
    if not os.path.isdir(os.path.join(KERAS_CACHE, folder)):
        return False
    try:
        keras_loader(name)
        return True
    except Exception:  # an empty or partial cache: Keras would try to download
        return False


# Datasets whose download failed in this process: every later load goes straight to the
# fallback instead of waiting for the network (and printing its failure) again.
FAILED_DOWNLOADS = {}


def keras_loader(name):
    """((train_images, train_labels), (test_images, test_labels)) from keras.datasets."""
    import keras  # imported here so that reading IDX files needs no TensorFlow start-up

    if name in FAILED_DOWNLOADS:
        raise FAILED_DOWNLOADS[name]
    try:
        # Keras prints "Downloading data from <address>" first; the source line that
        # ganlib prints afterwards says where the data came from.
        with contextlib.redirect_stdout(io.StringIO()):
            return getattr(keras.datasets, name).load_data()
    except Exception as failure:
        FAILED_DOWNLOADS[name] = failure
        raise
