"""Ship a finished run: copy its generator into `trained_models/`, measured and pictured.

    python -m ganlib.ship runs/dcgan-mnist

Writes trained_models/VARIANT_DATASET.keras, its JSON card (the run's card plus the
evaluation at N = 1000 under "metrics"), VARIANT_DATASET.png (64 samples, seed 0) and
VARIANT_DATASET.gif (the run's training progress, thinned) and VARIANT_DATASET.mp4 (all of
it, as a video), VARIANT_DATASET.history.jsonl (its
losses, for the report's curves) and VARIANT_DATASET.discriminator.keras (for
`python -m ganlib.sample VARIANT --discriminator-plot d.png`). The optimizer state and the
checkpoints stay in the run folder.

    python -m ganlib.ship runs/vanilla-mnist --note "FCD bar not reached after 300 epochs"

A note is stored in the card and printed in the report beside the model's numbers.

    python -m ganlib.ship --rejudge mnist

measures every shipped generator of a dataset again with today's judge (after
`python -m ganlib.classifier` retrained it) and rewrites only their cards' "metrics".
"""

import argparse
import os

from ganlib import cli
from ganlib.errors import GanlibError
from ganlib.quiet import import_tensorflow_quietly

MAX_GIF_FRAMES = 20


def ship_run(run_folder, num=1000, destination=None, note=None):
    """Copy, evaluate and picture the generator of a finished run; return the card."""
    from ganlib.evaluate import evaluate_generator
    from ganlib.files import copy_file, write_bytes, write_json
    from ganlib.sample import (TRAINED_MODELS, generate_images, latent_noise, load_generator,
                               sample_labels, save_samples)
    from ganlib.run_folder import run_paths
    from ganlib.viz import thinned_gif

    paths = run_paths(run_folder)
    if not os.path.isfile(paths["generator"]) or not os.path.isfile(paths["card"]):
        raise GanlibError(f"{run_folder} holds no finished run (generator.keras and "
                          "generator.json); finish training it first")
    generator, card = load_generator(paths["generator"])  # reads the run's card beside it
    stem = os.path.join(destination or TRAINED_MODELS, f"{card['variant']}_{card['dataset']}")
    card["metrics"] = evaluate_generator(generator, card, num)
    if note:
        card["note"] = note
    card["has_video"] = os.path.isfile(paths["video"])
    copy_file(paths["generator"], stem + ".keras")
    write_json(stem + ".json", card)
    labels = sample_labels(card, 64)
    images = generate_images(generator, latent_noise(64, card["latent_dim"], 0), labels)
    save_samples(images, stem + ".png", len(card["classes"]) if labels is not None else 8)
    if os.path.isfile(paths["gif"]):
        # A few hundred KB, not 10 MB: 20 frames, at most 640 px wide.
        gif = thinned_gif(paths["gif"], MAX_GIF_FRAMES, max_side=640)
        write_bytes(stem + ".gif", gif)
    if card["has_video"]:  # every grid, labelled with its step, as H.264 (small)
        copy_file(paths["video"], stem + ".mp4")
    if os.path.isfile(paths["discriminator"]):
        copy_file(paths["discriminator"], stem + ".discriminator.keras")
    if os.path.isfile(paths["history"]):
        copy_file(paths["history"], stem + ".history.jsonl")
    return card


def rejudge_shipped(dataset, num=1000, folder=None):
    """Evaluate every shipped generator of `dataset` again and update its card; return the
    (name, old FCD / floor, new FCD / floor) of each."""
    from ganlib.evaluate import evaluate_generator
    from ganlib.files import write_json
    from ganlib.report import shipped_cards
    from ganlib.sample import TRAINED_MODELS, load_generator

    folder = folder or TRAINED_MODELS
    changes = []
    for shipped in shipped_cards(folder):  # generators' cards only, not the judges'
        if shipped["dataset"] != dataset:
            continue
        generator, card = load_generator(os.path.join(folder, shipped["stem"] + ".keras"))
        old = card.get("metrics", {}).get("fcd_over_floor")
        card["metrics"] = evaluate_generator(generator, card, num)
        write_json(os.path.join(folder, shipped["stem"] + ".json"), card)
        changes.append((shipped["stem"], old, card["metrics"]["fcd_over_floor"]))
    if not changes:
        raise GanlibError(f"no shipped generator for {dataset} in {folder}")
    return changes


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.ship", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_folder", nargs="?")
    parser.add_argument("--num", type=int, default=1000, help="images per evaluation set")
    parser.add_argument("--note", help="a sentence for the card and the report")
    parser.add_argument("--rejudge", metavar="DATASET",
                        help="instead: measure the shipped generators of DATASET again with "
                             "today's judge and update their cards")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    if args.num < 2:
        raise GanlibError(f"--num must be at least 2 (two real sets give the FCD's "
                          f"floor), got {args.num}")
    if args.rejudge:
        for name, old, new in rejudge_shipped(args.rejudge, args.num):
            print(f"{name}: FCD / floor {old} -> {new}")
        return 0
    if not args.run_folder:
        raise GanlibError("name the run folder to ship, e.g. python -m ganlib.ship "
                          "runs/dcgan-mnist (or --rejudge DATASET)")
    card = ship_run(args.run_folder, args.num, note=args.note)
    from ganlib.evaluate import format_result

    print(format_result(f"shipped {card['variant']}_{card['dataset']}", card["metrics"]))
    return 0


if __name__ == "__main__":
    cli.run(main)
