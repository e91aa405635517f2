"""Train a GAN into a run folder; run the same command again to resume after a crash.

    python -m ganlib.train dcgan --out runs/dcgan --epochs 30
    python -m ganlib.train cgan --dataset fashion_mnist --classes 1,4,7 --out runs/cgan-fashion

A run folder holds:
    config.json       the options of the run (a resumed run must match them)
    checkpoint.npz    all training state, every --checkpoint-every steps and each epoch end
    history.jsonl     losses and D scores over training
    samples/          a grid from one fixed latent batch every --sample-every steps
    progress.gif      those grids as an animation
    generator.keras   the trained generator, with generator.json (its card) beside it

Notebooks call `train(TrainConfig(...))`, the same function the command line runs.
"""

import argparse
import dataclasses
import json
import os
import sys
import time

from ganlib import __version__
from ganlib.data import DATASETS, load_dataset, steps_per_epoch, training_batches
from ganlib.errors import GanlibError
from ganlib.files import ensure_writable_folder, remove_partial_writes, write_json
from ganlib.variants import VARIANTS, Knobs, get_variant

# Options that define the run: resuming with different values would be a different run.
FIXED_OPTIONS = ("variant", "dataset", "classes", "limit", "split", "batch_size", "seed",
                 "knobs")


@dataclasses.dataclass
class TrainConfig:
    """Everything one training run needs; `None` means the variant's default."""

    variant: str
    out: str
    dataset: str = "mnist"
    split: str = "train"
    classes: list = None
    limit: int = None
    data_dir: str = None
    epochs: int = None
    batch_size: int = None
    learning_rate: float = None
    beta_1: float = None
    seed: int = 0
    checkpoint_every: int = 200
    sample_every: int = 200
    deterministic: bool = False
    distribute: str = None  # None or "mirrored"
    knobs: Knobs = dataclasses.field(default_factory=Knobs)

    def resolved(self):
        """A copy with the variant's defaults filled in and the options checked."""
        variant = get_variant(self.variant)
        config = dataclasses.replace(
            self, variant=variant.name,
            epochs=_default(self.epochs, variant.epochs),
            batch_size=_default(self.batch_size, variant.batch_size),
            learning_rate=_default(self.learning_rate, variant.learning_rate),
            beta_1=_default(self.beta_1, variant.beta_1),
            classes=sorted(set(self.classes)) if self.classes else None)
        for name in ("epochs", "batch_size", "checkpoint_every", "sample_every"):
            if getattr(config, name) < 1:
                raise GanlibError(f"--{name.replace('_', '-')} must be at least 1, "
                                  f"got {getattr(config, name)}")
        if not config.learning_rate > 0:
            raise GanlibError(f"--learning-rate must be positive, got {config.learning_rate}")
        config.knobs.validate()
        if config.distribute not in (None, "mirrored"):
            raise GanlibError(f"unknown --distribute '{config.distribute}'; use 'mirrored'")
        return config


def _default(value, default):
    return default if value is None else value


@dataclasses.dataclass
class TrainResult:
    """What a finished run leaves behind."""

    gan: object
    run_folder: str
    history: list
    card: dict


def run_paths(folder):
    """The files of a run folder, by role."""
    return {name: os.path.join(folder, file) for name, file in (
        ("config", "config.json"), ("checkpoint", "checkpoint.npz"),
        ("history", "history.jsonl"), ("samples", "samples"), ("gif", "progress.gif"),
        ("generator", "generator.keras"), ("card", "generator.json"))}


def train(config, extra_callbacks=(), verbose=1):
    """Train (or resume) the run described by `config`; return a `TrainResult`."""
    config = config.resolved()
    paths = run_paths(config.out)
    ensure_writable_folder(config.out)
    _check_same_run(paths["config"], config)
    remove_partial_writes(config.out)

    import keras
    import tensorflow as tf

    from ganlib import callbacks as cb
    from ganlib.checkpoints import checkpoint_exists, load_checkpoint
    from ganlib.variants import build_gan

    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    data = load_dataset(config.dataset, config.split, config.classes, config.limit,
                        config.data_dir)
    variant = get_variant(config.variant)
    steps = steps_per_epoch(data, config.batch_size)
    strategy = _strategy(config.distribute)
    with strategy.scope():
        gan = build_gan(variant, data.image_shape, data.num_classes, config.knobs)
        gan.compile(
            d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
            g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1))

    state = {"wall_time": 0.0, "step": 0}
    if checkpoint_exists(paths["checkpoint"]):
        state = load_checkpoint(paths["checkpoint"], gan)
        # The optimizers' saved state includes their learning rate; a resumed run may
        # deliberately change it (e.g. lower it after a NaN), so the new option wins.
        gan.d_optimizer.learning_rate = config.learning_rate
        gan.g_optimizer.learning_rate = config.learning_rate
        print(f"[ganlib] resuming {config.out} at step {state['step']} "
              f"(epoch {state['epoch'] + 1}, {state['images_seen']:,} images seen)")
        _truncate_history(paths["history"], state["step"])
    else:
        _truncate_history(paths["history"], 0)
    write_json(paths["config"], _config_record(config))

    guard = cb.NonFiniteLossGuard()
    checkpoint = cb.CrashSafeCheckpoint(paths["checkpoint"], config.checkpoint_every, steps,
                                        config.batch_size, state, guard)
    noise, labels, columns = fixed_latent_batch(gan, data, config.seed)
    callbacks = [guard, checkpoint,
                 cb.SampleGrids(paths["samples"], noise, labels, config.sample_every, columns),
                 cb.HistoryLog(paths["history"], config.sample_every, config.batch_size)]
    if variant.scheduled_dropout:
        knobs = config.knobs
        callbacks.insert(1, cb.DropoutSchedule(
            config.epochs, knobs.dropout_initial, knobs.dropout_final, knobs.dropout_step,
            knobs.dropout_final_fraction))
    callbacks += list(extra_callbacks)

    step = state["step"]
    epoch, batch = divmod(step, steps)

    def fit(first_epoch, last_epoch, start_batch):
        batches = training_batches(data, config.batch_size, config.knobs.latent_dim,
                                   gan.noise_draws, config.seed, first_epoch, last_epoch,
                                   start_batch)
        gan.fit(batches, initial_epoch=first_epoch, epochs=last_epoch,
                steps_per_epoch=steps - start_batch if start_batch else steps,
                callbacks=callbacks, verbose=verbose, shuffle=False)

    if epoch < config.epochs and batch:
        fit(epoch, epoch + 1, batch)  # finish the interrupted epoch first
        epoch += 1
    if epoch < config.epochs and guard.failed_at_step is None:
        fit(epoch, config.epochs, 0)
    if guard.failed_at_step is not None:
        kept = (f"the last good checkpoint (step {checkpoint.saved_step}) is kept in "
                f"{paths['checkpoint']}" if checkpoint_exists(paths["checkpoint"])
                else "no checkpoint had been written yet")
        raise GanlibError(
            f"training stopped: the loss became NaN/inf at step {guard.failed_at_step}; "
            f"{kept}; lower --learning-rate and run the command again")

    card = _finish_run(gan, config, data, paths, checkpoint)
    return TrainResult(gan, config.out, cb.read_history(paths["history"]), card)


def fixed_latent_batch(gan, data, seed, count=64):
    """The latent batch the progress grids are drawn from: noise, labels, grid columns.

    Conditional GANs get one column per class (label = column), so each column of the
    grid shows one class throughout training.
    """
    import tensorflow as tf

    classes = sorted(set(data.labels.tolist())) if gan.conditional else [0]
    columns = len(classes) if gan.conditional else 8
    count = columns * (8 if gan.conditional else count // columns)
    noise = tf.random.stateless_normal([count, gan.latent_dim], seed=[seed, 7])
    labels = tf.constant([[classes[i % len(classes)]] for i in range(count)], tf.int32)
    return noise, labels, columns


def _strategy(distribute):
    import tensorflow as tf

    if distribute != "mirrored":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    # Without GPUs, the CPU devices (split with --cpu-replicas) stand in for them.
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=(
        None if gpus else tf.distribute.ReductionToOneDevice()))


def _config_record(config):
    record = dataclasses.asdict(config)
    record["ganlib_version"] = __version__
    return record


def _check_same_run(config_path, config):
    """Refuse to resume a run folder that holds a run with other fixed options."""
    if not os.path.exists(config_path):
        return
    try:
        with open(config_path) as file:
            previous = json.load(file)
    except (OSError, ValueError):
        raise GanlibError(f"{config_path} is unreadable; delete the run folder to start "
                          "over, or choose a new --out") from None
    current = _config_record(config)
    for option in FIXED_OPTIONS:
        if previous.get(option) != current[option]:
            raise GanlibError(
                f"{os.path.dirname(config_path) or '.'} holds a run with {option}="
                f"{previous.get(option)!r}, not {current[option]!r}; use the same options "
                "to resume it, or choose a new --out folder")


def _truncate_history(path, up_to_step):
    """Drop history written after the checkpoint we resume from (it will be redone)."""
    from ganlib.callbacks import read_history

    records = read_history(path, up_to_step)
    with open(path, "w") as file:
        file.writelines(json.dumps(record) + "\n" for record in records)


def _finish_run(gan, config, data, paths, checkpoint):
    """Save the generator, its card and the progress GIF; return the card."""
    from ganlib import viz
    from ganlib.callbacks import SampleGrids, global_step
    from ganlib.files import atomic_write

    atomic_write(paths["generator"], gan.generator.save, suffix=".keras")
    viz.save_gif(SampleGrids.saved_frames(paths["samples"]), paths["gif"])
    step = global_step(gan)
    card = {
        "variant": config.variant,
        "dataset": data.name,
        "data_source": data.source,
        "classes": sorted(set(data.labels.tolist())),
        "num_classes": data.num_classes if gan.conditional else None,
        "class_names": list(data.class_names),
        "image_shape": list(data.image_shape),
        "latent_dim": config.knobs.latent_dim,
        "training_images": len(data),
        "epochs": step // steps_per_epoch(data, config.batch_size),
        "steps": step,
        "images_seen": step * config.batch_size,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "beta_1": config.beta_1,
        "seed": config.seed,
        "knobs": dataclasses.asdict(config.knobs),
        "wall_time_seconds": round(checkpoint.saved_wall_time, 1),
        "train_command": _train_command(config),
        "ganlib_version": __version__,
    }
    write_json(paths["card"], card)
    print(f"[ganlib] trained {config.variant} for {card['epochs']} epochs "
          f"({card['images_seen']:,} images) in {card['wall_time_seconds']:.0f} s; "
          f"generator saved to {paths['generator']}")
    return card


def _train_command(config):
    out = config.out
    if os.path.isabs(out) and not os.path.relpath(out).startswith(".."):
        out = os.path.relpath(out)  # a notebook passes absolute paths; keep commands portable
    parts = ["python -m ganlib.train", config.variant, "--out", out,
             "--dataset", config.dataset, "--epochs", str(config.epochs),
             "--batch-size", str(config.batch_size), "--seed", str(config.seed)]
    if config.split != "train":
        parts += ["--split", config.split]
    if config.classes:
        parts += ["--classes", ",".join(map(str, config.classes))]
    if config.limit:
        parts += ["--limit", str(config.limit)]
    variant = get_variant(config.variant)
    if config.learning_rate != variant.learning_rate:
        parts += ["--learning-rate", str(config.learning_rate)]
    if config.beta_1 != variant.beta_1:
        parts += ["--beta-1", str(config.beta_1)]
    # Only the knobs that differ from their defaults, so the command stays short and exact.
    for field in dataclasses.fields(Knobs):
        value = getattr(config.knobs, field.name)
        if value != field.default:
            parts += ["--" + field.name.replace("_", "-"), str(value)]
    return " ".join(parts)


def parse_args(argv=None):
    """Command-line options -> (TrainConfig, cpu_replicas)."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", help=f"one of: {', '.join(VARIANTS)} (any case)")
    parser.add_argument("--out", help="run folder (default: runs/VARIANT-DATASET)")
    parser.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--split", default="train", choices=["train", "test", "all"],
                        help="which part of the dataset to train on (default train)")
    parser.add_argument("--classes", help="train on these class ids only, e.g. 1,4,7")
    parser.add_argument("--limit", type=int, help="use only this many images (quick runs)")
    parser.add_argument("--data-dir", help="folder with the dataset's IDX files")
    parser.add_argument("--epochs", type=int, help="default: the variant's")
    parser.add_argument("--batch-size", type=int, help="global batch size (default 64)")
    parser.add_argument("--learning-rate", type=float, help="Adam step size (default 2e-4)")
    parser.add_argument("--beta-1", type=float, help="Adam beta_1 (default 0.5)")
    parser.add_argument("--seed", type=int, default=0, help="weights, shuffling and noise")
    parser.add_argument("--checkpoint-every", type=int, default=200,
                        help="save all training state every N steps (and at each epoch end)")
    parser.add_argument("--sample-every", type=int, default=200,
                        help="save a sample grid (a GIF frame) every N steps")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic TensorFlow ops (bit-exact resumes, a little slower)")
    parser.add_argument("--distribute", choices=["mirrored"],
                        help="train under tf.distribute.MirroredStrategy over all GPUs")
    parser.add_argument("--cpu-replicas", type=int, default=1,
                        help="split the CPU into N devices (to try --distribute without GPUs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    knob_group = parser.add_argument_group("network and loss knobs")
    for field in dataclasses.fields(Knobs):
        knob_group.add_argument("--" + field.name.replace("_", "-"), type=type(field.default),
                                default=field.default, dest="knob_" + field.name,
                                metavar=type(field.default).__name__.upper(),
                                help=f"default {field.default}")
    args = parser.parse_args(argv)
    knobs = Knobs(**{field.name: getattr(args, "knob_" + field.name)
                     for field in dataclasses.fields(Knobs)})
    try:
        classes = [int(c) for c in args.classes.split(",")] if args.classes else None
    except ValueError:
        raise GanlibError(f"--classes takes comma-separated class ids, e.g. 1,4,7; "
                          f"got '{args.classes}'") from None
    variant = get_variant(args.variant)  # fail fast, before TensorFlow starts
    if args.dataset not in DATASETS:
        raise GanlibError(f"unknown dataset '{args.dataset}'; choose one of: {', '.join(DATASETS)}")
    config = TrainConfig(
        variant=variant.name, out=args.out or os.path.join("runs", f"{variant.name}-{args.dataset}"),
        dataset=args.dataset, split=args.split, classes=classes, limit=args.limit,
        data_dir=args.data_dir, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, beta_1=args.beta_1, seed=args.seed,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        deterministic=args.deterministic, distribute=args.distribute, knobs=knobs)
    return config, args.cpu_replicas, args.quiet


def split_cpu(replicas):
    """Present the CPU as `replicas` logical devices (must run before TensorFlow starts)."""
    if replicas > 1:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)


def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    started = time.time()
    try:
        config, cpu_replicas, quiet = parse_args(argv)
        split_cpu(cpu_replicas)
        # A live progress bar on a terminal; one line per epoch in a log file.
        train(config, verbose=0 if quiet else (1 if sys.stdout.isatty() else 2))
    except GanlibError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    print(f"[ganlib] done in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
