"""Noisy labels: D is told the wrong answer now and then.

With probability P, D's targets are swapped: real images are labelled fake and generated
ones real. A D that can never be fully sure of its labels stays less confident, which keeps
the generator's gradients alive (a trick from the GAN-hacks list that the Pokemon DCGAN
project this tutorial draws on uses per batch). Per batch, one draw swaps the whole batch;
per sample, each image gets its own draw.

The draws are stateless: a pure function of (seed, step), so a resumed run flips exactly
the labels an uninterrupted one would.
"""

import tensorflow as tf
from keras import ops


class LabelNoise:
    """Swap D's real/fake targets with probability `flip_probability`."""

    def __init__(self, flip_probability=0.0, per_sample=False):
        self.flip_probability = float(flip_probability)
        self.per_sample = per_sample

    def flips(self, batch_size, seed):
        """Boolean (2, batch, 1): which real (row 0) and fake (row 1) targets to swap."""
        if self.per_sample:
            draws = tf.random.stateless_uniform([2, batch_size, 1], seed=seed)
        else:
            draws = tf.broadcast_to(tf.random.stateless_uniform([], seed=seed),
                                    [2, batch_size, 1])
        return draws < self.flip_probability


def discriminator_targets(real_target, flips):
    """Targets (real_targets, fake_targets) after swapping where `flips` is True."""
    real_flips, fake_flips = flips[0], flips[1]
    real_targets = ops.where(real_flips, 0.0, real_target)
    fake_targets = ops.where(fake_flips, real_target, 0.0)
    return real_targets, fake_targets
