r"""The original GAN loss: binary cross-entropy on D's logits (Goodfellow et al., 2014).

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   D = sigmoid(logit).

The discriminator maximises V: binary cross-entropy with label 1 for real, 0 for fake.
The generator has two choices:

- "minimax": minimise log(1 - D(G(z))), the game as written. When D confidently rejects
  early fakes, D(G(z)) ~ 0 and this loss is flat: the generator gets almost no gradient.
- "non_saturating": maximise log D(G(z)) instead, i.e. BCE with label 1 for fakes. Same
  fixed point, strong gradients early on; the default of the BCE families here.

`label_smoothing` (one-sided, Salimans et al., 2016) trains D towards 1 - s on real
images instead of 1, which keeps it from becoming over-confident.
"""

from keras import ops

from ganlib.knobs import GENERATOR_LOSSES
from ganlib.losses.base import GanLoss


def bce_with_logits(targets, logits):
    """Per-element BCE of sigmoid(logits) against targets, in its numerically stable form."""
    # log(1 + exp(-|l|)) + max(l, 0) - l * t never overflows, unlike log(sigmoid(l)).
    return ops.maximum(logits, 0.0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))


class BinaryCrossEntropyLoss(GanLoss):
    """BCE for D (with optional one-sided label smoothing); minimax or non-saturating G."""

    name = "bce"
    probabilities = True

    def __init__(self, generator_loss="non_saturating", label_smoothing=0.0,
                 gradient_penalty_weight=0.0, r1_weight=0.0):
        super().__init__(gradient_penalty_weight, r1_weight)
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}")
        self.generator_loss_kind = generator_loss
        self.label_smoothing = label_smoothing
        self.real_target = 1.0 - label_smoothing

    def per_image_loss(self, logits, targets):
        """-t log D(x) - (1 - t) log(1 - D(x))."""
        return bce_with_logits(targets, logits)

    def generator_loss(self, fake_logits):
        """Non-saturating: -log D(G(z)).  Minimax: log(1 - D(G(z)))."""
        if self.generator_loss_kind == "non_saturating":
            return ops.mean(bce_with_logits(ops.ones_like(fake_logits), fake_logits))
        return -ops.mean(bce_with_logits(ops.zeros_like(fake_logits), fake_logits))

    def scores(self, logits):
        """D's probabilities that the images are real."""
        return ops.sigmoid(logits)
