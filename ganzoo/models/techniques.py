"""Techniques every variant gets from the base class, written once.

* `Pack` (PacGAN, Lin et al. 2018, https://arxiv.org/abs/1712.04086): the
  discriminator judges `pack` examples at once, concatenated along the last
  axis, so (B, ..., C) becomes (B / pack, ..., pack * C). Group i holds
  examples i * pack to (i + 1) * pack - 1.
* `DiffAugment` (Zhao et al. 2020, https://arxiv.org/abs/2006.10738):
  differentiable translation, cutout and colour transforms, applied in
  training only to everything the discriminator sees.
* `discriminator_view`: the discriminator network behind both, as one
  functional model the variants call like any discriminator.
"""

import keras
import tensorflow as tf

from ganzoo import checks
from ganzoo.errors import GanzooError

AUGMENTATIONS = ("translation", "cutout", "color")

augment_policy = checks.Rule(
    lambda v: isinstance(v, str) and all(p in AUGMENTATIONS for p in parse_policy(v)),
    "a comma-separated list of translation, cutout, color, or '' for none",
)


def parse_policy(policy):
    """'translation, color' -> ('translation', 'color'); '' -> ()."""
    return tuple(p.strip() for p in policy.split(",") if p.strip())


def packed_shape(data_shape, pack):
    """The discriminator network's input shape: the last axis `pack` times wider."""
    return (*data_shape[:-1], data_shape[-1] * pack)


class Pack(keras.layers.Layer):
    """(B, ..., C) -> (B / pack, ..., pack * C): consecutive examples side by side."""

    def __init__(self, pack, **kwargs):
        super().__init__(**kwargs)
        self.pack = int(pack)

    def call(self, x):
        if self.pack == 1:
            return x
        static = x.shape[0]
        if static is not None and static % self.pack:
            raise GanzooError(
                f"bad batch of {static} for pack={self.pack}; accepted: a batch size "
                f"divisible by {self.pack}"
            )
        batch = tf.shape(x)[0]
        tf.debugging.assert_equal(
            batch % self.pack, 0, message=f"the batch size must be divisible by pack={self.pack}"
        )
        inner = x.shape[1:]
        groups = tf.reshape(x, [batch // self.pack, self.pack, *inner])
        # Move the pack axis next to the channels, then merge the two.
        rank = len(inner) + 2
        groups = tf.transpose(groups, [0, *range(2, rank - 1), 1, rank - 1])
        return tf.reshape(groups, [batch // self.pack, *inner[:-1], self.pack * inner[-1]])

    def compute_output_shape(self, shape):
        batch = None if shape[0] is None else shape[0] // self.pack
        return (batch, *shape[1:-1], shape[-1] * self.pack)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}


class DiffAugment(keras.layers.Layer):
    """DiffAugment on images in [-1, 1], in training only, differentiable.

    The transforms and ranges are those of the paper's code: brightness
    +U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5), translation by
    up to 1/8 of the side (zero padded), cutout of a square half the side.
    `strength` scales every range (0 is the identity); draws come from
    `seed_generator`, the model's, which this layer uses but does not own.
    """

    def __init__(self, policy, seed_generator=None, strength=1.0, **kwargs):
        super().__init__(**kwargs)
        self.policy = parse_policy(policy) if isinstance(policy, str) else tuple(policy)
        self.strength = float(strength)
        # Not tracked: the state belongs to (and is saved by) the model.
        object.__setattr__(self, "_seed", seed_generator)

    def _uniform(self, shape, low, high):
        u = keras.random.uniform(shape, seed=self._seed)
        mid, half = (low + high) / 2, (high - low) / 2 * self.strength
        return mid + (2 * u - 1) * half

    def call(self, x, training=False):
        if not training or not self.policy:
            return x
        for name in self.policy:
            x = getattr(self, f"_{name}")(x)
        return x

    def _color(self, x):
        batch = tf.shape(x)[0]
        x = x + tf.cast(self._uniform([batch, 1, 1, 1], -0.5, 0.5), x.dtype)
        # (x - mean) * f + mean, written so that f = 1 gives x exactly.
        mean = tf.reduce_mean(x, axis=3, keepdims=True)
        x = x + (x - mean) * tf.cast(self._uniform([batch, 1, 1, 1], 0.0, 2.0) - 1.0, x.dtype)
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        return x + (x - mean) * tf.cast(self._uniform([batch, 1, 1, 1], 0.5, 1.5) - 1.0, x.dtype)

    def _translation(self, x, ratio=0.125):
        height, width = x.shape[1], x.shape[2]
        pad_h, pad_w = int(height * ratio * self.strength + 0.5), int(width * ratio * self.strength + 0.5)
        if not pad_h and not pad_w:
            return x
        batch = tf.shape(x)[0]
        shift_h = tf.cast(self._shift(batch, pad_h), tf.int32)
        shift_w = tf.cast(self._shift(batch, pad_w), tf.int32)
        x = tf.pad(x, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]])
        rows = tf.range(height)[None, :] + pad_h - shift_h
        cols = tf.range(width)[None, :] + pad_w - shift_w
        x = tf.gather(x, rows, axis=1, batch_dims=1)
        return tf.gather(x, cols, axis=2, batch_dims=1)

    def _shift(self, batch, pad):
        """Integer shifts uniform in [-pad, pad]."""
        u = keras.random.uniform([batch, 1], seed=self._seed)
        return tf.floor(u * (2 * pad + 1)) - pad

    def _cutout(self, x, ratio=0.5):
        height, width = x.shape[1], x.shape[2]
        cut_h, cut_w = int(height * ratio * self.strength + 0.5), int(width * ratio * self.strength + 0.5)
        if not cut_h or not cut_w:
            return x
        batch = tf.shape(x)[0]
        centre_h = tf.floor(keras.random.uniform([batch, 1, 1], seed=self._seed) * (height + 1 - cut_h % 2))
        centre_w = tf.floor(keras.random.uniform([batch, 1, 1], seed=self._seed) * (width + 1 - cut_w % 2))
        rows = tf.cast(tf.range(height), "float32")[None, :, None] - centre_h
        cols = tf.cast(tf.range(width), "float32")[None, None, :] - centre_w
        inside = (tf.abs(rows + 0.5) < cut_h / 2) & (tf.abs(cols + 0.5) < cut_w / 2)
        return x * tf.cast(~inside, x.dtype)[..., None]

    def get_config(self):
        return {**super().get_config(), "policy": ",".join(self.policy), "strength": self.strength}


def discriminator_view(network, data_shape, pack=1, augment="", seed_generator=None,
                       conditional=False):
    """`network` (built for `packed_shape(data_shape, pack)`) behind augmentation
    and packing, as a functional model taking batches of `data_shape` (and
    int labels, passed through, when `conditional`)."""
    policy = parse_policy(augment)
    if policy and len(data_shape) != 3:
        raise GanzooError(
            f"bad hyperparameter augment={augment!r} for data of shape {tuple(data_shape)}; "
            "accepted: '' (DiffAugment transforms images of shape (H, W, C))"
        )
    x = keras.Input(tuple(data_shape), name="examples")
    h = x
    if policy:
        h = DiffAugment(policy, seed_generator, name="diff_augment")(h)
    if pack > 1:
        h = Pack(pack, name="pack")(h)
    if conditional:
        labels = keras.Input((), dtype="int32", name="labels")
        return keras.Model([x, labels], network([h, labels]), name=network.name)
    return keras.Model(x, network(h), name=network.name)
