"""Checkpoints that survive a kill at any moment, and restore *everything* training needs.

A checkpoint is one `.npz` file holding, in a fixed order, every variable of
- the generator and the discriminator (weights, BatchNorm statistics, dropout RNG state,
  the AD-GAN dropout rate), and
- both optimizers (step counters, Adam moments): resuming with fresh optimizer state
  would jolt training, so they are saved too. Keras only creates optimizer variables
  when an optimizer is built, which `GAN.compile` does up front for exactly this reason,
- the model's own state: its step counter and what the update policy keeps (a boost
  spell in progress).

The previous checkpoint is kept beside the newest (checkpoint.previous.npz): if the newest
is damaged on disk later (a copy cut short, a bad sector), a resume falls back to the
previous one with a warning instead of refusing.

Beside the arrays it stores a small JSON `state` (epoch, step, images seen, wall time, and
the early-stopping record). The shuffling, the noise and the random draws of the tricks
need no saved RNG state: each is a stateless function of (seed, step).
"""

import json
import os
import zipfile
import zlib

import numpy as np

from ganlib.errors import GanlibError
from ganlib.files import atomic_write


def training_variables(gan):
    """Every variable a resumed run needs, in a fixed order."""
    # The InfoGAN code head comes last (empty without it), so older checkpoints still fit.
    return (gan.generator.variables + gan.discriminator.variables
            + gan.d_optimizer.variables + gan.g_optimizer.variables + gan.state_variables
            + gan.code_variables)


def save_checkpoint(path, gan, state):
    """Write all training variables and `state` to `path`; False if a weight is not finite."""
    arrays = {f"variable_{index:04d}": np.asarray(variable)
              for index, variable in enumerate(training_variables(gan))}
    if not all(np.all(np.isfinite(array)) for array in arrays.values()
               if np.issubdtype(array.dtype, np.floating)):
        return False  # never replace a good checkpoint with a broken one
    arrays["state"] = np.array(json.dumps(state))

    def write(temp_path):
        with open(temp_path, "wb") as file:
            np.savez(file, **arrays)
    atomic_write(path, write, suffix=".npz", keep_previous=previous_path(path))
    return True


def previous_path(path):
    """Where the checkpoint before the newest one is kept."""
    stem, extension = os.path.splitext(path)
    return f"{stem}.previous{extension}"


class UnreadableCheckpoint(GanlibError):
    """The checkpoint file is damaged (as opposed to written by another network)."""


def load_checkpoint(path, gan):
    """Restore the newest readable checkpoint into `gan`; return its saved state.

    A damaged or missing newest checkpoint falls back to the previous one, with a warning.
    """
    previous = previous_path(path)
    try:
        if not os.path.isfile(path):
            raise UnreadableCheckpoint(f"checkpoint {path} is missing")
        return _load(path, gan)
    except UnreadableCheckpoint as problem:
        if not os.path.isfile(previous):
            raise
        print(f"[ganlib] warning: {problem}; resuming from the previous checkpoint "
              f"{previous} instead")
        try:
            return _load(previous, gan)
        except UnreadableCheckpoint:
            raise GanlibError(f"checkpoints {path} and {previous} are both unreadable; "
                              "delete them to start over, or use a new --out folder") from None


def _load(path, gan):
    variables = training_variables(gan)
    try:
        with np.load(path) as stored:
            state = json.loads(str(stored["state"]))
            arrays = [stored[f"variable_{index:04d}"] for index in range(len(variables))]
            extra = len(stored.files) - 1 - len(variables)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else "damaged"
        raise UnreadableCheckpoint(f"checkpoint {path} is unreadable ({reason}); delete it "
                                   "to start over, or use a new --out folder") from None
    mismatched = [variable.path for variable, array in zip(variables, arrays)
                  if tuple(variable.shape) != array.shape]
    if extra or mismatched:
        raise GanlibError(f"checkpoint {path} was written by a different network "
                          f"({mismatched[0] if mismatched else 'variable count differs'}); "
                          "use the same options as the first run, or a new --out folder")
    for variable, array in zip(variables, arrays):
        variable.assign(array)
    return state


def checkpoint_exists(path):
    """True when a checkpoint (the newest or the previous one) is present for `path`."""
    return os.path.isfile(path) or os.path.isfile(previous_path(path))
