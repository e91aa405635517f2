"""Measure a generator's samples with the dataset's classifier (see `ganlib.metrics`).

    python -m ganlib.evaluate dcgan                      # the shipped generator, N = 1000
    python -m ganlib.evaluate dcgan --model runs/dcgan-mnist/generator.keras --num 2000
    python -m ganlib.evaluate dcgan --dataset pokemon    # judged without labels

Datasets without useful classes (pokemon, your folders) are judged by a network trained
to tell rotations apart (`ganlib.classifier`): the Frechet distance on its features and the
novelty are measured, class coverage and the classifier score are not.

Real images are drawn from the whole dataset in a fixed order: the first N are the
reference for the generated set, the next N give the real-data floor of the FCD. The same
seed gives the same numbers.
"""

import argparse
import json
import os

import numpy as np

from ganlib import cli
from ganlib import metrics
from ganlib.errors import GanlibError
from ganlib.quiet import import_tensorflow_quietly
from ganlib.variants import VARIANTS, get_variant


def real_sets(dataset, num, classes=None, with_all=False, options=None):
    """Two disjoint sets of `num` real uint8 images (reference, floor), fixed order.

    With `with_all`, the whole dataset's images come third (for the novelty check).
    `options` are extra `load_dataset` options (image size, a folder's path).
    """
    from ganlib.data import load_dataset

    data = load_dataset(dataset, "all", classes, verbose=False, **(options or {}))
    if len(data) < 2 * num:
        raise GanlibError(f"--num {num} needs {2 * num} real images, {data.name} has "
                          f"{len(data)}; lower --num")
    order = np.random.default_rng(1).permutation(len(data))
    sets = data.images[order[:num]], data.images[order[num:2 * num]]
    return (*sets, data.images) if with_all else sets


_REAL_FEATURES = {}  # (judge fingerprint, dataset, N, classes, options) -> (reference, floor)


def _real_features(classifier, key, reference, floor_set):
    """The judge's features of the two real sets, computed once per process and judge: a
    notebook or a test evaluating several generators pays for them once."""
    from ganlib.classifier import features_and_probabilities

    if key[0] is None or key not in _REAL_FEATURES:  # no judge file: nothing to key on
        both = np.concatenate([reference, floor_set])
        _REAL_FEATURES[key] = np.split(features_and_probabilities(classifier, both)[0], 2)
    return _REAL_FEATURES[key]


def evaluate_generator(generator, card, num=1000, seed=0, classifier=None,
                       classifier_file=None):
    """All metrics of a generator at N = `num`, as a dict ready for its card.

    `classifier`, when given, must be the judge in `classifier_file` (default: the
    dataset's shipped judge), whose fingerprint keys the cached real features.
    """
    from ganlib.classifier import (classifier_card, features_and_probabilities,
                                   judge_fingerprint, load_classifier)
    from ganlib.data import to_unit_range
    from ganlib.sample import dataset_options, generate_images, latent_noise, sample_labels

    dataset = card.get("dataset", "mnist")
    classifier = classifier or load_classifier(dataset, classifier_file)
    label_free = classifier_card(dataset, classifier_file).get("task") == "rotation"
    judged, drawn = tuple(classifier.input_shape[1:]), tuple(generator.output_shape[1:])
    if judged != drawn:
        raise GanlibError(f"the {dataset} judge takes {judged} images but this generator draws "
                          f"{drawn}; train a judge at that size with `python -m "
                          "ganlib.classifier` and pass it with --classifier")
    # The real sets first: a --num the dataset cannot fill is refused before any drawing.
    options = dataset_options(card)
    reference, floor_set, all_real = real_sets(dataset, num, card.get("classes"), with_all=True,
                                               options=options)
    labels = sample_labels(card, num)
    noise = latent_noise(num, card["latent_dim"], seed)
    generated = generate_images(generator, noise, labels)
    # Which judge file measured this: numbers from two judges are not comparable.
    fingerprint = judge_fingerprint(dataset, classifier_file)
    real_features, floor_features = _real_features(
        classifier, (fingerprint, dataset, num, tuple(card.get("classes") or ()),
                     tuple(sorted(options.items()))), reference, floor_set)
    fake_features, fake_probabilities = features_and_probabilities(classifier, generated)
    fcd = metrics.frechet_distance(fake_features, real_features)
    floor = metrics.frechet_distance(floor_features, real_features)
    # Every real image, training images included: copies of them score near 0.
    novelty = round(metrics.novelty(generated, to_unit_range(floor_set),
                                    to_unit_range(all_real)), 3)
    precision, recall = metrics.precision_recall(real_features, fake_features)
    # The same two numbers for real images against real images: the ceiling a perfect
    # generator would reach at this N (below 1: the k-NN balls of a finite set miss some).
    real_precision, real_recall = metrics.precision_recall(real_features, floor_features)
    ceilings = {"real_precision": round(real_precision, 3),
                "real_recall": round(real_recall, 3)}
    if label_free:
        return {"num_images": num, "seed": seed, "judge": "rotation-prediction features",
                "fcd": round(fcd, 3), "fcd_real_floor": round(floor, 3),
                "fcd_over_floor": round(fcd / floor, 2) if floor > 0 else None,
                "precision": round(precision, 3), "recall": round(recall, 3), **ceilings,
                "novelty": novelty, "judge_fingerprint": fingerprint}
    classes = card.get("classes") or list(range(fake_probabilities.shape[1]))
    shares, covered = metrics.class_coverage(fake_probabilities, classes)
    result = {
        "num_images": num, "seed": seed,
        "fcd": round(fcd, 3), "fcd_real_floor": round(floor, 3),
        "fcd_over_floor": round(fcd / floor, 2) if floor > 0 else None,
        "precision": round(precision, 3), "recall": round(recall, 3), **ceilings,
        "classifier_score": round(metrics.classifier_score(fake_probabilities), 3),
        "classes_covered": covered, "num_classes_expected": len(classes),
        "class_shares": {str(k): round(v, 3) for k, v in shares.items()},
        "novelty": novelty, "judge_fingerprint": fingerprint,
    }
    if labels is not None:
        result["conditional_accuracy"] = round(
            metrics.conditional_accuracy(fake_probabilities, labels), 4)
    return result


def format_result(name, result):
    """A few readable lines of an evaluation."""
    lines = [f"{name}: N = {result['num_images']}, seed {result['seed']}",
             f"  FCD {result['fcd']:.3f}  (real-data floor {result['fcd_real_floor']:.3f}, "
             f"ratio {result['fcd_over_floor']})"]
    if "precision" in result:
        lines.append(f"  precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
                     "(realistic / covering the data, k = 3 nearest neighbours)")
        if "real_precision" in result:
            lines.append(f"  real images against real: precision {result['real_precision']:.3f}"
                         f"  recall {result['real_recall']:.3f}  (the ceiling at this N)")
    if "judge" in result:
        lines[-1] += f"  on {result['judge']} (no labels: no class coverage)"
    else:
        lines += [f"  classifier score {result['classifier_score']:.3f}",
                  f"  classes covered {result['classes_covered']} of "
                  f"{result['num_classes_expected']}  shares {result['class_shares']}"]
    lines.append(f"  novelty {result['novelty']:.3f}  (nearest-real distance vs real images'; "
                 "near 0 = copies)")
    if "conditional_accuracy" in result:
        lines.append(f"  conditional accuracy {result['conditional_accuracy']:.4f}")
    return "\n".join(lines)


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", help=f"one of: {', '.join(VARIANTS)} (any case)")
    parser.add_argument("--dataset", default="mnist", help="which shipped model (default mnist)")
    parser.add_argument("--model", help="a generator .keras file or a run folder instead of "
                                        "the shipped one")
    parser.add_argument("--num", type=int, default=1000, help="images per set (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", help="the judge .keras to use instead of the shipped "
                                             "one (a folder's, from `ganlib.classifier`)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    from ganlib.sample import check_seed, load_generator, model_path, shipped_model_path

    variant = get_variant(args.variant)
    check_seed(args.seed)
    if args.num < 2:
        raise GanlibError(f"--num must be at least 2, got {args.num}")
    path = model_path(args.model) or shipped_model_path(variant.name, args.dataset)
    if not args.model and not os.path.isfile(path):
        raise GanlibError(f"no shipped {variant.name} generator for {args.dataset} "
                          f"({path}); train one with `python -m ganlib.train "
                          f"{variant.name}` and pass --model RUN/generator.keras")
    generator, card = load_generator(path)
    card.setdefault("dataset", args.dataset)
    result = evaluate_generator(generator, card, args.num, args.seed,
                                classifier_file=args.classifier)
    print(json.dumps(result, indent=2) if args.json else format_result(variant.name, result))
    return 0


if __name__ == "__main__":
    cli.run(main)
