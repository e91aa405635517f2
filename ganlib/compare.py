"""A controlled comparison of the stabilisation tricks: one budget, several seeds, measured.

    python -m ganlib.compare                       # every arm, seeds 0,1,2, 100,000 images each
    python -m ganlib.compare --arms baseline,wgan_gp --seeds 0 --images 20000

Each arm is the MNIST DCGAN with one trick switched on (or the WGAN / WGAN-GP families, or
the small-data techniques DiffAugment, EMA and spectral normalisation, alone and together),
trained on the same data for the same number of real images shown to D, from the same
seeds. Every finished run is evaluated by `ganlib.evaluate` (N = 1000) and appended, one
JSON line, to `report/tricks_comparison.jsonl`; a run already recorded there is skipped, so
an interrupted comparison continues where it stopped. `python -m ganlib.report` turns the
file into the report's comparison table (mean and spread over seeds per arm).

Each line names the judge that scored it (a fingerprint of the classifier file). When the
judge is retrained, `python -m ganlib.compare --rescore` scores every recorded run again
with the new one from its kept generator, so no table mixes two judges.
"""

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys

from ganlib import cli
from ganlib.errors import GanlibError
from ganlib.quiet import import_tensorflow_quietly

# arm -> (variant, train options). The DCGAN's own defaults are the baseline.
ARMS = {
    "baseline": ("dcgan", []),
    "label_smoothing": ("dcgan", ["--label-smoothing", "0.1"]),
    "label_flip": ("dcgan", ["--label-flip", "0.05"]),
    "minibatch_discrimination": ("dcgan", ["--minibatch-discrimination"]),
    "monitored": ("dcgan", ["--policy", "monitored"]),
    "boost": ("dcgan", ["--policy", "boost"]),
    "sleep_discriminator": ("dcgan", ["--sleep-discriminator", "20"]),
    "hinge": ("dcgan", ["--loss", "hinge"]),
    "two_time_scale": ("dcgan", ["--d-learning-rate", "4e-4", "--g-learning-rate", "1e-4"]),
    "wgan": ("wgan", []),
    "wgan_gp": ("wgan_gp", []),
    # The small-data techniques, alone and together (the offline sample has 5,000 digits).
    "diff_augment": ("dcgan", ["--diff-augment", "translation,cutout"]),
    "ema": ("dcgan", ["--ema", "0.999"]),
    "spectral_norm": ("dcgan", ["--spectral-norm"]),
    "diff_augment_ema_spectral_norm": ("dcgan", ["--diff-augment", "translation,cutout",
                                                 "--ema", "0.999", "--spectral-norm"]),
    # The strongest trick of the first seed with the strongest small-data technique.
    "minibatch_discrimination_ema": ("dcgan", ["--minibatch-discrimination", "--ema", "0.999"]),
    # The R1 penalty on real images (gamma 1), alone and on top of that strongest pair.
    "r1": ("dcgan", ["--r1", "1"]),
    "minibatch_discrimination_ema_r1": ("dcgan", ["--minibatch-discrimination", "--ema", "0.999",
                                                  "--r1", "1"]),
    # The same pair with a generator twice as wide (every conv layer's filters doubled):
    # does G's capacity limit how realistic the digits get?
    "minibatch_discrimination_ema_wide_generator": ("dcgan", ["--minibatch-discrimination",
                                                              "--ema", "0.999",
                                                              "--g-filters", "2"]),
    # ... and with a discriminator twice as wide instead: which side's capacity matters?
    "minibatch_discrimination_ema_wide_discriminator": ("dcgan", ["--minibatch-discrimination",
                                                                  "--ema", "0.999",
                                                                  "--d-filters", "2"]),
    # Notebook 05's experiment: AD-GAN's decaying dropout against the DCGAN's fixed 0.3
    # (the baseline) and against no dropout at all.
    "adgan": ("adgan", []),
    "no_dropout": ("dcgan", ["--d-dropout", "0"]),
}
REPORT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "report")
RESULTS = os.path.join(REPORT, "tricks_comparison.jsonl")
GRIDS = os.path.join(REPORT, "comparison_grids")  # 64 samples of every run: ARM-seedN.png
MEASURES = ("fcd_over_floor", "precision", "recall", "classifier_score", "classes_covered")
DATASET_IMAGES = 5000  # the offline MNIST sample, --split all


def epochs_for(variant_name, images, dataset_images=DATASET_IMAGES, batch_size=64):
    """Epochs that show D closest to `images` real images (whole epochs only)."""
    from ganlib.variants import get_variant

    per_step = batch_size * get_variant(variant_name).critic_steps
    per_epoch = dataset_images // per_step * per_step
    return max(1, round(images / per_epoch))


def train_arguments(arm, seed, images, runs_folder, limit=None, precision="float32"):
    """The `python -m ganlib.train` arguments of one arm and seed (`limit`: fewer images)."""
    variant, options = ARMS[arm]
    out = os.path.join(runs_folder, f"{arm}-seed{seed}")
    epochs = epochs_for(variant, images, limit or DATASET_IMAGES)
    # float32 on every machine unless asked: bfloat16 (what auto picks on some CPUs) changes
    # the numerics, and the arms must differ only in their recipe.
    return [variant, "--out", out, "--split", "all", "--seed", str(seed),
            "--epochs", str(epochs), "--precision", precision, "--quiet", *options,
            *(["--limit", str(limit)] if limit else [])]


def recorded(path=RESULTS):
    """The results recorded so far, as a list of dicts."""
    if not os.path.isfile(path):
        return []
    with open(path) as file:
        return [json.loads(line) for line in file if line.strip().endswith("}")]


@contextlib.contextmanager
def _locked(results_path):
    """The results file opened for appending, under an exclusive lock: an append of a
    running comparison and a rewrite by --rescore never interleave, so no line is lost."""
    while True:
        file = open(results_path, "a")
        fcntl.flock(file, fcntl.LOCK_EX)
        # A rewrite renames a new file over the path: if that happened while we waited,
        # our handle holds the old one; open the new one.
        if os.fstat(file.fileno()).st_ino == os.stat(results_path).st_ino:
            break
        file.close()
    try:
        yield file
    finally:
        file.close()  # releases the lock


def _scores(generator, card):
    """The judge's measures of a finished run, as recorded in its line."""
    from ganlib.evaluate import evaluate_generator

    metrics = evaluate_generator(generator, card, 1000)
    return {**{key: metrics[key] for key in ("fcd", "fcd_real_floor", *MEASURES)
               if key in metrics}, "judge": metrics["judge_fingerprint"]}


def run_arm(arm, seed, images, runs_folder, results_path=RESULTS, limit=None,
            precision="float32"):
    """Train, evaluate and record one arm and seed; return the recorded line."""
    from ganlib import train
    from ganlib.sample import load_generator

    arguments = train_arguments(arm, seed, images, runs_folder, limit, precision)
    config, _, _ = train.parse_args(arguments)
    result = train.train(config, verbose=0)
    generator, card = load_generator(os.path.join(config.out, "generator.keras"))
    scores = _scores(generator, card)
    save_grid(generator, card, grid_path(arm, seed, os.path.dirname(results_path)))
    line = {"arm": arm, "seed": seed, "budget_images": images,
            "images_seen": result.card["images_seen"], "steps": result.card["steps"],
            "wall_time_seconds": result.card["wall_time_seconds"],
            "command": "python -m ganlib.train " + " ".join(arguments),
            # XLA changes the numerics (not the recipe); recorded for the reader.
            # (named dtype_policy: "precision" is the judge's precision-and-recall measure)
            "xla": result.card["xla"], "dtype_policy": result.card["precision"],
            **scores}
    with _locked(results_path) as file:
        file.write(json.dumps(line) + "\n")
    return line


def rescore(runs_folder, results_path=RESULTS):
    """Score every recorded run not scored by today's judge again, from its kept generator.

    Returns the number of lines rescored. A line whose run folder is gone keeps its old
    numbers, and is named, so the reader knows which judge scored it.
    """
    from ganlib.classifier import judge_fingerprint
    from ganlib.files import atomic_write
    from ganlib.sample import load_generator

    judge, count = judge_fingerprint("mnist"), 0
    for old in recorded(results_path):
        if old.get("judge") == judge:
            continue
        key = (old["arm"], old["seed"], old["budget_images"])
        model = os.path.join(runs_folder, f"{old['arm']}-seed{old['seed']}", "generator.keras")
        if not os.path.isfile(model):
            print(f"[compare] {old['arm']} seed {old['seed']}: no {model}; its line keeps "
                  "the old judge's numbers", file=sys.stderr)
            continue
        generator, card = load_generator(model)
        if card.get("images_seen") != old["images_seen"]:  # that folder holds another run
            print(f"[compare] {old['arm']} seed {old['seed']}: {model} saw "
                  f"{card.get('images_seen')} images, the line {old['images_seen']}; its "
                  "line keeps the old judge's numbers", file=sys.stderr)
            continue
        scores = _scores(generator, card)
        # Re-read under the lock: a comparison running beside us may have appended a line.
        with _locked(results_path):
            lines = [dict(line, **scores)
                     if (line["arm"], line["seed"], line["budget_images"]) == key else line
                     for line in recorded(results_path)]

            def write(temp_path):
                with open(temp_path, "w") as file:
                    file.writelines(json.dumps(line) + "\n" for line in lines)
            atomic_write(results_path, write, suffix=".jsonl")
        count += 1
        print(f"[compare] rescored {old['arm']} seed {old['seed']}: FCD/floor "
              f"{old['fcd_over_floor']} -> {scores['fcd_over_floor']}", flush=True)
    return count


def grid_path(arm, seed, report_folder=REPORT):
    """Where the grid of one arm and seed is kept."""
    return os.path.join(report_folder, "comparison_grids", f"{arm}-seed{seed}.png")


def save_grid(generator, card, path):
    """64 samples of a finished run (latent seed 0), for the report and notebook 05."""
    from ganlib import viz
    from ganlib.sample import generate_images, latent_noise

    images = generate_images(generator, latent_noise(64, card["latent_dim"], 0))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    viz.save_png(path, viz.image_grid(images, 8), scale=viz.grid_scale(images.shape[2]))


def backfill_grids(runs_folder, results_path=RESULTS):
    """Write the missing grids of recorded runs whose run folder is still here."""
    from ganlib.sample import load_generator

    for line in recorded(results_path):
        path = grid_path(line["arm"], line["seed"], os.path.dirname(results_path))
        model = os.path.join(runs_folder, f"{line['arm']}-seed{line['seed']}", "generator.keras")
        if not os.path.exists(path) and os.path.isfile(model):
            save_grid(*load_generator(model), path)
            print(f"[compare] wrote {os.path.relpath(path)}")


def summary(lines):
    """Per arm: number of seeds, mean and standard deviation of each measure."""
    import numpy as np

    table = {}
    for arm in ARMS:
        runs = [line for line in lines if line["arm"] == arm]
        if not runs:
            continue
        table[arm] = {"seeds": len(runs), "images_seen": runs[0]["images_seen"]}
        for key in MEASURES:
            if all(key in run for run in runs):  # precision/recall: lines since they existed
                values = np.array([run[key] for run in runs], float)
                table[arm][key] = (float(values.mean()), float(values.std()))
    return table


def clearly_better(numbers, than):
    """True when one arm's FCD / floor beats another's by more than both spreads (mean +- std).

    Never from a single seed: its spread of 0 is unmeasured, not small.
    """
    if min(numbers["seeds"], than["seeds"]) < 2:
        return False
    mean, spread = numbers["fcd_over_floor"]
    other_mean, other_spread = than["fcd_over_floor"]
    return mean + spread < other_mean - other_spread


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    # 50,000 images (10 epochs of the offline sample) leave the DCGAN at blobs (FCD 57x
    # its floor, 5 classes, in a first try): too early to compare tricks. 100,000 (20
    # epochs, 3 to 26 minutes per run on a 2-core CPU) puts 66 runs (22 arms x 3 seeds)
    # at 3 to 29 hours, which is why the comparison resumes where it stopped.
    parser.add_argument("--images", type=int, default=100_000,
                        help="real images shown to D per run (default 100,000)")
    parser.add_argument("--runs", default=os.path.join("runs", "compare"),
                        help="folder for the run folders")
    parser.add_argument("--results", default=RESULTS,
                        help="JSON-lines file the results are appended to "
                             "(default report/tricks_comparison.jsonl)")
    parser.add_argument("--precision", default="float32", choices=("float32", "bfloat16"),
                        help="what every run trains in (default float32, on every machine); "
                             "record bfloat16 runs in their own --results file")
    parser.add_argument("--grids", action="store_true",
                        help="only write the missing sample grids of recorded runs")
    parser.add_argument("--rescore", action="store_true",
                        help="only score the recorded runs again with today's judge (after "
                             "`python -m ganlib.classifier` retrained it)")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    from ganlib import train

    if args.grids:
        backfill_grids(args.runs, args.results)
        return 0
    if args.rescore:
        count = rescore(args.runs, args.results)
        print(f"[compare] {count} runs rescored with today's judge")
        return 0

    # SIGTERM stops the current run after its step, with a checkpoint (as for ganlib.train):
    # the same command then continues that run where it stopped.
    train.STOP_REQUESTED.clear()
    signal.signal(signal.SIGTERM, lambda signum, frame: train.STOP_REQUESTED.set())
    try:
        arms = args.arms.split(",")
        unknown = [arm for arm in arms if arm not in ARMS]
        if unknown:
            raise GanlibError(f"unknown arm '{unknown[0]}'; choose from: {', '.join(ARMS)}")
        try:
            seeds = [int(seed) for seed in args.seeds.split(",")]
        except ValueError:
            raise GanlibError(f"--seeds takes comma-separated integers, got '{args.seeds}'") \
                from None
        if args.images < 1:
            raise GanlibError(f"--images must be at least 1, got {args.images}")
        done = {(line["arm"], line["seed"], line["budget_images"])
                for line in recorded(args.results)}
        for seed in seeds:  # seed by seed, so a partial comparison covers every arm
            for arm in arms:
                if (arm, seed, args.images) in done:
                    continue
                line = run_arm(arm, seed, args.images, args.runs, args.results,
                               precision=args.precision)
                print(f"[compare] {arm} seed {seed}: FCD/floor {line['fcd_over_floor']}, "
                      f"classes {line['classes_covered']}, "
                      f"{line['wall_time_seconds'] / 60:.1f} min", flush=True)
    except train.TrainingStopped as stopped:
        print(f"terminated: checkpoint written at step {stopped.step}; run the same command "
              "again to continue the comparison", file=sys.stderr)
        return 128 + signal.SIGTERM
    return 0


if __name__ == "__main__":
    cli.run(main)
