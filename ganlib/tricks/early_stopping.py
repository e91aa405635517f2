"""Early stopping: stop when sample quality has not improved for `patience` evaluations,
and keep the best generator seen, not the last.

A GAN's losses say little about its samples, so the quality is measured directly at the
end of every epoch:
- `FcdMonitor` (datasets with a classifier: mnist, fashion_mnist): the Frechet classifier
  distance (`ganlib.metrics`) of 500 samples from one fixed latent batch against 500 fixed
  real images. Lower is better.
- `CriticMonitor` (a Wasserstein critic, any dataset): the critic's epoch-mean estimate of
  the Wasserstein distance, D(x) - D(G(z)), which the WGAN paper shows falls as the
  samples improve.

Every number the decision depends on (best score and step, evaluations since the best) is
saved in the checkpoint, and the best generator's weights in their own file, so a killed
and resumed run stops at the same step with the same generator.
"""

import math
import os

import keras
import numpy as np

from ganlib.files import atomic_write
from ganlib.progress import say

MONITOR_IMAGES = 500


class FcdMonitor:
    """FCD of a fixed latent batch's samples against fixed real images (lower is better)."""

    name = "fcd_500"

    def __init__(self, data, gan, seed):
        from ganlib.classifier import features_and_probabilities, load_classifier
        from ganlib.data import to_unit_range

        self.classifier = load_classifier(data.name)
        self.features = features_and_probabilities
        order = np.random.default_rng(seed).permutation(len(data))[:MONITOR_IMAGES]
        real = to_unit_range(data.images[order])
        self.real_features = self.features(self.classifier, real)[0]
        rng = np.random.default_rng(seed + 1)
        self.noise = rng.standard_normal((len(order), gan.latent_dim)).astype(np.float32)
        self.labels = data.labels[order].reshape(-1, 1) if gan.conditional else None

    def __call__(self, gan, logs):
        from ganlib import metrics
        from ganlib.sample import generate_images

        with gan.averaged_generator() as generator:  # what would be shipped (--ema)
            images = generate_images(generator, self.noise, self.labels)
        return metrics.frechet_distance(self.features(self.classifier, images)[0],
                                        self.real_features)


class CriticMonitor:
    """The critic's Wasserstein estimate D(x) - D(G(z)) over the epoch (lower is better)."""

    name = "wasserstein_estimate"

    def __call__(self, gan, logs):
        return float(logs["d_real"]) - float(logs["d_fake"])


class EarlyStopping(keras.callbacks.Callback):
    """Evaluate at each epoch end; stop after `patience` evaluations without a new best."""

    def __init__(self, patience, monitor, best_weights_path, saved_state=None):
        super().__init__()
        self.patience = patience
        self.monitor = monitor
        self.best_weights_path = best_weights_path
        state = saved_state or {}
        self.best = state.get("best", math.inf)
        self.best_step = state.get("best_step")
        self.since_best = state.get("since_best", 0)
        self.stopped = state.get("stopped", False)

    def checkpoint_state(self):
        """What the checkpoint must store for an exact resume."""
        return {"monitor": self.monitor.name, "best": self.best, "best_step": self.best_step,
                "since_best": self.since_best, "stopped": self.stopped}

    def on_epoch_end(self, epoch, logs=None):
        value = float(self.monitor(self.model, logs or {}))
        step = int(self.model.step.numpy())
        if logs is not None:
            logs[self.monitor.name] = value
        if value < self.best:
            self.best, self.best_step, self.since_best = value, step, 0
            with self.model.averaged_generator() as generator:
                save_weights(self.best_weights_path, generator, step)
        else:
            self.since_best += 1
        if self.since_best >= self.patience:
            self.stopped = True
            self.model.stop_training = True
            say(f"[ganlib] early stopping at step {step}: {self.monitor.name} has not "
                f"improved for {self.patience} evaluations; best {self.best:.3f} at step "
                f"{self.best_step}")

    def restore_best(self, generator):
        """Load the best generator's weights into `generator`; False if there are none."""
        return load_weights(self.best_weights_path, generator)


def save_weights(path, network, step):
    """Every variable of `network` (BatchNorm statistics included) to an .npz, atomically."""
    arrays = {f"variable_{i:04d}": np.asarray(v) for i, v in enumerate(network.variables)}
    arrays["step"] = np.array(step)

    def write(temp_path):
        with open(temp_path, "wb") as file:
            np.savez(file, **arrays)
    atomic_write(path, write, suffix=".npz")


def load_weights(path, network):
    """Restore what `save_weights` wrote; False when the file is missing."""
    if not os.path.isfile(path):
        return False
    with np.load(path) as stored:
        for index, variable in enumerate(network.variables):
            variable.assign(stored[f"variable_{index:04d}"])
    return True
