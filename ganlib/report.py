"""Build `report/`: how the shipped variants compare, with the numbers in their cards.

    python -m ganlib.report                 # rebuilds report/README.md and report/figures/

Everything comes from `trained_models/`: each generator's card (training budget and the
metrics that `python -m ganlib.ship` measured), its training history, sample grid and GIF.
Nothing is re-measured, so the report says exactly what the cards say, and a clean clone
rebuilds the same report.
"""

import argparse
import glob
import json
import os

import numpy as np

from ganlib import cli
from ganlib.errors import GanlibError
from ganlib.files import TEMP_PREFIX
from ganlib.quiet import import_tensorflow_quietly
from ganlib.variants import VARIANTS

# The quality bars, checked for every shipped MNIST model at N = 1000. The DCGAN, the
# model every user samples first, has the strictest: near the floor, realistic and covering.
MAX_FCD_OVER_FLOOR = {"dcgan": 1.5}  # other unconditional models: DEFAULT_MAX_FCD_OVER_FLOOR
DEFAULT_MAX_FCD_OVER_FLOOR = 4.0
MIN_PRECISION_AND_RECALL = {"dcgan": 0.8}
MIN_CONDITIONAL_ACCURACY = {"cdcgan": 0.99, "cgan": 0.98}
SIDE_BY_SIDE_SEED = 0
REQUIRED_CARD_KEYS = ("dataset", "epochs", "images_seen", "wall_time_seconds", "latent_dim",
                      "train_command", "knobs", "training_images", "data_source")
REQUIRED_METRICS = ("fcd", "fcd_real_floor", "fcd_over_floor", "classifier_score",
                    "classes_covered", "num_classes_expected", "class_shares", "novelty")
# Judged without labels (pokemon, folders; see ganlib.classifier): no class measures.
LABEL_FREE_METRICS = ("fcd", "fcd_real_floor", "fcd_over_floor", "novelty", "judge")


def shipped_cards(models_folder):
    """The cards of all shipped generators, in the registry's order of variants."""
    cards = []
    for path in sorted(glob.glob(os.path.join(models_folder, "*.json"))):
        try:
            with open(path) as file:
                card = json.load(file)
        except (OSError, ValueError):
            raise GanlibError(f"{path} is not readable JSON; re-ship that model with "
                              "`python -m ganlib.ship RUN_FOLDER`") from None
        if not isinstance(card, dict) or card.get("variant") not in VARIANTS:
            continue  # not a generator's card (a classifier's, say)
        metrics = card.get("metrics", {})
        required = LABEL_FREE_METRICS if "judge" in metrics else REQUIRED_METRICS
        missing = [key for key in REQUIRED_CARD_KEYS if key not in card] + [
            f"metrics.{key}" for key in required if key not in metrics]
        if missing:
            raise GanlibError(f"{path} lacks {', '.join(missing[:3])}; re-ship that model "
                              "with `python -m ganlib.ship RUN_FOLDER`")
        card["stem"] = os.path.splitext(os.path.basename(path))[0]
        cards.append(card)
    if not cards:
        raise GanlibError(f"no shipped generators with metrics in {models_folder}; train one "
                          "and run `python -m ganlib.ship RUN_FOLDER` first")
    order = list(VARIANTS)
    cards.sort(key=lambda card: (card["dataset"] != "mnist", card["dataset"],
                                 order.index(card["variant"])))
    return cards


def read_epoch_history(path):
    """Per-epoch means of the losses and D scores from a shipped history file."""
    from ganlib.callbacks import read_history

    return [record for record in read_history(path) if record["kind"] == "epoch"]


def quality_bars(cards):
    """(card stem, bar, value, met) for each quality bar that applies to a shipped model."""
    mnist = {card["variant"]: card for card in cards if card["dataset"] == "mnist"}
    vanilla_fcd = mnist["vanilla"]["metrics"]["fcd"] if "vanilla" in mnist else None
    checks = []
    for card in mnist.values():
        metrics, stem = card["metrics"], card["stem"]
        if not VARIANTS[card["variant"]].conditional:
            ratio = metrics["fcd_over_floor"]
            most = MAX_FCD_OVER_FLOOR.get(card["variant"], DEFAULT_MAX_FCD_OVER_FLOOR)
            checks.append((stem, f"FCD <= {most:g}x floor", f"{ratio:.2f}x", ratio <= most))
            covered, expected = metrics["classes_covered"], metrics["num_classes_expected"]
            checks.append((stem, f"covers all {expected} classes", f"{covered}",
                           covered == expected))
        if card["variant"] in MIN_PRECISION_AND_RECALL and "precision" in metrics:
            least = MIN_PRECISION_AND_RECALL[card["variant"]]
            for name in ("precision", "recall"):
                checks.append((stem, f"{name} >= {least:g}", f"{metrics[name]:.2f}",
                               metrics[name] >= least))
        if card["variant"] in MIN_CONDITIONAL_ACCURACY:
            bar, accuracy = MIN_CONDITIONAL_ACCURACY[card["variant"]], metrics[
                "conditional_accuracy"]
            checks.append((stem, f"conditional accuracy >= {bar:.0%}", f"{accuracy:.1%}",
                           accuracy >= bar))
        if card["variant"] in ("dcgan", "adgan") and vanilla_fcd is not None:
            checks.append((stem, f"FCD below the Vanilla GAN's ({vanilla_fcd:.2f})",
                           f"{metrics['fcd']:.2f}", metrics["fcd"] < vanilla_fcd))
    return checks


def results_table(cards):
    """The Markdown results table, one row per shipped generator."""
    rows = ["| variant | dataset | epochs | images seen | wall time | FCD | real floor | "
            "FCD / floor | precision | recall | classifier score | classes covered | "
            "conditional accuracy | novelty |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for card in cards:
        m = card["metrics"]
        accuracy = m.get("conditional_accuracy")
        label_free = "judge" in m  # no classes to score or cover
        rows.append(
            f"| {card['variant']} | {card['dataset']} | {card['epochs']} | "
            f"{card['images_seen']:,} | {card['wall_time_seconds'] / 60:.1f} min | "
            f"{m['fcd']:.2f} | {m['fcd_real_floor']:.2f} | {m['fcd_over_floor']:.2f} | "
            # Cards shipped before precision and recall were measured have neither.
            + "".join(f"{m[key]:.2f} | " if key in m else "- | " for key in ("precision", "recall"))
            + ("- (no labels) | - | " if label_free else
               f"{m['classifier_score']:.2f} | {m['classes_covered']} / "
               f"{m['num_classes_expected']} | ")
            + f"{'-' if accuracy is None else f'{accuracy:.1%}'} | {m['novelty']:.2f} |")
    return "\n".join(rows)


def real_ceilings(cards):
    """'mnist 0.89 / 0.89, ...': precision / recall of real images against real ones, per
    dataset, from the cards that measured them (a perfect generator's score at N = 1000)."""
    pairs = {}
    for card in cards:
        m = card["metrics"]
        if "real_precision" in m:
            pairs.setdefault(card["dataset"], set()).add((m["real_precision"], m["real_recall"]))
    def span(values):  # "0.89", or "0.86-0.87" where the cards differ at two decimals
        shown = sorted({f"{value:.2f}" for value in values})
        return shown[0] if len(shown) == 1 else f"{shown[0]}-{shown[-1]}"

    return ", ".join(f"`{dataset}` {span(p for p, _ in found)} / {span(r for _, r in found)}"
                     for dataset, found in sorted(pairs.items()))


def late_training_gap(history, share=0.25):
    """Mean D(x) - D(G(z)) over the last `share` of epochs: how clearly D separates them."""
    tail = history[-max(1, round(len(history) * share)):]
    return float(np.mean([r["d_real"] - r["d_fake"] for r in tail])) if tail else None


def written_comparison(cards, histories):
    """Short paragraphs drawn from the numbers (they change when the numbers change)."""
    mnist = {card["variant"]: card for card in cards if card["dataset"] == "mnist"}
    fcd = {name: card["metrics"]["fcd"] for name, card in mnist.items()}
    lines = []
    if fcd:
        best = min(fcd, key=fcd.get)
        ranking = ", ".join(f"{name} {value:.2f}" for name, value in
                            sorted(fcd.items(), key=lambda item: item[1]))
        lines.append(f"- **Closest to the real digits:** `{best}` has the lowest FCD on MNIST "
                     f"({fcd[best]:.2f}, {mnist[best]['metrics']['fcd_over_floor']:.2f}x the "
                     f"real-data floor). From best to worst: {ranking}.")
    if "vanilla" in fcd and "dcgan" in fcd:
        lines.append(f"- **Convolutions:** at the same data, the DCGAN's FCD is "
                     f"{fcd['vanilla'] / fcd['dcgan']:.1f}x lower than the Vanilla GAN's "
                     f"({fcd['dcgan']:.2f} vs {fcd['vanilla']:.2f}): weight sharing across the image "
                     "suits strokes that look the same wherever they are (compare their rows "
                     "in the side-by-side figure).")
    conditional = {name: mnist[name]["metrics"]["conditional_accuracy"]
                   for name in ("cgan", "cdcgan") if name in mnist}
    if conditional:
        parts = ", ".join(f"`{name}` {accuracy:.1%}" for name, accuracy in conditional.items())
        lines.append(f"- **Conditioning:** the classifier reads the requested digit in {parts} "
                     "of the conditional samples, so a label really steers the generator. Asking "
                     "for every class in turn also balances the classes exactly, which the "
                     "FCD rewards: part of the conditional models' lead on FCD comes from "
                     "there.")
    if "dcgan" in mnist and "adgan" in mnist:
        dc, ad = mnist["dcgan"], mnist["adgan"]
        verdict = "lower (better)" if fcd["adgan"] < fcd["dcgan"] else "higher (worse)"
        text = (f"- **AD-GAN's schedule:** AD-GAN's FCD is {verdict} than the DCGAN's "
                f"({fcd['adgan']:.2f} vs {fcd['dcgan']:.2f}; {ad['epochs']} vs {dc['epochs']} "
                "epochs).")
        gaps = {name: late_training_gap(histories[mnist[name]["stem"]])
                for name in ("dcgan", "adgan") if histories.get(mnist[name]["stem"])}
        if len(gaps) == 2:
            text += (f" Over the last quarter of training, D(x) - D(G(z)) averaged "
                     f"{gaps['adgan']:.2f} for AD-GAN and {gaps['dcgan']:.2f} for the DCGAN: "
                     "with its dropout decayed to "
                     f"{ad['knobs']['dropout_final']:g}, AD-GAN's discriminator "
                     f"{'separates real from fake more sharply' if gaps['adgan'] > gaps['dcgan'] else 'separates real from fake less sharply'}"
                     " late in training, after a heavily regularised start.")
        lines.append(text)
    by_class = [card for card in cards if "class_shares" in card["metrics"]]
    shares = [(card["stem"], min(card["metrics"]["class_shares"].values()))
              for card in by_class if not VARIANTS[card["variant"]].conditional]
    if shares:
        stem, lowest = min(shares, key=lambda item: item[1])
        partial = [f"`{card['stem']}` ({card['metrics']['classes_covered']} of "
                   f"{card['metrics']['num_classes_expected']})" for card in by_class
                   if not VARIANTS[card["variant"]].conditional
                   and card["metrics"]["classes_covered"] < card["metrics"]["num_classes_expected"]]
        lines.append(f"- **Mode collapse:** no unconditional model drops a class entirely; "
                     f"the rarest class gets {lowest:.1%} of the samples (in `{stem}`; a fair "
                     "share is 10%, and a class counts as covered from 5%). "
                     + (f"Models with an under-drawn class: {', '.join(partial)}."
                        if partial else "Every unconditional model covers all its classes.")
                     if lowest > 0 else
                     f"- **Mode collapse:** `{stem}` never draws at least one class.")
    return "\n".join(lines)


def loss_figure(history, card, path):
    """Losses and D scores per epoch (with AD-GAN's dropout rate) as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganlib.tricks.scheduled_dropout import dropout_rate_at

    epochs = [r["epoch"] + 1 for r in history]
    figure, (losses, scores) = plt.subplots(1, 2, figsize=(10, 3.4))
    losses.plot(epochs, [r["d_loss"] for r in history], label="D loss")
    losses.plot(epochs, [r["g_loss"] for r in history], label="G loss")
    losses.set_xlabel("epoch")
    losses.set_title("losses (epoch means)")
    losses.legend()
    scores.plot(epochs, [r["d_real"] for r in history], label="D(x), real")
    scores.plot(epochs, [r["d_fake"] for r in history], label="D(G(z)), generated")
    probabilities = card["knobs"].get("loss", "bce") == "bce"
    if probabilities:
        scores.set_ylim(0, 1)
    scores.set_xlabel("epoch")
    scores.set_title("discriminator's mean output" if probabilities else "critic's mean score")
    if VARIANTS[card["variant"]].scheduled_dropout:
        knobs = card["knobs"]
        rates = [dropout_rate_at(e - 1, card["epochs"], knobs["dropout_initial"],
                                 knobs["dropout_final"], knobs["dropout_step"],
                                 knobs["dropout_final_fraction"]) for e in epochs]
        scores.plot(epochs, rates, "k--", label="D dropout rate")
    scores.legend(loc="center right")
    figure.suptitle(f"{card['variant']} on {card['dataset']}")
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)


def side_by_side_figure(cards, models_folder, path):
    """One row of ten samples per shipped generator, all from the same latent seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganlib import viz
    from ganlib.sample import (
        generate_images,
        latent_noise,
        load_generator,
        sample_labels,
    )

    figure, axes = plt.subplots(len(cards), 1, figsize=(7, 0.85 * len(cards) + 0.4),
                                squeeze=False)
    for axis, card in zip(axes[:, 0], cards):
        generator, _ = load_generator(os.path.join(models_folder, card["stem"] + ".keras"))
        noise = latent_noise(10, card["latent_dim"], SIDE_BY_SIDE_SEED)
        images = generate_images(generator, noise, sample_labels(card, 10))
        axis.imshow(viz.image_grid(images, columns=10), cmap="gray", vmin=0, vmax=255)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(f"{card['variant']}\n{card['dataset']}", rotation=0, ha="right",
                        va="center", fontsize=9)
    figure.suptitle(f"every shipped generator, latent seed {SIDE_BY_SIDE_SEED} "
                    "(conditional: labels 0-9)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def variant_section(card, has_history, models_link):
    """The Markdown of one shipped generator: samples, GIF, curves, command."""
    stem, variant = card["stem"], VARIANTS[card["variant"]]
    parts = [f"### {variant.title}: {card['dataset']}", "",
             f"Trained {card['epochs']} epochs ({card['images_seen']:,} images) in "
             f"{card['wall_time_seconds'] / 60:.1f} minutes on {card['training_images']:,} "
             f"training images. Data: {card['data_source']}.", ""]
    if card.get("note"):
        parts += [f"> **Note:** {card['note']}", ""]
    parts += ["| 64 samples, seed 0 | training progress (fixed latent batch) |",
              "|---|---|",
              f"| ![samples]({models_link}/{stem}.png) | "
              f"![progress]({models_link}/{stem}.gif) |", ""]
    if card.get("has_video"):
        parts += [f"The whole training as a video, every saved grid labelled with its step: "
                  f"[{stem}.mp4]({models_link}/{stem}.mp4).", ""]
    if has_history:
        parts += [f"![losses and D scores of {stem}](figures/{stem}_losses.png)", ""]
    parts += ["Reproduce:", "", "```bash", card["train_command"],
              f"python -m ganlib.ship {_run_folder(card)}", "```", ""]
    return "\n".join(parts)


def _run_folder(card):
    command = card["train_command"].split()
    return command[command.index("--out") + 1] if "--out" in command else "RUN_FOLDER"


def before_after_section(before, cards):
    """Markdown: each model's numbers before and after the recipe changed, or None."""
    if not before:
        return None
    rows = ["The models as shipped before the improved recipe (kept by `python -m "
            f"ganlib.report --keep-as-before` in `{BEFORE_FILE}`), and as shipped now, both "
            "measured by today's judge at N = 1000.", "",
            "| model | images seen | FCD / floor | precision | recall | classes covered | "
            "conditional accuracy |", "|---|---|---|---|---|---|---|"]

    def cells(numbers):
        accuracy = numbers.get("conditional_accuracy")
        return [f"{numbers['images_seen']:,}", f"{numbers['fcd_over_floor']:.2f}",
                *(f"{numbers[key]:.2f}" if key in numbers else "-"
                  for key in ("precision", "recall")),
                str(numbers.get("classes_covered", "-")),
                f"{accuracy:.1%}" if accuracy is not None else "-"]

    now = {card["stem"]: card for card in cards}
    for stem, old in before.items():
        if stem not in now:
            continue
        new = {**now[stem]["metrics"], "images_seen": now[stem]["images_seen"]}
        if now[stem].get("train_command") == old.get("train_command"):
            rows.append(f"| {stem} (not retrained) | " + " | ".join(cells(old)) + " |")
        else:
            rows.append(f"| {stem} | " + " | ".join(
                f"{b} -> {a}" for b, a in zip(cells(old), cells(new))) + " |")
    return "\n".join(rows)


def keep_as_before(report_folder=None, models_folder=None):
    """Write the shipped models' numbers to report/shipped_before.json (never over one)."""
    from ganlib.compare import REPORT
    from ganlib.files import write_json
    from ganlib.sample import TRAINED_MODELS

    path = os.path.join(report_folder or REPORT, BEFORE_FILE)
    if os.path.exists(path):
        raise GanlibError(f"{path} already holds the numbers from before; it is kept so the "
                          "report can compare. Delete it first to start a new comparison")
    keys = ("fcd_over_floor", "precision", "recall", "classes_covered", "conditional_accuracy")
    write_json(path, {card["stem"]: {"images_seen": card["images_seen"],
                                     "train_command": card.get("train_command"),
                                     **{key: card["metrics"][key] for key in keys
                                        if key in card["metrics"]}}
                      for card in shipped_cards(models_folder or TRAINED_MODELS)})
    return path


def render_markdown(cards, histories, checks, models_link="../trained_models",
                    comparison=None, before_after=None, precisions=None):
    """The whole report/README.md; `models_link` leads from it to the shipped models."""
    classifier_lines = []
    for dataset in sorted({card["dataset"] for card in cards}):
        accuracy = _classifier_accuracy(dataset)
        if accuracy is not None:
            classifier_lines.append(f"`{dataset}` {accuracy:.1%}")
    bar_rows = ["| model | bar | measured | met |", "|---|---|---|---|"]
    bar_rows += [f"| {stem} | {bar} | {value} | {'yes' if met else '**no**'} |"
                 for stem, bar, value, met in checks]
    text = [
        REPORT_TITLE,
        "",
        "Built by `python -m ganlib.report` from the generators shipped in "
        "`trained_models/` and their cards; every number below was measured by "
        "`python -m ganlib.evaluate` when the model was shipped (N = 1000 generated images, "
        "latent seed 0). Wall times are those of the machine that trained each model, a "
        "2-core CPU without a GPU.",
        "",
        "## How to read the numbers",
        "",
        "- **FCD** (Frechet classifier distance): the Frechet distance between Gaussians "
        "fitted to a small classifier's penultimate-layer features of 1000 generated and "
        "1000 real images. Lower is better. It depends on N, so the **real floor** beside "
        "it is the same distance between two disjoint sets of 1000 real images: a perfect "
        "generator would score about the floor.",
        "- **Precision** and **recall** (Kynkaanniemi et al., 2019) in the same feature space: "
        "the share of generated images inside the 3-nearest-neighbour balls of the real ones "
        "(are they realistic?) and the share of real images inside the generated ones' balls "
        "(is the data covered?). 1 is best for both; '-' for models shipped before they "
        "were measured."
        + (" Real images do not reach 1 either: a second set of 1000 real images, judged "
           f"against the first, reads {real_ceilings(cards)} (precision / recall), the "
           "ceiling at this N." if real_ceilings(cards) else ""),
        "- **Without labels** (Pokemon, your own folders) the classifier is replaced by a "
        "network trained to tell which of four quarter turns was applied to an image. Its "
        "features separate sprite-like shapes from blobs and show how the samples spread, "
        "but not which Pokemon a sample is, and they barely see colour: its FCD, precision "
        "and recall are a weaker judge than the digit classifier's.",
        "- **Classifier score**: the Inception-score formula on the same classifier, "
        "exp(E[KL(p(y|x) || p(y))]); 10 at best for ten classes that are confidently "
        "recognised and evenly drawn.",
        "- **Classes covered**: how many classes get at least half their fair share of "
        "the samples (a collapsed generator covers few).",
        "- **Conditional accuracy**: the share of images generated for label k that the "
        "classifier reads as k.",
        "- **Novelty**: the median pixel distance from a generated image to its nearest real "
        "image, over the same median for real images (to their nearest other real image). "
        "The real sets above include the training images, so a generator that copied them "
        "would score well on FCD; novelty would show it near 0. About 1 means the samples "
        "are as far from every real image as real images are from each other.",
        f"- The classifiers' own accuracy on held-out real images: "
        f"{', '.join(classifier_lines) or 'not shipped'}.",
        "",
        "## Results",
        "",
        results_table(cards),
        "",
        "## Quality bars",
        "",
        "\n".join(bar_rows),
        "",
        *(["## Before and after the improved recipe", "", before_after, ""]
          if before_after else []),
        "## What the numbers say",
        "",
        written_comparison(cards, histories),
        "",
        *(["## Stabilisation tricks: a controlled comparison", "", comparison, ""]
          if comparison else []),
        *(["## bfloat16 against float32", "", precisions, ""] if precisions else []),
        "## All variants side by side",
        "",
        "![one row per shipped generator, same latent seed](figures/side_by_side.png)",
        "",
        "## Each variant",
        "",
    ]
    text += [variant_section(card, bool(histories.get(card["stem"])), models_link) for card in cards]
    return "\n".join(text).rstrip() + "\n"


def _xla_note(lines):
    """Which runs trained with an XLA-compiled step (same recipe, other rounding)."""
    compiled = [f"{line['arm']} seed {line['seed']}" for line in lines if line.get("xla")]
    if not compiled or len(compiled) == len(lines):
        return ""
    return (f" {len(compiled)} run{'s' if len(compiled) > 1 else ''} ({', '.join(compiled)}) "
            "trained with an XLA-compiled step, where XLA is the default (float32 on a CPU "
            "without AVX-512), the others without: the same recipe and seeds, only the "
            "floating-point rounding differs.")


def _judge_note(lines):
    """A warning when the recorded runs were not all scored by today's judge."""
    from ganlib.classifier import judge_fingerprint

    today = judge_fingerprint("mnist")
    stale = [line for line in lines if line.get("judge") != today]
    if not stale:
        return ""
    return (f" **{len(stale)} of {len(lines)} runs were scored by an earlier judge**: "
            "`python -m ganlib.compare --rescore` scores them again with today's.")


def comparison_section(path):
    """The tricks comparison (from `python -m ganlib.compare`) as Markdown, or None."""
    from ganlib.compare import ARMS, MEASURES, clearly_better, recorded, summary

    lines = recorded(path)
    if not lines:
        return None
    table = summary(lines)
    budgets = sorted({line["budget_images"] for line in lines})
    rows = [f"Each arm is the MNIST DCGAN with one change (or the WGAN families), trained "
            f"for the same budget of about {budgets[-1]:,} real images shown to D "
            "(`--split all` of the offline sample), then measured by `ganlib.evaluate` at "
            "N = 1000. Mean +- standard deviation over the seeds run so far. Lower FCD / "
            "floor is better; precision (realistic samples) and recall (coverage of the "
            "data) are better high." + _xla_note(lines) + _judge_note(lines), "",
            "| arm | change | seeds | images seen | FCD / floor | precision | recall | "
            "classifier score | classes covered |", "|---|---|---|---|---|---|---|---|---|"]
    for arm, numbers in table.items():
        variant, options = ARMS[arm]
        change = f"`{' '.join(options)}`" if options else (
            "the DCGAN as it is" if variant == "dcgan" else f"the `{variant}` variant")
        cells = [f"{numbers[key][0]:.2f} +- {numbers[key][1]:.2f}" if key in numbers else "-"
                 for key in MEASURES]
        rows.append(f"| {arm} | {change} | {numbers['seeds']} | {numbers['images_seen']:,} | "
                    + " | ".join(cells) + " |")
    baseline = table.get("baseline")
    if baseline:
        better = [arm for arm, numbers in table.items()
                  if arm != "baseline" and clearly_better(numbers, baseline)]
        judged = [arm for arm, numbers in table.items()
                  if arm != "baseline" and min(numbers["seeds"], baseline["seeds"]) >= 2]
        waiting = [arm for arm in table if arm != "baseline" and arm not in judged]
        rows += ["", "Arms whose FCD / floor beats the baseline by more than both spreads: "
                 + (", ".join(f"`{arm}`" for arm in better) if better else "none") + ". "
                 + ("Every other arm with two or more seeds did not help measurably at this "
                    "budget. " if judged else "")
                 + (f"Not judged yet (one seed, so no spread): {len(waiting)} arm"
                    f"{'s' if len(waiting) != 1 else ''}." if waiting else "")]
    rows += ["", "Reproduce (resumable; each finished run is appended to "
             f"`report/{COMPARISON_FILE}`):", "", "```bash",
             f"python -m ganlib.compare --images {budgets[-1]}", "```"]
    return "\n".join(rows)


def precision_section(bfloat16_path, float32_path):
    """bfloat16 against float32 at equal images and seeds (both from ganlib.compare), or None."""
    from ganlib.compare import clearly_better, recorded, summary

    bfloat16_lines = recorded(bfloat16_path)
    if not bfloat16_lines:
        return None
    float32_lines = recorded(float32_path)
    rows = ["The same arms and seeds trained for the same images in float32 (the "
            "comparison above) and in mixed bfloat16 (`python -m ganlib.compare --precision "
            f"bfloat16 --results report/{BFLOAT16_FOLDER}/{COMPARISON_FILE} --runs "
            "runs/compare-bf16`), scored by the same judge (FCD / floor, lower is better). "
            "Speed is the bench's: see the README.", "",
            "| arm | seed | float32 | bfloat16 |", "|---|---|---|---|"]
    verdicts = []
    for arm in sorted({line["arm"] for line in bfloat16_lines}):
        budget = max(line["budget_images"] for line in bfloat16_lines if line["arm"] == arm)
        by_precision = {
            "bfloat16": [line for line in bfloat16_lines
                         if line["arm"] == arm and line["budget_images"] == budget],
            "float32": [line for line in float32_lines
                        if line["arm"] == arm and line["budget_images"] == budget]}
        seeds = sorted({line["seed"] for lines in by_precision.values() for line in lines})
        for seed in seeds:
            cells = [next((f"{line['fcd_over_floor']:.2f}" for line in lines
                           if line["seed"] == seed), "-")
                     for lines in (by_precision["float32"], by_precision["bfloat16"])]
            rows.append(f"| {arm} | {seed} | " + " | ".join(cells) + " |")
        numbers = {name: summary(lines).get(arm) for name, lines in by_precision.items()}
        if all(numbers.values()):
            mean = [f"{numbers[name]['fcd_over_floor'][0]:.2f} +- "
                    f"{numbers[name]['fcd_over_floor'][1]:.2f}"
                    for name in ("float32", "bfloat16")]
            rows.append(f"| {arm} | mean +- std | " + " | ".join(mean) + " |")
            if clearly_better(numbers["float32"], numbers["bfloat16"]):
                verdicts.append(f"`{arm}`: float32 beats bfloat16 by more than both spreads")
            elif clearly_better(numbers["bfloat16"], numbers["float32"]):
                verdicts.append(f"`{arm}`: bfloat16 beats float32 by more than both spreads")
            elif min(numbers["float32"]["seeds"], numbers["bfloat16"]["seeds"]) >= 2:
                verdicts.append(f"`{arm}`: no difference larger than the spread between seeds")
    if verdicts:
        rows += ["", "**What the numbers support:** " + "; ".join(verdicts) + "."]
    if any("dtype_policy" not in line for line in float32_lines):
        rows += ["", "Comparison lines recorded before it pinned float32 do not name their "
                 "precision: they trained under `--precision auto`, float32 unless the CPU "
                 "had native bfloat16."]
    return "\n".join(rows)


def _classifier_accuracy(dataset):
    from ganlib.sample import TRAINED_MODELS

    try:
        with open(os.path.join(TRAINED_MODELS, f"classifier_{dataset}.json")) as file:
            return json.load(file).get("test_accuracy")
    except (OSError, ValueError):
        return None


REPORT_TITLE = "# Report: how the GAN variants compare"
COMPARISON_FILE = "tricks_comparison.jsonl"  # written by `python -m ganlib.compare`
BFLOAT16_FOLDER = "bfloat16"  # the same comparison trained in bfloat16: results and grids
BEFORE_FILE = "shipped_before.json"  # written by `python -m ganlib.report --keep-as-before`
# Only these names are ever written (or replaced) inside a report folder.
GENERATED_FIGURE_SUFFIX = "_losses.png"
SIDE_BY_SIDE = "side_by_side.png"


def check_report_folder(out):
    """Refuse to write into anything but a report folder (or an empty or new one).

    A report only writes README.md and figures/*.png. A folder holding a README.md that
    this command did not write, or any other file at its top, is someone else's: writing
    there could replace their files.
    """
    if os.path.lexists(out) and not os.path.isdir(out):
        raise GanlibError(f"--out {out} is a file, not a folder; choose a folder for the report")
    if not os.path.isdir(out):
        return
    names = [name for name in os.listdir(out) if not name.startswith(TEMP_PREFIX)]
    readme = os.path.join(out, "README.md")
    foreign_readme = os.path.lexists(readme) and _first_line_of(readme) != REPORT_TITLE
    # The comparison's results and grids (ganlib.compare) and the notebooks' measured
    # short runs (ganlib.modes) live beside the report and are read by it.
    own = {"README.md", "figures", COMPARISON_FILE, "comparison_grids", "notebook_modes.json",
           BEFORE_FILE, BFLOAT16_FOLDER}
    if foreign_readme or set(names) - own:
        raise GanlibError(f"--out {out} is not a report folder (it holds other files); "
                          "choose an empty or new folder, or an earlier report's folder")


def _first_line_of(path):
    try:
        with open(path) as file:
            return file.readline().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return None


def build_report(out="report", models_folder=None):
    """Write the report's README.md and figures into `out`; return the README's path.

    Each file is written whole to a temporary name, then renamed over the old one: a
    failure leaves every file either the old one or the new one, and files the report
    does not generate are never touched.
    """
    from ganlib.files import atomic_write, ensure_writable_folder, write_bytes
    from ganlib.sample import TRAINED_MODELS

    models_folder = models_folder or TRAINED_MODELS
    cards = shipped_cards(models_folder)
    check_report_folder(out)
    figures = os.path.join(out, "figures")
    ensure_writable_folder(figures)
    histories, written = {}, {SIDE_BY_SIDE}
    for card in cards:
        history = read_epoch_history(os.path.join(models_folder, card["stem"] + ".history.jsonl"))
        histories[card["stem"]] = history
        if history:
            name = card["stem"] + GENERATED_FIGURE_SUFFIX
            atomic_write(os.path.join(figures, name),
                         lambda temp, h=history, c=card: loss_figure(h, c, temp), suffix=".png")
            written.add(name)
    atomic_write(os.path.join(figures, SIDE_BY_SIDE),
                 lambda temp: side_by_side_figure(cards, models_folder, temp), suffix=".png")
    # Links are relative, so the report reads the same on any Git host.
    models_link = os.path.relpath(models_folder, os.path.abspath(out)).replace(os.sep, "/")
    from ganlib.compare import RESULTS

    comparison = comparison_section(RESULTS)  # the repository's measured comparison
    precisions = precision_section(
        os.path.join(os.path.dirname(RESULTS), BFLOAT16_FOLDER, COMPARISON_FILE), RESULTS)
    from ganlib.compare import REPORT

    from ganlib.files import read_json

    before = read_json(os.path.join(REPORT, BEFORE_FILE))  # the repository's, as above
    text = render_markdown(cards, histories, quality_bars(cards), models_link, comparison,
                           before_after_section(before, cards), precisions)
    readme = os.path.join(out, "README.md")
    write_bytes(readme, text)
    # Loss curves of models no longer shipped are stale report output: remove only those.
    for name in os.listdir(figures):
        if name.endswith(GENERATED_FIGURE_SUFFIX) and name not in written:
            os.remove(os.path.join(figures, name))
    return readme


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="report", help="report folder (default report)")
    parser.add_argument("--models", help="folder of shipped generators (default trained_models)")
    parser.add_argument("--keep-as-before", action="store_true",
                        help="first keep today's shipped numbers in "
                             "report/shipped_before.json, for a before/after table once the "
                             "models are retrained")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    if args.keep_as_before:
        print(f"kept {os.path.relpath(keep_as_before(models_folder=args.models))}")
    path = build_report(args.out, args.models)
    print(f"wrote {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    cli.run(main)
