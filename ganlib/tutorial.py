"""What the notebooks call: figures, tables and comparisons (the modes are in `modes.py`).

Importing this module first also starts TensorFlow quietly, so a notebook's output shows
what the notebook does, not TensorFlow's start-up log.
"""

import os

import numpy as np

from ganlib.quiet import import_tensorflow_quietly
from ganlib.sample import generate_images, latent_noise, sample_labels

QUICK_EVALUATION_SAMPLES = 250  # quick mode (the tests): a smaller evaluation, same code

import_tensorflow_quietly()  # the notebooks import this module first


def show_real_images(data, count=64, columns=16, seed=0):
    """A figure of `count` random real images from a Dataset."""
    import matplotlib.pyplot as plt

    from ganlib.viz import image_grid

    picks = np.random.default_rng(seed).choice(len(data), count, replace=False)
    figure, axis = plt.subplots(figsize=(columns * 0.6, (count // columns) * 0.6 + 0.4))
    axis.imshow(image_grid(data.images[picks], columns), cmap="gray")
    axis.set_title(f"{count} real images from {data.name}")
    axis.axis("off")
    return figure


def image_source(folder, mode, stand_in_count=128):
    """Where notebook 08's images come from, as `train_or_load` keywords.

    Your `folder` (trained with the shipped Pokemon recipe); else the Pokemon sprites; in
    quick mode (the tests, which download nothing) `stand_in_count` samples of the shipped
    Pokemon generator, written as PNG files to a temporary folder, stand in for them.
    """
    import tempfile

    if folder:
        data_dir = os.path.abspath(os.path.expanduser(folder))
        # One run folder per picture folder, so a second FOLDER starts its own run.
        name = os.path.basename(data_dir.rstrip(os.sep)) or "folder"
        return {"dataset": "folder", "recipe": "pokemon", "data_dir": data_dir,
                "folder": f"dcgan-{name}-{mode}"}
    if mode != "quick":
        return {"dataset": "pokemon"}
    from ganlib.data import to_uint8
    from ganlib.sample import load_generator, shipped_model_path
    from ganlib.viz import save_png

    generator, card = load_generator(shipped_model_path("dcgan", "pokemon"))
    images = to_uint8(generate_images(generator, latent_noise(stand_in_count,
                                                              card["latent_dim"], 0)))
    stand_in = tempfile.mkdtemp(prefix="ganlib-stand-in-")
    for index, image in enumerate(images):
        save_png(os.path.join(stand_in, f"sample_{index:03d}.png"), image)
    return {"dataset": "folder", "recipe": "pokemon", "data_dir": stand_in}


def class_counts(data):
    """{class name: number of images} of a Dataset."""
    counts = np.bincount(data.labels, minlength=len(data.class_names))
    return {str(name): int(count) for name, count in zip(data.class_names, counts)}


def plot_class_balance(data):
    """A bar chart of the images per class."""
    import matplotlib.pyplot as plt

    counts = class_counts(data)
    figure, axis = plt.subplots(figsize=(7, 2.5))
    axis.bar(list(counts), list(counts.values()), color="tab:blue")
    axis.set_ylabel("images")
    axis.set_title(f"class balance of {data.name} ({len(data):,} images)")
    return figure


def plot_architecture(model):
    """A block diagram of a Keras functional model: one box per layer, arrows for the flow."""
    import matplotlib.pyplot as plt

    layers = model.layers
    depth = {}  # layer name -> row; inputs of a join sit side by side in the rows above
    for layer in layers:
        parents = [node.operation.name for node in _inbound_layers(layer)]
        depth[layer.name] = 1 + max((depth[p] for p in parents if p in depth), default=-1)
    rows = {}
    for layer in layers:
        rows.setdefault(depth[layer.name], []).append(layer)
    height = len(rows)
    figure, axis = plt.subplots(figsize=(6.5, 0.55 * height + 0.6))
    positions = {}
    for row, members in rows.items():
        for i, layer in enumerate(members):
            x = (i + 1) / (len(members) + 1)
            y = height - row
            positions[layer.name] = (x, y)
            shape = tuple(layer.output.shape[1:])
            colour = {"InputLayer": "#d9ead3", "Dense": "#cfe2f3", "Conv2D": "#fce5cd",
                      "Conv2DTranspose": "#fce5cd"}.get(type(layer).__name__, "#eeeeee")
            kind = type(layer).__name__
            label = f"{layer.name} {shape}" if kind == "InputLayer" else f"{kind}  {shape}"
            axis.text(x, y, label, ha="center", va="center",
                      fontsize=7.5, bbox=dict(boxstyle="round", facecolor=colour))
    for layer in layers:
        for parent in _inbound_layers(layer):
            if parent.operation.name in positions:
                axis.annotate("", xy=positions[layer.name],
                              xytext=positions[parent.operation.name],
                              arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=9,
                                              shrinkB=9))
    axis.set_xlim(0, 1)
    axis.set_ylim(0.4, height + 0.6)
    axis.axis("off")
    axis.set_title(f"{model.name}: {model.count_params():,} parameters", fontsize=10)
    return figure


def _inbound_layers(layer):
    """The layers whose outputs feed `layer` (through Keras's symbolic history)."""
    sources = []
    for node in layer._inbound_nodes:
        for tensor in node.input_tensors:
            history = getattr(tensor, "_keras_history", None)
            if history is not None and history.operation is not layer:
                sources.append(history)
    return sources


def plot_training(history, probabilities=True):
    """Losses and the discriminator's mean outputs over training, from a run's history.

    `probabilities`: D outputs probabilities (BCE); False for a critic's raw scores.
    """
    import matplotlib.pyplot as plt

    # "step" records are means over the steps since the previous record (callbacks.HistoryLog);
    # epoch means would smooth away the oscillations. Old runs without them: epoch means.
    records = [record for record in history if record.get("kind") == "step"]
    window = "each window of steps"
    if not records:
        records, window = [r for r in history if r.get("kind") == "epoch"], "each epoch"
    records = sorted(records, key=lambda record: record["step"])
    seen = [record["images_seen"] / 1000 for record in records]
    figure, (losses, scores) = plt.subplots(1, 2, figsize=(11, 3.4))
    losses.plot(seen, [r["d_loss"] for r in records], label="D loss", linewidth=0.8)
    losses.plot(seen, [r["g_loss"] for r in records], label="G loss", linewidth=0.8)
    losses.set_title(f"losses (mean over {window})")
    scores.plot(seen, [r["d_real"] for r in records], label="D(x): real")
    scores.plot(seen, [r["d_fake"] for r in records], label="D(G(z)): generated")
    if probabilities:
        scores.axhline(0.5, color="0.6", linestyle=":", label="D cannot tell (0.5)")
        scores.set_ylim(0, 1)
    scores.set_title("mean discriminator output" if probabilities else "mean critic score")
    for axis in (losses, scores):
        axis.set_xlabel("thousands of images seen")
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_critic_estimate(history):
    """A Wasserstein run's critic estimate D(x) - D(G(z)) per epoch, beside the FCD of 500
    samples where the run measured it (`--patience`); returns the figure."""
    import matplotlib.pyplot as plt

    epochs = sorted((r for r in history if r.get("kind") == "epoch"),
                    key=lambda record: record["step"])
    seen = [record["images_seen"] / 1000 for record in epochs]
    figure, axis = plt.subplots(figsize=(7, 3.4))
    axis.plot(seen, [r["d_real"] - r["d_fake"] for r in epochs], color="tab:red",
              label="critic estimate of W (epoch mean)")
    axis.set_xlabel("thousands of images seen")
    axis.set_ylabel("D(x) - D(G(z))", color="tab:red")
    measured = [(x, r["fcd_500"]) for x, r in zip(seen, epochs) if "fcd_500" in r]
    if measured:
        quality = axis.twinx()
        quality.plot(*zip(*measured), color="tab:blue", marker=".", label="FCD of 500 samples")
        quality.set_yscale("log")
        quality.set_ylabel("FCD (log scale, lower is better)", color="tab:blue")
    axis.set_title("the critic's estimate" + (" against sample quality" if measured else ""))
    figure.tight_layout()
    return figure


def discriminator_scores(gan, data, count=1000, seed=0):
    """D's probabilities 'real' for `count` real images and `count` generated ones."""
    from ganlib.data import to_unit_range
    from ganlib.metrics import probability_real

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(data), min(count, len(data)), replace=False)
    real = to_unit_range(data.images[picks])
    labels = data.labels[picks][:, None].astype(np.int32) if gan.conditional else None
    noise = latent_noise(len(picks), gan.latent_dim, seed)
    fake = np.asarray(gan.generate(noise, labels, training=False))
    real_logits = np.asarray(gan.discriminate(real, labels, training=False))
    fake_logits = np.asarray(gan.discriminate(fake, labels, training=False))
    return probability_real(real_logits[:, 0]), probability_real(fake_logits[:, 0])


def plot_discriminator_scores(gan, data, count=1000):
    """A histogram of D(x) on real images against D(G(z)) on generated ones."""
    import matplotlib.pyplot as plt

    if gan.discriminator is None:
        print("this shipped generator came without its discriminator; train in short or "
              "full mode to see D's view")
        return None
    real, fake = discriminator_scores(gan, data, count)
    figure, axis = plt.subplots(figsize=(6, 3))
    bins = np.linspace(0, 1, 41)
    axis.hist(real, bins, alpha=0.6, label=f"real (mean {real.mean():.2f})")
    axis.hist(fake, bins, alpha=0.6, label=f"generated (mean {fake.mean():.2f})")
    axis.set_xlabel("D's probability 'real'")
    axis.set_ylabel("images")
    accuracy = ((real > 0.5).mean() + (fake < 0.5).mean()) / 2
    axis.set_title(f"discriminator accuracy {accuracy:.1%} (50% = fooled)")
    axis.legend()
    return figure


def sample_grid(generator, card, count=64, seed=0, columns=None):
    """A figure of `count` samples from a generator (one column per class if conditional)."""
    import matplotlib.pyplot as plt

    from ganlib.viz import image_grid

    labels = sample_labels(card, count)
    columns = columns or (len(card["classes"]) if labels is not None else 8)
    images = generate_images(generator, latent_noise(count, card["latent_dim"], seed), labels)
    figure, axis = plt.subplots(figsize=(columns * 0.55, (count // columns) * 0.55 + 0.4))
    axis.imshow(image_grid(images, columns), cmap="gray")
    axis.set_title(f"{count} samples, latent seed {seed}")
    axis.axis("off")
    return figure


def conditional_grid(generator, card, per_class=10, seed=0):
    """A figure with one row per class: `per_class` samples of each, same noise per column."""
    import matplotlib.pyplot as plt

    from ganlib.viz import image_grid

    classes = card["classes"]
    noise = np.tile(latent_noise(per_class, card["latent_dim"], seed), (len(classes), 1))
    labels = np.repeat(np.array(classes, np.int32), per_class)[:, None]
    images = generate_images(generator, noise, labels)
    figure, axis = plt.subplots(figsize=(per_class * 0.6, len(classes) * 0.6 + 0.4))
    axis.imshow(image_grid(images, per_class), cmap="gray")
    axis.set_yticks([(28 + 2) * i + 16 for i in range(len(classes))],
                    [card["class_names"][k] for k in classes])
    axis.set_xticks([])
    axis.set_title("one row per class; each column shares one latent vector")
    return figure


def image_strip(images, title):
    """A figure of images in one row (an interpolation or a morph)."""
    import matplotlib.pyplot as plt

    from ganlib.viz import image_grid

    figure, axis = plt.subplots(figsize=(len(images) * 0.7, 1.1))
    axis.imshow(image_grid(images, len(images)), cmap="gray")
    axis.set_title(title, fontsize=9)
    axis.axis("off")
    return figure


def show_gif(path, max_frames=16):
    """Display a training GIF in the notebook, thinned to `max_frames` to keep it light."""
    from IPython.display import Image

    from ganlib.viz import thinned_gif

    return Image(data=thinned_gif(path, max_frames, seconds_per_frame=0.3), format="gif")


def show_progress_video(result):
    """The run's training film (the MP4 beside its GIF), embedded: a fifth of the GIF's size."""
    from IPython.display import Video

    return Video(os.path.splitext(result.progress_gif)[0] + ".mp4", embed=True,
                 html_attributes="controls loop", width=512)


def quality_row(name, generator, card, num=1000, seed=0):
    """One table row of a generator's measured quality (ganlib.evaluate, N = `num`)."""
    from ganlib.evaluate import evaluate_generator

    metrics = evaluate_generator(generator, card, num, seed)
    row = {"model": name, "images seen": card.get("images_seen"),
           "FCD / floor": metrics["fcd_over_floor"], "precision": metrics.get("precision"),
           "recall": metrics.get("recall"), "classes covered": metrics.get("classes_covered")}
    if "conditional_accuracy" in metrics:
        row["conditional accuracy"] = metrics["conditional_accuracy"]
    return row


def compare_with_shipped(result, variant, mode, dataset="mnist", num=1000, seed=0):
    """The run's quality beside the shipped generator's; returns (figure, table)."""
    import matplotlib.pyplot as plt

    from ganlib.modes import load_shipped
    from ganlib.viz import image_grid

    if mode == "quick":  # the tests check the path, not the numbers
        num = min(num, QUICK_EVALUATION_SAMPLES)
    shipped = result if mode == "explore" else load_shipped(variant, dataset)
    models = [("shipped", shipped)] if mode == "explore" else [(f"{mode} run", result),
                                                                ("shipped", shipped)]
    figure, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 5.3), squeeze=False)
    rows = []
    for axis, (name, run) in zip(axes[0], models):
        rows.append(quality_row(name, run.gan.generator, run.card, num, seed))
        labels = sample_labels(run.card, 64)
        columns = len(run.card["classes"]) if labels is not None else 8
        images = generate_images(run.gan.generator,
                                 latent_noise(64, run.card["latent_dim"], seed), labels)
        axis.imshow(image_grid(images, columns), cmap="gray")
        axis.set_title(f"{name}: FCD {rows[-1]['FCD / floor']:.1f}x its floor")
        axis.axis("off")
    figure.tight_layout()
    return figure, table(rows)


def class_shares(generator, card, count=1000, seed=0):
    """{class name: share of `count` samples} as the dataset's classifier reads them."""
    from ganlib.classifier import features_and_probabilities, load_classifier

    images = generate_images(generator, latent_noise(count, card["latent_dim"], seed))
    _, probabilities = features_and_probabilities(load_classifier(card["dataset"]), images)
    counts = np.bincount(probabilities.argmax(axis=1), minlength=len(card["class_names"]))
    return {str(name): float(c / count) for name, c in zip(card["class_names"], counts)}


def plot_class_shares(generator, card, count=1000):
    """Bar chart of the classes among generated samples; a uniform share is the dashed line."""
    import matplotlib.pyplot as plt

    shares = class_shares(generator, card, count)
    names = list(shares)
    most = max(names, key=shares.get)
    least = min(names, key=shares.get)
    figure, axis = plt.subplots(figsize=(7, 2.6))
    axis.bar(names, [100 * shares[name] for name in names], color="tab:orange")
    axis.axhline(100 / len(names), color="0.4", linestyle="--", label="the data's share")
    axis.set_ylabel("% of samples")
    axis.set_title(f"{count:,} samples: most often {most} ({shares[most]:.1%}), "
                   f"least often {least} ({shares[least]:.1%})")
    axis.legend(fontsize=8)
    return figure


def plot_dropout_schedule(config):
    """AD-GAN's discriminator dropout rate for each epoch of a run."""
    import matplotlib.pyplot as plt

    from ganlib.tricks.scheduled_dropout import dropout_rate_at

    knobs = config.knobs
    epochs = np.arange(config.epochs)
    rates = [dropout_rate_at(e, config.epochs, knobs.dropout_initial, knobs.dropout_final,
                             knobs.dropout_step, knobs.dropout_final_fraction) for e in epochs]
    figure, axis = plt.subplots(figsize=(7, 2.6))
    axis.step(epochs + 1, rates, where="post")
    axis.set_xlabel("epoch")
    axis.set_ylabel("dropout rate")
    axis.set_title("AD-GAN: discriminator dropout per epoch")
    return figure


def compare_runs(results, data, num=1000):
    """Runs side by side (a dict name -> TrainResult): quality, D accuracy, D's margin.

    Returns (figure, rows): the figure overlays D(x) - D(G(z)) over training, the rows
    hold each run's FCD, classifier score and the final discriminator's accuracy.
    """
    import matplotlib.pyplot as plt

    from ganlib.evaluate import evaluate_generator

    figure, axis = plt.subplots(figsize=(7, 3))
    rows = []
    for name, result in results.items():
        records = sorted(result.history, key=lambda record: record["step"])
        axis.plot([r["images_seen"] / 1000 for r in records],
                  [r["d_real"] - r["d_fake"] for r in records], label=name)
        real, fake = discriminator_scores(result.gan, data, num)
        metrics = evaluate_generator(result.gan.generator, result.card, num)
        rows.append({"run": name, "epochs": result.card["epochs"],
                     "D accuracy (end)": float(((real > 0.5).mean() + (fake < 0.5).mean()) / 2),
                     "final G loss": records[-1]["g_loss"] if records else None,
                     "FCD": metrics["fcd"], "FCD / floor": metrics["fcd_over_floor"],
                     "classifier score": metrics["classifier_score"],
                     "classes covered": metrics["classes_covered"]})
    axis.set_xlabel("thousands of images seen")
    axis.set_ylabel("D(x) - D(G(z))")
    axis.set_title("how clearly the discriminator separates real from generated")
    axis.legend()
    figure.tight_layout()
    return figure, rows


def table(rows):
    """Rows of dicts as a Markdown table (rendered by the notebook)."""
    from IPython.display import Markdown

    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column)) for column in columns) + " |")
    return Markdown("\n".join(lines))


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)

