"""Small custom layers.

`ScheduledDropout` is Dropout whose rate can change while `fit` runs. Keras's own
`Dropout.rate` is a Python float: it is baked into the graph when `train_step` is traced,
so assigning a new rate mid-training silently does nothing. Here the rate lives in a
non-trainable variable that the compiled step reads on every call.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganlib")
class ScheduledDropout(keras.layers.Layer):
    """Dropout whose rate is a variable, so a callback can change it during training."""

    def __init__(self, rate=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.rate = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.initial_rate),
            trainable=False, name="rate")

    def set_rate(self, rate):
        """Set the drop probability used from the next training step on."""
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate.assign(rate)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        keep_probability = 1.0 - self.rate
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) < keep_probability
        # Inverted dropout: scale kept units so the expected activation is unchanged.
        return ops.where(keep, inputs / keep_probability, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.initial_rate, "seed": self.seed}
