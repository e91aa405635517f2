"""A run folder's bookkeeping: which file is which, resume checks, the history and the card.

    config.json        the options of the run (a resumed run must match the fixed ones)
    checkpoint.npz     all training state, every --checkpoint-every steps and each epoch end
                       (checkpoint.previous.npz: the one before, a fallback if it is damaged)
    history.jsonl      losses and D scores over training
    samples/           a grid from one fixed latent batch every --sample-every steps
    progress.gif       those grids as an animation, each labelled with its step
    progress.mp4       the same as an H.264 video
    best_generator.npz the best generator so far (only with early stopping)
    generator.keras    the trained generator, with generator.json (its card) beside it
    discriminator.keras the discriminator at the end of training (to plot its verdicts)
    generators/        step_NNNNNNN.keras snapshots (with --save-generator-every)

`ganlib.train` runs the training; this module only reads and writes these files.
"""

import contextlib
import dataclasses
import fcntl
import json
import os

from ganlib import __version__
from ganlib.errors import GanlibError
from ganlib.knobs import Knobs, knob_fields
from ganlib.precision import cpu_description
from ganlib.variants import get_variant

# Options that define the run: resuming with different values would be a different run.
FIXED_OPTIONS = ("variant", "dataset", "classes", "limit", "split", "batch_size", "seed",
                 "optimizer", "image_size", "channels", "background", "augment", "knobs")


def run_paths(folder):
    """The files of a run folder, by role."""
    return {name: os.path.join(folder, file) for name, file in (
        ("config", "config.json"), ("checkpoint", "checkpoint.npz"),
        ("history", "history.jsonl"), ("samples", "samples"), ("gif", "progress.gif"),
        ("video", "progress.mp4"),
        ("best", "best_generator.npz"), ("generator", "generator.keras"),
        ("card", "generator.json"), ("discriminator", "discriminator.keras"),
        ("snapshots", "generators"))}


LOCK_FILE = ".lock"


@contextlib.contextmanager
def locked(folder):
    """Hold the run folder for this process: a second training on it is refused.

    The lock is an operating-system file lock (flock), so it goes away with the process
    that holds it, however that process ends: a lock left by a killed run is no obstacle.
    The holder's PID is written into the lock file for the error message.
    """
    path = os.path.join(folder, LOCK_FILE)
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise GanlibError(f"{folder} is being trained right now (process {holder}); wait "
                              "for it to finish, stop it, or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def config_record(config):
    """The run's options as stored in config.json."""
    record = dataclasses.asdict(config)
    record["ganlib_version"] = __version__
    return record


def check_same_run(config_path, config):
    """Refuse to resume a run folder that holds a run with other fixed options."""
    if not os.path.exists(config_path):
        return
    try:
        with open(config_path) as file:
            previous = json.load(file)
    except (OSError, ValueError):
        previous = None
    if not isinstance(previous, dict):  # unreadable, or valid JSON that is not an object
        raise GanlibError(f"{config_path} is unreadable or not a run's options; delete the "
                          "run folder to start over, or choose a new --out")
    current = config_record(config)
    if isinstance(previous.get("knobs"), dict):
        # Knobs added after the run started were off then: compare at their defaults.
        defaults = {field.name: field.default for field in dataclasses.fields(Knobs)}
        previous["knobs"] = {**defaults, **previous["knobs"]}
    for option in FIXED_OPTIONS:
        if previous.get(option) != current[option]:
            raise GanlibError(
                f"{os.path.dirname(config_path) or '.'} holds a run with {option}="
                f"{previous.get(option)!r}, not {current[option]!r}; use the same options "
                "to resume it, or choose a new --out folder")


def truncate_history(path, up_to_step):
    """Drop history written after the checkpoint we resume from (it will be redone)."""
    from ganlib.callbacks import read_history

    records = read_history(path, up_to_step)
    with open(path, "w") as file:
        file.writelines(json.dumps(record) + "\n" for record in records)


def portable_path(path):
    """A path inside the current folder as a relative one, so commands work on any machine."""
    if os.path.isabs(path) and not os.path.relpath(path).startswith(".."):
        return os.path.relpath(path)
    return path


def shown_path(path):
    """A path as messages print it: relative to the current folder, not this machine's root."""
    return os.path.relpath(path) if os.path.isabs(path) else path


def train_command(config):
    """The shortest `python -m ganlib.train` command that reproduces `config` exactly."""
    variant = get_variant(config.variant)
    parts = ["python -m ganlib.train", config.variant, "--out", portable_path(config.out),
             "--dataset", config.dataset, "--epochs", str(config.epochs),
             "--batch-size", str(config.batch_size), "--seed", str(config.seed)]
    if config.split != "train":
        parts += ["--split", config.split]
    if config.classes:
        parts += ["--classes", ",".join(map(str, config.classes))]
    if config.limit:
        parts += ["--limit", str(config.limit)]
    if config.dataset == "folder":
        parts += ["--data-dir", portable_path(config.data_dir)]
    for flag, value in (("--image-size", config.image_size), ("--channels", config.channels),
                        ("--background", config.background), ("--augment", config.augment)):
        if value is not None:
            parts += [flag, str(value)]
    shared_rate = config.learning_rate
    named = [("--optimizer", config.optimizer, variant.optimizer),
             ("--learning-rate", shared_rate, variant.learning_rate),
             ("--d-learning-rate", config.d_learning_rate, shared_rate),
             ("--g-learning-rate", config.g_learning_rate, shared_rate),
             ("--beta-1", config.beta_1, variant.beta_1),
             ("--beta-2", config.beta_2, variant.beta_2)]
    parts += [part for flag, value, default in named if value != default
              for part in (flag, str(value))]
    if config.patience:
        parts += ["--patience", str(config.patience)]
    # Only the knobs that differ from the variant's defaults: short commands, exact runs.
    defaults = Knobs().resolved(variant)
    for field, value_type, _ in knob_fields():
        value = getattr(config.knobs, field.name)
        if value != getattr(defaults, field.name):
            flag = "--" + field.name.replace("_", "-")
            parts += [flag] if value_type is bool else [flag, str(value)]
    return " ".join(parts)


def write_card(path, gan, config, data, step, wall_time, early_stopping=None):
    """Write the generator's card (what it is, how it was trained); return it."""
    from ganlib.files import write_json

    from ganlib.data import steps_per_epoch

    images_per_step = config.batch_size * config.knobs.critic_steps
    card = {
        "variant": config.variant,
        "dataset": data.name,
        "data_source": data.source,
        "classes": sorted(set(data.labels.tolist())),
        "num_classes": data.num_classes if gan.conditional else None,
        "class_names": list(data.class_names),
        "image_shape": list(data.image_shape),
        "data_dir": config.data_dir if config.dataset == "folder" else None,
        "background": config.background,
        "latent_dim": config.knobs.latent_dim,
        "training_images": len(data),
        "epochs": step // steps_per_epoch(data, config.batch_size, config.knobs.critic_steps),
        "steps": step,
        "images_seen": step * images_per_step,
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "learning_rate": config.learning_rate,
        "d_learning_rate": config.d_learning_rate,
        "g_learning_rate": config.g_learning_rate,
        "beta_1": config.beta_1,
        "beta_2": config.beta_2,
        "critic_steps": config.knobs.critic_steps,
        "seed": config.seed,
        "precision": gan.generator.dtype_policy.name,
        "xla": bool(gan.jit_compile),  # chosen from the precision and the CPU unless forced
        "knobs": dataclasses.asdict(config.knobs),
        "wall_time_seconds": round(wall_time, 1),
        "machine": cpu_description(),  # wall times only compare on one kind of CPU
        "train_command": train_command(config),
        "ganlib_version": __version__,
    }
    if early_stopping:
        card["early_stopping"] = early_stopping
    write_json(path, card)
    return card
