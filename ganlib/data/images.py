"""A dataset in memory: uint8 images, integer labels, class names and where they came from."""

import dataclasses

import numpy as np

from ganlib.errors import GanlibError


@dataclasses.dataclass
class ImageData:
    """Images as uint8 (N, H, W, C), integer labels (N,), and where they came from."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    class_names: tuple
    source: str

    @property
    def image_shape(self):
        """(height, width, channels) of one image."""
        return tuple(self.images.shape[1:])

    @property
    def num_classes(self):
        """How many classes the dataset defines (not only the ones selected)."""
        return len(self.class_names)

    def __len__(self):
        return len(self.images)


def select_classes(data, classes):
    """Keep only the images whose label is in `classes` (labels keep their original ids)."""
    classes = sorted(set(int(label) for label in classes))
    unknown = [label for label in classes if not 0 <= label < data.num_classes]
    if unknown:
        raise GanlibError(f"class {unknown[0]} does not exist in {data.name}; "
                          f"use class ids 0..{data.num_classes - 1}")
    keep = np.isin(data.labels, classes)
    return dataclasses.replace(data, images=data.images[keep], labels=data.labels[keep])


def take_subset(data, limit):
    """A fixed random subset of `limit` images (the same every run), for quick experiments."""
    if limit < 1:
        raise GanlibError(f"--limit must be at least 1, got {limit}")
    order = np.random.default_rng(0).permutation(len(data))[:limit]
    return dataclasses.replace(data, images=data.images[order], labels=data.labels[order])


def to_unit_range(images_uint8):
    """uint8 pixels 0..255 -> float32 in [-1, 1], the range of the generator's tanh."""
    return np.asarray(images_uint8, np.float32) / 127.5 - 1.0


def to_uint8(images):
    """Float images in [-1, 1] -> uint8 pixels 0..255."""
    return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def pick_split(arrays, split):
    (train_images, train_labels), (test_images, test_labels) = arrays
    if split == "train":
        images, labels = train_images, train_labels
    elif split == "test":
        images, labels = test_images, test_labels
    else:
        images = np.concatenate([train_images, test_images])
        labels = np.concatenate([train_labels, test_labels])
    return np.ascontiguousarray(images, dtype=np.uint8), labels.astype(np.int32)
