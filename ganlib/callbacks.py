"""Keras callbacks used during GAN training.

- `NonFiniteLossGuard`: stops at the first NaN/inf loss, before anything is saved.
- `CrashSafeCheckpoint`: all training state every N steps and at each epoch end.
- `StopOnRequest`: a clean stop after the current step, with a checkpoint (SIGTERM).
- `SampleGrids`: a sample grid from one fixed latent batch every N steps (GIF frames).
- `HistoryLog`: losses and D scores appended to a JSON-lines file (survives resumes).

The tricks bring their own callbacks (`ganlib.tricks.scheduled_dropout.DropoutSchedule`,
`ganlib.tricks.early_stopping.EarlyStopping`).

The global step is the model's own `step` variable: it is saved in every checkpoint, so it
stays right across resumed runs where Keras's own batch index restarts, and it counts steps
in which a tricks policy rested the generator.
"""

import json
import math
import os
import time

import keras
import numpy as np

from ganlib import viz
from ganlib.checkpoints import save_checkpoint

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
            images = self.model.generate(self.noise, self.labels, training=False)
            viz.save_png(path, viz.image_grid(np.asarray(images), self.columns), scale=2)


class HistoryLog(keras.callbacks.Callback):
    """Append the running metrics every `every_steps` steps and at each epoch's end."""

    def __init__(self, path, every_steps, images_per_step):
        super().__init__()
        self.path = path
        self.every_steps = every_steps
        self.images_per_step = images_per_step
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if self.every_steps and step % self.every_steps == 0:
            self.append("step", logs)

    def on_epoch_end(self, epoch, logs=None):
        self.append("epoch", logs)

    def append(self, kind, logs):
        """Add one JSON line: where we are and the metrics of the epoch so far."""
        step = global_step(self.model)
        record = {"kind": kind, "epoch": self.epoch, "step": step,
                  "images_seen": step * self.images_per_step}
        record.update({key: float(value) for key, value in (logs or {}).items()})
        with open(self.path, "a") as file:
            file.write(json.dumps(record) + "\n")


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
