"""Stabilisation tricks, each an option of the one training step (all off by default).

| module                        | trick                                           | option                        |
|-------------------------------|-------------------------------------------------|-------------------------------|
| `label_noise.py`              | noisy labels: D's targets swapped at random     | `--label-flip P`              |
| `minibatch_discrimination.py` | D sees how alike the images of a batch are      | `--minibatch-discrimination`  |
| `update_policies.py`          | which updates a step makes: monitored, boost, sleeping D | `--policy`, `--sleep-discriminator` |
| `weight_clipping.py`          | WGAN's clipped critic weights                   | `--weight-clip C`             |
| `early_stopping.py`           | stop when quality stops improving, keep the best G | `--patience TRIES`         |
| `scheduled_dropout.py`        | AD-GAN's decaying discriminator dropout         | the `adgan` variant           |

One-sided label smoothing lives with the BCE loss (`ganlib/losses/bce.py`), and the
gradient penalty with the losses (`ganlib/losses/gradient_penalty.py`).
"""
