r"""The R1 penalty (Mescheder, Geiger & Nowozin, 2018): keep D flat where the real data is.

A discriminator trained with cross-entropy on a small dataset keeps sharpening around the
real images it has memorised; its gradient there grows, and G chases a moving, spiky
target. R1 adds to D's loss

    gamma / 2 * E_x~data[ ||grad_x D(x)||_2^2 ],

on the real images only, with no interpolation and no target norm (unlike WGAN-GP's
"norm 1 between real and fake"): D may score the real data high, but not change its score
quickly around it. Near the equilibrium that is what lets the game converge instead of
circling. As with WGAN-GP it needs a gradient of a gradient, an inner GradientTape inside
the tape of D's update.
"""

import tensorflow as tf
from keras import ops


def r1_penalty(discriminate, real, labels):
    """E[||grad_x D(x)||^2] over a batch of real images (summed over pixels, per image).

    `discriminate(images, labels)` calls D in training mode.
    """
    with tf.GradientTape() as tape:
        tape.watch(real)
        # The gradient of the summed scores holds each image's own gradient: D scores
        # each image alone (minibatch discrimination adds the cross-image terms too).
        total_score = ops.sum(ops.cast(discriminate(real, labels), "float32"))
    gradients = ops.cast(tape.gradient(total_score, real), "float32")
    return ops.mean(ops.sum(ops.square(gradients), axis=list(range(1, len(real.shape)))))
