"""The training step: networks in training mode, losses, and AD-GAN's live dropout rate."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from ganlib.data import take_subset
from ganlib.errors import GanlibError
from ganlib.knobs import Knobs
from ganlib.variants import get_variant
from ganlib.tricks import scheduled_dropout as sd
from ganlib.tricks.scheduled_dropout import ScheduledDropout

from conftest import batches as _batches, compiled_gan as _compiled


def test_train_step_runs_both_networks_in_training_mode(mnist):
    data = take_subset(mnist, 100)
    gan = _compiled("dcgan", data)
    batch_norm = next(l for l in gan.generator.layers if "batch_normalization" in l.name)
    dropout_seed = [v for v in gan.discriminator.variables if "seed_generator" in v.path][0]
    seed_before = np.asarray(dropout_seed).copy()
    history = gan.fit(_batches(gan, data, 32, 1), epochs=1, steps_per_epoch=3, verbose=0)
    # BatchNorm only updates its moving statistics, and Dropout only draws random masks,
    # when called with training=True.
    assert np.abs(np.asarray(batch_norm.moving_mean)).max() > 0
    assert not np.array_equal(np.asarray(dropout_seed), seed_before)
    assert int(gan.g_optimizer.iterations) == 3 and int(gan.d_optimizer.iterations) == 3
    assert int(gan.step) == 3
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert math.isfinite(history.history[key][0])
    assert 0 < history.history["d_real"][0] < 1


def test_uneven_dataset_gives_equal_batches_and_one_trace(mnist):
    data = take_subset(mnist, 100)  # 100 = 3 x 32 + 4: the 4 are dropped each epoch
    plain = _compiled("vanilla", data, Knobs(latent_dim=16))
    traces = []

    class CountingGAN(type(plain)):
        def train_step(self, batch):
            traces.append(batch["images"].shape)  # Python runs this only while tracing
            return super().train_step(batch)

    gan = CountingGAN(plain.generator, plain.discriminator, plain.latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam())
    gan.fit(_batches(gan, data, 32, 2), epochs=2, steps_per_epoch=3, verbose=0)
    assert int(gan.step) == 6
    assert len(traces) == 1 and tuple(traces[0]) == (32, 1, 28, 28, 1)


def test_dropout_schedule_values():
    rates = [sd.dropout_rate_at(epoch, 20) for epoch in range(20)]
    assert rates == pytest.approx([0.5, 0.4, 0.3, 0.2, 0.1] + [0.0] * 15)
    # The final rate holds for the last final_fraction of epochs, whatever the numbers.
    rates = [sd.dropout_rate_at(epoch, 8, initial=0.4, step=0.2, final_fraction=0.5)
             for epoch in range(8)]
    assert rates == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.0, 0.0, 0.0, 0.0])


def test_adgan_dropout_really_changes_inside_the_compiled_step(mnist):
    """Measure the share of units dropped *inside* train_step, epoch by epoch."""
    data = take_subset(mnist, 64)

    class ProbedGAN(type(_compiled("adgan", data))):
        def train_step(self, batch):
            logs = super().train_step(batch)
            layer = next(l for l in self.discriminator.layers if isinstance(l, ScheduledDropout))
            dropped = ops.mean(ops.cast(layer(ops.ones((64, 256)), training=True) == 0, "float32"))
            return {**logs, "dropped": dropped}

    keras.utils.set_random_seed(0)
    plain = _compiled("adgan", data)
    gan = ProbedGAN(plain.generator, plain.discriminator, plain.latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    epochs = 8
    schedule = sd.DropoutSchedule(epochs, initial=0.5, step=0.2, final_fraction=0.5)
    history = gan.fit(_batches(gan, data, 32, epochs), epochs=epochs, steps_per_epoch=2,
                      callbacks=[schedule], verbose=0)
    expected = [sd.dropout_rate_at(e, epochs, 0.5, 0.0, 0.2, 0.5) for e in range(epochs)]
    assert expected == pytest.approx([0.5, 0.5, 0.3, 0.3, 0.0, 0.0, 0.0, 0.0])
    measured = history.history["dropped"]  # mean over the epoch's steps of 16,384 units each
    assert measured == pytest.approx(expected, abs=0.02)
    assert history.history["d_dropout"] == pytest.approx(expected)


@pytest.mark.parametrize("name", ["vanilla", "dcgan"])
def test_simultaneous_and_alternating_updates_differ_only_in_the_generator_step(mnist, name):
    """Same start, same batch: D's step is identical; G's sees the old or the updated D."""
    data = take_subset(mnist, 64)
    weights = {}
    for update in ("simultaneous", "alternating"):
        # No dropout: both runs must draw no random numbers inside the step.
        gan = _compiled(name, data, Knobs(latent_dim=16, g_filters=0.25, d_filters=0.25,
                                          d_dropout=0.0, update=update))
        batch = next(iter(_batches(gan, data, 32, 1)))
        logs = gan.train_step(batch)
        assert all(math.isfinite(float(value)) for value in logs.values())
        weights[update] = ([np.asarray(v) for v in gan.discriminator.trainable_variables],
                           [np.asarray(v) for v in gan.generator.trainable_variables])
    (d_simultaneous, g_simultaneous), (d_alternating, g_alternating) = weights.values()
    for a, b in zip(d_simultaneous, d_alternating):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b, rtol=1e-5, atol=1e-6)
               for a, b in zip(g_simultaneous, g_alternating))


def test_unknown_update_is_refused():
    with pytest.raises(GanlibError, match="--update"):
        Knobs(update="sideways").resolved(get_variant("dcgan"))
