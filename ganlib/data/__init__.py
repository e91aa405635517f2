"""Datasets -> numpy arrays -> `tf.data` pipelines of images in [-1, 1] with labels and noise.

Two steps, kept apart so each is easy to test:

1. `load_dataset(name)` returns an `ImageData` (`images.py`): uint8 images shaped
   (N, H, W, C), integer labels, and `source`, a sentence saying exactly where the pixels
   came from (printed once per process).
2. `training_batches(data, ...)` (`pipeline.py`) turns it into the stream `GAN.fit` consumes.

One module per source, each with its own fallbacks:

| dataset         | module        | images                       | labels                     |
|-----------------|---------------|------------------------------|----------------------------|
| `mnist`         | `mnist.py`    | 28 x 28 grey digits          | the digit                  |
| `fashion_mnist` | `mnist.py`    | 28 x 28 grey clothes         | 10 kinds of clothing       |
| `cifar10`       | `cifar10.py`  | 32 x 32 colour photos        | 10 classes (3 = cat)       |
| `pokemon`       | `pokemon.py`  | 64 x 64 colour sprites       | normal / shiny colouring   |
| `folder`        | `folder.py`   | your own images, any size    | the subfolder names        |
"""

from ganlib.data.images import (ImageData, pick_split, select_classes, take_subset,
                                to_uint8, to_unit_range)
from ganlib.data.pipeline import steps_per_epoch, training_batches
from ganlib.errors import GanlibError

DATASETS = ("mnist", "fashion_mnist", "cifar10", "pokemon", "folder")
SPLITS = ("train", "test", "all")
# Datasets whose images are made at a size you choose (--image-size); the others are fixed.
RESIZABLE = ("pokemon", "folder")

__all__ = ["DATASETS", "ImageData", "load_dataset", "pick_split", "select_classes",
           "steps_per_epoch", "take_subset", "to_uint8", "to_unit_range", "training_batches"]


ANNOUNCED = set()  # the source lines printed so far in this process


def load_dataset(name, split="train", classes=None, limit=None, data_dir=None, verbose=True,
                 image_size=None, channels=None, background="white"):
    """Load a dataset by name as uint8 images and labels; print which source was used.

    `image_size`, `channels` and `background` (the colour transparent pixels become) shape
    the `pokemon` and `folder` images; the fixed-size datasets refuse a different size.
    """
    if name not in DATASETS:
        raise GanlibError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise GanlibError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    if name not in RESIZABLE and (image_size is not None or channels is not None):
        raise GanlibError(f"{name} images have a fixed size; --image-size and --channels are "
                          f"for {' and '.join(RESIZABLE)}")
    if name == "mnist":
        from ganlib.data.mnist import load_mnist

        data = load_mnist(split)
    elif name == "fashion_mnist":
        from ganlib.data.mnist import load_fashion_mnist

        data = load_fashion_mnist(split, data_dir)
    elif name == "cifar10":
        from ganlib.data.cifar10 import load_cifar10

        data = load_cifar10(split, data_dir)
    elif name == "pokemon":
        from ganlib.data.pokemon import load_pokemon

        data = load_pokemon(split, data_dir, image_size or 64, channels or 3, background)
    else:
        from ganlib.data.folder import load_folder

        data = load_folder(split, data_dir, image_size or 64, channels or 3, background)
    if classes is not None:
        data = select_classes(data, classes)
    if limit is not None:
        data = take_subset(data, limit)
    line = f"[ganlib] {data.name}: {len(data):,} images {data.image_shape} from {data.source}"
    if verbose and line not in ANNOUNCED:  # once per process: a notebook loads data often
        ANNOUNCED.add(line)
        print(line)
    return data
