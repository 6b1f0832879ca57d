"""Each loss against its closed form."""

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import losses


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def logits():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 1)).astype("float32") * 3, rng.normal(size=(16, 1)).astype("float32")


def test_discriminator_loss_is_binary_cross_entropy(logits):
    real, fake = logits
    expected = np.mean(-np.log(sigmoid(real))) + np.mean(-np.log(1 - sigmoid(fake)))
    np.testing.assert_allclose(losses.discriminator_loss(real, fake), expected, rtol=1e-5)


def test_generator_losses(logits):
    _, fake = logits
    np.testing.assert_allclose(losses.generator_loss(fake), np.mean(-np.log(sigmoid(fake))), rtol=1e-5)
    np.testing.assert_allclose(
        losses.minimax_generator_loss(fake), np.mean(np.log(1 - sigmoid(fake))), rtol=1e-5
    )


def test_losses_are_stable_for_extreme_logits():
    big = np.array([[80.0], [-80.0]], "float32")
    assert np.isfinite(losses.discriminator_loss(big, big))
    np.testing.assert_allclose(losses.generator_loss(np.array([[-80.0]], "float32")), 80.0, rtol=1e-5)


def test_wasserstein_losses(logits):
    real, fake = logits
    np.testing.assert_allclose(losses.critic_loss(real, fake), fake.mean() - real.mean(), rtol=1e-5)
    np.testing.assert_allclose(losses.wasserstein_generator_loss(fake), -fake.mean(), rtol=1e-5)


@pytest.mark.parametrize("shape", [(2,), (4, 4, 3)])
def test_gradient_penalty_of_linear_critic(shape):
    # f(x) = w.x has gradient w everywhere, so the penalty is (||w|| - 1)^2 exactly.
    rng = np.random.default_rng(1)
    w = tf.constant(rng.normal(size=shape), tf.float32)
    critic = lambda x: tf.reduce_sum(x * w, axis=list(range(1, len(shape) + 1)))[:, None]
    real = tf.constant(rng.normal(size=(8, *shape)), tf.float32)
    fake = tf.constant(rng.normal(size=(8, *shape)), tf.float32)
    alpha = tf.constant(rng.uniform(size=(8,) + (1,) * len(shape)), tf.float32)
    expected = (np.linalg.norm(w.numpy()) - 1) ** 2
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, alpha), expected, rtol=1e-5)


def test_gradient_penalty_of_quadratic_critic_uses_the_interpolates():
    # f(x) = ||x||^2 / 2 has gradient x, so the penalty is E[(||x_hat|| - 1)^2].
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(2, 32, 3)).astype("float32")
    alpha = rng.uniform(size=(32, 1)).astype("float32")
    critic = lambda x: 0.5 * tf.reduce_sum(x * x, axis=1, keepdims=True)
    x_hat = real + alpha * (fake - real)
    expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2)
    np.testing.assert_allclose(
        losses.gradient_penalty(critic, tf.constant(real), tf.constant(fake), tf.constant(alpha)),
        expected, rtol=1e-5,
    )


def test_gradient_penalty_is_zero_for_unit_gradient():
    critic = lambda x: tf.reduce_sum(x * tf.constant([0.6, 0.8]), axis=1, keepdims=True)
    x = tf.zeros((4, 2))
    assert float(losses.gradient_penalty(critic, x, x + 1, tf.fill((4, 1), 0.5))) < 1e-10


def test_hinge_losses_on_known_logits():
    real = np.array([[2.0], [0.5], [-1.0]], "float32")
    fake = np.array([[-3.0], [0.0], [1.0]], "float32")
    # max(0, 1 - r): 0, 0.5, 2; max(0, 1 + f): 0, 1, 2
    np.testing.assert_allclose(losses.hinge_discriminator_loss(real, fake), 2.5 / 3 + 3 / 3, rtol=1e-6)
    np.testing.assert_allclose(losses.hinge_generator_loss(fake), 2.0 / 3, rtol=1e-6)


def test_relativistic_pairing_losses(logits):
    real, fake = logits
    np.testing.assert_allclose(losses.relativistic_discriminator_loss(real, fake),
                               np.mean(-np.log(sigmoid(real - fake))), rtol=1e-5)
    np.testing.assert_allclose(losses.relativistic_generator_loss(real, fake),
                               np.mean(-np.log(sigmoid(fake - real))), rtol=1e-5)
    # Equal logits: the pair is undecided, log 2 each.
    np.testing.assert_allclose(losses.relativistic_discriminator_loss(real, real), np.log(2), rtol=1e-6)


@pytest.mark.parametrize("shape", [(2,), (4, 4, 3)])
def test_zero_centered_penalty_of_linear_discriminator_is_squared_norm(shape):
    # D(x) = w.x has gradient w everywhere: R1 = ||w||^2 at any batch.
    rng = np.random.default_rng(3)
    w = tf.constant(rng.normal(size=shape), tf.float32)
    d = lambda x: tf.reduce_sum(x * w, axis=list(range(1, len(shape) + 1)))[:, None]
    x = tf.constant(rng.normal(size=(8, *shape)), tf.float32)
    np.testing.assert_allclose(losses.zero_centered_penalty(d, x), np.sum(w.numpy() ** 2), rtol=1e-5)


def test_zero_centered_penalty_of_quadratic_discriminator():
    # D(x) = ||x||^2 / 2 has gradient x: the penalty is E[||x||^2].
    x = np.random.default_rng(4).normal(size=(16, 3)).astype("float32")
    d = lambda v: 0.5 * tf.reduce_sum(v * v, axis=1, keepdims=True)
    np.testing.assert_allclose(losses.zero_centered_penalty(d, x), np.mean(np.sum(x**2, 1)), rtol=1e-5)


def test_ranking_accuracy_counts_the_pairs_ranked_right():
    from ganzoo.losses import ranking_accuracy

    real = np.array([2.0, 0.0, -1.0, 5.0])
    fake = np.array([1.0, 0.5, -3.0, 5.0])  # right, wrong, right, tie (wrong)
    assert float(ranking_accuracy(real, fake)) == pytest.approx(0.5)
