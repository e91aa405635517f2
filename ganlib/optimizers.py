"""One place that turns a variant's optimizer settings into Keras optimizers.

D and G get separate optimizers, and may get separate learning rates: the two-time-scale
update rule (Heusel et al., 2017) gives D a larger step than G. The DCGAN paper's Adam
(2e-4, beta_1 0.5) is the BCE families' default; WGAN uses RMSProp (5e-5), because its
authors saw momentum-based optimizers destabilise the clipped critic; WGAN-GP returns to
Adam with betas (0.5, 0.9).
"""

import dataclasses

from ganlib.errors import GanlibError
from ganlib.knobs import OPTIMIZERS


@dataclasses.dataclass(frozen=True)
class OptimizerSettings:
    """The optimizer kind and its hyper-parameters, for D and G."""

    kind: str = "adam"
    d_learning_rate: float = 2e-4
    g_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999

    @classmethod
    def for_variant(cls, variant, kind=None, learning_rate=None, d_learning_rate=None,
                    g_learning_rate=None, beta_1=None, beta_2=None):
        """The variant's settings, with any given value taking precedence."""
        shared = _pick(learning_rate, variant.learning_rate)
        return cls(kind=_pick(kind, variant.optimizer),
                   d_learning_rate=_pick(d_learning_rate, shared),
                   g_learning_rate=_pick(g_learning_rate, shared),
                   beta_1=_pick(beta_1, variant.beta_1),
                   beta_2=_pick(beta_2, variant.beta_2)).validated()

    def validated(self):
        """Self, or a GanlibError naming the first value that cannot work."""
        if self.kind not in OPTIMIZERS:
            raise GanlibError(f"--optimizer must be {' or '.join(OPTIMIZERS)}, got {self.kind!r}")
        for name in ("d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            if not (value > 0 and value < float("inf")):  # also refuses NaN
                raise GanlibError(f"--{name.replace('_', '-')} must be positive, got {value}")
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise GanlibError(f"--{name.replace('_', '-')} must be in [0, 1), got {value}")
        return self

    def make(self, network, ema=0.0):
        """A fresh Keras optimizer for network "d" or "g".

        With `ema` (a decay such as 0.999) the optimizer also keeps a warmed-up exponential
        moving average of the weights it updates (`ganlib.tricks.ema`); it is never written
        back during training, only swapped in to draw samples (`GAN.averaged_generator`).
        """
        import keras

        learning_rate = self.d_learning_rate if network == "d" else self.g_learning_rate
        if ema:
            from ganlib.tricks.ema import AdamWithAverage, RMSpropWithAverage

            adam, rmsprop = AdamWithAverage, RMSpropWithAverage
            average = dict(use_ema=True, ema_momentum=ema)
        else:
            adam, rmsprop, average = keras.optimizers.Adam, keras.optimizers.RMSprop, {}
        if self.kind == "rmsprop":
            return rmsprop(learning_rate, **average)
        return adam(learning_rate, beta_1=self.beta_1, beta_2=self.beta_2, **average)


def _pick(value, default):
    return default if value is None else value


def compile_gan(gan, settings, xla=False):
    """Give a GAN its two optimizers (built, so a checkpoint can restore their state).

    `xla` compiles the whole train step with XLA. Keras leaves XLA off on CPU-only machines
    by default, but a small GAN's step is hundreds of tiny ops whose per-op overhead XLA's
    fusion removes. Distribution strategies keep it off (Keras does too).
    """
    gan.compile(d_optimizer=settings.make("d"), g_optimizer=settings.make("g", gan.ema_decay),
                jit_compile=bool(xla))
    return gan
