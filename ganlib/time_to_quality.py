"""Time to quality: how many images (and seconds) until samples reach a fixed FCD bar.

    python -m ganlib.bench --quality                       # both recipes, bar 8x the floor
    python -m ganlib.bench --quality --threshold 5 --max-images 600000

Images per second says how fast a step is, not how fast a recipe learns. This trains the
MNIST DCGAN with ganlib's improved recipe (`ganlib.recipes`: minibatch discrimination and
an EMA generator on the DCGAN's defaults) and with the TensorFlow DCGAN tutorial's (Adam
1e-4 with its default betas, batch 256) side by side, in the same run on the same CPU,
evaluates the FCD over its real-data floor every `--every` epochs (N = 500), and reports
the images shown to D and the training seconds until the ratio first falls to the bar.
"""

import json
import os

from ganlib.errors import GanlibError
from ganlib.recipes import IMPROVED_OPTIONS

RECIPES = {
    # The shipped DCGAN's options, less its long-run DiffAugment and categorical code.
    "ganlib": list(IMPROVED_OPTIONS),
    "tf_tutorial": ["--learning-rate", "1e-4", "--beta-1", "0.9", "--batch-size", "256"],
}
EVALUATION_IMAGES = 500


def race(recipe, threshold, max_images, every, runs_folder, limit=None, seed=0):
    """Train one recipe until FCD / floor <= threshold (or max_images); its measurements."""
    from ganlib import train
    from ganlib.evaluate import evaluate_generator
    from ganlib.sample import load_generator

    out = os.path.join(runs_folder, recipe)
    options = ["--split", "all", "--seed", str(seed), "--quiet", *RECIPES[recipe]]
    if limit:
        options += ["--limit", str(limit)]
    curve, epochs = [], 0
    while True:
        epochs += every
        config = train.parse_args(["dcgan", "--out", out, "--epochs", str(epochs),
                                   *options])[0]
        result = train.train(config, verbose=0)
        generator, card = load_generator(os.path.join(out, "generator.keras"))
        metrics = evaluate_generator(generator, card, EVALUATION_IMAGES)
        point = {"images_seen": card["images_seen"],
                 "seconds": result.card["wall_time_seconds"],
                 "fcd_over_floor": metrics["fcd_over_floor"]}
        curve.append(point)
        print(f"[quality] {recipe}: {point['images_seen']:,} images, {point['seconds']:.0f} s, "
              f"FCD / floor {point['fcd_over_floor']}", flush=True)
        reached = point["fcd_over_floor"] is not None and point["fcd_over_floor"] <= threshold
        if reached or card["images_seen"] >= max_images:
            return {"recipe": recipe, "reached": reached, "curve": curve,
                    "images_to_bar": point["images_seen"] if reached else None,
                    "seconds_to_bar": point["seconds"] if reached else None}


def run(threshold=8.0, max_images=400_000, every=2, runs_folder=os.path.join("runs", "quality"),
        limit=None):
    """Race every recipe; a dict of results by recipe."""
    if not threshold > 0:
        raise GanlibError(f"--threshold must be positive, got {threshold}")
    if max_images < 1 or every < 1:
        raise GanlibError("--max-images and --every must be at least 1")
    return {recipe: race(recipe, threshold, max_images, every, runs_folder, limit)
            for recipe in RECIPES}


def format_results(results, threshold):
    """A table: images and seconds to the bar per recipe, and the images ratio."""
    lines = [f"time to FCD / floor <= {threshold} (MNIST DCGAN, N = {EVALUATION_IMAGES})",
             f"{'recipe':<14}{'images':>12}{'seconds':>10}  last FCD / floor"]
    for recipe, result in results.items():
        images = f"{result['images_to_bar']:,}" if result["reached"] else "not reached"
        seconds = f"{result['seconds_to_bar']:.0f}" if result["reached"] else "-"
        lines.append(f"{recipe:<14}{images:>12}{seconds:>10}  "
                     f"{result['curve'][-1]['fcd_over_floor']}")
    ours, theirs = results["ganlib"], results["tf_tutorial"]
    if ours["reached"] and theirs["reached"]:
        ratio = theirs["images_to_bar"] / ours["images_to_bar"]
        lines.append(f"the tutorial's recipe needs {ratio:.1f}x the images ganlib's needs")
    return "\n".join(lines)


def to_json(results):
    """The results as JSON text."""
    return json.dumps(results, indent=2)
