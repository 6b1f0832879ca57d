"""Every registered model, through the same tests: add a variant, get these for free."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_hparams

import ganzoo
from ganzoo import networks
from ganzoo.errors import GanzooError
from ganzoo.registry import get_model_class

IMAGE_SHAPES = [(8, 8, 1), (16, 16, 3), (28, 28, 1), (32, 32, 3), (64, 64, 1)]


def make(name, data_shape=(8, 8, 1), num_classes=10, **overrides):
    hparams = {**tiny_hparams(name), "data_shape": data_shape, "seed": 0, **overrides}
    if get_model_class(name).conditional:
        hparams["num_classes"] = num_classes
    return ganzoo.create_model(name, **hparams)


def fake_data(model, steps, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    n = steps * batch * model.real_batches_per_step
    x = rng.uniform(-1, 1, size=(n, *model.data_shape)).astype("float32")
    y = rng.integers(0, getattr(model, "num_classes", 2), size=n).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch * model.real_batches_per_step)


def generator_inputs(model, n, seed=0):
    z = keras.random.normal((n, model.latent_dim), seed=seed)
    return [z, tf.range(n) % model.num_classes] if model.conditional else z


def test_registry_lists_the_four_variants():
    assert set(ganzoo.list_models()) >= {"vanilla", "dcgan", "wgan_gp", "cgan"}


def test_unknown_model_lists_valid_names():
    with pytest.raises(GanzooError, match="unknown model 'stylegan'; accepted: cgan, dcgan"):
        ganzoo.create_model("stylegan", data_shape=(2,))


def test_unknown_hyperparameter_is_named(model_name):
    with pytest.raises(GanzooError, match="bad hyperparameters.*accepted: .*latent_dim"):
        make(model_name, colour="red")


def test_register_model_adds_a_variant(monkeypatch):
    from ganzoo import registry

    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))  # undone after the test

    @ganzoo.register_model("test_only_vanilla")
    class TestOnly(get_model_class("vanilla")):
        pass

    assert "test_only_vanilla" in ganzoo.list_models()
    assert isinstance(make("test_only_vanilla", data_shape=(2,)), TestOnly)


@pytest.mark.parametrize("key, value", [("latent_dim", 0), ("n_critic", 0), ("gp_weight", -1.0),
                                        ("learning_rate", 2.0), ("units", ()), ("base_filters", 1.5)])
def test_bad_hyperparameter_values_are_named(key, value):
    with pytest.raises(GanzooError, match=f"bad hyperparameter {key}="):
        ganzoo.create_model("wgan_gp", data_shape=(8, 8, 1), **{key: value})


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
def test_output_shapes(model_name, shape):
    model = make(model_name, data_shape=shape)
    n = 3 * model.pack  # the discriminator judges packs: 3 logits either way
    images = model(generator_inputs(model, n))
    assert tuple(images.shape) == (n, *shape)
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0  # tanh output
    d_inputs = [images, tf.zeros(n, "int32")] if model.conditional else images
    assert tuple(model.discriminator(d_inputs).shape) == (3, 1)


def test_vector_data(model_name):
    if model_name == "dcgan":
        with pytest.raises(GanzooError, match="dcgan needs images"):
            make(model_name, data_shape=(2,))
        return
    model = make(model_name, data_shape=(2,))
    assert tuple(model(generator_inputs(model, 5)).shape) == (5, 2)


@pytest.mark.parametrize("shape", [(7, 7, 1), (5, 5, 3), (27, 27, 1)])
def test_image_size_the_networks_cannot_take(model_name, shape):
    if issubclass(get_model_class(model_name), get_model_class("vanilla")):
        pytest.skip("vanilla's MLPs take any size")
    with pytest.raises(GanzooError, match=r"image size .* is not supported.*accepted"):
        make(model_name, data_shape=shape)


def test_training_steps_give_finite_losses_and_change_weights(model_name):
    model = make(model_name)
    model.compile()
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    history = model.fit(fake_data(model, steps=3), epochs=1, verbose=0)
    assert model.step == 3
    assert model.d_optimizer.iterations.numpy() == 3 * model.real_batches_per_step
    assert {"d_loss", "g_loss"} <= set(history.history)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    after = model.generator.trainable_weights
    assert any(not np.allclose(b, a.numpy()) for b, a in zip(before, after))
    assert all(isinstance(m, keras.metrics.Mean) for m in model.metrics)


def test_get_config_round_trip(model_name):
    model = make(model_name)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    for name in model.hyperparameter_names():
        assert name in config


def test_save_and_reload_keeps_weights_optimizers_and_rng(model_name, tmp_path):
    model = make(model_name)
    model.compile()
    model.fit(fake_data(model, steps=2), epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    clone = keras.models.load_model(path)
    assert type(clone) is type(model)
    labels = 3 if model.conditional else None
    np.testing.assert_array_equal(model.sample(6, labels=labels, seed=1), clone.sample(6, labels=labels, seed=1))
    for optimizer in ("g_optimizer", "d_optimizer"):
        saved, loaded = getattr(model, optimizer), getattr(clone, optimizer)
        assert loaded.iterations.numpy() == saved.iterations.numpy() > 0
        for a, b in zip(saved.variables, loaded.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(model.seed_generator.state.numpy(), clone.seed_generator.state.numpy())
    # Same RNG state: the next draw of fresh noise matches too.
    np.testing.assert_array_equal(model.sample(4, labels=labels), clone.sample(4, labels=labels))


def test_conditional_sampling_checks_labels():
    model = make("cgan")
    assert model.sample(4, labels=[0, 1, 2, 9]).shape == (4, 8, 8, 1)
    with pytest.raises(GanzooError, match="label 10 is out of range; accepted: 0 to 9"):
        model.sample(2, labels=[1, 10])
    with pytest.raises(GanzooError, match="needs a labelled dataset"):
        model.sample(2)
    with pytest.raises(GanzooError, match="accepted: one integer or 3 integers"):
        model.sample(3, labels=[1, 2])


def test_conditional_generator_depends_on_label():
    model = make("cgan")
    z = keras.random.normal((1, model.latent_dim), seed=0)
    a = model.generate(z, np.array([1], "int32")).numpy()
    b = model.generate(z, np.array([2], "int32")).numpy()
    assert not np.allclose(a, b)


def test_paper_defaults():
    assert get_model_class("dcgan").default_hyperparameters()["learning_rate"] == 2e-4
    wgan = get_model_class("wgan_gp").default_hyperparameters()
    assert (wgan["n_critic"], wgan["gp_weight"], wgan["learning_rate"]) == (5, 10.0, 1e-4)
    assert (wgan["beta_1"], wgan["beta_2"]) == (0.0, 0.9)
    wgan_model = make("wgan_gp", n_critic=5)
    assert not any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in wgan_model.discriminator.layers
    )
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in make("dcgan").discriminator.layers)


def test_modern_variants_paper_defaults():
    sngan = get_model_class("sngan").default_hyperparameters()
    assert (sngan["learning_rate"], sngan["beta_1"], sngan["beta_2"]) == (4e-4, 0.0, 0.9)
    r3gan = get_model_class("r3gan").default_hyperparameters()
    assert (r3gan["learning_rate"], r3gan["beta_1"], r3gan["beta_2"], r3gan["gamma"]) == (2e-4, 0.0, 0.99, 0.05)
    assert get_model_class("pacgan").default_hyperparameters()["pack"] == 4
    for shape in [(8, 8, 1), (2,)]:
        weighted = [layer for layer in make("sngan", data_shape=shape).discriminator.layers
                    if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]
        assert weighted and all(isinstance(layer, (networks.SNDense, networks.SNConv2D))
                                for layer in weighted)
    normalizations = (keras.layers.BatchNormalization, keras.layers.LayerNormalization)
    r3gan_model = make("r3gan")
    for network in (r3gan_model.generator, r3gan_model.discriminator):
        assert not any(isinstance(layer, normalizations) for layer in network.layers)


@pytest.mark.parametrize("shape", [(8, 8, 1), (2,)])
def test_spectral_norm_keeps_the_largest_singular_value_near_one(shape):
    model = make("sngan", data_shape=shape)
    model.compile()
    model.fit(fake_data(model, steps=20), epochs=1, verbose=0)
    layers = [layer for layer in model.discriminator.layers if hasattr(layer, "normalized_kernel")]
    assert len(layers) >= 3
    for layer in layers:
        for _ in range(200):  # more power iterations than training gave
            kernel = layer.normalized_kernel(training=True).numpy()
        normalized = kernel.reshape(-1, kernel.shape[-1])
        assert np.linalg.svd(normalized, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-2), layer.name
        # The raw weights are free; what the layer computes with is W / sigma(W).
        layer.kernel.assign(3.0 * layer.kernel)
        np.testing.assert_allclose(layer.normalized_kernel(training=False), kernel, rtol=1e-3, atol=1e-6)


def test_spectral_norm_layers_compute_with_w_over_sigma_and_differentiate_through_sigma():
    rng = np.random.default_rng(0)
    dense = networks.SNDense(3, name="dense")
    conv = networks.SNConv2D(4, 3, padding="same", name="conv")
    x_dense = rng.normal(size=(5, 6)).astype("float32")
    x_conv = rng.normal(size=(2, 5, 5, 2)).astype("float32")
    for layer, x, plain in [(dense, x_dense, keras.layers.Dense(3)),
                            (conv, x_conv, keras.layers.Conv2D(4, 3, padding="same"))]:
        layer(x, training=False)
        for _ in range(50):
            layer(x, training=True)
        raw = layer.kernel.numpy()
        sigma = np.linalg.svd(raw.reshape(-1, raw.shape[-1]), compute_uv=False)[0]
        plain(x)
        plain.set_weights([raw / sigma, layer.bias.numpy()])
        np.testing.assert_allclose(layer(x), plain(x), rtol=1e-4, atol=1e-5)
        # W / sigma(W) does not change when W is scaled, so the gradient through
        # sigma (the paper's eq. 12) is orthogonal to W; without it it is not.
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, training=False) ** 2)
        grad = tape.gradient(loss, layer.kernel).numpy()
        assert abs(np.sum(grad * raw)) < 1e-4 * np.linalg.norm(grad) * np.linalg.norm(raw)
        assert np.linalg.norm(grad) > 1e-3


def test_wgan_gp_critic_updates_each_take_their_own_real_batch(monkeypatch):
    from ganzoo.models import wgan_gp

    seen = []
    penalty = wgan_gp.losses.gradient_penalty

    def spy(critic, real, fake, alpha):
        seen.append((real.numpy().copy(), alpha.numpy().copy()))
        return penalty(critic, real, fake, alpha)

    monkeypatch.setattr(wgan_gp.losses, "gradient_penalty", spy)
    model = make("wgan_gp", n_critic=5)
    model.compile(run_eagerly=True)
    x = np.arange(5 * 16 * 64, dtype="float32").reshape(5 * 16, 8, 8, 1) / 5000.0
    model.train_on_batch(x)
    assert len(seen) == 5
    reals = [r for r, _ in seen]
    for i, real in enumerate(reals):  # minibatch i is rows 16i..16i+15, none shared
        np.testing.assert_array_equal(real, x[16 * i : 16 * (i + 1)])
    alphas = np.concatenate([a for _, a in seen])
    assert alphas.shape == (80, 1, 1, 1)
    assert alphas.min() >= 0 and alphas.max() <= 1  # uniform, not normal
    assert 0.35 < alphas.mean() < 0.65 and alphas.std() > 0.2
    assert model.d_optimizer.iterations.numpy() == 5 and model.g_optimizer.iterations.numpy() == 1


def test_every_hyperparameter_is_declared_with_a_rule(model_name):
    import inspect

    from ganzoo import checks
    from ganzoo.models.hyperparameters import Hyperparameter

    cls = get_model_class(model_name)
    # A variant's constructor takes the data shape; the rest is its declaration.
    params = list(inspect.signature(cls.__init__).parameters.values())
    assert [p.name for p in params] == ["self", "data_shape", "kwargs"]
    declared = cls.hyperparameters()
    assert all(isinstance(hp, Hyperparameter) and isinstance(hp.rule, checks.Rule) and hp.doc
               for hp in declared.values())
    for name, hp in declared.items():
        assert hp.rule(hp.default), (name, hp.default, hp.rule.accepted)
    config = make(model_name).get_config()
    assert set(config) - {"name", "trainable", "dtype", "data_shape"} == set(declared)


def test_a_hyperparameter_without_a_rule_is_refused():
    from ganzoo.models.hyperparameters import Hyperparameter

    with pytest.raises(TypeError, match="checks.Rule"):
        Hyperparameter(3, None, "a size")
