"""What every GAN loss shares: per-image targets, optional gradient penalties, scores."""

from keras import ops

from ganlib.losses.gradient_penalty import gradient_penalty
from ganlib.losses.r1_penalty import r1_penalty


class GanLoss:
    """Base class: a subclass defines `per_image_loss` and `generator_loss`."""

    name = None
    probabilities = False  # True when `scores` are probabilities in [0, 1]
    real_target = 1.0      # D's target for a real image (BCE's label smoothing lowers it)

    def __init__(self, gradient_penalty_weight=0.0, r1_weight=0.0):
        self.gradient_penalty_weight = float(gradient_penalty_weight or 0.0)
        self.r1_weight = float(r1_weight or 0.0)  # the gamma of gamma / 2 * E||grad D(x)||^2

    @property
    def penalised(self):
        """True when D's loss carries a gradient penalty (WGAN-GP's, R1, or both)."""
        return bool(self.gradient_penalty_weight or self.r1_weight)

    def per_image_loss(self, logits, targets):
        """D's loss for each image given its target (1 = real, 0 = fake)."""
        raise NotImplementedError

    def generator_loss(self, fake_logits):
        """G's loss on D's outputs for generated images."""
        raise NotImplementedError

    def discriminator_loss(self, real_logits, fake_logits, real_targets=None, fake_targets=None):
        """Mean loss over the real batch plus mean loss over the generated batch."""
        if real_targets is None:
            real_targets = ops.full_like(real_logits, self.real_target)
        if fake_targets is None:
            fake_targets = ops.zeros_like(fake_logits)
        return (ops.mean(self.per_image_loss(real_logits, real_targets))
                + ops.mean(self.per_image_loss(fake_logits, fake_targets)))

    def penalty(self, discriminate, real, fake, labels, seed):
        """The weighted gradient penalties (on interpolates; R1 on real images), or 0."""
        total = 0.0
        if self.gradient_penalty_weight:
            total += self.gradient_penalty_weight * gradient_penalty(discriminate, real, fake,
                                                                     labels, seed)
        if self.r1_weight:
            total += 0.5 * self.r1_weight * r1_penalty(discriminate, real, labels)
        return total

    def scores(self, logits):
        """What to log as D's verdict: raw critic values (BCE overrides: probabilities)."""
        return logits
