"""AD-GAN's scheduled discriminator dropout: heavy dropout early, decaying to none.

Early in training a D with much dropout cannot overpower the still-weak generator; later,
with the dropout decayed, it becomes a sharp critic. The schedule is fixed in advance by
epoch (`dropout_rate_at`), applied by a callback at each epoch's start (`DropoutSchedule`).

`ScheduledDropout` is Dropout whose rate can change while `fit` runs. Keras's own
`Dropout.rate` is a Python float: it is baked into the graph when `train_step` is traced,
so assigning a new rate mid-training silently does nothing. Here the rate lives in a
non-trainable variable that the compiled step reads on every call.
"""

import math

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
        # The draw and the comparison in float32 even under mixed bfloat16 (where Keras
        # hands `call` the rate in bfloat16): the same units drop in either precision.
        keep_probability = 1.0 - ops.cast(self.rate, "float32")
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) < keep_probability
        # Inverted dropout: scale kept units so the expected activation is unchanged.
        return ops.where(keep, inputs / ops.cast(keep_probability, inputs.dtype),
                         ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.initial_rate, "seed": self.seed}


def dropout_rate_at(epoch, epochs, initial=0.5, final=0.0, step=0.1, final_fraction=0.75):
    """AD-GAN's discriminator dropout rate for a (0-based) epoch of `epochs`.

    The rate starts at `initial` and falls by `step` at evenly spaced epochs until it
    reaches `final`; it then holds `final` for the last `final_fraction` of the epochs.
    With the defaults and 20 epochs: 0.5, 0.4, 0.3, 0.2, 0.1 for one epoch each, then 0.0
    for the last 15 epochs (75%). So the decay happens in the first 25% of training.
    """
    decreases = max(0, round((initial - final) / step)) if step > 0 else 0
    decay_epochs = epochs * (1.0 - final_fraction)
    if decreases == 0 or epoch >= decay_epochs:
        return final
    stage = math.floor(epoch / decay_epochs * decreases)
    return max(final, initial - stage * step)


class DropoutSchedule(keras.callbacks.Callback):
    """Set every `ScheduledDropout` in the discriminator to the scheduled rate each epoch."""

    def __init__(self, epochs, initial=0.5, final=0.0, step=0.1, final_fraction=0.75):
        super().__init__()
        self.schedule = dict(epochs=epochs, initial=initial, final=final, step=step,
                             final_fraction=final_fraction)
        self.rate = initial

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = dropout_rate_at(epoch, **self.schedule)
        for layer in self.model.discriminator.layers:
            if isinstance(layer, ScheduledDropout):
                layer.set_rate(self.rate)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["d_dropout"] = self.rate
