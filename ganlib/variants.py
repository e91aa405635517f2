"""The registry of GAN families: name -> networks + loss + training defaults.

| name     | generator / discriminator            | loss        | conditioned on the class |
|----------|--------------------------------------|-------------|--------------------------|
| vanilla  | MLP / MLP                            | BCE         | no                       |
| cgan     | MLP / MLP                            | BCE         | yes (one-hot label)      |
| dcgan    | conv (TF tutorial) / conv            | BCE         | no                       |
| cdcgan   | conv / conv with label maps          | BCE         | yes                      |
| adgan    | conv / conv with scheduled dropout   | BCE         | no                       |
| wgan     | conv / conv critic, clipped weights  | Wasserstein | no                       |
| wgan_gp  | conv / conv critic                   | Wasserstein + gradient penalty | no    |
| cwgan_gp | conv / conv critic with label maps   | Wasserstein + gradient penalty | yes   |

The BCE families train with Adam(2e-4, beta_1=0.5), the DCGAN paper's settings. The WGANs
use their papers' settings: RMSProp(5e-5) and weight clipping 0.01 (Arjovsky et al. 2017);
Adam(1e-4, betas 0.5/0.9) and a gradient penalty of weight 10 (Gulrajani et al. 2017); both
with 5 critic updates per generator update and no dropout in the critic. `Knobs` holds
everything a user may change from the command line.
"""

import dataclasses

from ganlib.errors import GanlibError

# The network, loss and model modules import TensorFlow, which takes seconds to start: they
# are imported inside the functions that need them, so looking up a name is instant.


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
    loss: str = "bce"
    d_dropout: float = 0.3
    critic_steps: int = 1
    gradient_penalty: float = 0.0
    weight_clip: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999


_WGAN_GP = dict(convolutional=True, loss="wasserstein", d_dropout=0.0, critic_steps=5,
                gradient_penalty=10.0, learning_rate=1e-4, beta_1=0.5, beta_2=0.9, epochs=100)

VARIANTS = {
    "vanilla": Variant("vanilla", "Vanilla GAN (MLP)", conditional=False, convolutional=False,
                       epochs=100),
    "cgan": Variant("cgan", "Conditional GAN (MLP)", conditional=True, convolutional=False,
                    epochs=100),
    "dcgan": Variant("dcgan", "DCGAN", conditional=False, convolutional=True),
    "cdcgan": Variant("cdcgan", "Conditional DCGAN", conditional=True, convolutional=True),
    "adgan": Variant("adgan", "AD-GAN (DCGAN with scheduled discriminator dropout)",
                     conditional=False, convolutional=True, scheduled_dropout=True),
    "wgan": Variant("wgan", "WGAN (weight clipping)", conditional=False, convolutional=True,
                    loss="wasserstein", d_dropout=0.0, critic_steps=5, weight_clip=0.01,
                    optimizer="rmsprop", learning_rate=5e-5, epochs=100),
    "wgan_gp": Variant("wgan_gp", "WGAN-GP (gradient penalty)", conditional=False, **_WGAN_GP),
    "cwgan_gp": Variant("cwgan_gp", "Conditional WGAN-GP", conditional=True, **_WGAN_GP),
}


def get_variant(name):
    """Look a variant up by name, case-insensitively (wgan-gp and wgan_gp both work)."""
    variant = VARIANTS.get(str(name).lower().replace("-", "_"))
    if variant is None:
        raise GanlibError(f"unknown variant '{name}'; choose one of: {', '.join(VARIANTS)}")
    return variant


def build_networks(variant, image_shape, num_classes, knobs):
    """(generator, discriminator) for a variant, sized for `image_shape`."""
    from ganlib import nets

    knobs = knobs.resolved(variant)
    classes = num_classes if variant.conditional else None
    critic = dict(weight_clip=knobs.weight_clip, spectral_norm=knobs.spectral_norm,
                  projection=knobs.projection,
                  minibatch=((knobs.minibatch_kernels, knobs.minibatch_kernel_dim)
                             if knobs.minibatch_discrimination else None))
    if not variant.convolutional:
        generator = nets.mlp_generator(image_shape, knobs.latent_dim, classes,
                                       code_classes=knobs.info_code)
        discriminator = nets.mlp_discriminator(image_shape, classes, dropout=knobs.d_dropout,
                                               **critic)
        return generator, discriminator
    generator = nets.conv_generator(image_shape, knobs.latent_dim, classes,
                                    filters=knobs.g_filters, extra_conv_layers=knobs.g_extra_conv,
                                    code_classes=knobs.info_code)
    dropout = knobs.dropout_initial if variant.scheduled_dropout else knobs.d_dropout
    discriminator = nets.conv_discriminator(
        image_shape, classes, filters=knobs.d_filters, extra_dense_layers=knobs.d_extra_dense,
        dropout=dropout, scheduled_dropout=variant.scheduled_dropout, **critic)
    return generator, discriminator


def build_gan(variant, image_shape, num_classes, knobs, seed=0):
    """A `GAN` model (not yet compiled) for a variant: networks, loss, update policy."""
    from ganlib.gan import GAN
    from ganlib.losses import make_loss
    from ganlib.tricks.label_noise import LabelNoise
    from ganlib.tricks.update_policies import make_policy

    from ganlib.tricks.diff_augment import DiffAugment
    from ganlib.tricks.latent_code import CodeReader

    knobs = knobs.resolved(variant)
    if "color" in knobs.augmentations() and image_shape[-1] != 3:
        raise GanlibError("--diff-augment color needs colour images; these have "
                          f"{image_shape[-1]} channel(s): use translation,cutout")
    generator, discriminator = build_networks(variant, image_shape, num_classes, knobs)
    code_reader = (CodeReader(discriminator, knobs.info_code, knobs.info_weight)
                   if knobs.info_code else None)
    return GAN(generator, discriminator, knobs.latent_dim,
               num_classes=num_classes if variant.conditional else None,
               loss=make_loss(knobs), critic_steps=knobs.critic_steps, update=knobs.update,
               policy=make_policy(knobs),
               label_noise=LabelNoise(knobs.label_flip, knobs.label_flip_per_sample),
               diff_augment=DiffAugment(knobs.augmentations()), ema_decay=knobs.ema,
               code_reader=code_reader, seed=seed)
