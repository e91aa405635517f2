"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): train D on small data.

With a few thousand images, D soon memorises the training set: it tells real from fake
by recalling the exact images, and its gradients stop teaching G anything general. Plain
augmentation of the real images would not help, because G would then learn to draw the
augmentations (shifted digits, holes). DiffAugment instead transforms *every* image D
sees, real and generated, with the same kinds of random changes, inside the training
step: D must judge content rather than memorised pixels, and since each change is
differentiable, G's gradient flows back through it.

Policies (`--diff-augment translation,cutout[,color]`):
- translation: shift each image by up to 1/8 of its side, filling with 0 (mid-grey);
- cutout: set a random square of half the side to 0;
- color (RGB only): random brightness, saturation and contrast.

Every random draw comes from a stateless seed (run seed, step, which D call), so a resumed
run is bit-identical.
"""

import tensorflow as tf


class DiffAugment:
    """Apply the policy's random, differentiable transforms to a batch of images."""

    def __init__(self, policy=()):
        self.policy = tuple(policy)

    def __bool__(self):
        return bool(self.policy)

    def __call__(self, images, seed):
        """images (batch, H, W, C) in [-1, 1]; seed a stateless seed (2 int64s)."""
        for index, name in enumerate(self.policy):
            draw = tf.random.experimental.stateless_fold_in(seed, index)
            images = {"translation": translate, "cutout": cutout, "color": color}[name](
                images, draw)
        return images


def translate(images, seed, fraction=0.125):
    """Shift each image by up to `fraction` of its side (its own shift), padding with 0."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    shift_y = tf.cast(tf.cast(height, tf.float32) * fraction + 0.5, tf.int32)
    shift_x = tf.cast(tf.cast(width, tf.float32) * fraction + 0.5, tf.int32)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    dy = tf.random.stateless_uniform([batch], seeds[0], -shift_y, shift_y + 1, tf.int32)
    dx = tf.random.stateless_uniform([batch], seeds[1], -shift_x, shift_x + 1, tf.int32)
    padded = tf.pad(images, [[0, 0], [shift_y, shift_y], [shift_x, shift_x], [0, 0]])
    rows = tf.range(height)[None, :] + shift_y + dy[:, None]    # (batch, H)
    columns = tf.range(width)[None, :] + shift_x + dx[:, None]  # (batch, W)
    images = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(images, columns, axis=2, batch_dims=1)


def cutout(images, seed, fraction=0.5):
    """Set a random square of `fraction` of the side to 0 in each image."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(seed, 2)
    centre_y = tf.random.stateless_uniform([batch, 1, 1], seeds[0], 0, height, tf.int32)
    centre_x = tf.random.stateless_uniform([batch, 1, 1], seeds[1], 0, width, tf.int32)
    half_y = tf.cast(tf.cast(height, tf.float32) * fraction / 2, tf.int32)
    half_x = tf.cast(tf.cast(width, tf.float32) * fraction / 2, tf.int32)
    inside = ((tf.abs(tf.range(height)[None, :, None] - centre_y) < half_y)
              & (tf.abs(tf.range(width)[None, None, :] - centre_x) < half_x))
    return images * tf.cast(~inside, images.dtype)[..., None]


def color(images, seed):
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per image."""
    batch = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(seed, 3)
    brightness = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[0], -0.5, 0.5)
    images = images + brightness
    grey = tf.reduce_mean(images, axis=3, keepdims=True)
    saturation = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[1], 0.0, 2.0)
    images = (images - grey) * saturation + grey
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    contrast = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[2], 0.5, 1.5)
    return (images - mean) * contrast + mean
