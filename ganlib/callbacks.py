"""Keras callbacks used during GAN training.

- `NonFiniteLossGuard`: stops at the first NaN/inf loss, before anything is saved.
- `CrashSafeCheckpoint`: all training state every N steps and at each epoch end.
- `StopOnRequest`: a clean stop after the current step, with a checkpoint (SIGTERM).
- `SampleGrids`: a sample grid from one fixed latent batch every N steps (GIF frames).
- `HistoryLog`: losses and D scores appended to a JSON-lines file (survives resumes).
- `GeneratorSnapshots`: the generator (with its card) every N steps, to sample any of them.
- `NotifyCommand`: runs a user's command at each epoch's end (phone messages, dashboards).

The tricks bring their own callbacks (`ganlib.tricks.scheduled_dropout.DropoutSchedule`,
`ganlib.tricks.early_stopping.EarlyStopping`).

The global step is the model's own `step` variable: it is saved in every checkpoint, so it
stays right across resumed runs where Keras's own batch index restarts, and it counts steps
in which a tricks policy rested the generator.
"""

import json
import math
import os
import signal
import subprocess
import time

import keras
import numpy as np

from ganlib import viz
from ganlib.checkpoints import save_checkpoint
from ganlib.files import atomic_write

LOSS_KEYS = ("d_loss", "g_loss")


def global_step(gan):
    """Training steps done so far (each: critic_steps D updates and one G update)."""
    return int(gan.step.numpy())


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stop training at the first NaN or infinite loss and remember where it happened."""

    def __init__(self):
        super().__init__()
        self.failed_at_step = None

    def on_train_batch_end(self, batch, logs=None):
        values = [float(logs[key]) for key in LOSS_KEYS if logs and key in logs]
        if self.failed_at_step is None and not all(math.isfinite(v) for v in values):
            self.failed_at_step = global_step(self.model)
            self.model.stop_training = True


class StopOnRequest(keras.callbacks.Callback):
    """End training cleanly after the current step once `requested` is set (e.g. SIGTERM):
    a checkpoint is written at that step, so no finished step is lost."""

    def __init__(self, requested, checkpoint):
        super().__init__()
        self.requested = requested  # a threading.Event, set by a signal handler
        self.checkpoint = checkpoint
        self.stopped_at_step = None

    def on_train_batch_end(self, batch, logs=None):
        if self.requested.is_set() and self.stopped_at_step is None:
            self.checkpoint.save()
            self.stopped_at_step = global_step(self.model)
            self.model.stop_training = True


class CrashSafeCheckpoint(keras.callbacks.Callback):
    """Save all training state every `every_steps` steps and at the end of each epoch."""

    def __init__(self, path, every_steps, steps_per_epoch, images_per_step, state, guard,
                 stateful_callbacks=()):
        super().__init__()
        self.path = path
        self.every_steps = every_steps
        self.steps_per_epoch = steps_per_epoch
        self.images_per_step = images_per_step
        self.state = state  # carried over from earlier runs: wall time, seed, ...
        self.guard = guard
        # Callbacks whose decisions depend on the past (early stopping) store their state
        # in the checkpoint too, under their class name.
        self.stateful_callbacks = list(stateful_callbacks)
        self.saved_step = state.get("step", 0)
        self.saved_wall_time = state.get("wall_time", 0.0)  # as of the last checkpoint
        self.started = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps and global_step(self.model) % self.every_steps == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def wall_time(self):
        """Seconds of training so far, over this run and all earlier ones."""
        return self.state.get("wall_time", 0.0) + time.time() - self.started

    def save(self):
        """Write a checkpoint unless the loss has gone non-finite."""
        step = global_step(self.model)
        if self.guard.failed_at_step is not None or step == self.saved_step:
            return
        state = {**self.state, "step": step, "epoch": step // self.steps_per_epoch,
                 "images_seen": step * self.images_per_step, "wall_time": self.wall_time()}
        for callback in self.stateful_callbacks:
            state[type(callback).__name__] = callback.checkpoint_state()
        if save_checkpoint(self.path, self.model, state):
            self.saved_step, self.saved_wall_time = step, state["wall_time"]
        else:
            self.guard.failed_at_step = step
            self.model.stop_training = True


class SampleGrids(keras.callbacks.Callback):
    """Every `every_steps` steps, save the generator's images for one fixed latent batch."""

    def __init__(self, folder, noise, labels, every_steps, columns):
        super().__init__()
        self.folder = folder
        self.noise, self.labels = noise, labels
        self.every_steps = every_steps
        self.columns = columns

    def frame_path(self, step):
        """Where the grid of a given step is saved."""
        return os.path.join(self.folder, f"step_{step:07d}.png")

    @staticmethod
    def saved_frames(folder):
        """The grids saved in `folder`, in training order."""
        return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                      if name.startswith("step_") and name.endswith(".png"))

    def on_train_begin(self, logs=None):
        os.makedirs(self.folder, exist_ok=True)
        if global_step(self.model) == 0:
            self.save(0)

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if self.every_steps and step % self.every_steps == 0:
            self.save(step)

    def on_train_end(self, logs=None):
        self.save(global_step(self.model))

    def save(self, step):
        """Write the grid for `step` (once)."""
        path = self.frame_path(step)
        if not os.path.exists(path):
            with self.model.averaged_generator():  # the moving average, with --ema
                images = self.model.generate(self.noise, self.labels, training=False)
            images = np.asarray(images)
            viz.save_png(path, viz.image_grid(images, self.columns),
                         scale=viz.grid_scale(images.shape[2]))


class HistoryLog(keras.callbacks.Callback):
    """Append the metrics every `every_steps` steps and at each epoch's end.

    Keras logs a metric as its running mean since the epoch began, which smooths away the
    oscillations a GAN's curves are read for. A "step" record therefore holds the mean
    over the steps since the previous record (a window), recovered from two running means:
    (k * mean_k - j * mean_j) / (k - j). An "epoch" record holds the epoch's mean.
    """

    def __init__(self, path, every_steps, images_per_step, averaged=()):
        super().__init__()
        self.path = path
        self.every_steps = every_steps
        self.images_per_step = images_per_step
        self.averaged = set(averaged)  # the metrics Keras reports as running means
        self.epoch = 0
        self.last = (0, {})  # (steps into the epoch, running means) at the last record

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.last = (0, {})

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if self.every_steps and step % self.every_steps == 0:
            self.append("step", self.window_means(batch + 1, logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        self.append("epoch", logs)

    def window_means(self, steps_into_epoch, logs):
        """The averaged metrics over the steps since the last record; others as logged."""
        done, previous = self.last
        running = {key: float(value) for key, value in logs.items()}
        # Remember the running means, not the window means made from them: the next window
        # subtracts the running sum, and a window mean there would compound each record's
        # error into the next (the curves then swing wider and wider within an epoch).
        self.last = (steps_into_epoch, running)
        window = steps_into_epoch - done
        values = dict(running)
        for key in self.averaged & values.keys():
            values[key] = (steps_into_epoch * running[key]
                           - done * previous.get(key, 0.0)) / window
        return values

    def append(self, kind, logs):
        """Add one JSON line: where we are and the metrics."""
        step = global_step(self.model)
        record = {"kind": kind, "epoch": self.epoch, "step": step,
                  "images_seen": step * self.images_per_step}
        record.update({key: float(value) for key, value in (logs or {}).items()})
        with open(self.path, "a") as file:
            file.write(json.dumps(record) + "\n")


class GeneratorSnapshots(keras.callbacks.Callback):
    """Every `every_steps` steps, save the generator as generators/step_NNNNNNN.keras.

    Each snapshot gets a card beside it (`write_card(path, step)`), so
    `python -m ganlib.sample --model RUN --step S` can load it like any generator.
    """

    def __init__(self, paths_for_step, every_steps, write_card):
        super().__init__()
        self.paths_for_step = paths_for_step  # step -> (model path, card path)
        self.every_steps = every_steps
        self.write_card = write_card

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if step % self.every_steps == 0:
            model_path, card_path = self.paths_for_step(step)
            if not os.path.exists(model_path):
                os.makedirs(os.path.dirname(model_path), exist_ok=True)
                with self.model.averaged_generator() as generator:
                    atomic_write(model_path, generator.save, suffix=".keras")
                self.write_card(card_path, step)


class NotifyCommand(keras.callbacks.Callback):
    """Run a shell command at the end of each epoch, with the progress in its environment.

    The command sees GANLIB_EPOCH, GANLIB_EPOCHS, GANLIB_STEP, GANLIB_D_LOSS, GANLIB_G_LOSS,
    GANLIB_RUN (the run folder) and GANLIB_GRID (the newest sample grid), so any messenger's
    command-line client can send them on. A failing or hanging command (cut off after
    `timeout` seconds) is reported once and never stops training.
    """

    def __init__(self, command, timeout, run_folder, samples_folder, epochs):
        super().__init__()
        self.command, self.timeout = command, timeout
        self.run_folder, self.samples_folder = run_folder, samples_folder
        self.epochs = epochs
        self.failures = 0

    def environment(self, epoch, logs):
        """The variables the command is given."""
        frames = SampleGrids.saved_frames(self.samples_folder)
        logs = logs or {}
        return {**os.environ, "GANLIB_EPOCH": str(epoch + 1), "GANLIB_EPOCHS": str(self.epochs),
                "GANLIB_STEP": str(global_step(self.model)),
                "GANLIB_D_LOSS": f"{float(logs.get('d_loss', math.nan)):.4f}",
                "GANLIB_G_LOSS": f"{float(logs.get('g_loss', math.nan)):.4f}",
                "GANLIB_RUN": os.path.abspath(self.run_folder),
                "GANLIB_GRID": os.path.abspath(frames[-1]) if frames else ""}

    def on_epoch_end(self, epoch, logs=None):
        problem = self.run(self.environment(epoch, logs))
        if problem:
            self.failures += 1
            if self.failures == 1:
                print(f"\n[ganlib] warning: --notify-command {problem} (epoch {epoch + 1}); "
                      "training goes on, and further failures are only counted")

    def run(self, environment):
        """Run the command once; return what went wrong, or None."""
        try:
            # Its own process group, so a timeout also stops whatever the command started.
            process = subprocess.Popen(self.command, shell=True, env=environment,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            return f"could not start ({error.strerror or error})"
        try:
            _, errors = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"did not finish within {self.timeout:g} s and was stopped"
        if process.returncode:
            return f"exited with {process.returncode}: {_last_line(errors) or 'no message'}"
        return None

    def on_train_end(self, logs=None):
        if self.failures > 1:
            print(f"[ganlib] warning: --notify-command failed at {self.failures} epoch ends")


def _last_line(data):
    lines = data.decode(errors="replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


def read_history(path, up_to_step=None):
    """The records of a HistoryLog file (optionally only those up to a step).

    A damaged line (a write cut short by a kill, a flipped byte) is skipped: the log is
    for plots, and must never stop a run from resuming.
    """
    if not os.path.exists(path):
        return []
    records = []
    with open(path, errors="replace") as file:
        for line in file:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int):
                records.append(record)
    return [r for r in records if up_to_step is None or r["step"] <= up_to_step]
