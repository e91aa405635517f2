"""What every GAN loss shares: per-image targets, an optional gradient penalty, scores."""

from keras import ops

from ganlib.losses.gradient_penalty import gradient_penalty


class GanLoss:
    """Base class: a subclass defines `per_image_loss` and `generator_loss`."""

    name = None
    probabilities = False  # True when `scores` are probabilities in [0, 1]
    real_target = 1.0      # D's target for a real image (BCE's label smoothing lowers it)

    def __init__(self, gradient_penalty_weight=0.0):
        self.gradient_penalty_weight = float(gradient_penalty_weight or 0.0)

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
        """The weighted gradient penalty on interpolates, or 0 when it is off."""
        if not self.gradient_penalty_weight:
            return 0.0
        return self.gradient_penalty_weight * gradient_penalty(discriminate, real, fake,
                                                               labels, seed)

    def scores(self, logits):
        """What to log as D's verdict: raw critic values (BCE overrides: probabilities)."""
        return logits
