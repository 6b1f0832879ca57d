"""The base-class techniques (pack, r1_weight, augment, ema): each against a closed
form or an exact property, and every registered model with each one switched on."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_models import fake_data, make

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.models import GAN
from ganzoo.models.techniques import DiffAugment, Pack
from ganzoo.registry import get_model_class

TECHNIQUES = {
    "pack": {"pack": 2},
    "r1_weight": {"r1_weight": 1.0},
    "augment": {"augment": "translation,cutout,color"},
    "ema": {"ema": 0.9},
}


# -- pack ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 2, 3)])
def test_pack_puts_exactly_pack_consecutive_examples_side_by_side(shape):
    x = np.arange(8 * np.prod(shape), dtype="float32").reshape(8, *shape)
    packed = Pack(4)(tf.constant(x)).numpy()
    assert packed.shape == (2, *shape[:-1], 4 * shape[-1])
    for group in range(2):
        parts = np.split(packed[group], 4, axis=-1)
        for k, part in enumerate(parts):  # slot k of group g is example 4g + k
            np.testing.assert_array_equal(part, x[4 * group + k])


def test_packed_discriminator_logit_depends_on_its_own_group_only():
    model = make("pacgan", data_shape=(2,))
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    base = model.discriminator(x).numpy()
    assert base.shape == (2, 1)
    for i in range(8):
        moved = x.copy()
        moved[i] += 1.0
        changed = np.abs(model.discriminator(moved).numpy() - base)[:, 0] > 1e-7
        np.testing.assert_array_equal(changed, [i < 4, i >= 4])


def test_pack_is_refused_where_it_cannot_apply():
    with pytest.raises(GanzooError, match="bad hyperparameter pack=2 for the conditional model 'cgan'; accepted: 1"):
        make("cgan", pack=2)
    model = make("pacgan", data_shape=(2,))
    model.compile()
    data = tf.data.Dataset.from_tensor_slices(np.zeros((6, 2), "float32")).batch(6, drop_remainder=True)
    with pytest.raises(GanzooError, match="bad batch of 6 for pack=4; accepted: a batch size divisible by 4"):
        model.fit(data, verbose=0)


def test_training_refuses_a_batch_size_pack_does_not_divide():
    model = make("pacgan", data_shape=(2,))
    model.check_batch_size(8)
    with pytest.raises(GanzooError, match=r"bad batch_size=6 for pack=4; accepted: a multiple of 4"):
        model.check_batch_size(6)
    with pytest.raises(GanzooError, match=r"bad batch_size=8 for pack=4 on 4 replicas; accepted: a multiple of 16"):
        model.check_batch_size(8, replicas=4)


def test_pacgan_is_vanilla_with_pack_4():
    assert get_model_class("pacgan").default_hyperparameters()["pack"] == 4
    assert get_model_class("vanilla").default_hyperparameters()["pack"] == 1
    assert get_model_class("pacgan").train_step is get_model_class("vanilla").train_step


# -- r1_weight -----------------------------------------------------------------------


def test_r1_of_a_linear_discriminator_is_gamma_over_2_times_squared_norm():
    model = make("vanilla", data_shape=(3,), r1_weight=2.0)
    w = np.array([[0.5], [-1.0], [2.0]], "float32")
    x = keras.Input((3,))
    linear = keras.layers.Dense(1, use_bias=False)
    model.discriminator = keras.Model(x, linear(x))
    linear.set_weights([w])
    real = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    np.testing.assert_allclose(model.regularization(real), 0.5 * 2.0 * np.sum(w**2), rtol=1e-5)
    assert make("vanilla", data_shape=(3,)).regularization(real) == 0.0  # off: no graph at all


# -- augment -------------------------------------------------------------------------


def test_zero_strength_augment_is_the_identity_and_gradients_flow():
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)), tf.float32)
    seed = keras.random.SeedGenerator(0)
    identity = DiffAugment("translation,cutout,color", seed, strength=0.0)
    np.testing.assert_array_equal(identity(x, training=True).numpy(), x.numpy())
    full = DiffAugment("translation,cutout,color", seed)
    np.testing.assert_array_equal(full(x, training=False).numpy(), x.numpy())  # training only
    weights = tf.constant(np.random.default_rng(1).normal(size=(4, 8, 8, 3)), tf.float32)
    for layer in (identity, full):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.reduce_sum(layer(x, training=True) * weights)
        grad = tape.gradient(out, x)
        assert grad is not None and np.all(np.isfinite(grad)) and np.abs(grad.numpy()).sum() > 0
    augmented = full(x, training=True).numpy()
    assert augmented.shape == x.shape and not np.allclose(augmented, x.numpy())


def test_augment_draws_from_the_model_seed_generator_and_needs_images():
    model = make("dcgan", augment="translation")
    before = model.seed_generator.state.numpy().copy()
    model.discriminator(np.zeros((2, 8, 8, 1), "float32"), training=True)
    assert not np.array_equal(before, model.seed_generator.state.numpy())
    with pytest.raises(GanzooError, match="bad hyperparameter augment='color'"):
        make("vanilla", data_shape=(2,), augment="color")
    with pytest.raises(GanzooError, match="bad hyperparameter augment='flip'"):
        make("dcgan", augment="flip")


# -- ema -----------------------------------------------------------------------------


def _batch(model, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (8, *model.data_shape)).astype("float32")


def test_ema_after_updates_equals_the_formula():
    decay = 0.9
    model = make("vanilla", data_shape=(2,), ema=decay, ema_warmup=False)
    model.compile()
    model.train_on_batch(_batch(model))
    w1 = [v.numpy().copy() for v in model.generator.trainable_variables]
    model.sync_ema()
    # Keras's optimizer average starts from the weights after the first update.
    for average, w in zip(model.ema_generator.trainable_variables, w1):
        np.testing.assert_allclose(average.numpy(), w, rtol=1e-6)
    model.train_on_batch(_batch(model, 1))
    w2 = [v.numpy() for v in model.generator.trainable_variables]
    model.sync_ema()
    for average, a, b in zip(model.ema_generator.trainable_variables, w1, w2):
        np.testing.assert_allclose(average.numpy(), decay * a + (1 - decay) * b, rtol=1e-5, atol=1e-7)
        assert not np.allclose(a, b)


def test_ema_warmup_ramps_the_decay_as_min_ema_1_plus_t_over_10_plus_t():
    decay = 0.5  # reached at t = 8: (1 + 8) / (10 + 8)
    model = make("vanilla", data_shape=(2,), ema=decay)
    assert model.ema_warmup  # on by default
    model.compile()
    expected = None
    for t in range(12):
        model.train_on_batch(_batch(model, t))
        w = [v.numpy().astype("float64") for v in model.generator.trainable_variables]
        d = 0.0 if t == 0 else min(decay, (1 + t) / (10 + t))
        expected = w if expected is None else [d * e + (1 - d) * x for e, x in zip(expected, w)]
    model.sync_ema()
    for average, e in zip(model.ema_generator.trainable_variables, expected):
        np.testing.assert_allclose(average.numpy(), e, rtol=1e-4, atol=1e-6)


def test_ema_warmup_is_refused_with_an_optimizer_that_cannot_ramp():
    model = make("vanilla", data_shape=(2,), ema=0.9)
    with pytest.raises(GanzooError, match="ema_warmup=true.*accepted: ganzoo's FusedAdam"):
        model.compile(g_optimizer=keras.optimizers.Adam(1e-3))
    make("vanilla", data_shape=(2,), ema=0.9, ema_warmup=False).compile(
        g_optimizer=keras.optimizers.Adam(1e-3))


def test_sampling_and_export_use_the_average():
    model = make("vanilla", data_shape=(2,), ema=0.9)
    model.compile()
    for seed in range(3):
        model.train_on_batch(_batch(model, seed))
    z = keras.random.normal((4, model.latent_dim), seed=5)
    averaged = model.sampling_generator(z).numpy()
    assert model.sampling_generator is model.ema_generator
    np.testing.assert_array_equal(model.generate(z).numpy(), averaged)
    np.testing.assert_array_equal(model(z).numpy(), averaged)
    assert not np.allclose(model.generator(z).numpy(), averaged)


def test_ema_survives_save_and_load_and_resumes_exactly(tmp_path):
    model = make("vanilla", data_shape=(2,), ema=0.9)
    model.compile()
    for seed in range(2):
        model.train_on_batch(_batch(model, seed))
    path = str(tmp_path / "model.keras")
    model.save(path)
    clone = keras.models.load_model(path)
    for a, b in zip(model.ema_generator.weights, clone.ema_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for m in (model, clone):
        m.train_on_batch(_batch(m, 7))
        m.sync_ema()
    for a, b in zip(model.ema_generator.weights, clone.ema_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- every registered model with each technique on ---------------------------------------


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_every_model_trains_with_each_technique(model_name, technique):
    if technique == "pack" and get_model_class(model_name).conditional:
        pytest.skip("packing refuses conditional models")
    model = make(model_name, **TECHNIQUES[technique])
    model.compile()
    history = model.fit(fake_data(model, steps=1), epochs=1, verbose=0)
    assert model.step == 1
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_every_model_saves_and_reloads_with_all_techniques(model_name, tmp_path):
    settings = {k: v for s in TECHNIQUES.values() for k, v in s.items()}
    if get_model_class(model_name).conditional:
        settings["pack"] = 1
    model = make(model_name, **settings)
    model.compile()
    model.fit(fake_data(model, steps=2), epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    clone = keras.models.load_model(path)
    assert clone.get_config() == model.get_config()
    labels = 3 if model.conditional else None
    np.testing.assert_array_equal(model.sample(4, labels=labels, seed=1), clone.sample(4, labels=labels, seed=1))
    for a, b in zip(model.ema_generator.weights, clone.ema_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_techniques_are_declared_once_in_the_base():
    base = GAN.hyperparameters()
    for name in TECHNIQUES:
        assert name in base
        for model_name in ganzoo.list_models():
            assert name in get_model_class(model_name).hyperparameters()


def test_export_serves_the_averaged_generator(tmp_path):
    from ganzoo import savedmodel

    model = make("vanilla", data_shape=(2,), ema=0.9)
    model.compile()
    for seed in range(2):
        model.train_on_batch(_batch(model, seed))
    path = str(tmp_path / "export")
    savedmodel.export_generator(model, path, {"dataset": "ring8"})
    serve = tf.saved_model.load(path).signatures["serving_default"]
    z = np.random.default_rng(0).standard_normal((3, model.latent_dim)).astype("float32")
    (out,) = serve(z=tf.constant(z)).values()
    np.testing.assert_allclose(out.numpy(), model.ema_generator(z).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(out.numpy(), model.generator(z).numpy())
