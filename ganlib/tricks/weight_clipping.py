"""WGAN's weight clipping: every critic weight is clipped to [-c, c] after each update.

Clipping keeps the critic's weights in a compact set, so the critic is K-Lipschitz for
some K, which the Wasserstein duality needs (Arjovsky et al., 2017; c = 0.01). A Keras 3
optimizer applies each variable's `constraint` right after updating it, so clipping is a
constraint on every kernel and bias of the critic: no extra code in the training step.
(An optimizer's `clipvalue` would clip the *gradients*, a common mistake.)
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganlib")
class ClipWeights(keras.constraints.Constraint):
    """Clip a weight tensor to [-clip, clip]."""

    def __init__(self, clip=0.01):
        self.clip = float(clip)

    def __call__(self, weights):
        return ops.clip(weights, -self.clip, self.clip)

    def get_config(self):
        return {"clip": self.clip}


def weight_constraint(clip):
    """The constraint for a critic's weights: ClipWeights(clip), or None when clip is 0."""
    return ClipWeights(clip) if clip else None
