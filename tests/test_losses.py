"""The losses against hand computations: BCE, Wasserstein, hinge, and the gradient penalty."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib.losses import BinaryCrossEntropyLoss, HingeLoss, WassersteinLoss
from ganlib.losses.gradient_penalty import NORM_EPSILON, gradient_penalty
from ganlib.losses.r1_penalty import r1_penalty

REAL, FAKE = np.array([[2.0], [0.5]], np.float32), np.array([[-1.0], [0.3]], np.float32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_bce_losses_match_their_formulas():
    loss = BinaryCrossEntropyLoss()
    expected_d = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE)))
    assert float(loss.discriminator_loss(REAL, FAKE)) == pytest.approx(expected_d, rel=1e-5)
    assert float(loss.generator_loss(FAKE)) == pytest.approx(
        -np.mean(np.log(sigmoid(FAKE))), rel=1e-5)
    minimax = BinaryCrossEntropyLoss("minimax")
    assert float(minimax.generator_loss(FAKE)) == pytest.approx(
        np.mean(np.log(1 - sigmoid(FAKE))), rel=1e-5)
    np.testing.assert_allclose(np.asarray(loss.scores(REAL)), sigmoid(REAL), rtol=1e-6)


def test_label_smoothing_moves_ds_optimum_on_real_images_to_one_minus_s():
    smoothed = BinaryCrossEntropyLoss(label_smoothing=0.1)
    optimum = np.log(0.9 / 0.1)  # the logit whose sigmoid is 0.9
    losses = [float(smoothed.discriminator_loss(np.array([[logit]], np.float32),
                                                np.array([[-50.0]], np.float32)))
              for logit in (optimum - 1, optimum, optimum + 1)]
    assert losses[1] < losses[0] and losses[1] < losses[2]


def test_swapped_targets_swap_the_roles_of_real_and_fake():
    for loss in (BinaryCrossEntropyLoss(), WassersteinLoss(), HingeLoss()):
        honest = float(loss.discriminator_loss(REAL, FAKE))
        swapped = float(loss.discriminator_loss(REAL, FAKE, np.zeros_like(REAL),
                                                np.ones_like(FAKE)))
        # Swapping every target is the same as swapping which batch is real.
        assert swapped == pytest.approx(float(loss.discriminator_loss(FAKE, REAL)), rel=1e-6)
        assert swapped != pytest.approx(honest)


def test_wasserstein_and_hinge_match_their_formulas():
    wasserstein = WassersteinLoss()
    assert float(wasserstein.discriminator_loss(REAL, FAKE)) == pytest.approx(
        FAKE.mean() - REAL.mean())
    assert float(wasserstein.generator_loss(FAKE)) == pytest.approx(-FAKE.mean())
    np.testing.assert_array_equal(np.asarray(wasserstein.scores(REAL)), REAL)  # raw scores
    hinge = HingeLoss()
    assert float(hinge.discriminator_loss(REAL, FAKE)) == pytest.approx(
        np.maximum(0, 1 - REAL).mean() + np.maximum(0, 1 + FAKE).mean())
    assert float(hinge.generator_loss(FAKE)) == pytest.approx(-FAKE.mean())


def _linear_critic(weights):
    """D(x) = w . flatten(x): its gradient is w at every x, so the penalty is known."""
    critic = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                               keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].kernel.assign(weights.reshape(16, 1))
    return critic


def test_gradient_penalty_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(16).astype(np.float32) * 0.3
    critic = _linear_critic(weights)
    real = tf.constant(rng.standard_normal((8, 4, 4, 1)), tf.float32)
    fake = tf.constant(rng.standard_normal((8, 4, 4, 1)), tf.float32)
    penalty = gradient_penalty(lambda x, labels: critic(x), real, fake, None,
                               tf.constant([1, 2], tf.int64))
    norm = np.sqrt(np.sum(weights.astype(np.float64) ** 2) + NORM_EPSILON)
    assert float(penalty) == pytest.approx((norm - 1) ** 2, rel=1e-5)
    # And through the loss object, with its weight.
    weighted = WassersteinLoss(gradient_penalty_weight=10).penalty(
        lambda x, labels: critic(x), real, fake, None, tf.constant([1, 2], tf.int64))
    assert float(weighted) == pytest.approx(10 * (norm - 1) ** 2, rel=1e-5)
    assert BinaryCrossEntropyLoss().penalty(None, real, fake, None, None) == 0.0


def test_r1_penalty_is_the_squared_gradient_norm_at_the_real_images():
    # D(x) = |x|^2 / 2 has gradient x: R1 is the mean squared norm of the real images
    # themselves, so a penalty taken anywhere else (fakes, interpolates) would not match.
    rng = np.random.default_rng(2)
    real = tf.constant(rng.standard_normal((8, 4, 4, 1)), tf.float32)
    fake = tf.constant(rng.standard_normal((8, 4, 4, 1)) + 3.0, tf.float32)

    def bowl(images, labels):
        return tf.reduce_sum(tf.square(images), axis=[1, 2, 3])[:, None] / 2

    expected = np.mean(np.sum(real.numpy().astype(np.float64) ** 2, axis=(1, 2, 3)))
    assert float(r1_penalty(bowl, real, None)) == pytest.approx(expected, rel=1e-5)
    # Through the loss object: gamma / 2 times it, on top of any WGAN-GP penalty.
    loss = BinaryCrossEntropyLoss(r1_weight=4.0)
    assert loss.penalised and not BinaryCrossEntropyLoss().penalised
    assert float(loss.penalty(bowl, real, fake, None, None)) == pytest.approx(2 * expected,
                                                                             rel=1e-5)


def test_gradient_penalty_draws_one_uniform_alpha_per_image():
    rng = np.random.default_rng(1)
    real = tf.constant(rng.standard_normal((256, 4, 4, 1)), tf.float32)
    fake = tf.constant(rng.standard_normal((256, 4, 4, 1)), tf.float32)
    seen = []

    def recording_critic(images, labels):
        seen.append(images)
        return tf.reduce_sum(images, axis=[1, 2, 3])[:, None]

    gradient_penalty(recording_critic, real, fake, None, tf.constant([3, 4], tf.int64))
    alphas = ((seen[0] - real) / (fake - real)).numpy().reshape(256, -1)
    np.testing.assert_allclose(alphas, alphas[:, :1].repeat(16, 1), atol=1e-3)  # one per image
    alphas = alphas[:, 0]
    assert alphas.min() >= 0 and alphas.max() <= 1
    assert abs(alphas.mean() - 0.5) < 0.06 and abs(alphas.std() - np.sqrt(1 / 12)) < 0.04
    # The same seed gives the same alphas (a resumed run), another seed others.
    gradient_penalty(recording_critic, real, fake, None, tf.constant([3, 4], tf.int64))
    gradient_penalty(recording_critic, real, fake, None, tf.constant([3, 5], tf.int64))
    np.testing.assert_array_equal(seen[0].numpy(), seen[1].numpy())
    assert not np.allclose(seen[0].numpy(), seen[2].numpy())


def test_a_zero_gradient_gives_a_finite_penalty_and_finite_updates():
    critic = _linear_critic(np.zeros(16, np.float32))  # flat critic: gradient exactly 0
    real = tf.random.stateless_normal((4, 4, 4, 1), seed=[0, 1])
    fake = tf.random.stateless_normal((4, 4, 4, 1), seed=[0, 2])
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(lambda x, labels: critic(x), real, fake, None,
                                   tf.constant([0, 0], tf.int64))
    gradients = tape.gradient(penalty, critic.trainable_variables)
    assert float(penalty) == pytest.approx(1.0, abs=1e-5)  # (0 - 1)^2
    assert all(np.isfinite(g.numpy()).all() for g in gradients)
