"""Sample images from a trained generator, without any training.

    python -m ganlib.sample dcgan                         # 64 digits -> dcgan_samples.png
    python -m ganlib.sample cdcgan --label 3 --num 16 --out threes.png
    python -m ganlib.sample dcgan --seed 1 --out samples.npy   # uint8 array (N, H, W)
    python -m ganlib.sample dcgan --out samples.gif            # one frame per sample (or .mp4)
    python -m ganlib.sample dcgan --interpolate 6 --out walk.mp4   # a smooth latent walk
    python -m ganlib.sample dcgan --model runs/dcgan           # a run's final generator
    python -m ganlib.sample dcgan --model runs/dcgan --step 1200   # a snapshot of that run
    python -m ganlib.sample dcgan --z-set 3=2.5,7=-1.0 --seed 4    # fix chosen coordinates of z
    python -m ganlib.sample dcgan --sweep 3=-3:3:9                 # one row per value of z[3]
    python -m ganlib.sample dcgan --model runs/dcgan --discriminator-plot d.png

Shipped generators live in `trained_models/` as VARIANT_DATASET.keras, each with a JSON
card beside it. The same seed always gives the same images.
"""

import argparse
import json
import math
import os
import zipfile

import numpy as np

from ganlib import cli
from ganlib.data import to_uint8
from ganlib.errors import GanlibError
from ganlib.precision import for_this_cpu
from ganlib.quiet import import_tensorflow_quietly
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
    generator = _load_keras_file(path, "re-download or retrain it")
    if not _is_generator(generator):
        raise GanlibError(f"{path} is a Keras model but not a generator (it takes "
                          f"{_input_shapes(generator)}); pass a generator saved by ganlib, "
                          "e.g. runs/NAME/generator.keras")
    # Trained on a machine where bfloat16 pays? Here it may be emulated, 10x slower.
    generator = for_this_cpu(generator)
    return generator, _read_card(path, generator)


SNAPSHOTS = "generators"  # a run folder's generator snapshots: step_NNNNNNN.keras


def snapshot_path(run_folder, step):
    """Where a run keeps its generator snapshot of `step`."""
    return os.path.join(run_folder, SNAPSHOTS, f"step_{step:07d}.keras")


def snapshot_steps(run_folder):
    """The steps at which a run saved a generator snapshot, in order."""
    folder = os.path.join(run_folder, SNAPSHOTS)
    if not os.path.isdir(folder):
        return []
    steps = []
    for name in os.listdir(folder):
        stem, extension = os.path.splitext(name)
        if extension == ".keras" and stem.startswith("step_") and stem[5:].isdigit():
            steps.append(int(stem[5:]))
    return sorted(steps)


def model_path(model, step=None):
    """The generator file meant by --model (a file or a run folder) and --step."""
    if model is None or not os.path.isdir(model):
        if step is not None:
            raise GanlibError("--step picks a snapshot inside a run folder; pass it with "
                              "--model runs/NAME")
        return model
    if step is None:
        path = os.path.join(model, "generator.keras")
        if not os.path.isfile(path):
            steps = snapshot_steps(model)
            hint = (f"or pass --step (snapshots up to step {steps[-1]})" if steps
                    else "or pass a generator .keras file")
            raise GanlibError(f"{model} has no final generator yet (its training has not "
                              f"finished); resume it with the same train command, {hint}")
        return path
    steps = snapshot_steps(model)
    if not steps:
        raise GanlibError(f"{model} has no generator snapshots; train with "
                          "--save-generator-every N to keep them, or drop --step")
    if step > steps[-1]:
        raise GanlibError(f"--step {step} is past the last snapshot of {model} (step "
                          f"{steps[-1]}); choose a step up to {steps[-1]}, or drop --step for "
                          "the final generator")
    if step < steps[0]:
        raise GanlibError(f"no snapshot of {model} at or before step {step}; the first is "
                          f"at step {steps[0]}")
    return snapshot_path(model, max(s for s in steps if s <= step))


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


def parse_z_set(text):
    """'3=2.5,7=-1' -> {3: 2.5, 7: -1.0}: latent coordinates to fix."""
    assignments = {}
    for part in text.split(","):
        index, value = _index_and_value(part, "--z-set", "3=2.5,7=-1.0")
        assignments[index] = _finite(value, part, "--z-set")
    return assignments


def parse_sweep(text):
    """'3=-3:3:9' -> (3, array of 9 values from -3 to 3): one latent coordinate to sweep."""
    index, value = _index_and_value(text, "--sweep", "3=-3:3:9")
    parts = value.split(":")
    if len(parts) != 3:
        raise GanlibError(f"--sweep takes INDEX=START:STOP:POINTS, e.g. 3=-3:3:9; got '{text}'")
    start, stop = (_finite(part, text, "--sweep") for part in parts[:2])
    try:
        points = int(parts[2])
    except ValueError:
        points = 0
    if not 1 <= points <= 100:
        raise GanlibError(f"--sweep needs between 1 and 100 points, got '{parts[2]}' in '{text}'")
    return index, np.linspace(start, stop, points, dtype=np.float32)


def _index_and_value(part, option, example):
    index, equals, value = part.partition("=")
    if not equals or not index.strip().isdigit():
        raise GanlibError(f"{option} takes INDEX=VALUE with a latent coordinate index, e.g. "
                          f"{example}; got '{part}'")
    return int(index), value


def _finite(text, part, option):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GanlibError(f"{option}: '{text}' in '{part}' is not a finite number")
    return value


def check_latent_indices(indices, latent_dim, option):
    """Refuse a latent coordinate the generator does not have."""
    for index in indices:
        if index >= latent_dim:
            raise GanlibError(f"{option}: coordinate {index} does not exist; this generator's "
                              f"latent vector has {latent_dim} (indices 0..{latent_dim - 1})")


def edit_latent(noise, z_set=None, sweep=None):
    """Fix coordinates of z (`z_set`), then repeat the batch once per sweep value.

    With a sweep, row r of the result is the whole batch with z[index] = values[r], so a
    grid with one column per latent vector shows what that one coordinate does.
    """
    noise = noise.copy()
    for index, value in (z_set or {}).items():
        noise[:, index] = value
    if sweep is None:
        return noise
    index, values = sweep
    rows = np.repeat(noise[None], len(values), axis=0)
    rows[:, :, index] = values[:, None]
    return rows.reshape(-1, noise.shape[1])


def slerp(start, end, fraction):
    """Spherical interpolation between two latent vectors: the path stays where Gaussian
    noise lives (a straight line between two such vectors passes through shorter ones)."""
    cosine = np.sum(start * end, -1, keepdims=True) / (
        np.linalg.norm(start, axis=-1, keepdims=True) * np.linalg.norm(end, axis=-1,
                                                                       keepdims=True))
    angle = np.arccos(np.clip(cosine, -1, 1))
    if np.all(np.sin(angle) < 1e-6):
        return (1 - fraction) * start + fraction * end
    return (np.sin((1 - fraction) * angle) * start + np.sin(fraction * angle) * end) / np.sin(angle)


def latent_walk(points, frames_between=12):
    """A looping walk through `points` (K, walks, latent): (frames, walks, latent)."""
    path = []
    for index in range(len(points)):
        start, end = points[index], points[(index + 1) % len(points)]
        path += [slerp(start, end, step / frames_between) for step in range(frames_between)]
    return np.stack(path).astype(np.float32)


def generate_images(generator, noise, labels=None, batch_size=256):
    """Run the generator in inference mode; returns float images in [-1, 1]."""
    batches = []
    for start in range(0, len(noise), batch_size):
        inputs = noise[start:start + batch_size]
        if labels is not None:
            inputs = [inputs, labels[start:start + batch_size]]
        batches.append(np.asarray(generator(inputs, training=False)))
    return np.concatenate(batches)


def check_output_path(out, option="--out", kinds=(".png", ".npy", ".gif", ".mp4")):
    """Refuse an output name of a kind we do not write."""
    if os.path.splitext(out)[1].lower() not in kinds:
        meanings = {".png": ".png (a grid)", ".npy": ".npy (an array)",
                    ".gif": ".gif", ".mp4": ".mp4 (one frame per image)"}
        raise GanlibError(f"{option} must end in {' or '.join(meanings[k] for k in kinds)}, "
                          f"got '{out}'")


def save_samples(images, out, columns=8):
    """Write images as a PNG grid, a GIF (one frame each) or a uint8 .npy array."""
    from ganlib import viz
    from ganlib.files import atomic_write, ensure_writable_folder

    check_output_path(out)
    ensure_writable_folder(os.path.dirname(os.path.abspath(out)))
    pixels = to_uint8(images)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if out.lower().endswith(".png"):
        viz.save_png(out, viz.image_grid(pixels, columns), scale=viz.grid_scale(pixels.shape[2]))
    elif out.lower().endswith(".gif"):
        viz.save_image_gif(pixels, out)
    elif out.lower().endswith(".mp4"):
        viz.save_mp4([viz.upscaled(picture, 4) for picture in pixels], out, 2, 0)
    else:
        atomic_write(out, lambda temp_path: np.save(open(temp_path, "wb"), pixels),
                     suffix=".npy")


def dataset_options(card):
    """The `load_dataset` options that give a generator's real images: for the datasets
    made at a chosen size (pokemon, folder), that of the generator, and a folder's path."""
    from ganlib.data import RESIZABLE

    if card.get("dataset") not in RESIZABLE:
        return {}
    height, _, channels = card["image_shape"]
    return dict(image_size=height, channels=channels, data_dir=card.get("data_dir"),
                background=card.get("background") or "white")


def discriminator_path(generator_path):
    """Where the discriminator trained with a generator is kept.

    A run keeps it as discriminator.keras in the run folder (for the final generator and
    its snapshots alike); a shipped VARIANT_DATASET.keras has VARIANT_DATASET.discriminator.keras.
    """
    folder, name = os.path.split(os.path.abspath(generator_path))
    if name == "generator.keras":
        return os.path.join(folder, "discriminator.keras")
    if os.path.basename(folder) == SNAPSHOTS:
        return os.path.join(os.path.dirname(folder), "discriminator.keras")
    return os.path.splitext(generator_path)[0] + ".discriminator.keras"


def load_discriminator(path):
    """Load a discriminator saved by ganlib (its custom layers registered first)."""
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        raise GanlibError(f"no discriminator at {path}; ganlib.train saves discriminator.keras "
                          "in the run folder when a run finishes: pass --model runs/NAME")
    # A discriminator may hold ganlib's own layers; importing them registers them.
    import ganlib.tricks.minibatch_discrimination  # noqa: F401
    import ganlib.tricks.scheduled_dropout  # noqa: F401
    import ganlib.tricks.weight_clipping  # noqa: F401

    return _load_keras_file(path, "retrain the run to write it again")


def _load_keras_file(path, fix):
    """keras.models.load_model, with a damaged or foreign file as one clear line."""
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged or foreign file
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        raise GanlibError(f"cannot load {path}: not a readable Keras model ({reason}); "
                          f"{fix}") from None


def discriminator_scores(discriminator, images, labels, card):
    """D's verdict per image: P(real) for a BCE discriminator, the raw score otherwise."""
    inputs = images if labels is None else [images, labels]
    logits = np.asarray(discriminator(inputs, training=False)).reshape(-1)
    if card.get("knobs", {}).get("loss", "bce") == "bce":
        from ganlib.metrics import probability_real

        return probability_real(logits), "P(real)"
    return logits, "critic score (higher = more real)"


def plot_discriminator(path, discriminator, images, labels, card, seed):
    """Save the discriminator plot: its scores on `images` and on as many real images."""
    from ganlib import viz
    from ganlib.data import load_dataset, to_unit_range

    real = load_dataset(card.get("dataset", "mnist"), "train", card.get("classes"),
                        verbose=False, **dataset_options(card))
    pick = np.random.default_rng(seed).choice(len(real), len(images),
                                              replace=len(images) > len(real))
    real_labels = real.labels[pick].reshape(-1, 1).astype(np.int32) if labels is not None else None
    fake_scores, score_name = discriminator_scores(discriminator, images, labels, card)
    real_scores, _ = discriminator_scores(discriminator, to_unit_range(real.images[pick]),
                                          real_labels, card)
    pixels = to_uint8(images)
    viz.save_discriminator_plot(path, pixels[..., 0] if pixels.shape[-1] == 1 else pixels,
                                fake_scores, real_scores, score_name)


def check_walk(points, out, sweep):
    """Refuse a latent walk that cannot be drawn."""
    if not 2 <= points <= 100:
        raise GanlibError(f"--interpolate needs between 2 and 100 points, got {points}")
    if os.path.splitext(out)[1].lower() not in (".mp4", ".gif"):
        raise GanlibError(f"a latent walk is a video: --out must end in .mp4 or .gif, got "
                          f"'{out}'")
    if sweep is not None:
        raise GanlibError("--interpolate and --sweep each make their own picture; use one")


def write_walk(generator, card, args, walks, z_set, out, frames_between=12):
    """Render `walks` latent walks through --interpolate random points as a video."""
    from ganlib import viz
    from ganlib.files import ensure_writable_folder

    ensure_writable_folder(os.path.dirname(os.path.abspath(out)))
    points = latent_noise(args.interpolate * walks, card["latent_dim"], args.seed, args.mean,
                          args.std).reshape(args.interpolate, walks, -1)
    path = latent_walk(points, frames_between)
    labels = sample_labels(card, walks, args.label)
    columns = math.ceil(math.sqrt(walks))
    pictures = []
    for noise in path:
        pixels = to_uint8(generate_images(generator, edit_latent(noise, z_set), labels))
        pictures.append(viz.image_grid(pixels[..., 0] if pixels.shape[-1] == 1 else pixels,
                                       columns))
    pictures = [viz.upscaled(picture, 2) for picture in pictures]
    if out.lower().endswith(".gif"):
        viz.save_image_gif(np.stack(pictures), out, scale=1, seconds_per_frame=1 / 12)
    else:
        viz.save_mp4(pictures, out, frames_per_second=12, hold_last_seconds=0)


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", help=f"one of: {', '.join(VARIANTS)} (any case)")
    parser.add_argument("--dataset", default="mnist", help="which shipped model (default mnist)")
    parser.add_argument("--model", help="a generator .keras file, or a run folder (its final "
                                        "generator) instead of the shipped one")
    parser.add_argument("--step", type=int, help="with --model runs/NAME: the generator "
                                                 "snapshot at (or nearest before) this step")
    parser.add_argument("--num", type=int, help="how many images (default 64; with --sweep, "
                                                "how many latent vectors, default 8; with "
                                                "--interpolate, how many walks, default 16)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--label", type=int, help="class to draw (conditional variants)")
    parser.add_argument("--mean", type=float, default=0.0, help="mean of the noise")
    parser.add_argument("--std", type=float, default=1.0, help="standard deviation of the noise")
    parser.add_argument("--z-set", help="fix coordinates of every latent vector, e.g. "
                                        "3=2.5,7=-1.0")
    parser.add_argument("--sweep", help="INDEX=START:STOP:POINTS, e.g. 3=-3:3:9: one row per "
                                        "value of that latent coordinate")
    parser.add_argument("--interpolate", type=int, metavar="K",
                        help="a smooth latent walk through K random points, looping, as an "
                             ".mp4 or .gif (--num walks side by side, default 16)")
    parser.add_argument("--discriminator-plot", metavar="PNG",
                        help="also plot the discriminator's score on each image (and on real "
                             "ones) into this .png; needs a run's discriminator.keras")
    parser.add_argument("--out", help="output .png grid, .gif or .mp4 (one frame per image), "
                                      "or .npy array (default VARIANT_samples.png, or "
                                      "VARIANT_walk.mp4 with --interpolate); an existing file "
                                      "of that name is replaced")
    return parser.parse_args(argv)


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    args = parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    variant = get_variant(args.variant)
    num = args.num if args.num is not None else (8 if args.sweep else
                                                 16 if args.interpolate else 64)
    if not 1 <= num <= 100_000:
        raise GanlibError(f"--num must be between 1 and 100000, got {num}")
    check_seed(args.seed)
    if not (math.isfinite(args.std) and args.std >= 0):
        raise GanlibError(f"--std must be a number of at least 0, got {args.std}")
    if not math.isfinite(args.mean):
        raise GanlibError(f"--mean must be a finite number, got {args.mean}")
    z_set = parse_z_set(args.z_set) if args.z_set is not None else None
    sweep = parse_sweep(args.sweep) if args.sweep is not None else None
    path = model_path(args.model, args.step) or shipped_model_path(variant.name, args.dataset)
    if not args.model and not os.path.isfile(path):
        raise GanlibError(
            f"no shipped {variant.name} generator for {args.dataset} ({path}); train one "
            f"with `python -m ganlib.train {variant.name} --dataset {args.dataset} --out "
            f"runs/{variant.name}` and pass --model runs/{variant.name}")
    out = args.out or f"{variant.name}_{'walk.mp4' if args.interpolate else 'samples.png'}"
    check_output_path(out)  # before loading the model: fail fast
    if args.interpolate is not None:
        check_walk(args.interpolate, out, sweep)
    if args.discriminator_plot:
        check_output_path(args.discriminator_plot, "--discriminator-plot", (".png",))
    generator, card = load_generator(path)
    check_latent_indices(list(z_set or {}) + ([sweep[0]] if sweep else []),
                         card["latent_dim"], "--z-set/--sweep")
    noise = edit_latent(latent_noise(num, card["latent_dim"], args.seed, args.mean,
                                     args.std), z_set, sweep)
    labels = sample_labels(card, len(noise), args.label)
    if sweep is not None and labels is not None:
        labels = np.tile(sample_labels(card, num, args.label), (len(sweep[1]), 1))
    discriminator = (load_discriminator(discriminator_path(path))
                     if args.discriminator_plot else None)
    if args.interpolate is not None:
        write_walk(generator, card, args, num, z_set, out)
        print(f"wrote a latent walk through {args.interpolate} points to "
              f"{os.path.abspath(out)}")
        return 0
    images = generate_images(generator, noise, labels)
    if sweep is not None:
        columns = num
    elif labels is not None and args.label is None:
        columns = len(card["classes"])
    else:
        columns = 8
    save_samples(images, out, columns)
    if discriminator is not None:
        plot_discriminator(args.discriminator_plot, discriminator, images, labels, card,
                           args.seed)
    print(f"wrote {len(images)} {variant.name} samples to {os.path.abspath(out)}")
    if args.discriminator_plot:
        print(f"wrote the discriminator's scores to {os.path.abspath(args.discriminator_plot)}")
    return 0


if __name__ == "__main__":
    cli.run(main)
