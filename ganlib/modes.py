"""The notebooks' three ways to run, chosen by one variable at the top of each notebook.

    MODE = "explore"                       # or "short" or "full"
    mode = modes.choose(MODE)
    result = modes.train_or_load("dcgan", mode)

- **explore**: no training. The generator shipped in `trained_models/` (with its
  discriminator, history and progress GIF where they were shipped) stands in for the run,
  so every figure and the latent explorer work in seconds.
- **short**: a few minutes of real training on a 2-core CPU: a fixed number of real images
  per family (`SHORT_IMAGES`), enough to see digits form, not to match the shipped model.
  `report/notebook_modes.json` holds what a short run measured (`python -m ganlib.modes`).
- **full**: the shipped recipe, fixed by the number of *images* its command planned, not by
  epochs: the offline MNIST sample has 5,000 digits and Keras's download 70,000, so the same
  epochs would cost 14x more time online. The epochs follow from the images and the dataset
  size; the recipe's early stopping, where it has one, may end the run sooner.
- **quick**: what the test suite runs (GANLIB_QUICK=1 overrides the notebook's choice): a
  few steps on a small slice, to check every cell, not to learn anything.

A training shows one progress line for the whole run (`ganlib.progress.RunProgress`): the
step, the epoch, the speed measured on this machine and the time left, which from the first
epoch's end on includes the end-of-epoch checks, and the latest losses and FCD.
"""

import dataclasses
import json
import os
import tempfile

from ganlib import cli
from ganlib.errors import GanlibError
from ganlib.quiet import import_tensorflow_quietly
from ganlib.sample import TRAINED_MODELS

MODES = ("explore", "short", "full")
QUICK_ENV = "GANLIB_QUICK"
ROOT = os.path.dirname(TRAINED_MODELS)
MEASURED = os.path.join(ROOT, "report", "notebook_modes.json")
QUICK_IMAGES, QUICK_EPOCHS = 640, 2  # 20 steps of 64: seconds, not minutes

# Real images a short run shows D: a few minutes each on a 2-core CPU. On an AVX2-only EPYC
# in float32, the slowest CPU we measured, the MLPs' runs took 7-8 minutes (about 1,300
# images/s) and the cDCGAN's 8.6 (about 190 images/s, projection and EMA included).
SHORT_IMAGES = {"vanilla": 600_000, "cgan": 600_000, "dcgan": 90_000, "cdcgan": 90_000,
                "adgan": 90_000, "wgan": 45_000, "wgan_gp": 45_000}
# 64 px colour networks run about 70 images/s there (half width, DiffAugment, EMA).
SHORT_IMAGES_BY_DATASET = {"pokemon": 15_000}


def quick_mode():
    """True when the environment asks for a smoke test (GANLIB_QUICK=1, set by the tests)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in ("1", "true", "yes")


def choose(mode, explore="the shipped generator, no training (seconds)"):
    """The mode a notebook runs in: `mode`, or "quick" under the test suite; says which.

    `explore` says what explore mode shows in this notebook.
    """
    if mode not in MODES:
        raise GanlibError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
    if quick_mode():
        print(f"QUICK MODE ({QUICK_ENV}=1): a few steps on {QUICK_IMAGES} images, to check "
              "that every cell runs; the figures show noise.")
        return "quick"
    print({"explore": f"explore mode: {explore}. Set MODE = \"short\" or \"full\" to "
                      "train (what each does is described at the top of the notebook).",
           "short": "short mode: a few minutes of real training (its progress line shows "
                    "the time left).",
           "full": "full mode: the shipped recipe, the same number of images (its progress "
                   "line shows the time left)."}[mode])
    return mode


def shipped_card(variant, dataset="mnist"):
    """The card of a shipped generator (its recipe and its measured quality)."""
    path = os.path.join(TRAINED_MODELS, f"{variant}_{dataset}.json")
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError):
        raise GanlibError(f"no readable card at {os.path.relpath(path)}; restore "
                          "trained_models/ from the repository") from None


def budget_images(variant, mode, dataset="mnist"):
    """Real images the run shows D in this mode (None in explore mode: no training).

    `dataset` names the shipped run whose recipe is followed (pokemon for a folder).
    """
    if mode == "explore":
        return None
    if mode == "quick":
        return QUICK_IMAGES * QUICK_EPOCHS
    if mode == "short":
        return SHORT_IMAGES_BY_DATASET.get(dataset, SHORT_IMAGES[variant])
    return planned_images(shipped_card(variant, dataset))


def planned_images(card):
    """Real images the shipped run's command planned: its --epochs over its training data.

    Not the images it saw: early stopping ended some shipped runs sooner, and a full run
    that planned only those would be another recipe wherever the epochs count (AD-GAN's
    dropout schedule ends a quarter into the planned run). With the same plan and the same
    kind of CPU, a full run can follow the shipped one step for step, early stop included.
    """
    config = shipped_config(card)
    per_step = card["batch_size"] * card.get("critic_steps", 1)
    return config.epochs * (card["training_images"] // per_step) * per_step


def epochs_for(images, dataset_images, batch_size, critic_steps=1):
    """Whole epochs that show D closest to `images` real images (at least one)."""
    per_step = batch_size * critic_steps
    per_epoch = max(dataset_images // per_step, 1) * per_step
    return max(1, round(images / per_epoch))


def shipped_config(card):
    """The TrainConfig of the shipped run, from its own command (every knob and data option)."""
    from ganlib.train import parse_args

    return parse_args(card["train_command"].split()[3:])[0]


def run_config(variant, mode, dataset_images, dataset="mnist", folder=None, recipe=None,
               **changes):
    """The TrainConfig of this mode: the shipped recipe, trained for the mode's images.

    `dataset_images` is the size of the training data (the epochs follow from it); short
    and full runs go to runs/`folder` (default VARIANT-DATASET-MODE), so running the cell
    again resumes them; quick ones go to a fresh temporary folder. `recipe` names the
    shipped run to follow when `dataset` has none of its own (a folder of your images
    trains with the pokemon recipe). `changes` override TrainConfig fields.
    """
    if mode == "explore":
        raise GanlibError("explore mode trains nothing; use train_or_load, or choose "
                          "MODE = 'short' or 'full'")
    recipe = recipe or dataset
    card = shipped_card(variant, recipe)
    # The shipped run's own command gives every setting (knobs, data options, rates);
    # only the data, the run folder and the length change.
    config = dataclasses.replace(
        shipped_config(card), dataset=dataset,
        out=os.path.join(ROOT, "runs", folder or f"{variant}-{dataset}-{mode}"),
        save_generator_every=None, notify_command=None)
    if mode == "quick":
        config = dataclasses.replace(
            config, out=tempfile.mkdtemp(prefix=f"ganlib-{variant}-"), limit=QUICK_IMAGES,
            epochs=QUICK_EPOCHS, sample_every=2, checkpoint_every=1000)
    else:
        config = dataclasses.replace(config, epochs=epochs_for(
            budget_images(variant, mode, recipe), dataset_images, card["batch_size"],
            card.get("critic_steps", 1)))
    return dataclasses.replace(config, **changes)


def run_images(config, dataset_images):
    """Real images a resolved config shows D over the whole run."""
    per_step = config.images_per_step
    return config.epochs * (min(dataset_images, config.limit or dataset_images)
                            // per_step) * per_step


def describe(config, mode, dataset_images, recipe=None):
    """One line: what this run trains, and how long the shipped run took per image."""
    config = config.resolved()
    images = run_images(config, dataset_images)
    if mode == "quick":
        return f"QUICK MODE: {images:,} images ({config.epochs} epochs of {config.limit}), a smoke test."
    card = shipped_card(config.variant, recipe or config.dataset)
    speed = card["images_seen"] / card["wall_time_seconds"]
    machine = card.get("machine", "a 2-core AVX2 AMD EPYC")
    line = (f"{mode} run: {images:,} real images ({config.epochs} epochs of "
            f"{dataset_images:,}). The shipped run trained at {speed:,.0f} images/s on "
            f"{machine}: about {images / speed / 60:.0f} min there.")
    if mode == "full" and (card.get("early_stopping") or {}).get("stopped"):
        line += (f" Its early stopping ended it at {card['images_seen']:,} images "
                 f"({card['images_seen'] / speed / 60:.0f} min); this run stops where "
                 "its own FCD stops improving.")
    return line


@dataclasses.dataclass
class ShippedRun:
    """The shipped model dressed as a finished run, for explore mode."""

    gan: object
    card: dict
    history: list
    progress_gif: str
    run_folder: str = TRAINED_MODELS


def load_shipped(variant, dataset="mnist"):
    """The shipped generator (and discriminator, history, GIF where shipped) as a ShippedRun."""
    from ganlib.gan import GAN
    from ganlib.knobs import Knobs
    from ganlib.losses import make_loss
    from ganlib.sample import (
        discriminator_path,
        load_discriminator,
        load_generator,
        shipped_model_path,
    )
    from ganlib.variants import get_variant

    path = shipped_model_path(variant, dataset)
    generator, card = load_generator(path)
    card.setdefault("dataset", dataset)
    d_path = discriminator_path(path)
    discriminator = load_discriminator(d_path) if os.path.isfile(d_path) else None
    knobs = Knobs(**card["knobs"]).resolved(get_variant(variant))
    gan = GAN(generator, discriminator, card["latent_dim"],
              card["num_classes"] if card.get("num_classes") else None,
              loss=make_loss(knobs))
    stem = os.path.splitext(path)[0]
    history = []
    if os.path.isfile(stem + ".history.jsonl"):
        with open(stem + ".history.jsonl") as file:
            history = [json.loads(line) for line in file if line.strip()]
    return ShippedRun(gan, card, history, stem + ".gif")


def train_or_load(variant, mode, dataset="mnist", folder=None, verbose=1, recipe=None,
                  **changes):
    """explore: the shipped run; otherwise train (or resume) this mode's run of `variant`.

    `recipe` and `changes` as for `run_config`: e.g. dataset="folder", recipe="pokemon",
    data_dir="my_pictures" trains on your own images with the shipped colour recipe.
    """
    if mode == "explore":
        return load_shipped(variant, recipe or dataset)
    from ganlib.data import load_dataset
    from ganlib.progress import RunProgress
    from ganlib.train import train

    config = run_config(variant, mode, 1, dataset, folder, recipe, **changes)
    data = load_dataset(dataset, split=config.split, verbose=False, data_dir=config.data_dir,
                        image_size=config.image_size, channels=config.channels,
                        background=config.background or "white")
    dataset_images = len(data)
    config = run_config(variant, mode, dataset_images, dataset, folder, recipe, **changes)
    print(describe(config, mode, dataset_images, recipe))
    resolved = config.resolved()
    steps = run_images(resolved, dataset_images) // resolved.images_per_step
    # One line for the whole run instead of Keras's bar per epoch (hundreds of epochs here).
    callbacks = [RunProgress(steps, resolved.images_per_step)] if verbose else []
    result = train(config, extra_callbacks=callbacks, verbose=0)
    result.progress_gif = os.path.join(result.run_folder, "progress.gif")
    return result


def measure_short_runs(variants, dataset="mnist", path=MEASURED):
    """Train each variant's short run, evaluate it, and record what a learner should expect."""
    from ganlib.evaluate import evaluate_generator
    from ganlib.files import write_json
    from ganlib.precision import cpu_description

    records = {}
    if os.path.isfile(path):
        with open(path) as file:
            records = json.load(file)
    for variant in variants:
        result = train_or_load(variant, "short", dataset, verbose=0)
        metrics = evaluate_generator(result.gan.generator, result.card, 1000)
        records[f"{variant}_{dataset}"] = {
            "images_seen": result.card["images_seen"],
            "wall_time_seconds": result.card["wall_time_seconds"],
            "machine": cpu_description(),
            **{key: metrics[key] for key in ("fcd_over_floor", "precision", "recall",
                                             "classes_covered", "conditional_accuracy")
               if key in metrics}}
        write_json(path, records)  # after every run, so an interruption keeps the rest
        print(f"[modes] {variant}: {records[f'{variant}_{dataset}']}", flush=True)
    return records


def short_run_expectation(variant, dataset="mnist", path=MEASURED):
    """One sentence: what a short run of `variant` measured (from report/notebook_modes.json)."""
    try:
        with open(path) as file:
            record = json.load(file)[f"{variant}_{dataset}"]
    except (OSError, ValueError, KeyError):
        return f"(no short run of {variant} measured yet: python -m ganlib.modes {variant})"
    quality = f"FCD {record['fcd_over_floor']:.1f}x its floor"
    if "conditional_accuracy" in record:
        quality += f", conditional accuracy {record['conditional_accuracy']:.1%}"
    else:
        quality += f", {record['classes_covered']} of 10 classes"
    return (f"A short run measured {quality} after {record['images_seen']:,} images in "
            f"{record['wall_time_seconds'] / 60:.1f} minutes on {record['machine']}.")


@cli.reports_errors
def main(argv=None):
    """Command-line entry point: measure the short runs; returns the exit code."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m ganlib.modes",
        description="Train and evaluate each family's short notebook run and record the "
                    "result in report/notebook_modes.json (what the notebooks promise).")
    parser.add_argument("variants", nargs="*", default=list(SHORT_IMAGES)[:5],
                        help="families to measure (default: the five notebook families)")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    unknown = [variant for variant in args.variants if variant not in SHORT_IMAGES]
    if unknown:
        raise GanlibError(f"no short run for '{unknown[0]}'; choose from: "
                          f"{', '.join(SHORT_IMAGES)}")
    measure_short_runs(args.variants)
    return 0


if __name__ == "__main__":
    cli.run(main)
