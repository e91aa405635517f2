"""Sample images from a trained generator, without any training.

    python -m ganlib.sample dcgan                         # 64 digits -> dcgan_samples.png
    python -m ganlib.sample cdcgan --label 3 --num 16 --out threes.png
    python -m ganlib.sample dcgan --seed 1 --out samples.npy   # uint8 array (N, H, W)
    python -m ganlib.sample dcgan --model runs/dcgan/generator.keras

Shipped generators live in `trained_models/` as VARIANT_DATASET.keras, each with a JSON
card beside it. The same seed always gives the same images.
"""

import argparse
import json
import math
import os
import sys
import zipfile

import numpy as np

from ganlib.data import to_uint8
from ganlib.errors import GanlibError
from ganlib.variants import VARIANTS, get_variant

TRAINED_MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "trained_models")


def shipped_model_path(variant, dataset="mnist"):
    """Where the shipped generator of a variant lives."""
    return os.path.join(TRAINED_MODELS, f"{get_variant(variant).name}_{dataset}.keras")


def load_generator(path):
    """Load a generator and its card (read beside it, or inferred from the model)."""
    if not os.path.isfile(path):
        raise GanlibError(f"no model file at {path}; check the path, or train one with "
                          "`python -m ganlib.train VARIANT --out runs/NAME`")
    if not zipfile.is_zipfile(path):  # a .keras file is a zip archive
        raise GanlibError(f"{path} is not a Keras model file (.keras); pass a generator "
                          "saved by ganlib, e.g. runs/NAME/generator.keras")
    import keras

    try:
        generator = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged or foreign file
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        raise GanlibError(f"cannot load {path}: not a readable Keras model ({reason}); "
                          "re-download or retrain it") from None
    if not _is_generator(generator):
        raise GanlibError(f"{path} is a Keras model but not a generator (it takes "
                          f"{_input_shapes(generator)}); pass a generator saved by ganlib, "
                          "e.g. runs/NAME/generator.keras")
    return generator, _read_card(path, generator)


def _input_shapes(model):
    return ", ".join(str(tuple(tensor.shape[1:])) for tensor in model.inputs)


def _is_generator(model):
    """A generator maps noise (latent,) [and a label (1,)] to images (H, W, C)."""
    inputs, outputs = model.inputs, model.outputs
    return (1 <= len(inputs) <= 2 and len(inputs[0].shape) == 2
            and all(len(tensor.shape) == 2 for tensor in inputs)
            and len(outputs) == 1 and len(outputs[0].shape) == 4)


def _read_card(model_path, generator):
    card_path = os.path.splitext(model_path)[0] + ".json"
    card = {}
    if os.path.isfile(card_path):
        try:
            with open(card_path) as file:
                card = json.load(file)
        except (OSError, ValueError):
            card = {}  # a broken card is not fatal: everything needed is in the model
    inputs = generator.inputs
    card.setdefault("latent_dim", int(inputs[0].shape[-1]))
    if len(inputs) == 2 and not card.get("num_classes"):
        encoders = [layer for layer in generator.layers if hasattr(layer, "num_tokens")]
        card["num_classes"] = int(encoders[0].num_tokens) if encoders else 10
    if len(inputs) == 1:
        card["num_classes"] = None
    if card.get("num_classes") and not card.get("classes"):
        card["classes"] = list(range(card["num_classes"]))
    return card


def check_seed(seed):
    """Refuse a seed that NumPy's and TensorFlow's generators cannot take."""
    if not 0 <= seed < 2 ** 32:
        raise GanlibError(f"--seed must be between 0 and {2 ** 32 - 1}, got {seed}")


def sample_labels(card, num, label=None):
    """Labels for a conditional generator: `label` for all, else cycle the trained classes."""
    if not card.get("num_classes"):
        if label is not None:
            raise GanlibError("--label is only for conditional variants (cgan, cdcgan); "
                              "this generator is unconditional, so drop --label")
        return None
    classes = card["classes"]
    if label is not None:
        if label not in classes:
            raise GanlibError(f"label {label} is not one this generator was trained on; "
                              f"use one of: {', '.join(map(str, classes))}")
        return np.full((num, 1), label, np.int32)
    return np.array([[classes[i % len(classes)]] for i in range(num)], np.int32)


def latent_noise(num, latent_dim, seed=0, mean=0.0, std=1.0):
    """Gaussian latent vectors; the same seed gives the same vectors."""
    rng = np.random.default_rng(seed)
    return (mean + std * rng.standard_normal((num, latent_dim))).astype(np.float32)


def generate_images(generator, noise, labels=None, batch_size=256):
    """Run the generator in inference mode; returns float images in [-1, 1]."""
    batches = []
    for start in range(0, len(noise), batch_size):
        inputs = noise[start:start + batch_size]
        if labels is not None:
            inputs = [inputs, labels[start:start + batch_size]]
        batches.append(np.asarray(generator(inputs, training=False)))
    return np.concatenate(batches)


def check_output_path(out):
    """Refuse an output name that is neither a .png grid nor a .npy array."""
    if os.path.splitext(out)[1].lower() not in (".png", ".npy"):
        raise GanlibError(f"--out must end in .png (a grid) or .npy (an array), got '{out}'")


def save_samples(images, out, columns=8):
    """Write images as a PNG grid or as a uint8 .npy array (N, H, W) or (N, H, W, 3)."""
    from ganlib import viz
    from ganlib.files import atomic_write, ensure_writable_folder

    check_output_path(out)
    ensure_writable_folder(os.path.dirname(os.path.abspath(out)))
    pixels = to_uint8(images)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if out.lower().endswith(".png"):
        viz.save_png(out, viz.image_grid(pixels, columns), scale=2)
    else:
        atomic_write(out, lambda temp_path: np.save(open(temp_path, "wb"), pixels),
                     suffix=".npy")


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", help=f"one of: {', '.join(VARIANTS)} (any case)")
    parser.add_argument("--dataset", default="mnist", help="which shipped model (default mnist)")
    parser.add_argument("--model", help="a generator .keras file instead of the shipped one")
    parser.add_argument("--num", type=int, default=64, help="how many images (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--label", type=int, help="class to draw (conditional variants)")
    parser.add_argument("--mean", type=float, default=0.0, help="mean of the noise")
    parser.add_argument("--std", type=float, default=1.0, help="standard deviation of the noise")
    parser.add_argument("--out", help="output .png or .npy (default VARIANT_samples.png); "
                                      "an existing file of that name is replaced")
    return parser.parse_args(argv)


def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    try:
        args = parse_args(argv)
        variant = get_variant(args.variant)
        if not 1 <= args.num <= 100_000:
            raise GanlibError(f"--num must be between 1 and 100000, got {args.num}")
        check_seed(args.seed)
        if not (math.isfinite(args.std) and args.std >= 0):
            raise GanlibError(f"--std must be a number of at least 0, got {args.std}")
        if not math.isfinite(args.mean):
            raise GanlibError(f"--mean must be a finite number, got {args.mean}")
        path = args.model or shipped_model_path(variant.name, args.dataset)
        if not args.model and not os.path.isfile(path):
            raise GanlibError(
                f"no shipped {variant.name} generator for {args.dataset} ({path}); train one "
                f"with `python -m ganlib.train {variant.name} --dataset {args.dataset} --out "
                f"runs/{variant.name}` and pass --model runs/{variant.name}/generator.keras")
        out = args.out or f"{variant.name}_samples.png"
        check_output_path(out)  # before loading the model: fail fast
        generator, card = load_generator(path)
        labels = sample_labels(card, args.num, args.label)
        noise = latent_noise(args.num, card["latent_dim"], args.seed, args.mean, args.std)
        images = generate_images(generator, noise, labels)
        columns = len(card["classes"]) if labels is not None and args.label is None else 8
        save_samples(images, out, columns)
    except GanlibError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.num} {variant.name} samples to {os.path.abspath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
