"""The registry of GAN families: name -> networks + training defaults.

| name    | generator / discriminator           | conditioned on the class |
|---------|-------------------------------------|--------------------------|
| vanilla | MLP / MLP                           | no                       |
| cgan    | MLP / MLP                           | yes (one-hot label)      |
| dcgan   | conv (TF tutorial) / conv           | no                       |
| cdcgan  | conv / conv with label maps         | yes                      |
| adgan   | conv / conv with scheduled dropout  | no                       |

All use the non-saturating BCE loss and Adam(2e-4, beta_1=0.5) from the DCGAN paper by
default; `Knobs` holds everything a user may change from the command line.
"""

import dataclasses

from ganlib.errors import GanlibError

UPDATES = ("simultaneous", "alternating")  # how D and G share a step (see ganlib.gan)

# The network, loss and model modules import TensorFlow, which takes seconds to start: they
# are imported inside the functions that need them, so looking up a name is instant.


@dataclasses.dataclass
class Knobs:
    """Architecture and loss settings (the defaults reproduce the reference networks)."""

    latent_dim: int = 100
    g_filters: float = 1.0          # width multiplier of the conv generator (1.0 = 64 base)
    d_filters: float = 1.0          # width multiplier of the conv discriminator
    g_extra_conv: int = 0           # extra stride-2 upsampling layers in the conv generator
    d_extra_dense: int = 0          # extra dense layers before the discriminator's logit
    d_dropout: float = 0.3          # discriminator dropout (AD-GAN: see the schedule knobs)
    generator_loss: str = "non_saturating"
    update: str = "simultaneous"    # or "alternating" (see ganlib.gan)
    label_smoothing: float = 0.0
    dropout_initial: float = 0.5    # AD-GAN: discriminator dropout at the start
    dropout_final: float = 0.0      # AD-GAN: the rate it decays to
    dropout_step: float = 0.1       # AD-GAN: the size of each decrease
    dropout_final_fraction: float = 0.75  # AD-GAN: share of epochs held at the final rate

    def validate(self):
        """Raise a GanlibError naming the first knob whose value cannot work."""
        from ganlib.losses import GENERATOR_LOSSES

        checks = [
            ("latent-dim", self.latent_dim >= 1, "at least 1"),
            ("g-filters", self.g_filters > 0, "positive"),
            ("d-filters", self.d_filters > 0, "positive"),
            ("g-extra-conv", self.g_extra_conv >= 0, "0 or more"),
            ("d-extra-dense", self.d_extra_dense >= 0, "0 or more"),
            ("d-dropout", 0 <= self.d_dropout < 1, "in [0, 1)"),
            ("generator-loss", self.generator_loss in GENERATOR_LOSSES,
             " or ".join(GENERATOR_LOSSES)),
            ("update", self.update in UPDATES, " or ".join(UPDATES)),
            ("label-smoothing", 0 <= self.label_smoothing < 1, "in [0, 1)"),
            ("dropout-initial", 0 <= self.dropout_initial < 1, "in [0, 1)"),
            ("dropout-final", 0 <= self.dropout_final <= self.dropout_initial,
             "between 0 and --dropout-initial"),
            ("dropout-step", self.dropout_step > 0, "positive"),
            ("dropout-final-fraction", 0 <= self.dropout_final_fraction <= 1, "in [0, 1]"),
        ]
        for name, ok, expected in checks:
            if not ok:
                value = getattr(self, name.replace("-", "_"))
                raise GanlibError(f"--{name} must be {expected}, got {value!r}")
        return self


@dataclasses.dataclass(frozen=True)
class Variant:
    """One GAN family: how to build its networks and how to train it by default."""

    name: str
    title: str
    conditional: bool
    convolutional: bool
    scheduled_dropout: bool = False
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-4
    beta_1: float = 0.5


VARIANTS = {
    "vanilla": Variant("vanilla", "Vanilla GAN (MLP)", conditional=False, convolutional=False,
                       epochs=100),
    "cgan": Variant("cgan", "Conditional GAN (MLP)", conditional=True, convolutional=False,
                    epochs=100),
    "dcgan": Variant("dcgan", "DCGAN", conditional=False, convolutional=True),
    "cdcgan": Variant("cdcgan", "Conditional DCGAN", conditional=True, convolutional=True),
    "adgan": Variant("adgan", "AD-GAN (DCGAN with scheduled discriminator dropout)",
                     conditional=False, convolutional=True, scheduled_dropout=True),
}


def get_variant(name):
    """Look a variant up by name, case-insensitively."""
    variant = VARIANTS.get(str(name).lower().replace("-", ""))
    if variant is None:
        raise GanlibError(f"unknown variant '{name}'; choose one of: {', '.join(VARIANTS)}")
    return variant


def build_networks(variant, image_shape, num_classes, knobs):
    """(generator, discriminator) for a variant, sized for `image_shape`."""
    from ganlib import nets

    classes = num_classes if variant.conditional else None
    if not variant.convolutional:
        generator = nets.mlp_generator(image_shape, knobs.latent_dim, classes)
        discriminator = nets.mlp_discriminator(image_shape, classes, dropout=knobs.d_dropout)
        return generator, discriminator
    generator = nets.conv_generator(image_shape, knobs.latent_dim, classes,
                                    filters=knobs.g_filters, extra_conv_layers=knobs.g_extra_conv)
    dropout = knobs.dropout_initial if variant.scheduled_dropout else knobs.d_dropout
    discriminator = nets.conv_discriminator(
        image_shape, classes, filters=knobs.d_filters, extra_dense_layers=knobs.d_extra_dense,
        dropout=dropout, scheduled_dropout=variant.scheduled_dropout)
    return generator, discriminator


def build_gan(variant, image_shape, num_classes, knobs):
    """A `GAN` model (not yet compiled) for a variant."""
    from ganlib.gan import GAN
    from ganlib.losses import BinaryCrossEntropyLoss

    generator, discriminator = build_networks(variant, image_shape, num_classes, knobs)
    loss = BinaryCrossEntropyLoss(knobs.generator_loss, knobs.label_smoothing)
    return GAN(generator, discriminator, knobs.latent_dim,
               num_classes=num_classes if variant.conditional else None, loss=loss,
               update=knobs.update)
