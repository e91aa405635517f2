"""Keras callbacks used during GAN training.

- `NonFiniteLossGuard`: stops at the first NaN/inf loss, before anything is saved.
- `DropoutSchedule`: AD-GAN's decaying discriminator dropout.
- `CrashSafeCheckpoint`: all training state every N steps and at each epoch end.
- `SampleGrids`: a sample grid from one fixed latent batch every N steps (GIF frames).
- `HistoryLog`: losses and D scores appended to a JSON-lines file (survives resumes).

The global step is read from the generator optimizer's `iterations` counter: it is saved in
every checkpoint, so it stays right across resumed runs where Keras's own batch index restarts.
"""

import json
import math
import os
import time

import keras
import numpy as np

from ganlib import viz
from ganlib.checkpoints import save_checkpoint
from ganlib.layers import ScheduledDropout

LOSS_KEYS = ("d_loss", "g_loss")


def global_step(gan):
    """Training steps done so far (one generator update per step)."""
    return int(gan.g_optimizer.iterations.numpy())


def dropout_rate_at(epoch, epochs, initial=0.5, final=0.0, step=0.1, final_fraction=0.75):
    """AD-GAN's discriminator dropout rate for a (0-based) epoch of `epochs`.

    The rate starts at `initial` and falls by `step` at evenly spaced epochs until it
    reaches `final`; it then holds `final` for the last `final_fraction` of the epochs.
    With the defaults and 20 epochs: 0.5, 0.4, 0.3, 0.2, 0.1 for one epoch each, then 0.0
    for the last 15 epochs (75%). So the decay happens in the first 25% of training.
    """
    decreases = max(0, round((initial - final) / step)) if step > 0 else 0
    decay_epochs = epochs * (1.0 - final_fraction)
    if decreases == 0 or epoch >= decay_epochs:
        return final
    stage = math.floor(epoch / decay_epochs * decreases)
    return max(final, initial - stage * step)


class DropoutSchedule(keras.callbacks.Callback):
    """Set every `ScheduledDropout` in the discriminator to the scheduled rate each epoch."""

    def __init__(self, epochs, initial=0.5, final=0.0, step=0.1, final_fraction=0.75):
        super().__init__()
        self.schedule = dict(epochs=epochs, initial=initial, final=final, step=step,
                             final_fraction=final_fraction)
        self.rate = initial

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = dropout_rate_at(epoch, **self.schedule)
        for layer in self.model.discriminator.layers:
            if isinstance(layer, ScheduledDropout):
                layer.set_rate(self.rate)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["d_dropout"] = self.rate


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


class CrashSafeCheckpoint(keras.callbacks.Callback):
    """Save all training state every `every_steps` steps and at the end of each epoch."""

    def __init__(self, path, every_steps, steps_per_epoch, batch_size, state, guard):
        super().__init__()
        self.path = path
        self.every_steps = every_steps
        self.steps_per_epoch = steps_per_epoch
        self.batch_size = batch_size
        self.state = state  # carried over from earlier runs: wall time, seed, ...
        self.guard = guard
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
                 "images_seen": step * self.batch_size, "wall_time": self.wall_time()}
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

    def __init__(self, path, every_steps, batch_size):
        super().__init__()
        self.path = path
        self.every_steps = every_steps
        self.batch_size = batch_size
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
                  "images_seen": step * self.batch_size}
        record.update({key: float(value) for key, value in (logs or {}).items()})
        with open(self.path, "a") as file:
            file.write(json.dumps(record) + "\n")


def read_history(path, up_to_step=None):
    """The records of a HistoryLog file (optionally only those up to a step)."""
    if not os.path.exists(path):
        return []
    with open(path) as file:
        records = [json.loads(line) for line in file if line.strip().endswith("}")]
    return [r for r in records if up_to_step is None or r["step"] <= up_to_step]
