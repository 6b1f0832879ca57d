"""ganzoo.networks' convolutions on small maps, computed as one matmul: the same
function, gradients and saved weights as Keras's layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from ganzoo import networks

# (height, width, in_channels, filters, kernel, stride)
SHAPES = [
    (4, 4, 16, 32, 4, 2),  # the 8x8 critic's second layer, narrower
    (2, 2, 32, 16, 4, 2),
    (3, 5, 2, 3, 4, 2),  # odd sizes: TensorFlow pads more after than before
    (5, 5, 3, 4, 3, 1),
    (8, 8, 1, 8, 4, 2),  # unrolled or not, by the cost rule
]


def _pair(transposed, filters, kernel, stride):
    kwargs = {"strides": stride, "padding": "same", "bias_initializer": "glorot_uniform"}
    if transposed:
        return (keras.layers.Conv2DTranspose(filters, kernel, **kwargs),
                networks.Conv2DTranspose(filters, kernel, **kwargs))
    return keras.layers.Conv2D(filters, kernel, **kwargs), networks.Conv2D(filters, kernel, **kwargs)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_keras_with_first_and_second_order_gradients(shape, transposed):
    height, width, channels, filters, kernel, stride = shape
    keras_layer, ours = _pair(transposed, filters, kernel, stride)
    x = tf.constant(np.random.default_rng(0).normal(size=(5, height, width, channels)), "float32")
    keras_layer.build(x.shape)
    ours.build(x.shape)
    ours.set_weights(keras_layer.get_weights())

    def penalty_and_grads(layer):
        # A WGAN-GP-like loss: the input gradient's norm, differentiated again.
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = layer(x)
                score = tf.reduce_sum(tf.tanh(y) * tf.range(1.0, 1.0 + y.shape[-1]))
            dx = inner.gradient(score, x)
            loss = tf.reduce_sum(tf.square(dx)) + score
        return [y, dx, *outer.gradient(loss, layer.trainable_weights)]

    for expected, got in zip(penalty_and_grads(keras_layer), penalty_and_grads(ours)):
        scale = float(np.max(np.abs(expected)))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale)


def test_the_cost_rule_unrolls_small_maps_only():
    small = ganzoo.create_model("wgan_gp", data_shape=(8, 8, 1), seed=0)
    unrolled = {layer.name for net in (small.generator, small.discriminator)
                for layer in net.layers if getattr(layer, "taps", None) is not None}
    assert unrolled == {"up0", "down1"}
    large = ganzoo.create_model("dcgan", data_shape=(28, 28, 1), seed=0)
    assert not [layer.name for net in (large.generator, large.discriminator)
                for layer in net.layers if getattr(layer, "taps", None) is not None]


def test_weights_saved_with_keras_layers_load_unchanged(tmp_path, monkeypatch):
    """Runs checkpointed before these layers existed resume: Keras names saved
    weights after the layer class, and ours carry Keras's names."""
    with monkeypatch.context() as patch:
        patch.setattr(networks, "Conv2D", keras.layers.Conv2D)
        patch.setattr(networks, "Conv2DTranspose", keras.layers.Conv2DTranspose)
        old = ganzoo.create_model("wgan_gp", data_shape=(8, 8, 1), seed=1)
    assert not any(hasattr(layer, "taps") for layer in old.generator.layers)
    old.generator.save_weights(tmp_path / "g.weights.h5")
    new = ganzoo.create_model("wgan_gp", data_shape=(8, 8, 1), seed=2)
    new.generator.load_weights(tmp_path / "g.weights.h5")
    z = np.random.default_rng(0).normal(size=(4, new.latent_dim)).astype("float32")
    np.testing.assert_allclose(new.generator(z), old.generator(z), atol=1e-5)


def test_mixed_precision_computes_in_the_policys_dtype():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = networks.Conv2D(8, 4, strides=2, padding="same")
        y = layer(np.zeros((2, 4, 4, 3), "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert layer.taps is not None and y.dtype == "bfloat16"
