"""InfoGAN's categorical code (`--info-code K`): what G is given, and what Q learns to read.

The code is argmax(z_1..z_K) of G's own noise; a head Q on D's features must guess it
back from G's image. Trained on real MNIST digits, Q can only beat chance (ln K) if G
really draws the code into its images, so a falling code loss proves both halves.
"""

import math

import keras
import numpy as np
import pytest

from conftest import batches, compiled_gan, small_knobs
from ganlib.data import take_subset
from ganlib.errors import GanlibError
from ganlib.knobs import Knobs
from ganlib.nets import conv_generator
from ganlib.variants import get_variant


def _code_model(generator):
    return keras.Model(generator.inputs, generator.get_layer("categorical_code").output)


def test_the_code_is_the_one_hot_argmax_of_the_first_k_noise_values_and_uniform():
    generator = conv_generator((28, 28, 1), latent_dim=16, filters=0.25, code_classes=10)
    noise = np.random.default_rng(0).normal(size=(4000, 16)).astype("float32")
    code = np.asarray(_code_model(generator)({"noise": noise}))
    assert np.mean(code.max(axis=1) > 0.999) > 0.999  # one-hot (but for a rare near-tie)
    assert np.array_equal(code.argmax(axis=1), noise[:, :10].argmax(axis=1))
    shares = np.bincount(code.argmax(axis=1), minlength=10) / len(noise)
    assert np.all(np.abs(shares - 0.1) < 0.02), shares  # each category ~10% of z ~ N(0, I)
    # The selection is fixed: neither the optimizer nor the EMA may move it.
    assert generator.get_layer("code_scores").trainable_weights == []


def test_q_reads_the_code_once_g_draws_it_into_its_images(mnist):
    data = take_subset(mnist, 1024)
    gan = compiled_gan("vanilla", data, Knobs(latent_dim=16, info_code=10))
    head_before = [np.asarray(v) for v in gan.code_reader.variables]
    history = gan.fit(batches(gan, data, 64, 12), epochs=12, steps_per_epoch=16, verbose=0)
    code_loss = history.history["code_loss"]
    assert code_loss[0] > 1.5  # Q starts near chance, ln 10 = 2.30
    assert code_loss[-1] < 0.5 * math.log(10), code_loss  # G draws it, Q reads it
    # Q's head trains with D's optimizer.
    assert not any(np.allclose(a, np.asarray(b))
                   for a, b in zip(head_before, gan.code_reader.variables))


def test_the_code_head_is_in_the_checkpoint(mnist, tmp_path):
    from ganlib.checkpoints import load_checkpoint, save_checkpoint

    data = take_subset(mnist, 128)
    gan = compiled_gan("dcgan", data, small_knobs(info_code=4))
    gan.fit(batches(gan, data, 32, 1), epochs=1, steps_per_epoch=3, verbose=0)
    save_checkpoint(str(tmp_path / "c.npz"), gan, {"step": 3})
    fresh = compiled_gan("dcgan", data, small_knobs(info_code=4), seed=1)
    load_checkpoint(str(tmp_path / "c.npz"), fresh)
    for trained, restored in zip(gan.code_reader.variables, fresh.code_reader.variables):
        np.testing.assert_array_equal(np.asarray(trained), np.asarray(restored))


@pytest.mark.parametrize("variant", ["cgan", "cdcgan"])
def test_a_conditional_variant_refuses_the_code(variant):
    with pytest.raises(GanlibError, match="has real labels already"):
        Knobs(info_code=10).resolved(get_variant(variant))
