"""`GAN`: what every variant shares, so each `train_step` holds only its algorithm.

Shared here: hyperparameters and `get_config`, the two optimizers and their
(de)serialisation, loss trackers, noise drawn through one `SeedGenerator`, the
gradient step (with loss scaling and replica averaging) and sampling.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganzoo import checks, losses
from ganzoo.errors import GanzooError
from ganzoo.models import techniques
from ganzoo.models.hyperparameters import Hyperparameter, declare, merge
from ganzoo.models.optimizers import FusedAdam

_RNG_KEY = "seed_generator_state"
# Logged by every variant beside its losses: the discriminator's mean output on
# real and fake data and its accuracy (`track_discriminator`), and the gradient
# norm of each network (`apply_loss`). `training.callbacks.InstabilityMonitor`
# reads them.
DIAGNOSTICS = ("d_real", "d_fake", "d_accuracy", "d_grad_norm", "g_grad_norm")


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

    Techniques every variant gets, off by default (see `ganzoo.models.techniques`):

        pack: the discriminator judges groups of `pack` examples, concatenated
            along the last axis (PacGAN, Lin et al. 2018). Variants build their
            discriminator network for `self.discriminator_input_shape`; the
            base puts it behind a view that packs. Batches must divide by it.
        r1_weight: gamma of the R1 penalty (gamma / 2) E||grad D(x)||^2 on real
            data (Mescheder et al. 2018), added by `regularization()`.
        augment: DiffAugment policy (Zhao et al. 2020), e.g.
            "translation,cutout,color", applied in training to every batch the
            discriminator sees, real and fake alike.
        ema: decay of an exponential moving average of the generator's weights
            (Karras et al. 2018 use 0.999), kept by the generator optimizer's
            `use_ema` (so it starts from the weights after the first update,
            then avg = d * avg + (1 - d) * w with d = ema, or with `ema_warmup`
            d = min(ema, (1 + t) / (10 + t)) after t updates); `sample`,
            `generate` outside training and exports use `ema_generator`,
            synced from it.
        ema_warmup: ramp the average's decay up as above (on by default), so
            that a short run's average does not reach back to the random
            initial weights.
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
        pack=Hyperparameter(
            1, checks.positive_int, "examples the discriminator judges together (PacGAN; 1: off)"
        ),
        r1_weight=Hyperparameter(
            0.0, checks.number_in(0), "gamma of the R1 penalty on real data (0: off)"
        ),
        augment=Hyperparameter(
            "", techniques.augment_policy,
            "DiffAugment policy for all the discriminator sees, e.g. translation,cutout,color",
        ),
        ema=Hyperparameter(
            0.0, checks.probability, "decay of the generator weights' moving average (0: off)"
        ),
        ema_warmup=Hyperparameter(
            True, checks.boolean, "ramp the average's decay up as min(ema, (1+t)/(10+t))"
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
        if self.conditional and values["pack"] > 1:
            raise GanzooError(
                f"bad hyperparameter pack={values['pack']} for the conditional model "
                f"{self.registry_name!r}; accepted: 1"
            )
        self.data_shape = data_shape
        for name, value in values.items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.seed_generator = ReplicaSeedGenerator(self.seed)
        # The sub-networks are functional models, built as they are created.
        self.built = True

    def __setattr__(self, name, value):
        # The variant assigns its networks; the base adds what the techniques need.
        if name == "discriminator" and (self.pack > 1 or self.augment):
            value = techniques.discriminator_view(
                value, self.data_shape, self.pack, self.augment, self.seed_generator,
                conditional=self.conditional,
            )
        super().__setattr__(name, value)
        if name == "generator" and getattr(self, "ema", 0):
            clone = keras.models.clone_model(value)
            clone.set_weights(value.get_weights())
            self.ema_generator = keras.Model(clone.inputs, clone.outputs, name="ema_generator")

    def check_batch_size(self, batch_size, replicas=1):
        """Refuse a global batch whose per-replica part `pack` does not divide."""
        if batch_size % (self.pack * replicas):
            raise GanzooError(
                f"bad batch_size={batch_size} for pack={self.pack}"
                + (f" on {replicas} replicas" if replicas > 1 else "")
                + f"; accepted: a multiple of {self.pack * replicas}"
            )

    @property
    def discriminator_input_shape(self):
        """The input shape of the discriminator network a variant builds."""
        return techniques.packed_shape(self.data_shape, self.pack)

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
        if self.ema:
            # The generator's average lives in its optimizer (Keras's use_ema).
            inner = getattr(self.g_optimizer, "inner_optimizer", self.g_optimizer)
            warmup = getattr(inner, "ema_warmup", False)
            if not inner.use_ema or inner.ema_momentum != self.ema or warmup != self.ema_warmup:
                if inner.built:
                    raise GanzooError(
                        f"bad g_optimizer for ema={self.ema}; accepted: an unbuilt optimizer"
                    )
                if self.ema_warmup and not isinstance(inner, FusedAdam):
                    raise GanzooError(
                        f"bad g_optimizer {type(inner).__name__} for ema_warmup=true; accepted: "
                        "ganzoo's FusedAdam, or ema_warmup=false"
                    )
                inner.use_ema, inner.ema_momentum = True, self.ema
                if isinstance(inner, FusedAdam):
                    inner.ema_warmup = self.ema_warmup
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":
            self.g_optimizer = _with_loss_scale(self.g_optimizer)
            self.d_optimizer = _with_loss_scale(self.d_optimizer)
        # Built now, so checkpoints load into them and strategies find them ready.
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _adam(self, learning_rate, name):
        ema = ({"use_ema": True, "ema_momentum": self.ema, "ema_warmup": self.ema_warmup}
               if self.ema and name == "g_adam" else {})
        return FusedAdam(learning_rate, beta_1=self.beta_1, beta_2=self.beta_2, name=name, **ema)

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
        """Create one `keras.metrics.Mean` per logged loss, averaged over the epoch,
        and one per diagnostic every variant logs (`DIAGNOSTICS`)."""
        names = dict.fromkeys([*names, *DIAGNOSTICS])
        self.loss_trackers = [keras.metrics.Mean(name=name) for name in names]

    def track_discriminator(self, real_outputs, fake_outputs):
        """Log the discriminator's mean raw output on real and on fake data and
        its ranking accuracy (`losses.ranking_accuracy`): signs of a
        discriminator that wins outright."""
        self.update_trackers(
            d_real=ops.mean(ops.cast(real_outputs, "float32")),
            d_fake=ops.mean(ops.cast(fake_outputs, "float32")),
            d_accuracy=losses.ranking_accuracy(real_outputs, fake_outputs),
        )

    @property
    def metrics(self):
        return list(getattr(self, "loss_trackers", []))

    def update_trackers(self, **values):
        """Add this step's values to their trackers (`track` also returns the logs)."""
        for tracker in self.loss_trackers:
            if tracker.name in values:
                tracker.update_state(values[tracker.name])

    def track(self, **values):
        """Update the loss trackers and return their current averages for the logs:
        a `train_step` ends with it, once (each result is a few more ops)."""
        self.update_trackers(**values)
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
        # The gradient norm of the unscaled loss: a blow-up shows here first. Over
        # several replicas it is each replica's, on its share of the batch, averaged
        # (the global one would cost a second all-reduce per step).
        norm = tf.linalg.global_norm([g for g in grads if g is not None]) / ops.cast(scale, "float32")
        self.update_trackers(**{"d_grad_norm" if optimizer is self.d_optimizer else "g_grad_norm": norm})
        optimizer.apply_gradients(zip(grads, variables))

    def regularization(self, real, labels=None):
        """The R1 penalty (r1_weight / 2) E||grad D(x)||^2 on real data, for the
        discriminator's loss; 0 (and no graph) when `r1_weight` is 0."""
        if not self.r1_weight:
            return 0.0
        if self.conditional:
            discriminator = lambda x: self.discriminator([x, labels], training=True)
        else:
            discriminator = lambda x: self.discriminator(x, training=True)
        return 0.5 * self.r1_weight * losses.zero_centered_penalty(discriminator, real)

    def require_labels(self, labels):
        if labels is None:
            raise GanzooError(
                f"model {self.registry_name!r} needs a labelled dataset; accepted: digits, "
                "ring8, grid25, a labelled TFDS dataset, folder:PATH with class subfolders, "
                "or npz:PATH with a 'y' array"
            )
        return labels

    # -- sampling ---------------------------------------------------------------

    @property
    def sampling_generator(self):
        """The generator that samples and exports: `ema_generator` (synced with
        the optimizer's averages) when `ema` is on, else `generator`."""
        if not self.ema:
            return self.generator
        if tf.executing_eagerly():
            self.sync_ema()
        return self.ema_generator

    def sync_ema(self):
        """Copy the optimizer's moving averages (and the generator's non-trained
        state, e.g. batch-norm statistics) into `ema_generator`."""
        optimizer = getattr(self, "g_optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        averages = getattr(optimizer, "_model_variables_moving_average", None)
        if not averages or int(optimizer.iterations.numpy()) == 0:
            if averages is not None:  # compiled, not trained: the initial weights
                self.ema_generator.set_weights(self.generator.get_weights())
            return
        for target, average in zip(self.ema_generator.trainable_variables, averages):
            target.assign(average)
        for target, value in zip(self.ema_generator.non_trainable_variables,
                                 self.generator.non_trainable_variables):
            target.assign(value)

    def call(self, inputs, training=False):
        """Generate from `z`, or from `[z, labels]` for conditional models."""
        generator = self.generator if training else self.sampling_generator
        return generator(inputs, training=training)

    def generate(self, z, labels=None, training=False):
        """Examples for latents `z` (and `labels` for conditional models); the
        averaged generator outside training when `ema` is on."""
        z = ops.convert_to_tensor(z, "float32")
        generator = self.generator if training else self.sampling_generator
        if self.conditional:
            labels = ops.convert_to_tensor(self.require_labels(labels), "int32")
            return generator([z, labels], training=training)
        return generator(z, training=training)

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
        if self.ema:
            self.sync_ema()  # before ema_generator's own weights are written
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
