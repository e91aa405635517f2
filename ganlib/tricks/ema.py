"""An exponential moving average (EMA) of the generator's weights, warmed up.

G's weights wander from step to step as D pushes it around; their running average draws
smoother, more stable samples (Karras et al. 2018, Yazici et al. 2019). Keras optimizers
keep such an average (`use_ema=True`): after each update,

    average <- m * average + (1 - m) * weights.

With a fixed m = 0.999 the average remembers about the last 1,000 steps, and also, for a
long while, the random weights of the first step: after 1,200 steps they still carry 30%
of the average, and the samples look washed out. So m warms up as in TensorFlow's
`tf.train.ExponentialMovingAverage`: m_t = min(decay, t / (t + 10)). The first step
copies the weights, after 100 steps m is 0.91, after 1,000 steps 0.99, and only then does
the average reach back as far as `decay` asks.

`GAN.averaged_generator()` swaps the average in to draw grids, evaluate and save.
"""

import keras
from keras import ops

WARM_UP_STEPS = 10.0  # the 10 in t / (t + 10)


def warmed_up_momentum(step, decay):
    """m_t = min(decay, t / (t + 10)) for optimizer step t (0 at the first update)."""
    step = ops.cast(step, "float32")
    return ops.minimum(decay, step / (step + WARM_UP_STEPS))


class WarmUpAverage:
    """Mixin for a Keras optimizer: its weight average uses the warmed-up momentum."""

    def _update_model_variables_moving_average(self, trainable_variables):
        momentum = warmed_up_momentum(self.iterations, self.ema_momentum)
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                weight = ops.cast(momentum, variable.dtype)
                average.assign(weight * average + (1 - weight) * variable)


class AdamWithAverage(WarmUpAverage, keras.optimizers.Adam):
    """Adam that also keeps a warmed-up moving average of the weights it updates."""


class RMSpropWithAverage(WarmUpAverage, keras.optimizers.RMSprop):
    """RMSprop that also keeps a warmed-up moving average of the weights it updates."""
