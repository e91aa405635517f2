"""Train a GAN into a run folder; run the same command again to resume after a crash.

    python -m ganlib.train dcgan --out runs/dcgan --epochs 30
    python -m ganlib.train cgan --dataset fashion_mnist --classes 1,4,7 --out runs/cgan-fashion
    python -m ganlib.train wgan_gp --out runs/wgan-gp
    python -m ganlib.train dcgan --label-flip 0.05 --minibatch-discrimination --patience 10

The run folder's files are described in `ganlib.run_folder`. Notebooks call
`train(TrainConfig(...))`, the same function the command line runs.
"""

import argparse
import dataclasses
import os
import signal
import sys
import threading
import time

from ganlib import cli
from ganlib.data import DATASETS, load_dataset, steps_per_epoch, training_batches
from ganlib.distribute import STRATEGIES, cluster_task, is_chief, worker_folder
from ganlib.errors import GanlibError
from ganlib.files import ensure_writable_folder, remove_partial_writes, write_json
from ganlib.knobs import OPTIMIZERS, Knobs, knob_fields
from ganlib.optimizers import OptimizerSettings
from ganlib.precision import PRECISIONS
from ganlib.quiet import import_tensorflow_quietly
from ganlib.run_folder import (check_same_run, config_record, locked, run_paths,
                               shown_path, truncate_history, write_card)
from ganlib.variants import VARIANTS, get_variant

# Set by SIGTERM (what a scheduler, a container stop or a preempted machine sends): training
# then stops after the current step with a checkpoint, as if Ctrl-C came at a good moment.
STOP_REQUESTED = threading.Event()
# The test suite sets GANLIB_XLA=0: XLA compiling costs seconds per model, more than the
# few steps of a test run take; the tests that check XLA runs ask for it with --xla.
XLA_ENV = "GANLIB_XLA"


def default_xla():
    """--xla when neither --xla nor --no-xla is given: GANLIB_XLA if set, else None (auto)."""
    value = os.environ.get(XLA_ENV, "").strip().lower()
    if not value:
        return None  # auto: decided from the precision and the CPU (precision.xla_pays)
    return value not in ("0", "false", "no")

# Datasets with a shipped classifier: early stopping can watch their FCD.
CLASSIFIED_DATASETS = ("mnist", "fashion_mnist")
# Steps between two history records (fewer when grids are saved more often): fine enough
# for the curves to show a GAN's oscillations, a few hundred lines for a long run.
HISTORY_EVERY = 50


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
    image_size: int = None    # pokemon and folder: side in pixels (default 64)
    channels: int = None      # pokemon and folder: 3 colour (default) or 1 grey
    background: str = None    # pokemon and folder: colour of transparent pixels (white)
    augment: str = None       # "flip": random horizontal flips of the real images
    epochs: int = None
    batch_size: int = None
    optimizer: str = None             # adam or rmsprop
    learning_rate: float = None       # both networks ...
    d_learning_rate: float = None     # ... unless set apart (two time-scale updates)
    g_learning_rate: float = None
    beta_1: float = None
    beta_2: float = None
    seed: int = 0
    checkpoint_every: int = 200
    sample_every: int = 200
    deterministic: bool = False
    distribute: str = None  # None, "mirrored" or "multiworker" (see ganlib.distribute)
    patience: int = None    # early stopping: evaluations without improvement (None = off)
    save_generator_every: int = None  # keep generators/step_NNNNNNN.keras every N steps
    notify_command: str = None        # a shell command run at each epoch's end
    notify_timeout: float = 30.0      # ... stopped after this many seconds
    precision: str = "auto"           # float32, bfloat16, or auto (bfloat16 where it pays)
    # An XLA-compiled step: True, False, or None for auto (where it measured faster).
    xla: bool | None = dataclasses.field(default_factory=default_xla)
    knobs: Knobs = dataclasses.field(default_factory=Knobs)

    def resolved(self):
        """A copy with the variant's defaults filled in and the options checked."""
        variant = get_variant(self.variant)
        learning_rate = _default(self.learning_rate, variant.learning_rate)
        optimizer = OptimizerSettings.for_variant(
            variant, self.optimizer, learning_rate, self.d_learning_rate,
            self.g_learning_rate, self.beta_1, self.beta_2)
        config = dataclasses.replace(
            self, variant=variant.name,
            epochs=_default(self.epochs, variant.epochs),
            batch_size=_default(self.batch_size, variant.batch_size),
            optimizer=optimizer.kind, learning_rate=learning_rate,
            d_learning_rate=optimizer.d_learning_rate, g_learning_rate=optimizer.g_learning_rate,
            beta_1=optimizer.beta_1, beta_2=optimizer.beta_2,
            classes=sorted(set(self.classes)) if self.classes else None,
            knobs=self.knobs.resolved(variant))
        for name in ("epochs", "batch_size", "checkpoint_every", "sample_every"):
            if getattr(config, name) < 1:
                raise GanlibError(f"--{name.replace('_', '-')} must be at least 1, "
                                  f"got {getattr(config, name)}")
        if not 0 <= config.seed < 2 ** 32:
            raise GanlibError(f"--seed must be between 0 and {2 ** 32 - 1}, got {config.seed}")
        _check_data_options(config)
        if config.distribute not in (None, *STRATEGIES):
            raise GanlibError(f"unknown --distribute '{config.distribute}'; use one of: "
                              f"{', '.join(STRATEGIES)}")
        if config.distribute == "multiworker":
            cluster_task()  # a missing or malformed TF_CONFIG: one clear line, before TF starts
        config._check_early_stopping()
        if config.precision not in PRECISIONS:
            raise GanlibError(f"--precision must be one of {', '.join(PRECISIONS)}, "
                              f"got {config.precision!r}")
        if config.save_generator_every is not None and config.save_generator_every < 1:
            raise GanlibError(f"--save-generator-every must be at least 1, "
                              f"got {config.save_generator_every}")
        if config.notify_command is not None:
            check_notify_command(config.notify_command, config.notify_timeout)
        return config

    def optimizer_settings(self):
        """The resolved optimizer settings of this run."""
        return OptimizerSettings(self.optimizer, self.d_learning_rate, self.g_learning_rate,
                                 self.beta_1, self.beta_2)

    def _check_early_stopping(self):
        if self.patience is None:
            return
        if self.patience < 1:
            raise GanlibError(f"--patience must be at least 1, got {self.patience}")
        if self.dataset not in CLASSIFIED_DATASETS and self.knobs.loss != "wasserstein":
            raise GanlibError(
                f"--patience needs a quality to watch: {self.dataset} has no classifier for "
                "the FCD and a BCE/hinge loss says nothing about sample quality; use "
                f"{' or '.join(CLASSIFIED_DATASETS)}, a Wasserstein variant, or drop --patience")

    @property
    def images_per_step(self):
        """Real images one training step shows D: a batch per critic update."""
        return self.batch_size * self.knobs.critic_steps


def _default(value, default):
    return default if value is None else value


def _check_data_options(config):
    """Refuse data options that do not fit the dataset, before anything is loaded."""
    from ganlib.data import RESIZABLE

    shaped = [f"--{name.replace('_', '-')}" for name in ("image_size", "channels", "background")
              if getattr(config, name) is not None]
    if shaped and config.dataset not in RESIZABLE:
        raise GanlibError(f"{' and '.join(shaped)} shape the {' and '.join(RESIZABLE)} images; "
                          f"{config.dataset} images have a fixed size and colour")
    if config.dataset in RESIZABLE:
        from ganlib.data.folder import check_image_settings, parse_background

        check_image_settings(config.image_size or 64, config.channels or 3)
        parse_background(config.background or "white")
    grey = config.dataset in ("mnist", "fashion_mnist") or config.channels == 1
    if grey and "color" in config.knobs.augmentations():
        raise GanlibError(f"--diff-augment color needs colour images; {config.dataset} here is "
                          "grey: use translation,cutout")
    if config.augment not in (None, "flip"):
        raise GanlibError(f"unknown --augment '{config.augment}'; the one augmentation is 'flip'")
    if config.dataset == "folder" and not config.data_dir:
        raise GanlibError("--dataset folder needs --data-dir PATH, the folder of your images")


def check_notify_command(command, timeout):
    """Refuse a notification command that cannot run, before training starts."""
    import math
    import shlex
    import subprocess

    if not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise GanlibError(f"--notify-timeout must be between 0 and 3600 seconds, got {timeout}")
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise GanlibError(f"--notify-command cannot be read as a shell command ({error}); "
                          "check its quotes") from None
    # Leading VAR=value words set variables; the program is the first word after them.
    program = next((word for word in words if "=" not in word.split("/")[0]), None)
    if program is None:
        raise GanlibError("--notify-command is empty; give a command, e.g. "
                          "--notify-command 'notify-send \"epoch $GANLIB_EPOCH\"'")
    # `command -v` finds programs on PATH, paths and shell built-ins alike.
    found = subprocess.run(["sh", "-c", 'command -v -- "$1"', "sh", program],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if not found:
        raise GanlibError(f"--notify-command: '{program}' is not a command on this machine; "
                          "install it, or give its full path")


class TrainingStopped(Exception):
    """Training ended early on request (SIGTERM); the checkpoint holds the last step."""

    def __init__(self, step):
        super().__init__(f"stopped at step {step}")
        self.step = step


@dataclasses.dataclass
class TrainResult:
    """What a finished run leaves behind."""

    gan: object
    run_folder: str
    history: list
    card: dict


def train(config, extra_callbacks=(), verbose=1):
    """Train (or resume) the run described by `config`; return a `TrainResult`."""
    config = config.resolved()
    chief = True
    if config.distribute == "multiworker":
        task_type, index, _ = cluster_task()
        chief = is_chief(task_type, index)
        if not chief:  # trains the same steps, keeps its own state beside the run folder
            config = dataclasses.replace(config, out=worker_folder(config.out, task_type, index))
    ensure_writable_folder(config.out)
    with locked(config.out):  # one training per run folder at a time
        return _train_locked(config, extra_callbacks, verbose, chief)


def _train_locked(config, extra_callbacks, verbose, chief=True):
    paths = run_paths(config.out)
    check_same_run(paths["config"], config)
    remove_partial_writes(config.out)

    import keras

    from ganlib import callbacks as cb
    from ganlib import distribute
    from ganlib.checkpoints import checkpoint_exists, load_checkpoint
    from ganlib.optimizers import compile_gan
    from ganlib.variants import build_gan

    if config.deterministic:
        make_deterministic()
    # Before any other TensorFlow work: a multi-worker strategy configures the runtime.
    strategy = distribute.make_strategy(config.distribute)
    keras.utils.set_random_seed(config.seed)
    precision = _precision(config, paths["config"])
    from ganlib import precision as precisions

    precisions.apply(precision)
    xla = _xla(config, paths["config"], precision)
    data = load_dataset(config.dataset, config.split, config.classes, config.limit,
                        config.data_dir, image_size=config.image_size, channels=config.channels,
                        background=config.background or "white")
    variant = get_variant(config.variant)
    critic_steps = config.knobs.critic_steps
    steps = steps_per_epoch(data, config.batch_size, critic_steps)
    with strategy.scope():
        gan = compile_gan(build_gan(variant, data.image_shape, data.num_classes, config.knobs,
                                    seed=config.seed), config.optimizer_settings(),
                          xla=xla)
    if config.distribute == "multiworker":
        distribute.adapt_for_multiworker(gan)

    state = {"wall_time": 0.0, "step": 0}
    if checkpoint_exists(paths["checkpoint"]):
        state = load_checkpoint(paths["checkpoint"], gan)
        # The optimizers' saved state includes their learning rate; a resumed run may
        # deliberately change it (e.g. lower it after a NaN), so the new option wins.
        gan.set_learning_rates(config.d_learning_rate, config.g_learning_rate)
        print(f"[ganlib] resuming {shown_path(config.out)} at step {state['step']} "
              f"(epoch {state['epoch'] + 1}, {state['images_seen']:,} images seen)")
        truncate_history(paths["history"], state["step"])
    else:
        truncate_history(paths["history"], 0)
    if config.distribute == "multiworker":
        distribute.check_same_step(strategy, state["step"])
    write_json(paths["config"], {**config_record(config), "precision_used": precision,
                                 "xla_used": xla})

    guard = cb.NonFiniteLossGuard()
    early_stopping = _early_stopping(config, data, gan, paths, state)
    checkpoint = cb.CrashSafeCheckpoint(
        paths["checkpoint"], config.checkpoint_every, steps, config.images_per_step, state,
        guard, stateful_callbacks=[early_stopping] if early_stopping else [])
    noise, labels, columns = fixed_latent_batch(gan, data, config.seed)
    # Order matters at an epoch's end: the dropout rate and the early-stopping verdict are
    # decided first, then checkpointed, then logged.
    callbacks = [guard]
    if variant.scheduled_dropout:
        from ganlib.tricks.scheduled_dropout import DropoutSchedule

        knobs = config.knobs
        callbacks.append(DropoutSchedule(config.epochs, knobs.dropout_initial,
                                         knobs.dropout_final, knobs.dropout_step,
                                         knobs.dropout_final_fraction))
    if early_stopping:
        callbacks.append(early_stopping)
    stop = cb.StopOnRequest(STOP_REQUESTED, checkpoint)
    callbacks += [checkpoint, stop,
                  cb.SampleGrids(paths["samples"], noise, labels, config.sample_every, columns),
                  cb.HistoryLog(paths["history"], min(HISTORY_EVERY, config.sample_every),
                                config.images_per_step,
                                averaged=gan.trackers)]
    if config.save_generator_every and chief:
        callbacks.append(cb.GeneratorSnapshots(
            lambda step: snapshot_files(config.out, step), config.save_generator_every,
            lambda card_path, step: write_card(card_path, gan, config, data, step,
                                               checkpoint.wall_time())))
    if config.notify_command and chief:  # one message per epoch, not one per worker
        callbacks.append(cb.NotifyCommand(config.notify_command, config.notify_timeout,
                                          config.out, paths["samples"], config.epochs))
    callbacks += list(extra_callbacks)

    step = state["step"]
    epoch, batch = divmod(step, steps)
    stopped_early = bool(early_stopping and early_stopping.stopped)

    def fit(first_epoch, last_epoch, start_batch):
        batches = training_batches(data, config.batch_size, config.knobs.latent_dim,
                                   critic_steps, config.seed, first_epoch, last_epoch,
                                   start_batch, flip=config.augment == "flip")
        if config.distribute == "multiworker":
            batches = distribute.shard_by_data(batches)
        gan.fit(batches, initial_epoch=first_epoch, epochs=last_epoch,
                steps_per_epoch=steps - start_batch if start_batch else steps,
                callbacks=callbacks, verbose=verbose, shuffle=False)

    if epoch < config.epochs and batch and not stopped_early:
        fit(epoch, epoch + 1, batch)  # finish the interrupted epoch first
        epoch += 1
    stopped_early = bool(early_stopping and early_stopping.stopped)
    if (epoch < config.epochs and guard.failed_at_step is None and not stopped_early
            and stop.stopped_at_step is None):
        fit(epoch, config.epochs, 0)
    if stop.stopped_at_step is not None:
        raise TrainingStopped(stop.stopped_at_step)
    if guard.failed_at_step is not None:
        kept = (f"the last good checkpoint (step {checkpoint.saved_step}) is kept in "
                f"{paths['checkpoint']}" if checkpoint_exists(paths["checkpoint"])
                else "no checkpoint had been written yet")
        raise GanlibError(
            f"training stopped: the loss became NaN/inf at step {guard.failed_at_step}; "
            f"{kept}; lower --learning-rate and run the command again")
    # Keep the best generator, not the last (its weights are already the averaged ones).
    restored = bool(early_stopping and early_stopping.restore_best(gan.generator))
    card = _finish_run(gan, config, data, paths, checkpoint, early_stopping,
                       average=not restored)
    if not restored:
        # The run is over (its checkpoint holds the raw weights, to resume from): G keeps
        # the weights it was saved with, so what a notebook draws and measures from
        # result.gan is what generator.keras draws, the moving average with --ema.
        gan.keep_averaged_weights()
    return TrainResult(gan, config.out, cb.read_history(paths["history"]), card)


def _previous_choice(config_path, key, choices):
    """What an earlier part of this run chose for `key` (one of `choices`), else None."""
    from ganlib.files import read_json

    used = (read_json(config_path) or {}).get(key)
    return used if used in choices else None


def _precision(config, config_path):
    """The precision to train in: a resumed run keeps its own; else --precision, resolved."""
    from ganlib.precision import resolve

    if config.precision == "auto":
        used = _previous_choice(config_path, "precision_used", ("float32", "bfloat16"))
        if used:
            return used
    return resolve(config.precision)


def _xla(config, config_path, precision):
    """Whether to XLA-compile the step: --xla/--no-xla if given; else a resumed run keeps
    its own choice (the numerics differ), and a new one uses XLA only where it pays."""
    from ganlib.precision import xla_pays

    if config.distribute:
        return False  # a distributed step is never compiled with XLA
    if config.xla is not None:
        return config.xla
    used = _previous_choice(config_path, "xla_used", (True, False))
    return xla_pays(precision) if used is None else used


def make_deterministic():
    """Deterministic TensorFlow ops, and one op at a time.

    Op determinism alone is not enough on a CPU: when two independent ops run at once, a
    oneDNN convolution may get fewer threads and sum in another order, so a run's last
    bits would depend on timing. One inter-op thread (each op still uses every core)
    removes that; it must be set before TensorFlow runs its first op.
    """
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (e.g. a notebook)
        if tf.config.threading.get_inter_op_parallelism_threads() != 1:
            print("[ganlib] note: TensorFlow had already started, so ops may still run in "
                  "parallel; for bit-exact runs use the command line")


def _early_stopping(config, data, gan, paths, state):
    """The EarlyStopping callback for --patience (None when it is off)."""
    if not config.patience:
        return None
    from ganlib.tricks.early_stopping import CriticMonitor, EarlyStopping, FcdMonitor

    monitor = (FcdMonitor(data, gan, config.seed) if config.dataset in CLASSIFIED_DATASETS
               else CriticMonitor())
    return EarlyStopping(config.patience, monitor, paths["best"],
                         state.get(EarlyStopping.__name__))


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


def snapshot_files(run_folder, step):
    """The generator snapshot of `step` and its card: (model path, card path)."""
    from ganlib.sample import snapshot_path

    model = snapshot_path(run_folder, step)
    return model, os.path.splitext(model)[0] + ".json"


def _finish_run(gan, config, data, paths, checkpoint, early_stopping, average=True):
    """Save the generator, its card, the discriminator and the progress GIF; return the card."""
    import contextlib

    from ganlib import viz
    from ganlib.callbacks import SampleGrids, global_step
    from ganlib.files import atomic_write

    # With --ema, the averaged weights (unless early stopping already restored its best).
    weights = gan.averaged_generator() if average else contextlib.nullcontext(gan.generator)
    with weights as generator:
        atomic_write(paths["generator"], generator.save, suffix=".keras")
    # D is kept for `python -m ganlib.sample --discriminator-plot` (its verdict on samples).
    atomic_write(paths["discriminator"], gan.discriminator.save, suffix=".keras")
    frames = SampleGrids.saved_frames(paths["samples"])
    viz.save_training_animations(frames, paths["gif"], paths["video"])
    card = write_card(paths["card"], gan, config, data, global_step(gan),
                      checkpoint.saved_wall_time,
                      early_stopping.checkpoint_state() if early_stopping else None)
    print(f"[ganlib] trained {config.variant} for {card['epochs']} epochs "
          f"({card['images_seen']:,} images) in {card['wall_time_seconds']:.0f} s "
          f"({card['precision']}{', XLA' if card['xla'] else ''}); "
          f"generator saved to {shown_path(paths['generator'])}")
    return card


def parse_args(argv=None):
    """Command-line options -> (TrainConfig, cpu_replicas, quiet)."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", help=f"one of: {', '.join(VARIANTS)} (any case)")
    parser.add_argument("--out", help="run folder (default: runs/VARIANT-DATASET)")
    parser.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--split", default="train", choices=["train", "test", "all"],
                        help="which part of the dataset to train on (default train)")
    parser.add_argument("--classes", help="train on these class ids only, e.g. 1,4,7")
    parser.add_argument("--limit", type=int, help="use only this many images (quick runs)")
    parser.add_argument("--data-dir", help="folder of the data: your images (folder), the "
                                           "sprites (pokemon), cifar-10-batches-py (cifar10) "
                                           "or the IDX files (fashion_mnist)")
    parser.add_argument("--image-size", type=int,
                        help="pokemon and folder: side of the square images (default 64)")
    parser.add_argument("--channels", type=int, help="pokemon and folder: 3 colour (default) "
                                                     "or 1 grey")
    parser.add_argument("--background", help="pokemon and folder: colour of transparent "
                                             "pixels, a name, #rrggbb or R,G,B (default white)")
    parser.add_argument("--augment", choices=["flip"],
                        help="flip: mirror each real image left-right at random (more data "
                             "for D; sprites and photos, not digits)")
    parser.add_argument("--epochs", type=int, help="default: the variant's")
    parser.add_argument("--batch-size", type=int, help="global batch size (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="weights, shuffling and noise")
    parser.add_argument("--checkpoint-every", type=int, default=200,
                        help="save all training state every N steps (and at each epoch end)")
    parser.add_argument("--sample-every", type=int, default=200,
                        help="save a sample grid (a GIF frame) every N steps")
    parser.add_argument("--patience", type=int,
                        help="early stopping: stop after TRIES epoch-end evaluations without "
                             "a better FCD (or, for a Wasserstein critic on other data, a "
                             "lower Wasserstein estimate) and keep the best generator")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic TensorFlow ops (bit-exact resumes; about 20%% "
                             "slower in python -m ganlib.bench --tuning)")
    parser.add_argument("--distribute", choices=STRATEGIES,
                        help="mirrored: tf.distribute.MirroredStrategy over all GPUs; "
                             "multiworker: MultiWorkerMirroredStrategy over the processes "
                             "that TF_CONFIG lists (see ganlib/distribute.py)")
    parser.add_argument("--cpu-replicas", type=int, default=1,
                        help="split the CPU into N devices (to try --distribute without GPUs)")
    parser.add_argument("--save-generator-every", type=int, metavar="N",
                        help="keep the generator every N steps as generators/step_NNNNNNN.keras "
                             "(sample one with `python -m ganlib.sample --model RUN --step S`)")
    parser.add_argument("--notify-command", metavar="CMD",
                        help="shell command run at each epoch's end, with GANLIB_EPOCH, "
                             "GANLIB_EPOCHS, GANLIB_STEP, GANLIB_D_LOSS, GANLIB_G_LOSS, "
                             "GANLIB_RUN and GANLIB_GRID (newest sample grid) in its environment")
    parser.add_argument("--notify-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="stop a notify command still running after this long (default 30)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="float32, bfloat16 (mixed: float32 weights), or auto: bfloat16 "
                             "only where it measured faster: AMX, or avx512_bf16 on AMD "
                             "(default auto)")
    parser.add_argument("--xla", action=argparse.BooleanOptionalAction, default=None,
                        help="compile the training step with XLA, which fuses its many small "
                             "ops (default: only where it measured faster, float32 on a CPU "
                             "without AVX-512; always off under --distribute)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    optimizer_group = parser.add_argument_group("optimizers (defaults: the variant's)")
    optimizer_group.add_argument("--optimizer", help=" or ".join(OPTIMIZERS))
    optimizer_group.add_argument("--learning-rate", type=float,
                                 help="step size of both networks (default 2e-4; WGAN 5e-5, "
                                      "WGAN-GP 1e-4)")
    optimizer_group.add_argument("--d-learning-rate", type=float,
                                 help="D's step size alone (two time-scale updates)")
    optimizer_group.add_argument("--g-learning-rate", type=float, help="G's step size alone")
    optimizer_group.add_argument("--beta-1", type=float, help="Adam beta_1 (default 0.5)")
    optimizer_group.add_argument("--beta-2", type=float,
                                 help="Adam beta_2 (default 0.999; WGAN-GP 0.9)")
    knob_group = parser.add_argument_group(
        "network, loss and update knobs (the tricks are in ganlib/tricks/)")
    for field, value_type, help_text in knob_fields():
        flag, dest = "--" + field.name.replace("_", "-"), "knob_" + field.name
        if value_type is bool:
            knob_group.add_argument(flag, action="store_true", dest=dest, help=help_text)
        else:
            default = "" if field.default is None else f" (default {field.default})"
            knob_group.add_argument(flag, type=value_type, default=field.default, dest=dest,
                                    metavar=value_type.__name__.upper(),
                                    help=help_text + default)
    args = parser.parse_args(argv)
    knobs = Knobs(**{field.name: getattr(args, "knob_" + field.name)
                     for field, _, _ in knob_fields()})
    try:
        classes = None if args.classes is None else [int(c) for c in args.classes.split(",")]
    except ValueError:
        raise GanlibError(f"--classes takes comma-separated class ids, e.g. 1,4,7; "
                          f"got '{args.classes}'") from None
    variant = get_variant(args.variant)  # fail fast, before TensorFlow starts
    if args.dataset not in DATASETS:
        raise GanlibError(f"unknown dataset '{args.dataset}'; choose one of: {', '.join(DATASETS)}")
    out = args.out or os.path.join("runs", f"{variant.name}-{args.dataset}")
    config = TrainConfig(
        variant=variant.name, out=out,
        dataset=args.dataset, split=args.split, classes=classes, limit=args.limit,
        data_dir=args.data_dir, image_size=args.image_size, channels=args.channels,
        background=args.background, augment=args.augment, epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.learning_rate,
        d_learning_rate=args.d_learning_rate, g_learning_rate=args.g_learning_rate,
        beta_1=args.beta_1, beta_2=args.beta_2, seed=args.seed,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        deterministic=args.deterministic, distribute=args.distribute, patience=args.patience,
        save_generator_every=args.save_generator_every, notify_command=args.notify_command,
        notify_timeout=args.notify_timeout, precision=args.precision,
        xla=default_xla() if args.xla is None else args.xla,
        knobs=knobs)
    return config, args.cpu_replicas, args.quiet


def split_cpu(replicas):
    """Present the CPU as `replicas` logical devices (must run before TensorFlow starts)."""
    if replicas > 1:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    started = time.time()
    STOP_REQUESTED.clear()
    signal.signal(signal.SIGTERM, lambda signum, frame: STOP_REQUESTED.set())
    try:
        config, cpu_replicas, quiet = parse_args(argv)
        import_tensorflow_quietly()  # no C++ start-up log before our output
        split_cpu(cpu_replicas)
        # A live progress bar on a terminal; one line per epoch in a log file.
        train(config, verbose=0 if quiet else (1 if sys.stdout.isatty() else 2))
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    except TrainingStopped as stopped:
        print(f"terminated: checkpoint written at step {stopped.step}; run the same command "
              "again to resume", file=sys.stderr)
        return 128 + signal.SIGTERM
    print(f"[ganlib] done in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    cli.run(main)
