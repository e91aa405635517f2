"""One progress line for a whole training run, redrawn in place: what a notebook shows.

Keras's own display draws one bar per epoch. A run of the shipped vanilla recipe has 483
epochs, so a notebook would fill with 966 lines (and its saved file with 12 MB of bar
updates). `RunProgress` draws a single line instead, rewritten at most every few seconds:

    step 12,000 of 62,400 (19%) | epoch 154 of 800 | 1,425 images/s | about 9.8 min left |
    d_loss 0.38 | g_loss 3.91 | fcd_500 49.5

The speed and the time left are measured on this machine from this session's own steps,
wall-clock time from step to step, so they include the end-of-epoch checks (the FCD, the
sample grid, the checkpoint) that a per-step timing would leave out. Before the first epoch
has ended the estimate knows only the steps, and says so.

Other messages printed during training go through `say`, which first ends the progress line,
so they never land in the middle of it.
"""

import sys
import time

import keras

# The losses are this epoch's means so far (as in Keras's bar); the FCD, the last check's.
SHOWN_LOGS = ("d_loss", "g_loss", "fcd_500")
# The line on screen: is one drawn without its newline yet, and how wide was it?
_line = {"open": False, "width": 0}


def say(message):
    """Print one line of news during training, after ending any open progress line."""
    _end_line()
    print(message, flush=True)


def _draw(text):
    # "\r" returns to the line's start, in a terminal and in Jupyter alike; the spaces wipe
    # what a longer previous line left.
    sys.stdout.write("\r" + text.ljust(_line["width"]))
    sys.stdout.flush()
    _line.update(open=True, width=len(text))


def _end_line():
    if _line["open"]:
        sys.stdout.write("\n")
        sys.stdout.flush()
        _line["open"] = False


def _number(value):
    # Three significant digits, without the exponent an early FCD of thousands would get.
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


class RunProgress(keras.callbacks.Callback):
    """A Keras callback: one line for the run's steps, speed, time left and latest losses.

    `total_steps` is the run's plan (early stopping may end it sooner). Use it with
    `fit(..., verbose=0)`, so Keras does not draw its own bars as well.
    """

    def __init__(self, total_steps, images_per_step, interval=2.0, warmup=3,
                 clock=time.perf_counter):
        super().__init__()
        self.total_steps, self.images_per_step = total_steps, images_per_step
        self.interval, self.warmup, self.clock = interval, warmup, clock
        self.started = None         # clock and step after the warm-up (tracing, compiling)
        self.first_step = None
        self.session_steps = 0      # steps taken since this session began
        self.epoch = 0
        self.epochs_ended = 0
        self.last_drawn = None
        self.logs = {}

    def on_train_batch_end(self, batch, logs=None):
        self.session_steps += 1
        self.logs.update(logs or {})
        now = self.clock()
        if self.session_steps == self.warmup:
            self.started, self.first_step = now, self._step()
        if self.last_drawn is None or now - self.last_drawn >= self.interval:
            self._redraw(now)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1  # Keras counts from 0, and a resumed run from where it was

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_ended += 1
        self.logs.update(logs or {})  # the epoch's end brings the FCD check's value
        self._redraw(self.clock())

    def on_train_end(self, logs=None):
        _end_line()

    def _step(self):
        return int(self.model.step.numpy())

    def line(self, now):
        """The progress line as it reads at clock time `now`."""
        step = self._step()
        parts = [f"step {step:,} of {self.total_steps:,} "
                 f"({100 * step / max(self.total_steps, 1):.0f}%)",
                 f"epoch {self.epoch} of {self.params.get('epochs', 0)}"]
        if self.started is not None and step > self.first_step and now > self.started:
            seconds_per_step = (now - self.started) / (step - self.first_step)
            minutes_left = max(self.total_steps - step, 0) * seconds_per_step / 60
            # Until an epoch has ended, the timing has seen no end-of-epoch checks.
            checks = "" if self.epochs_ended else " of steps"
            parts.append(f"{self.images_per_step / seconds_per_step:,.0f} images/s")
            if step < self.total_steps:
                parts.append(f"about {minutes_left:.1f} min{checks} left")
        parts += [f"{name} {_number(float(self.logs[name]))}" for name in SHOWN_LOGS
                  if name in self.logs]
        return " | ".join(parts)

    def _redraw(self, now):
        _draw(self.line(now))
        self.last_drawn = now
