"""A small image classifier per dataset: the judge behind `ganlib.metrics`.

    python -m ganlib.classifier mnist      # trains it and ships trained_models/classifier_mnist.keras
    python -m ganlib.classifier pokemon    # no real classes: learns to tell rotations apart
    python -m ganlib.classifier folder --data-dir my_photos --out runs/my_judge.keras

Two conv blocks and a feature layer. The features (the penultimate layer) feed the
Frechet classifier distance and precision/recall; the softmax feeds the classifier score,
class coverage and conditional accuracy. It is trained on the dataset's training split and
its accuracy on the held-out test split is written in its card, so every metric says how
good its judge is.

The MNIST judge has to be strict: a grid with broken 4s and trailing strokes must not read
as near real. It is the "wide" network (two convolutions per block, 256 features) trained
with "strong" augmentation (rotations, zoom, elastic distortion): features that do not move
when a real hand writes a digit a little differently, so what does move them is damage. On
the DCGAN shipped then it read FCD 5.6x its floor where the first judge (one convolution per
block, shifts only) read 3.4x. `JUDGE_RECIPES` keeps each dataset's choice.

Pokemon sprites and your own folders have no classes worth judging by (normal/shiny is a
colouring, a folder's subfolders may be anything). Their judge is trained without labels,
on a task the images set themselves: which of four quarter turns was applied to an image
(Gidaris et al., 2018). To answer, a network must learn what upright shapes look like, so
its features still separate plausible sprites from blobs, and the Frechet distance on them
works like the FCD. It cannot say which class a sample is, so class coverage and the
classifier score are left out for these datasets.
"""

import argparse
import os
import time
import weakref

import numpy as np

from ganlib import cli
from ganlib.data import DATASETS, load_dataset, to_unit_range
from ganlib.errors import GanlibError
from ganlib.files import atomic_write, write_json
from ganlib.quiet import import_tensorflow_quietly
from ganlib.sample import TRAINED_MODELS

FEATURES_LAYER = "features"
LABEL_FREE = ("pokemon", "folder")  # judged by a rotation-prediction network
# dataset -> (architecture, augmentation, epochs) of its judge; the rest use DEFAULT_RECIPE.
JUDGE_RECIPES = {"mnist": ("wide", "strong", 30)}
DEFAULT_RECIPE = ("small", "shift", 15)


def classifier_path(dataset):
    """Where the shipped classifier of a dataset lives."""
    return os.path.join(TRAINED_MODELS, f"classifier_{dataset}.keras")


def build_classifier(image_shape, num_classes, architecture="small"):
    """small: Conv 32 -> Conv 64 -> Dense 128 ('features') -> softmax over the classes;
    wide: two convolutions per block (64, 128) and 256 features, for a stricter judge."""
    import keras
    from keras import layers

    if architecture == "wide":
        blocks = [layers.Conv2D(64, 3, padding="same", activation="relu"),
                  layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
                  layers.Conv2D(128, 3, padding="same", activation="relu"),
                  layers.Conv2D(128, 3, padding="same", activation="relu"), layers.MaxPooling2D()]
        features, dropout = 256, 0.4
    else:
        blocks = [layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
                  layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D()]
        features, dropout = 128, 0.3
    return keras.Sequential([
        keras.Input(image_shape), *blocks,
        layers.Flatten(), layers.Dropout(dropout),
        layers.Dense(features, activation="relu", name=FEATURES_LAYER),
        layers.Dense(num_classes, activation="softmax", name="class_probabilities"),
    ], name="classifier")


def elastic_distort(images, rng, strength=34.0, smoothness=4.0):
    """Elastic distortion (Simard et al., 2003): each pixel moves along a smooth random
    field, as a hand draws the same digit a little differently each time.

    `images` are uint8 (N, H, W, C); `strength` scales the displacement in pixels before
    the field is smoothed by a Gaussian of width `smoothness`.
    """
    from scipy import ndimage

    count, height, width, channels = images.shape
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    distorted = np.empty_like(images)
    for index in range(count):
        dy, dx = (ndimage.gaussian_filter(rng.uniform(-1, 1, (height, width)), smoothness)
                  * strength for _ in range(2))
        coordinates = [rows + dy, columns + dx]
        for channel in range(channels):
            distorted[index, ..., channel] = ndimage.map_coordinates(
                images[index, ..., channel], coordinates, order=1, mode="constant")
    return distorted


def augmenter(kind, seed):
    """The training augmentation of the judge: small shifts, or "strong" (shifts, rotations
    up to 15 degrees, zoom, elastic distortion) for features that deformed strokes cannot
    fool; a function uint8 images -> float images in [-1, 1]."""
    import keras

    layers = [keras.layers.RandomTranslation(0.1, 0.1, seed=seed)]
    if kind == "strong":
        layers += [keras.layers.RandomRotation(15 / 360, seed=seed),
                   keras.layers.RandomZoom(0.1, seed=seed)]
    geometric = keras.Sequential(layers)
    rng = np.random.default_rng(seed)

    def augment(images):
        if kind == "strong":
            images = elastic_distort(images, rng)
        return np.asarray(geometric(to_unit_range(images), training=True))
    return augment


def rotation_task(images):
    """Each image in its four quarter turns, labelled 0..3: classes without labels."""
    rotated = np.concatenate([np.rot90(images, turns, axes=(1, 2)) for turns in range(4)])
    return rotated, np.repeat(np.arange(4, dtype=np.int32), len(images))


def judge_recipe(dataset, architecture=None, augmentation=None, epochs=None):
    """(architecture, augmentation, epochs) of a dataset's judge; given values win."""
    chosen = (architecture, augmentation, epochs)
    recipe = JUDGE_RECIPES.get(dataset, DEFAULT_RECIPE)
    return tuple(value if value is not None else default
                 for value, default in zip(chosen, recipe))


def train_classifier(dataset, epochs=None, seed=0, verbose=1, data_dir=None, limit=None,
                     image_size=None, augmentation=None, architecture=None):
    """Train the classifier on the train split; return (model, held-out accuracy, card).

    Unset choices come from the dataset's judge recipe (`JUDGE_RECIPES`).
    """
    import keras

    architecture, augmentation, epochs = judge_recipe(dataset, architecture, augmentation,
                                                      epochs)

    keras.utils.set_random_seed(seed)
    options = dict(data_dir=data_dir, image_size=image_size)
    train = load_dataset(dataset, "train", limit=limit, **options)
    test = load_dataset(dataset, "test", **options)
    train_images, train_labels = train.images, train.labels
    test_images, test_labels = test.images, test.labels
    task = "classes"
    if dataset in LABEL_FREE:
        task = "rotation"
        train_images, train_labels = rotation_task(train_images)
        test_images, test_labels = rotation_task(test_images)
    model = build_classifier(train.image_shape, 4 if task == "rotation" else train.num_classes,
                             architecture)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # Augmented every epoch: the offline MNIST sample has only 4,000 training digits.
    augment = augmenter(augmentation, seed)
    started = time.time()
    for epoch in range(epochs):
        model.fit(augment(train_images), train_labels, batch_size=128, epochs=epoch + 1,
                  initial_epoch=epoch, verbose=verbose)
    _, accuracy = model.evaluate(to_unit_range(test_images), test_labels, verbose=0)
    card = {"dataset": dataset, "data_source": train.source, "training_images": len(train),
            "test_images": len(test), "test_accuracy": round(float(accuracy), 4),
            "task": task, "architecture": architecture, "augmentation": augmentation,
            "epochs": epochs,
            "wall_time_seconds": round(time.time() - started, 1)}
    return model, float(accuracy), card


def classifier_card(dataset, path=None):
    """The card of a dataset's judge ({} when it has none): its task and accuracy."""
    from ganlib.files import read_json

    return read_json(os.path.splitext(path or classifier_path(dataset))[0] + ".json") or {}


def judge_fingerprint(dataset, path=None):
    """The first 12 hex digits of the judge file's SHA-256: which judge scored a result."""
    import hashlib

    path = path or classifier_path(dataset)
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()[:12]
    except OSError:
        return None


# file -> (its size and modification time, the classifier loaded from it). Every evaluation
# of a session (each early-stopping check, each arm of a comparison) then shares one model
# and so one traced predict function: a model loaded per evaluation traced again each time,
# and after a few TensorFlow printed a warning about "excessive" retracing.
_LOADED = {}


def load_classifier(dataset, path=None):
    """The shipped classifier of a dataset, or the one at `path` (an error says how to
    train one)."""
    path = path or classifier_path(dataset)
    if not os.path.isfile(path):
        raise GanlibError(f"no classifier for {dataset} at {path}; train it with "
                          f"`python -m ganlib.classifier {dataset}`")
    file = os.path.realpath(path)
    status = os.stat(file)
    stamp = (status.st_size, status.st_mtime_ns)  # a retrained file reloads
    if file in _LOADED and _LOADED[file][0] == stamp:
        return _LOADED[file][1]
    import keras

    try:
        classifier = keras.models.load_model(file, compile=False)
    except Exception as error:  # a damaged file raises many different types
        raise GanlibError(f"cannot load {path} ({str(error)[:120]}); retrain it with "
                          f"`python -m ganlib.classifier {dataset}`") from None
    _LOADED[file] = (stamp, classifier)
    return classifier


# classifier -> its two-output twin. Built once per classifier: a new model per call would
# trace a new predict function each time (seconds, at every early-stopping evaluation).
_FEATURE_MODELS = weakref.WeakKeyDictionary()


def features_and_probabilities(classifier, images):
    """(penultimate features, class probabilities) for uint8 or [-1, 1] images."""
    import keras

    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = to_unit_range(images)
    if images.ndim == 3:
        images = images[..., None]
    both = _FEATURE_MODELS.get(classifier)
    if both is None:
        both = keras.Model(classifier.inputs, [classifier.get_layer(FEATURES_LAYER).output,
                                               classifier.outputs[0]])
        _FEATURE_MODELS[classifier] = both
    features, probabilities = both.predict(images, batch_size=500, verbose=0)
    return features, probabilities


def _without_optimizer(model):
    """An uncompiled twin sharing the layers: the shipped file then holds weights only.

    (Keras 3's `clone_model` copies the compile state too, optimizer slots and all, which
    tripled the file.)
    """
    import keras

    return keras.Model(model.inputs, model.outputs, name=model.name)


@cli.reports_errors
def main(argv=None):
    """Command-line entry point: train and ship a dataset's classifier."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.classifier", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--epochs", type=int,
                        help="default: the dataset's recipe (mnist 30, others 15)")
    parser.add_argument("--data-dir", help="the dataset's folder (folder, cifar10 offline)")
    parser.add_argument("--limit", type=int, help="train on this many images (quick runs)")
    parser.add_argument("--augmentation", choices=["shift", "strong"],
                        help="shift: small shifts; strong: also rotations, zoom and elastic "
                             "distortion (default: mnist strong, others shift)")
    parser.add_argument("--architecture", choices=["small", "wide"],
                        help="small: one convolution per block, 128 features; wide: two, "
                             "256 features (default: mnist wide, others small)")
    parser.add_argument("--image-size", type=int,
                        help="pokemon and folder: the side of the generators it will judge")
    parser.add_argument("--out", help="model path (default: the shipped location)")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    if args.dataset not in DATASETS:
        raise GanlibError(f"unknown dataset '{args.dataset}'; choose one of: "
                          f"{', '.join(DATASETS)}")
    if args.dataset == "folder" and not args.out:
        raise GanlibError("a folder's judge is yours, not shipped: pass --out, e.g. "
                          "--out runs/my_photos_judge.keras, then evaluate with "
                          "--classifier that file")
    if args.epochs is not None and args.epochs < 1:
        raise GanlibError(f"--epochs must be at least 1, got {args.epochs}")
    out = args.out or classifier_path(args.dataset)
    model, accuracy, card = train_classifier(args.dataset, args.epochs, verbose=2,
                                             data_dir=args.data_dir, limit=args.limit,
                                             image_size=args.image_size,
                                             augmentation=args.augmentation,
                                             architecture=args.architecture)
    atomic_write(out, _without_optimizer(model).save, suffix=".keras")
    write_json(os.path.splitext(out)[0] + ".json", card)
    print(f"classifier for {args.dataset}: held-out accuracy {accuracy:.4f}; saved to {out}")
    return 0


if __name__ == "__main__":
    cli.run(main)
