"""`GAN`: what every variant shares, so each `train_step` holds only its algorithm.

Shared here: hyperparameters and `get_config`, the two optimizers and their
(de)serialisation, loss trackers, noise drawn through one `SeedGenerator`, the
gradient step (with loss scaling and replica averaging) and sampling.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganzoo import checks
from ganzoo.errors import GanzooError
from ganzoo.models.hyperparameters import Hyperparameter, declare, merge

_RNG_KEY = "seed_generator_state"


def unpack(data):
    """Split a batch from `ganzoo.data` into (examples, labels or None)."""
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `SeedGenerator` whose draws differ across `tf.distribute` replicas.

    A plain one is a mirrored variable, so every replica would draw identical
    noise; folding the replica id into each seed gives each its own stream
    while the shared state still advances in lockstep.
    """

    def next(self, ordered=True):
        seed = super().next(ordered)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return seed
        replica = ops.cast(context.replica_id_in_sync_group, seed.dtype)
        return seed + ops.stack([replica * 104729, ops.zeros_like(replica)])


class GAN(keras.Model):
    """Base class of ganzoo's GANs. Subclasses build `generator` and
    `discriminator` in `__init__` and write their algorithm in `train_step`.

    Hyperparameters are declared in `HYPERPARAMETERS` (see
    `ganzoo.models.hyperparameters`); a subclass's `__init__` takes
    `(data_shape, **hyperparameters)`, calls this one, then builds its networks
    from the attributes set here.

    Args:
        data_shape: shape of one example, `(H, W, C)` for images or `(D,)` for
            points and flattened images.
        latent_dim: size of the Gaussian latent vector z.
        learning_rate: Adam learning rate of the generator.
        d_learning_rate: Adam learning rate of the discriminator; `None` means
            `learning_rate`.
        beta_1, beta_2: Adam's decay rates, shared by both optimizers.
        seed: seed of the model's `SeedGenerator` (all training noise).
    """

    registry_name = None
    conditional = False
    # Real minibatches one `train_step` consumes (WGAN-GP: one per critic update).
    real_batches_per_step = 1

    HYPERPARAMETERS = declare(
        latent_dim=Hyperparameter(128, checks.positive_int, "size of the Gaussian latent vector z"),
        learning_rate=Hyperparameter(
            2e-4, checks.number_in(0, 1, closed=(False, False)), "Adam learning rate of the generator"
        ),
        d_learning_rate=Hyperparameter(
            None, checks.number_in(0, 1, closed=(False, False)).or_none(),
            "Adam learning rate of the discriminator (None: learning_rate)",
        ),
        beta_1=Hyperparameter(0.5, checks.probability, "Adam's beta_1 for both networks"),
        beta_2=Hyperparameter(0.999, checks.probability, "Adam's beta_2 for both networks"),
        seed=Hyperparameter(
            None, checks.non_negative_int.or_none(), "seed of all training noise (None: random)"
        ),
    )

    @classmethod
    def hyperparameters(cls):
        """{name: Hyperparameter} declared by this class and its bases."""
        return merge(reversed(cls.__mro__[: cls.__mro__.index(GAN) + 1]))

    @classmethod
    def hyperparameter_names(cls):
        return list(cls.hyperparameters())

    @classmethod
    def default_hyperparameters(cls):
        return {name: hp.default for name, hp in cls.hyperparameters().items()}

    @classmethod
    def check_hyperparameters(cls, values):
        """Raise `GanzooError` naming the first value its rule refuses."""
        declared = cls.hyperparameters()
        for name, value in values.items():
            if name in declared:
                declared[name].rule.check(name, value, what="hyperparameter ")

    def __init__(self, data_shape, **kwargs):
        values = {name: kwargs.pop(name, hp.default) for name, hp in self.hyperparameters().items()}
        super().__init__(**kwargs)
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) not in (1, 3) or min(data_shape) <= 0:
            raise GanzooError(
                f"bad hyperparameter data_shape={data_shape!r}; accepted: (H, W, C) images or "
                "(D,) vectors with positive sizes"
            )
        self.check_hyperparameters(values)
        self.data_shape = data_shape
        for name, value in values.items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.seed_generator = ReplicaSeedGenerator(self.seed)
        # The sub-networks are functional models, built as they are created.
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["data_shape"] = list(self.data_shape)
        for name in self.hyperparameters():
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    # -- optimizers -------------------------------------------------------------

    def compile(self, g_optimizer=None, d_optimizer=None, jit_compile=False, **kwargs):
        """Set both optimizers (Adam with the model's hyperparameters by default)."""
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        d_rate = self.d_learning_rate or self.learning_rate
        self.g_optimizer = g_optimizer or self._adam(self.learning_rate, "g_adam")
        self.d_optimizer = d_optimizer or self._adam(d_rate, "d_adam")
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":
            self.g_optimizer = _with_loss_scale(self.g_optimizer)
            self.d_optimizer = _with_loss_scale(self.d_optimizer)
        # Built now, so checkpoints load into them and strategies find them ready.
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _adam(self, learning_rate, name):
        return keras.optimizers.Adam(learning_rate, beta_1=self.beta_1, beta_2=self.beta_2, name=name)

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
        }

    def compile_from_config(self, config):
        self.compile(
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
        )

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Networks are built in __init__ and optimizers in compile(). Keras's
        # version pulls a batch off the distributed iterator and reduces it
        # with MEAN to build the model, which fails under multi-worker
        # strategies and would skip a batch of the seeded stream.
        return

    @property
    def step(self):
        """Generator updates done so far: the training step count."""
        return int(self.g_optimizer.iterations.numpy())

    # -- training helpers -------------------------------------------------------

    def init_trackers(self, *names):
        """Create one `keras.metrics.Mean` per logged loss, averaged over the epoch."""
        self.loss_trackers = [keras.metrics.Mean(name=name) for name in names]

    @property
    def metrics(self):
        return list(getattr(self, "loss_trackers", []))

    def track(self, **values):
        """Update the loss trackers and return their current averages for the logs."""
        for tracker in self.loss_trackers:
            if tracker.name in values:
                tracker.update_state(values[tracker.name])
        results = {tracker.name: tracker.result() for tracker in self.loss_trackers}
        if _multi_worker(tf.distribute.get_strategy()):
            # fit() reduces these with MEAN over axis 0 across workers, which
            # needs a rank-1 value: the mean of one entry per replica.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    def latent_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def uniform_noise(self, shape):
        return keras.random.uniform(shape, seed=self.seed_generator)

    def apply_loss(self, optimizer, tape, loss, network):
        """One optimizer step of `network` down the gradient of `loss`.

        The backward pass starts from `output_gradients` rather than from a
        rescaled loss, so mixed-float16 loss scaling and the 1/replicas factor
        that makes summed replica gradients a global mean live here only.
        """
        variables = network.trainable_variables
        scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            scale = scale * optimizer.dynamic_scale
        grads = tape.gradient(loss, variables, output_gradients=ops.cast(scale, loss.dtype))
        optimizer.apply_gradients(zip(grads, variables))

    def require_labels(self, labels):
        if labels is None:
            raise GanzooError(
                f"model {self.registry_name!r} needs a labelled dataset; accepted: digits, "
                "ring8, grid25, a labelled TFDS dataset, folder:PATH with class subfolders, "
                "or npz:PATH with a 'y' array"
            )
        return labels

    # -- sampling ---------------------------------------------------------------

    def call(self, inputs, training=False):
        """Generate from `z`, or from `[z, labels]` for conditional models."""
        return self.generator(inputs, training=training)

    def generate(self, z, labels=None, training=False):
        """Examples for latents `z` (and `labels` for conditional models)."""
        z = ops.convert_to_tensor(z, "float32")
        if self.conditional:
            labels = ops.convert_to_tensor(self.require_labels(labels), "int32")
            return self.generator([z, labels], training=training)
        return self.generator(z, training=training)

    def sample(self, num, labels=None, seed=None, batch_size=256):
        """`num` examples as a NumPy array, generated in batches.

        A fixed integer `seed` gives the same latents every call; `None` draws
        fresh ones from the model's seed generator.
        """
        z = keras.random.normal(
            (num, self.latent_dim), seed=self.seed_generator if seed is None else seed
        )
        z = ops.convert_to_numpy(z)
        if self.conditional:
            labels = self.check_labels(self.require_labels(labels), num)
        out = []
        for start in range(0, num, batch_size):
            stop = start + batch_size
            chunk = self.generate(z[start:stop], None if labels is None else labels[start:stop])
            out.append(ops.convert_to_numpy(chunk))
        return np.concatenate(out) if out else np.zeros((0, *self.data_shape), "float32")

    def check_labels(self, labels, num):
        """`labels` (one int or `num` ints) as int32, each in [0, num_classes)."""
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((num,), labels)
        if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (num,):
            raise GanzooError(
                f"bad labels {labels.tolist()!r}; accepted: one integer or {num} integers"
            )
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.size:
            raise GanzooError(
                f"label {int(bad[0])} is out of range; accepted: 0 to {self.num_classes - 1}"
            )
        return labels.astype("int32")

    # -- the seed generator's state travels with the weights --------------------

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[_RNG_KEY] = ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _RNG_KEY in keys:
            self.seed_generator.state.assign(np.asarray(store[_RNG_KEY]))
            store = {key: store[key] for key in keys if key != _RNG_KEY}
        super().load_own_variables(store)


def _multi_worker(strategy):
    extended = getattr(strategy, "extended", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(extended, "_in_multi_worker_mode", lambda: False)()
    )


def _with_loss_scale(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
