"""GAN losses: one object per family, all with the same four methods.

| name        | module           | D's output means                 | paper                 |
|-------------|------------------|----------------------------------|-----------------------|
| bce         | `bce.py`         | a logit: sigmoid gives P(real)   | Goodfellow et al. 2014 |
| wasserstein | `wasserstein.py` | a critic score, higher = realer  | Arjovsky et al. 2017   |
| hinge       | `hinge.py`       | a score with a margin at +-1     | Lim & Ye 2017          |

Every loss object has
- `discriminator_loss(real_logits, fake_logits, real_targets, fake_targets)`: the
  targets are 1 for "real" and 0 for "fake" per image (tricks such as noisy labels swap
  them); left out, they are the honest ones,
- `generator_loss(fake_logits)`,
- `penalty(discriminate, real, fake, labels, seed)`: the gradient penalties whose weights
  are set (WGAN-GP's in `gradient_penalty.py`, R1 in `r1_penalty.py`), else 0,
- `scores(logits)`: what the training log shows as "D(x)" and "D(G(z))": a probability
  for BCE, the raw critic value for the others (`probabilities` says which).
"""

from ganlib.losses.bce import BinaryCrossEntropyLoss
from ganlib.losses.hinge import HingeLoss
from ganlib.losses.wasserstein import WassersteinLoss

LOSS_CLASSES = {"bce": BinaryCrossEntropyLoss, "wasserstein": WassersteinLoss,
                "hinge": HingeLoss}


def make_loss(knobs):
    """The loss object for resolved knobs (name, generator loss, smoothing, penalty)."""
    if knobs.loss == "bce":
        return BinaryCrossEntropyLoss(knobs.generator_loss, knobs.label_smoothing,
                                      knobs.gradient_penalty, knobs.r1)
    return LOSS_CLASSES[knobs.loss](gradient_penalty_weight=knobs.gradient_penalty,
                                    r1_weight=knobs.r1)
