"""Stabilisation tricks, each an option of the one training step (all off by default).

- `label_noise.py`: noisy labels, D's targets swapped at random (`--label-flip P`)
- `minibatch_discrimination.py`: D sees how alike a batch's images are
  (`--minibatch-discrimination`)
- `update_policies.py`: which updates a step makes: monitored, boost, a sleeping D
  (`--policy`, `--sleep-discriminator N`)
- `weight_clipping.py`: WGAN's clipped critic weights (`--weight-clip C`)
- `early_stopping.py`: stop when quality stops improving, keep the best G (`--patience`)
- `scheduled_dropout.py`: AD-GAN's decaying discriminator dropout (the `adgan` variant)
- `diff_augment.py`: the same random changes to every image D sees (`--diff-augment`)
- `ema.py`: sample from a warmed-up moving average of G's weights (`--ema DECAY`)
- `latent_code.py`: InfoGAN's categorical code, picked by G's noise and read back by a
  head on D (`--info-code K`)

One-sided label smoothing lives with the BCE loss (`ganlib/losses/bce.py`), the gradient
penalty with the losses (`ganlib/losses/gradient_penalty.py`), and spectral normalisation
with the networks (`ganlib/nets.py`).
"""
