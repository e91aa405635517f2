r"""The gradient penalty of WGAN-GP (Gulrajani et al., 2017).

A critic is 1-Lipschitz exactly when its gradient has norm at most 1 everywhere. Instead of
clipping weights, WGAN-GP adds to the critic's loss

    lambda * E_xhat[(||grad_xhat D(xhat)||_2 - 1)^2],   xhat = x + alpha (G(z) - x),

at random points xhat on straight lines between real and generated images, with one
alpha ~ U(0, 1) per image pair. Two details that public code gets wrong:
- alpha is uniform, one draw per image (not normal, not one for the whole batch);
- the norm is sqrt(sum g^2 + epsilon): at a zero gradient, sqrt's derivative is infinite
  and the update would be NaN without the epsilon.
The penalty depends on D's gradient, so training D on it needs a gradient of a gradient:
an inner GradientTape inside the tape of D's update.
"""

import tensorflow as tf
from keras import ops

NORM_EPSILON = 1e-12


def gradient_penalty(discriminate, real, fake, labels, seed):
    """E[(||grad D(xhat)|| - 1)^2] on per-image uniform interpolates between real and fake.

    `discriminate(images, labels)` calls D in training mode; `seed` is a stateless seed
    (two integers), so the same step of a resumed run draws the same alphas.
    """
    batch = ops.shape(real)[0]
    alpha_shape = [batch] + [1] * (len(real.shape) - 1)  # one alpha per image
    alpha = tf.random.stateless_uniform(alpha_shape, seed=seed, dtype=real.dtype)
    interpolates = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        # D scores each image on its own, so the gradient of the sum holds each image's
        # gradient. (With minibatch discrimination D also looks across the batch: the
        # penalty then also constrains those cross-image terms.)
        total_score = ops.sum(discriminate(interpolates, labels))
    gradients = tape.gradient(total_score, interpolates)
    squared = ops.sum(ops.square(gradients), axis=list(range(1, len(real.shape))))
    norms = ops.sqrt(squared + NORM_EPSILON)
    return ops.mean(ops.square(norms - 1.0))
