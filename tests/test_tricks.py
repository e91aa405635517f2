"""Each trick does, inside the compiled training step, what it says.

The steps run through `fit` (a compiled `tf.function`), on real MNIST digits. With one
batch per epoch, Keras resets the metrics every step, so each epoch's logs are exactly
that step's values.
"""

import keras
import numpy as np
import pytest

from ganlib.data import take_subset
from ganlib.gan import BOOST_DRAW
from ganlib.tricks.minibatch_discrimination import MinibatchDiscrimination
from ganlib.tricks.update_policies import BoostUpdate

from conftest import batches, compiled_gan, small_knobs


def _weights(network):
    return [np.asarray(v).copy() for v in network.trainable_variables]


def _moved(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


class StepRecorder(keras.callbacks.Callback):
    """After every step: the logs, and whether D's and G's weights moved in it."""

    def __init__(self):
        super().__init__()
        self.logs, self.d_moved, self.g_moved, self.d_learning_rates = [], [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.d_before = _weights(self.model.discriminator)
        self.g_before = _weights(self.model.generator)

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))
        self.d_moved.append(_moved(self.d_before, _weights(self.model.discriminator)))
        self.g_moved.append(_moved(self.g_before, _weights(self.model.generator)))
        self.d_learning_rates.append(float(self.model.d_optimizer.learning_rate))


def _run_steps(name, data, knobs, steps, batch_size=32, seed=0):
    """Train `steps` one-step epochs with batches of `batch_size`; return (gan, recorder)."""
    gan = compiled_gan(name, data, knobs, seed=seed)
    data = take_subset(data, batch_size * gan.critic_steps)  # exactly one step per epoch
    recorder = StepRecorder()
    gan.fit(batches(gan, data, batch_size, steps), epochs=steps, steps_per_epoch=1,
            callbacks=[recorder], verbose=0)
    return gan, recorder


def test_weight_clipping_keeps_every_critic_weight_within_the_bound(mnist):
    gan, _ = _run_steps("wgan", mnist, small_knobs(), 3, batch_size=64)
    clip = 0.01
    critic = [np.asarray(v) for v in gan.discriminator.trainable_variables]
    assert all(np.abs(w).max() <= clip + 1e-7 for w in critic)
    # The initial kernels were far outside the bound, so clipping really happened ...
    assert sum(np.isclose(np.abs(w), clip).sum() for w in critic) > 100
    # ... and only in the critic: the generator is not constrained.
    assert max(np.abs(np.asarray(w)).max() for w in gan.generator.trainable_variables) > clip
    assert isinstance(gan.d_optimizer, keras.optimizers.RMSprop)


def test_r1_penalises_d_in_the_compiled_step_and_changes_its_update(mnist):
    plain, plain_steps = _run_steps("dcgan", mnist, small_knobs(), 1, batch_size=16)
    penalised, steps = _run_steps("dcgan", mnist, small_knobs(r1=10.0), 1, batch_size=16)
    assert "gradient_penalty" not in plain_steps.logs[0]
    penalty = steps.logs[0]["gradient_penalty"]
    assert penalty > 0 and np.isfinite(penalty)
    # Same seed, same batch: the penalty is the only difference, and D's loss includes it.
    assert steps.logs[0]["d_loss"] == pytest.approx(plain_steps.logs[0]["d_loss"] + penalty,
                                                    rel=1e-4)
    assert _moved(_weights(plain.discriminator), _weights(penalised.discriminator))


def test_a_sleeping_discriminator_does_not_move(mnist):
    # Period 4, asleep 2: D rests in the last two steps of every four.
    knobs = small_knobs(sleep_discriminator=2, sleep_period=4)
    gan, recorder = _run_steps("dcgan", mnist, knobs, 8)
    assert recorder.d_moved == [True, True, False, False] * 2
    assert all(recorder.g_moved)
    assert [log["d_updated"] for log in recorder.logs] == [1.0, 1.0, 0.0, 0.0] * 2
    # D rests through a learning rate of 0, restored when it wakes up.
    assert recorder.d_learning_rates == pytest.approx([2e-4, 2e-4, 0.0, 0.0] * 2)


def test_monitored_policy_updates_d_only_while_its_loss_is_above_r_times_gs(mnist):
    for ratio, d_updates in ((1e6, False), (1e-6, True)):
        knobs = small_knobs(d_dropout=0.0, policy="monitored", monitor_ratio=ratio)
        _, recorder = _run_steps("dcgan", mnist, knobs, 3)
        assert recorder.d_moved == [d_updates] * 3
        assert all(recorder.g_moved)
        for log in recorder.logs:
            assert log["d_updated"] == float(d_updates)
            assert (log["d_loss"] > ratio * log["g_loss"]) == d_updates


def test_boost_spells_follow_the_drawn_k(mnist):
    g_only, d_only, swap, spell, steps = 0.1, 0.25, 0.8, 3, 40
    knobs = small_knobs(policy="boost", boost_g_only=g_only, boost_d_only=d_only,
                        boost_swap=swap, boost_spell=spell)
    gan, recorder = _run_steps("dcgan", mnist, knobs, steps)
    # Replay the rule in plain Python on the same stateless draws.
    ks = [float(BoostUpdate.draw(gan._seed(step, BOOST_DRAW))) for step in range(steps)]
    kind, left, expected = None, 0, []
    for k in ks:
        starts = left == 0
        if starts:
            kind, left = ("g_only", spell) if k < g_only else (
                ("d_only", spell) if k < d_only else (None, 0))
        expected.append((kind != "d_only", kind != "g_only", starts and k >= swap))
        left = max(left - 1, 0)
        kind = kind if left else None
    observed = list(zip(recorder.g_moved, recorder.d_moved,
                        [log["d_labels_swapped"] == 1.0 for log in recorder.logs]))
    assert observed == expected
    kinds = {(g, d) for g, d, _ in expected}
    assert (True, False) in kinds and (False, True) in kinds  # both spells happened
    assert any(s for _, _, s in expected)  # and swapped-label steps


def test_noisy_labels_are_flipped_at_rate_p(mnist):
    # Per image: 40 steps x 64 targets.
    _, recorder = _run_steps("dcgan", mnist, small_knobs(label_flip=0.3,
                                                         label_flip_per_sample=True), 40)
    shares = [log["d_labels_swapped"] for log in recorder.logs]
    assert np.mean(shares) == pytest.approx(0.3, abs=0.03)
    assert len(set(shares)) > 10  # a new draw per image, per step
    # Per batch: each step swaps all of its targets or none.
    _, recorder = _run_steps("dcgan", mnist, small_knobs(label_flip=0.3), 60)
    shares = [log["d_labels_swapped"] for log in recorder.logs]
    assert set(shares) == {0.0, 1.0}
    assert np.mean(shares) == pytest.approx(0.3, abs=0.15)


def test_minibatch_discrimination_scores_how_alike_the_batch_is(tmp_path):
    layer = MinibatchDiscrimination(kernels=7, kernel_dim=3)
    rng = np.random.default_rng(0)
    varied = 10 * rng.standard_normal((6, 20)).astype(np.float32)
    identical = np.repeat(varied[:1], 6, axis=0)
    out_identical = np.asarray(layer(identical))
    out_varied = np.asarray(layer(varied))
    assert out_identical.shape == (6, 27)
    np.testing.assert_array_equal(out_identical[:, :20], identical)  # features pass through
    # exp(-0) = 1 for each of the 5 other images, for every kernel.
    np.testing.assert_allclose(out_identical[:, 20:], 5.0, rtol=1e-6)
    assert out_varied[:, 20:].mean() < 1.0
    # The same image gets another verdict in another batch: D sees the batch.
    assert not np.allclose(out_varied[0, 20:], out_identical[0, 20:])

    # A discriminator with the layer saves and loads with Keras's safe mode on.
    from ganlib import nets

    discriminator = nets.conv_discriminator((28, 28, 1), filters=0.25, minibatch=(7, 3))
    path = tmp_path / "d.keras"
    discriminator.save(path)
    loaded = keras.models.load_model(path)
    images = rng.uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(discriminator(images)),
                               rtol=1e-5, atol=1e-6)


def test_separate_learning_rates_and_the_variants_optimizers():
    from ganlib.knobs import Knobs
    from ganlib.train import TrainConfig

    config = TrainConfig("dcgan", out="x", d_learning_rate=4e-4).resolved()
    assert (config.d_learning_rate, config.g_learning_rate) == (4e-4, 2e-4)
    settings = config.optimizer_settings()
    assert float(settings.make("d").learning_rate) == pytest.approx(4e-4)
    assert float(settings.make("g").learning_rate) == pytest.approx(2e-4)
    wgan = TrainConfig("wgan", out="x", knobs=Knobs()).resolved()
    assert (wgan.optimizer, wgan.learning_rate) == ("rmsprop", 5e-5)
    assert isinstance(wgan.optimizer_settings().make("g"), keras.optimizers.RMSprop)
    gp = TrainConfig("wgan_gp", out="x").resolved()
    assert (gp.optimizer, gp.learning_rate, gp.beta_1, gp.beta_2) == ("adam", 1e-4, 0.5, 0.9)
    assert (gp.knobs.critic_steps, gp.knobs.gradient_penalty, gp.knobs.d_dropout) == (5, 10, 0)


def test_early_stopping_keeps_the_best_generator(mnist, tmp_path):
    """A scripted quality sequence: best at the second evaluation, stop two later."""
    from ganlib.tricks.early_stopping import EarlyStopping

    scores = iter([5.0, 3.0, 4.0, 3.5, 1.0])

    class Scripted:
        name = "scripted"

        def __call__(self, gan, logs):
            return next(scores)

    data = take_subset(mnist, 64)
    gan = compiled_gan("dcgan", data)
    snapshots = []

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(_weights(self.model.generator))

    stopper = EarlyStopping(2, Scripted(), str(tmp_path / "best.npz"))
    gan.fit(batches(gan, data, 32, 5), epochs=5, steps_per_epoch=2, verbose=0,
            callbacks=[stopper, Snapshot()])
    assert stopper.stopped and len(snapshots) == 4  # stopped after the 4th evaluation
    assert stopper.checkpoint_state() == {"monitor": "scripted", "best": 3.0, "best_step": 4,
                                          "since_best": 2, "stopped": True}
    assert _moved(snapshots[1], _weights(gan.generator))
    assert stopper.restore_best(gan.generator)
    assert not _moved(snapshots[1], _weights(gan.generator))


def test_patience_stops_a_run_that_stopped_improving_and_a_rerun_stays_stopped(tmp_path):
    """A learning rate of 1e-30 freezes the generator, so its FCD never improves again."""
    import json

    from conftest import TINY, run_module

    out = tmp_path / "run"
    command = ["vanilla", "--out", out, "--limit", "256", "--batch-size", "32", "--epochs", "6",
               "--patience", "2", "--learning-rate", "1e-30", *TINY]
    result = run_module("ganlib.train", *command)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "early stopping at step 24" in result.stdout
    card = json.loads((out / "generator.json").read_text())
    assert card["steps"] == 24 and card["epochs"] == 3  # 8 steps per epoch, 3 evaluations
    stopping = card["early_stopping"]
    assert stopping["monitor"] == "fcd_500" and stopping["best_step"] == 8
    assert stopping["since_best"] == 2 and stopping["stopped"] and stopping["best"] > 0
    assert "--patience 2" in card["train_command"]
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["fcd_500"] for r in history if r["kind"] == "epoch"] == [stopping["best"]] * 3
    # The same command again finds the run finished: no further training.
    again = run_module("ganlib.train", *command)
    assert again.returncode == 0 and "resuming" in again.stdout
    assert json.loads((out / "generator.json").read_text())["steps"] == 24
