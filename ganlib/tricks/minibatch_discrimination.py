r"""Minibatch discrimination (Salimans et al., 2016): D sees how alike a batch's images are.

A collapsed generator makes near-identical images, but a D that judges one image at a time
cannot see that. This layer gives D, for each image, a measure of how close it is to the
other images of its batch. For features f(x_i) in R^A and a learned tensor T in R^{A x B x C}:

    M_i = f(x_i) T              (B rows of C numbers, one row per kernel)
    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)
    o(x_i)_b = sum_{j != i} c_b(x_i, x_j)

and the layer outputs [f(x_i), o(x_i)]. Real batches are varied, so their o is small; a
collapsed batch has o near (batch size - 1), which D learns to reject. Under
`tf.distribute`, each replica compares the images of its own share of the batch.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganlib")
class MinibatchDiscrimination(keras.layers.Layer):
    """Append, per image, `kernels` closeness scores to the other images of the batch."""

    def __init__(self, kernels=50, kernel_dim=5, kernel_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.kernels = int(kernels)
        self.kernel_dim = int(kernel_dim)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.kernels * self.kernel_dim), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=0.05),
            constraint=self.kernel_constraint)

    def call(self, features):
        rows = ops.reshape(ops.matmul(features, self.kernel), (-1, self.kernels, self.kernel_dim))
        # (batch, 1, B, C) - (1, batch, B, C): every pair of images, per kernel.
        l1 = ops.sum(ops.abs(ops.expand_dims(rows, 1) - ops.expand_dims(rows, 0)), axis=-1)
        closeness = ops.sum(ops.exp(-l1), axis=1) - 1.0  # exp(0) = 1: drop each image's self
        return ops.concatenate([features, closeness], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.kernels)

    def get_config(self):
        return {**super().get_config(), "kernels": self.kernels, "kernel_dim": self.kernel_dim,
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint)}
