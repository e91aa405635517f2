"""Every knob of a GAN run, its default and its valid range, with no TensorFlow import.

A knob is anything that changes the networks, the losses or which updates a training step
makes. Knobs set to `None` take the variant's own default (a WGAN's critic differs from a
DCGAN's discriminator): `Knobs.resolved(variant)` fills them in and checks every value,
so a mistake is one clear line before TensorFlow even starts.

The command line is generated from the fields below: `--label-flip 0.05` sets
`Knobs.label_flip`, and the text after `help=` is what `--help` prints.
"""

import dataclasses
import math

from ganlib.errors import GanlibError

# Names of the choices; the modules that implement them (ganlib.losses, ganlib.tricks)
# map each name to its code.
LOSSES = ("bce", "wasserstein", "hinge")
GENERATOR_LOSSES = ("non_saturating", "minimax")
UPDATES = ("simultaneous", "alternating")     # how D's and G's update share a step
POLICIES = ("always", "monitored", "boost")   # which updates a step makes
OPTIMIZERS = ("adam", "rmsprop")
DIFF_AUGMENTATIONS = ("translation", "cutout", "color")  # ganlib.tricks.diff_augment


def _knob(default, help, type_=None):
    return dataclasses.field(default=default, metadata={"help": help, "type": type_})


@dataclasses.dataclass
class Knobs:
    """Network, loss and update settings; `None` means "the variant's default"."""

    # Networks
    latent_dim: int = _knob(100, "size of the noise vector z")
    g_filters: float = _knob(1.0, "width multiplier of the conv generator (1.0 = 64 base)")
    d_filters: float = _knob(1.0, "width multiplier of the conv discriminator")
    g_extra_conv: int = _knob(0, "extra stride-2 upsampling layers in the conv generator")
    d_extra_dense: int = _knob(0, "extra dense layers before the discriminator's logit")
    d_dropout: float = _knob(None, "discriminator dropout (default 0.3; 0 for WGAN critics)",
                             float)
    minibatch_discrimination: bool = _knob(
        False, "add a minibatch-discrimination layer before D's logit (Salimans et al. 2016)")
    minibatch_kernels: int = _knob(50, "minibatch discrimination: number of kernels")
    minibatch_kernel_dim: int = _knob(5, "minibatch discrimination: dimension of each kernel")
    spectral_norm: bool = _knob(
        False, "spectral normalisation of every discriminator layer (Miyato et al. 2018)")
    projection: bool = _knob(
        False, "conditional D: also add <label embedding, D's features> to its logit "
               "(projection discriminator, Miyato & Koyama 2018)")
    info_code: int = _knob(
        0, "InfoGAN (Chen et al. 2016): the first K noise values pick one of K categories "
           "(their argmax), which G gets as a one-hot code and a head on D must read back "
           "from G's image, e.g. 10 (0 = off; unconditional variants)")
    info_weight: float = _knob(1.0, "InfoGAN: weight of the code-reading loss in G's and "
                                    "D's losses")
    # Small data and smoother samples
    diff_augment: str = _knob(
        "", "DiffAugment (Zhao et al. 2020): the same random, differentiable changes to every "
            "image D sees, real and fake; comma-separated translation, cutout, color (RGB)")
    ema: float = _knob(0.0, "sample from an exponential moving average of G's weights with "
                            "this decay, e.g. 0.999 (0 = off)")
    # Losses
    loss: str = _knob(None, f"discriminator/critic loss: {', '.join(LOSSES)} "
                            "(default: the variant's)", str)
    generator_loss: str = _knob("non_saturating", "with --loss bce: non_saturating or minimax")
    label_smoothing: float = _knob(0.0, "one-sided: D's target for real images is 1 - S (bce)")
    label_flip: float = _knob(0.0, "noisy labels: swap D's real/fake targets with probability P")
    label_flip_per_sample: bool = _knob(
        False, "draw --label-flip per image instead of once per batch")
    gradient_penalty: float = _knob(None, "gradient-penalty weight (default 10 for wgan_gp, "
                                          "else 0 = off)", float)
    r1: float = _knob(0.0, "R1 penalty (Mescheder et al. 2018): adds GAMMA/2 x E||grad D(x)||^2 "
                           "on real images to D's loss, e.g. 1 (0 = off)")
    weight_clip: float = _knob(None, "clip every critic weight to [-C, C] after each update "
                                     "(default 0.01 for wgan, else 0 = off)", float)
    # Updates
    critic_steps: int = _knob(None, "D updates per G update, each on a fresh real batch "
                                    "(default 5 for WGANs, else 1)", int)
    update: str = _knob("simultaneous", "simultaneous (one forward pass for both) or "
                                        "alternating (G's loss through the updated D)")
    policy: str = _knob("always", "always, monitored (D only while D_loss > R x G_loss) or "
                                  "boost (random G-only / D-only spells and swapped labels)")
    monitor_ratio: float = _knob(0.8, "monitored policy: the R in D_loss > R x G_loss")
    boost_g_only: float = _knob(1e-4, "boost: k below this starts a generator-only spell")
    boost_d_only: float = _knob(1e-3, "boost: k below this (and above --boost-g-only) starts "
                                      "a discriminator-only spell")
    boost_swap: float = _knob(0.93, "boost: k at or above this trains D with swapped labels")
    boost_spell: int = _knob(100, "boost: length of a spell in steps")
    sleep_discriminator: int = _knob(0, "D's weights rest for the last N steps of every "
                                        "--sleep-period steps (0 = never)")
    sleep_period: int = _knob(0, "length of a sleep cycle in steps (default 5 x N)")
    # AD-GAN's discriminator-dropout schedule
    dropout_initial: float = _knob(0.5, "AD-GAN: discriminator dropout at the start")
    dropout_final: float = _knob(0.0, "AD-GAN: the rate it decays to")
    dropout_step: float = _knob(0.1, "AD-GAN: the size of each decrease")
    dropout_final_fraction: float = _knob(0.75, "AD-GAN: share of epochs held at the final "
                                                "rate")

    def resolved(self, variant):
        """A copy with the variant's defaults filled in, every value checked."""
        defaults = {"d_dropout": variant.d_dropout, "loss": variant.loss,
                    "gradient_penalty": variant.gradient_penalty,
                    "weight_clip": variant.weight_clip, "critic_steps": variant.critic_steps}
        filled = {name: default for name, default in defaults.items()
                  if getattr(self, name) is None}
        knobs = dataclasses.replace(self, **filled)
        if knobs.sleep_discriminator and not knobs.sleep_period:
            knobs.sleep_period = 5 * knobs.sleep_discriminator
        if knobs.projection and not variant.conditional:
            raise GanlibError(f"--projection needs labels, and {variant.name} has none: use "
                              "cgan, cdcgan or cwgan_gp, or leave --projection out")
        if knobs.info_code and variant.conditional:
            raise GanlibError(f"--info-code gives an unconditional G categories of its own; "
                              f"{variant.name} has real labels already: use dcgan, adgan, "
                              "vanilla or wgan_gp, or leave --info-code out")
        return knobs.validate()

    def validate(self):
        """Raise a GanlibError naming the first knob whose value cannot work."""
        for name, ok, expected in self._range_checks():
            if not ok:
                raise GanlibError(f"--{name} must be {expected}, got "
                                  f"{getattr(self, name.replace('-', '_'))!r}")
        for problem in self._combination_problems():
            raise GanlibError(problem)
        return self

    def _range_checks(self):
        unit = lambda value: value is not None and 0 <= value < 1  # noqa: E731
        return [
            # Upper bounds keep a typo from asking for more memory than any machine has.
            ("latent-dim", 1 <= self.latent_dim <= 10_000, "between 1 and 10000"),
            # At least one channel in every layer: 1/64 is the smallest width that has one.
            ("g-filters", _finite(self.g_filters) and 1 / 64 <= self.g_filters <= 16,
             "between 1/64 and 16"),
            ("d-filters", _finite(self.d_filters) and 1 / 64 <= self.d_filters <= 16,
             "between 1/64 and 16"),
            ("g-extra-conv", 0 <= self.g_extra_conv <= 6, "between 0 and 6"),
            ("d-extra-dense", 0 <= self.d_extra_dense <= 10, "between 0 and 10"),
            ("d-dropout", unit(self.d_dropout), "in [0, 1)"),
            ("info-code", self.info_code == 0 or 2 <= self.info_code <= self.latent_dim,
             "0 (off) or between 2 and --latent-dim"),
            ("info-weight", _finite(self.info_weight) and self.info_weight > 0, "positive"),
            ("minibatch-kernels", 1 <= self.minibatch_kernels <= 1000, "between 1 and 1000"),
            ("minibatch-kernel-dim", 1 <= self.minibatch_kernel_dim <= 100, "between 1 and 100"),
            ("loss", self.loss in LOSSES, " or ".join(LOSSES)),
            ("generator-loss", self.generator_loss in GENERATOR_LOSSES,
             " or ".join(GENERATOR_LOSSES)),
            ("label-smoothing", unit(self.label_smoothing), "in [0, 1)"),
            ("label-flip", unit(self.label_flip), "a probability in [0, 1)"),
            ("gradient-penalty", _finite(self.gradient_penalty) and self.gradient_penalty >= 0,
             "0 or more"),
            ("r1", _finite(self.r1) and self.r1 >= 0, "0 or more"),
            ("weight-clip", _finite(self.weight_clip) and self.weight_clip >= 0,
             "positive (or 0 for no clipping)"),
            ("critic-steps", self.critic_steps is not None and 1 <= self.critic_steps <= 100,
             "between 1 and 100"),
            ("update", self.update in UPDATES, " or ".join(UPDATES)),
            ("policy", self.policy in POLICIES, " or ".join(POLICIES)),
            ("monitor-ratio", _finite(self.monitor_ratio) and self.monitor_ratio > 0, "positive"),
            ("boost-g-only", unit(self.boost_g_only), "a probability in [0, 1)"),
            ("boost-d-only", unit(self.boost_d_only) and self.boost_d_only >= self.boost_g_only,
             "a probability in [--boost-g-only, 1)"),
            ("boost-swap", _finite(self.boost_swap) and self.boost_d_only <= self.boost_swap <= 1,
             "in [--boost-d-only, 1] (1 = never swap)"),
            ("boost-spell", self.boost_spell >= 1, "at least 1"),
            ("sleep-discriminator", self.sleep_discriminator >= 0, "0 or more"),
            ("sleep-period", self.sleep_period == 0 or self.sleep_period > self.sleep_discriminator,
             "longer than --sleep-discriminator (D must wake up)"),
            ("diff-augment", all(name.strip() in DIFF_AUGMENTATIONS
                                 for name in self.diff_augment.split(",") if name.strip()),
             f"a comma-separated list of {', '.join(DIFF_AUGMENTATIONS)} (or empty)"),
            ("ema", unit(self.ema), "a decay in [0, 1), e.g. 0.999 (0 = off)"),
            ("dropout-initial", unit(self.dropout_initial), "in [0, 1)"),
            ("dropout-final", _finite(self.dropout_final)
             and 0 <= self.dropout_final <= self.dropout_initial,
             "between 0 and --dropout-initial"),
            ("dropout-step", _finite(self.dropout_step) and self.dropout_step > 0, "positive"),
            ("dropout-final-fraction", _finite(self.dropout_final_fraction)
             and 0 <= self.dropout_final_fraction <= 1, "in [0, 1]"),
        ]

    def _combination_problems(self):
        """Tricks that mean nothing with the chosen loss: one sentence each."""
        if self.loss != "bce":
            if self.label_smoothing:
                yield (f"--label-smoothing needs --loss bce: a {self.loss} critic outputs "
                       "scores, not probabilities, so there is no target to soften")
            if self.generator_loss != "non_saturating":
                yield f"--generator-loss applies to --loss bce only, not {self.loss}"
            if self.policy == "monitored":
                yield (f"--policy monitored compares two BCE losses; with --loss {self.loss} "
                       "they can be negative, so use --loss bce or another --policy")
        if self.loss == "wasserstein" and self.label_flip:
            yield ("--label-flip needs --loss bce or hinge: noisy labels soften a "
                   "classifier's confidence, and a Wasserstein critic has none")
        if self.loss == "wasserstein" and not (self.weight_clip or self.gradient_penalty):
            yield ("--loss wasserstein needs a Lipschitz constraint: set --weight-clip C "
                   "or --gradient-penalty W")
        if self.weight_clip and self.gradient_penalty:
            yield "choose one of --weight-clip and --gradient-penalty, not both"
        if self.weight_clip and self.spectral_norm:
            yield ("choose one of --weight-clip and --spectral-norm: both bound the critic's "
                   "slope, and clipping a normalised weight undoes the normalisation")

    def augmentations(self):
        """The DiffAugment policy as a tuple of names (empty = off)."""
        return tuple(name.strip() for name in self.diff_augment.split(",") if name.strip())


def _finite(value):
    return value is not None and math.isfinite(value)


def knob_fields():
    """The fields of `Knobs`, with their command-line type and help text."""
    for field in dataclasses.fields(Knobs):
        value_type = field.metadata.get("type") or type(field.default)
        yield field, value_type, field.metadata["help"]
