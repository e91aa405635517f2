r"""GAN losses, on the discriminator's raw logits.

The original game (Goodfellow et al., 2014) is

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   D = sigmoid(logit).

The discriminator maximises V: binary cross-entropy with label 1 for real, 0 for fake.
The generator has two choices:

- "minimax": minimise log(1 - D(G(z))), the game as written. When D confidently rejects
  early fakes, D(G(z)) ~ 0 and this loss is flat: the generator gets almost no gradient.
- "non_saturating": maximise log D(G(z)) instead, i.e. BCE with label 1 for fakes. Same
  fixed point, strong gradients early on. The default everywhere in practice.

`label_smoothing` (one-sided, Salimans et al., 2016) trains D towards 1 - s on real
images instead of 1, which keeps it from becoming over-confident.
"""

from keras import ops

GENERATOR_LOSSES = ("non_saturating", "minimax")


def _bce_with_logits(targets, logits):
    # log(1 + exp(-|l|)) + max(l, 0) - l * t: the stable form of BCE on logits.
    return ops.mean(ops.maximum(logits, 0.0) - logits * targets
                    + ops.log1p(ops.exp(-ops.abs(logits))))


class BinaryCrossEntropyLoss:
    """The standard GAN losses: BCE for D, minimax or non-saturating for G."""

    def __init__(self, generator_loss="non_saturating", label_smoothing=0.0):
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}")
        self.generator_loss_kind = generator_loss
        self.label_smoothing = label_smoothing

    def discriminator_loss(self, real_logits, fake_logits):
        """-log D(x) - log(1 - D(G(z))), averaged; real targets are 1 - label_smoothing."""
        real_target = 1.0 - self.label_smoothing
        return (_bce_with_logits(ops.full_like(real_logits, real_target), real_logits)
                + _bce_with_logits(ops.zeros_like(fake_logits), fake_logits))

    def generator_loss(self, fake_logits):
        """Non-saturating: -log D(G(z)).  Minimax: log(1 - D(G(z)))."""
        if self.generator_loss_kind == "non_saturating":
            return _bce_with_logits(ops.ones_like(fake_logits), fake_logits)
        return -_bce_with_logits(ops.zeros_like(fake_logits), fake_logits)
