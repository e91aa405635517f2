"""A GAN small enough to train in seconds: 2-D points on a ring of Gaussians.

The real "images" are points (x, y) drawn from `modes` small Gaussians on a circle. The
same `GAN` model, MLP builders and losses as the image variants learn to match them, so
every step of the game is visible as a scatter plot. With few modes and a strong
discriminator it also shows the classic failure: the generator hopping between modes
(mode collapse) instead of covering them all.
"""

import dataclasses

import numpy as np


def ring_of_gaussians(count, modes=8, radius=0.8, std=0.03, seed=0):
    """`count` points (float32, shape (count, 2)) from `modes` Gaussians on a circle."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, count)
    angles = 2 * np.pi * which / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + std * rng.standard_normal((count, 2))).astype(np.float32)


def mode_centres(modes=8, radius=0.8):
    """The centres of the ring's Gaussians, shape (modes, 2)."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def modes_covered(points, modes=8, radius=0.8, std=0.03):
    """How many modes get at least 2% of the points within 3 std of their centre."""
    distances = np.linalg.norm(points[:, None, :] - mode_centres(modes, radius)[None], axis=2)
    nearest, close = distances.argmin(axis=1), distances.min(axis=1) < 3 * std
    counts = np.bincount(nearest[close], minlength=modes)
    return int((counts >= 0.02 * len(points)).sum())


@dataclasses.dataclass
class ToyRun:
    """What `train_toy` returns: the model, snapshots of G's points and the losses."""

    gan: object
    real: np.ndarray
    snapshots: dict       # step -> generated points (the same latent batch every time)
    history: dict         # metric name -> list of per-step values


# The toy's three families: each paper's choices, with the toy's own learning rates (an MLP
# on 2-D points learns in a few thousand steps): RMSProp and clipping at 0.01 for WGAN;
# Adam (0.5, 0.9) and a gradient penalty for WGAN-GP, with the weight 0.1 the WGAN-GP
# authors' own toy code uses ("smaller lambda seems to help for toy tasks"; 10 is for
# images); five critic updates per generator update for both.
TOY_FAMILIES = {
    "gan": {"critic_steps": 1, "learning_rate": 1e-3},
    "wgan": {"critic_steps": 5, "weight_clip": 0.01, "learning_rate": 5e-4},
    "wgan_gp": {"critic_steps": 5, "gradient_penalty": 0.1, "learning_rate": 3e-4},
}


def train_toy(steps=2000, batch_size=128, latent_dim=8, units=64, modes=8,
              generator_loss="non_saturating", snapshot_every=250, learning_rate=None,
              seed=0, verbose=0, d_units=None, d_learning_rate=None, family="gan"):
    """Train a small MLP GAN on the ring; return a `ToyRun`.

    `units` sizes G's two hidden layers and, unless `d_units` is given, D's; a wider D with
    a higher `d_learning_rate` makes the discriminator the stronger player. `family` is
    "gan" (cross-entropy), "wgan" (a clipped critic) or "wgan_gp" (a gradient penalty);
    `learning_rate` defaults to the family's (TOY_FAMILIES).
    """
    import keras
    import tensorflow as tf

    from ganlib.gan import GAN
    from ganlib.losses import BinaryCrossEntropyLoss, WassersteinLoss
    from ganlib.nets import mlp_discriminator, mlp_generator

    if family not in TOY_FAMILIES:
        raise ValueError(f"family must be one of {sorted(TOY_FAMILIES)}, got {family!r}")
    setting = TOY_FAMILIES[family]
    critic_steps = setting["critic_steps"]
    learning_rate = learning_rate or setting["learning_rate"]
    keras.utils.set_random_seed(seed)
    count = steps * batch_size
    real = ring_of_gaussians(count * critic_steps, modes, seed=seed)
    noise = np.random.default_rng(seed + 1).standard_normal(
        (count, critic_steps, latent_dim)).astype(np.float32)
    # The same batch format as the image variants: a fresh real batch and noise draw for
    # every critic update of a step, and labels.
    batches = tf.data.Dataset.from_tensor_slices(
        {"images": real.reshape(count, critic_steps, 2), "noise": noise,
         "labels": np.zeros((count, critic_steps), np.int32)}).batch(batch_size)
    d_units = d_units or units
    critic = mlp_discriminator((2,), units=(d_units, d_units), dropout=0.0,
                               weight_clip=setting.get("weight_clip", 0.0))
    if family == "gan":
        loss = BinaryCrossEntropyLoss(generator_loss)
    else:
        loss = WassersteinLoss(gradient_penalty_weight=setting.get("gradient_penalty", 0.0))
    gan = GAN(mlp_generator((2,), latent_dim, units=(units, units)), critic, latent_dim,
              loss=loss, critic_steps=critic_steps)
    d_rate = d_learning_rate or learning_rate
    if family == "wgan":  # the WGAN paper saw momentum destabilise a clipped critic
        optimizers = [keras.optimizers.RMSprop(rate) for rate in (d_rate, learning_rate)]
    else:
        beta_2 = 0.9 if family == "wgan_gp" else 0.999
        optimizers = [keras.optimizers.Adam(rate, beta_1=0.5, beta_2=beta_2)
                      for rate in (d_rate, learning_rate)]
    gan.compile(d_optimizer=optimizers[0], g_optimizer=optimizers[1])
    fixed_noise = np.random.default_rng(seed + 2).standard_normal((1000, latent_dim)).astype(
        np.float32)
    snapshots, history = {}, {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    running = {name: [] for name in history}

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = batch + 1
            # Keras logs running means since the start; step k's own value is
            # k * mean_k - (k - 1) * mean_(k-1), so the curves keep their oscillations.
            for name in history:
                running[name].append(float(logs[name]))
                before = running[name][-2] if step > 1 else 0.0
                history[name].append(step * running[name][-1] - (step - 1) * before)
            if step % snapshot_every == 0 or step == steps:
                snapshots[step] = np.asarray(gan.generate(fixed_noise))

    snapshots[0] = np.asarray(gan.generate(fixed_noise))
    gan.fit(batches, epochs=1, verbose=verbose, callbacks=[Recorder()], shuffle=False)
    return ToyRun(gan, real[:1000], snapshots, history)


def wasserstein_distance(points, other):
    """The exact Wasserstein-1 (earth mover's) distance between two equal-size point sets.

    With the same number of points on each side, the cheapest transport plan moves each
    point to exactly one other: an assignment problem, solved exactly by scipy.
    """
    from scipy.optimize import linear_sum_assignment

    cost = np.linalg.norm(points[:, None, :] - other[None, :, :], axis=2)
    rows, columns = linear_sum_assignment(cost)
    return float(cost[rows, columns].mean())


def critic_estimates(run, window=50):
    """The critic's running estimate of the distance, mean D(x) - D(G(z)) over `window` steps."""
    gap = np.asarray(run.history["d_real"]) - np.asarray(run.history["d_fake"])
    kernel = np.ones(window) / window
    return np.convolve(gap, kernel, mode="valid"), np.arange(window, len(gap) + 1)


def true_distances(run, count=500):
    """The exact W1 distance from each snapshot's points to fresh real points: {step: W1}."""
    real = ring_of_gaussians(count, seed=12345)
    return {step: wasserstein_distance(points[:count], real)
            for step, points in sorted(run.snapshots.items())}


def plot_snapshots(run, columns=4, modes=8):
    """Real points (grey) and generated points (orange) at each snapshot, as a figure."""
    import matplotlib.pyplot as plt

    steps = sorted(run.snapshots)
    rows = -(-len(steps) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, step in zip(axes.flat, steps):
        points = run.snapshots[step]
        axis.scatter(*run.real.T, s=2, c="0.7")
        axis.scatter(*points.T, s=2, c="tab:orange")
        axis.set_xlim(-1.1, 1.1)
        axis.set_ylim(-1.1, 1.1)
        axis.set_aspect("equal")
        axis.set_title(f"step {step}: {modes_covered(points, modes)}/{modes} modes", fontsize=9)
    figure.tight_layout()
    return figure


def plot_discriminator_field(run, resolution=100):
    """D(x) over the plane after training, with the real and generated points on top."""
    import matplotlib.pyplot as plt

    axis_values = np.linspace(-1.1, 1.1, resolution, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis_values, axis_values), axis=-1).reshape(-1, 2)
    from ganlib.metrics import probability_real

    scores = probability_real(run.gan.discriminate(grid))
    figure, axis = plt.subplots(figsize=(5, 4.3))
    image = axis.imshow(scores.reshape(resolution, resolution), origin="lower",
                        extent=(-1.1, 1.1, -1.1, 1.1), cmap="RdBu", vmin=0, vmax=1)
    figure.colorbar(image, label="D(x): probability 'real'")
    axis.scatter(*run.real.T, s=2, c="k", label="real")
    axis.scatter(*run.snapshots[max(run.snapshots)].T, s=2, c="tab:orange", label="generated")
    axis.legend(loc="upper right", fontsize=8)
    axis.set_title("the discriminator's view of the plane")
    return figure


def plot_history(run):
    """The toy run's losses and D's mean outputs, step by step."""
    import matplotlib.pyplot as plt

    figure, (losses, scores) = plt.subplots(1, 2, figsize=(10, 3))
    losses.plot(run.history["d_loss"], label="D loss")
    losses.plot(run.history["g_loss"], label="G loss")
    scores.plot(run.history["d_real"], label="D(x): real")
    scores.plot(run.history["d_fake"], label="D(G(z)): generated")
    scores.set_ylim(0, 1)
    for axis in (losses, scores):
        axis.set_xlabel("step")
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def saturation(discriminator_steps=300, batch_size=256, latent_dim=8, units=64, seed=0):
    """How the two generator losses respond when D wins: G's gradient norm under each.

    D alone trains for `discriminator_steps` against a frozen, untrained G until it rejects
    G's points confidently. Returns a list of dicts, one per checkpoint of D's training:
    D's mean probability on G's points and the norm of G's gradient under the minimax loss
    log(1 - D(G(z))) and under the non-saturating loss -log D(G(z)).
    """
    import keras
    import tensorflow as tf

    from ganlib.losses import BinaryCrossEntropyLoss
    from ganlib.nets import mlp_discriminator, mlp_generator

    keras.utils.set_random_seed(seed)
    generator = mlp_generator((2,), latent_dim, units=(units, units))
    discriminator = mlp_discriminator((2,), units=(units, units), dropout=0.0)
    optimizer = keras.optimizers.Adam(1e-3, beta_1=0.5)
    rng = np.random.default_rng(seed)
    losses = {kind: BinaryCrossEntropyLoss(kind) for kind in ("minimax", "non_saturating")}

    def measure(step):
        noise = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
        row = {"discriminator_steps": step}
        for kind, loss in losses.items():
            with tf.GradientTape() as tape:
                fake_logits = discriminator(generator(noise), training=False)
                g_loss = loss.generator_loss(fake_logits)
            gradients = tape.gradient(g_loss, generator.trainable_variables)
            row[f"{kind}_gradient_norm"] = float(tf.linalg.global_norm(gradients))
        row["d_on_generated"] = float(tf.reduce_mean(tf.sigmoid(fake_logits)))
        return row

    rows = [measure(0)]
    bce = BinaryCrossEntropyLoss()
    for step in range(1, discriminator_steps + 1):
        real = ring_of_gaussians(batch_size, seed=seed + step)
        noise = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
        fake = generator(noise)
        with tf.GradientTape() as tape:
            d_loss = bce.discriminator_loss(discriminator(real, training=True),
                                            discriminator(fake, training=True))
        optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                      discriminator.trainable_variables))
        if step % (discriminator_steps // 6) == 0:
            rows.append(measure(step))
    return rows


def plot_critics(runs):
    """For {family: ToyRun} of Wasserstein critics: the exact W1 to the data, and each
    critic's own estimate of it, over training (one panel per critic: their scales differ)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 1 + len(runs), figsize=(4.2 * (1 + len(runs)), 3.3))
    for family, run in runs.items():
        distances = true_distances(run)
        axes[0].plot(list(distances), list(distances.values()), marker="o", label=family)
    axes[0].set_title("exact W1: generated points to the data")
    axes[0].legend(fontsize=8)
    for axis, (family, run) in zip(axes[1:], runs.items()):
        estimate, steps = critic_estimates(run)
        axis.plot(steps, estimate, color="tab:red")
        axis.axhline(0, color="0.7", linewidth=0.8)
        axis.set_title(f"{family} critic: mean D(x) - D(G(z))")
    for axis in axes:
        axis.set_xlabel("generator step")
    figure.tight_layout()
    return figure


def plot_critic_weights(runs):
    """Histograms of every critic weight, one panel per run ({family: ToyRun})."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 3), squeeze=False)
    for axis, (family, run) in zip(axes[0], runs.items()):
        weights = np.concatenate([np.ravel(variable.numpy())
                                  for variable in run.gan.discriminator.trainable_variables])
        clip = TOY_FAMILIES.get(family, {}).get("weight_clip")
        axis.hist(weights, bins=80, color="tab:blue")
        if clip:
            at_bound = np.mean(np.abs(weights) >= 0.99 * clip)
            axis.set_title(f"{family}: {at_bound:.0%} of weights at the bounds +-{clip}",
                           fontsize=9)
        else:
            axis.set_title(f"{family}: no bound, |w| up to {np.abs(weights).max():.2f}",
                           fontsize=9)
        axis.locator_params(axis="x", nbins=5)
        axis.set_xlabel("critic weight")
    figure.tight_layout()
    return figure
