"""The notebooks' controlled experiments: arms of `ganlib.compare`, run in the notebook's mode.

An experiment is a few arms of the tricks comparison (`compare.ARMS`) with labels for
people. In explore mode its numbers are the runs `python -m ganlib.compare` recorded in
`report/tricks_comparison.jsonl` (3 seeds, 100,000 images each); a short run trains one
seed of a few arms for 30,000 images; a full run repeats the recorded experiment in
runs/NAME-full. The table states only the differences larger than the spread between seeds.
"""

import dataclasses
import os

import numpy as np


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Arms of the comparison, what to call them, and what each is compared against."""

    name: str
    arms: dict             # compare arm -> label
    pairs: tuple           # (arm, other arm) comparisons to state
    short_arms: tuple = ()  # the arms a short run trains (default: all)


DROPOUT = Experiment(
    "dropout-experiment",
    {"baseline": "DCGAN, dropout 0.3", "no_dropout": "DCGAN, no dropout",
     "adgan": "AD-GAN, dropout 0.5 -> 0"},
    (("adgan", "baseline"), ("adgan", "no_dropout"), ("baseline", "no_dropout")))

TRICKS = Experiment(
    "tricks-experiment",
    {"baseline": "DCGAN as it is", "label_smoothing": "label smoothing 0.1",
     "label_flip": "noisy labels 5%", "minibatch_discrimination": "minibatch discrimination",
     "monitored": "monitored updates", "boost": "boosted updates",
     "sleep_discriminator": "D sleeps 20 steps", "hinge": "hinge loss",
     "two_time_scale": "two time-scale rates", "diff_augment": "DiffAugment",
     "ema": "EMA generator", "spectral_norm": "spectral norm in D",
     "diff_augment_ema_spectral_norm": "DiffAugment + EMA + spectral norm",
     "minibatch_discrimination_ema": "minibatch discrimination + EMA"},
    tuple((arm, "baseline") for arm in (
        "label_smoothing", "label_flip", "minibatch_discrimination", "monitored", "boost",
        "sleep_discriminator", "hinge", "two_time_scale", "diff_augment", "ema",
        "spectral_norm", "diff_augment_ema_spectral_norm", "minibatch_discrimination_ema")),
    short_arms=("baseline", "minibatch_discrimination", "diff_augment"))

WASSERSTEIN = Experiment(
    "wasserstein-experiment",
    {"baseline": "DCGAN, cross-entropy", "wgan": "WGAN, clipped critic",
     "wgan_gp": "WGAN-GP, gradient penalty"},
    (("wgan_gp", "wgan"), ("wgan_gp", "baseline"), ("wgan", "baseline")),
    short_arms=("wgan", "wgan_gp"))

SETTINGS = {"quick": ((0,), 1280, 640), "short": ((0,), 30_000, None),
            "full": ((0, 1, 2), 100_000, None)}  # mode -> (seeds, images, data limit)


def run(experiment, mode):
    """(recorded lines, folder of their grids) for the experiment in this mode."""
    from ganlib import compare
    from ganlib.modes import ROOT

    if mode == "explore":
        return ([line for line in compare.recorded() if line["arm"] in experiment.arms
                 and line["budget_images"] == 100_000], compare.REPORT)
    seeds, images, limit = SETTINGS[mode]
    arms = list(experiment.arms) if mode == "full" else list(
        experiment.short_arms or experiment.arms)
    if mode == "quick":
        arms = arms[:1]  # the tests check the path, not the result: one arm suffices
    folder = os.path.join(ROOT, "runs", f"{experiment.name}-{mode}")
    results = os.path.join(folder, "results.jsonl")
    done = {(line["arm"], line["seed"]) for line in compare.recorded(results)}
    for seed in seeds:
        for arm in arms:
            if (arm, seed) not in done:
                line = compare.run_arm(arm, seed, images, folder, results, limit)
                print(f"{experiment.arms[arm]}, seed {seed}: FCD {line['fcd_over_floor']}x "
                      f"its floor, {line['wall_time_seconds'] / 60:.1f} min", flush=True)
    return compare.recorded(results), folder


def table(experiment, lines):
    """Mean +- spread per arm as Markdown, and a verdict only as strong as the numbers."""
    from IPython.display import Markdown

    from ganlib.compare import MEASURES, clearly_better, summary

    numbers = {arm: value for arm, value in summary(lines).items() if arm in experiment.arms}
    if not numbers:
        return Markdown("No run of this experiment is recorded yet: run it in short or full "
                        f"mode, or `python -m ganlib.compare --arms {','.join(experiment.arms)}`.")
    rows = ["| arm | seeds | FCD / floor | precision | recall | classifier score | "
            "classes covered |", "|---|---|---|---|---|---|---|"]
    for arm, value in numbers.items():
        cells = [f"{value[key][0]:.2f} +- {value[key][1]:.2f}" if key in value else "-"
                 for key in MEASURES]
        rows.append(f"| {experiment.arms[arm]} | {value['seeds']} | " + " | ".join(cells) + " |")
    label = experiment.arms
    verdicts = []
    for arm, other in experiment.pairs:
        if arm in numbers and other in numbers and min(numbers[arm]["seeds"],
                                                       numbers[other]["seeds"]) < 2:
            lower, higher = sorted((arm, other), key=lambda a: numbers[a]["fcd_over_floor"][0])
            verdicts.append(f"{label[lower]} reads a lower FCD than {label[higher]} "
                            "(one seed: no spread yet)")
        elif arm in numbers and other in numbers:
            if clearly_better(numbers[arm], numbers[other]):
                verdicts.append(f"{label[arm]} beats {label[other]} by more than both spreads")
            elif clearly_better(numbers[other], numbers[arm]):
                verdicts.append(f"{label[other]} beats {label[arm]} by more than both spreads")
            else:
                verdicts.append(f"{label[arm]} vs {label[other]}: no difference larger than "
                                "the spread between seeds")
    if not verdicts:
        verdicts.append("only " + ", ".join(label[arm] for arm in numbers)
                        + " recorded so far; nothing to compare yet")
    single = any(value["seeds"] < 2 for value in numbers.values())
    note = (" With one seed per arm there is no spread to compare against: treat any "
            "difference as a hint, not a result." if single else "")
    return Markdown("\n".join(rows) + "\n\n**What the numbers support:** "
                    + "; ".join(verdicts) + "." + note)


def grids(experiment, lines, folder, seed=0):
    """The arms' sample grids side by side (latent seed 0, training seed `seed`)."""
    import matplotlib.pyplot as plt
    from PIL import Image

    from ganlib.compare import grid_path

    arms = [arm for arm in experiment.arms
            if any(line["arm"] == arm and line["seed"] == seed for line in lines)]
    if not arms:
        print(f"no grids for seed {seed}: no run of this experiment is recorded")
        return None
    figure, axes = plt.subplots(1, len(arms), figsize=(4.2 * len(arms), 4.6), squeeze=False)
    for axis, arm in zip(axes[0], arms):
        path = grid_path(arm, seed, folder)
        if os.path.isfile(path):
            with Image.open(path) as picture:
                axis.imshow(np.asarray(picture.convert("L")), cmap="gray")
        line = next(line for line in lines if line["arm"] == arm and line["seed"] == seed)
        axis.set_title(f"{experiment.arms[arm]}, seed {seed}\n"
                       f"FCD {line['fcd_over_floor']:.1f}x floor", fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return figure
