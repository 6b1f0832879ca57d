"""Generator and discriminator networks, derived from the data shape.

Images (H, W, C) get convolutional networks whose depth follows from the size:
the image is halved while both sides stay even and at least 4 pixels (or 2,
for the first two halvings), so 8x8 starts from 2x2, 28x28 from 7x7 and 64x64
from 4x4. Flat data (2-D points,
flattened images) gets MLPs. Conditional networks take an int `labels` input.
The output layers run in float32 so mixed precision keeps stable logits.
"""

import math

import keras
from keras import layers, ops

from ganzoo.errors import GanzooError

MAX_FILTERS = 512
DCGAN_INIT = "dcgan"  # N(0, 0.02), Radford et al. 2015, sec. 4


def _initializer(name):
    if name == DCGAN_INIT:
        return keras.initializers.RandomNormal(stddev=0.02)
    return keras.initializers.get(name)


def upsampling_plan(image_shape):
    """(base_height, base_width, num_doublings) for a conv generator of this shape.

    Raises `GanzooError` for sizes the strided networks cannot produce.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    doublings = 0
    # Halve down to >= 4 pixels, as DCGAN does; small images may go to 2 pixels
    # so that every network has at least two strided layers.
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= (4 if doublings >= 2 else 2):
        height, width, doublings = height // 2, width // 2, doublings + 1
    if doublings == 0:
        raise GanzooError(
            f"image size {image_shape[0]}x{image_shape[1]} is not supported by the "
            "convolutional networks; accepted: sides that halve at least once to >= 4 "
            "pixels, e.g. 8, 16, 28, 32, 64 (resize with --image_size)"
        )
    return height, width, doublings


def _filters(base_filters, level):
    return min(base_filters * 2**level, MAX_FILTERS)


def _normalization(kind, name):
    if kind == "batch":
        # Synchronised across replicas so tf.distribute matches one device.
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=True, name=name)
    if kind == "layer":
        return layers.LayerNormalization(name=name)
    if kind is None:
        return None
    raise GanzooError(f"unknown normalization {kind!r}; accepted: batch, layer, None")


def _generator_inputs(latent_dim, num_classes, embedding_dim):
    z = keras.Input((latent_dim,), name="z")
    if not num_classes:
        return [z], z
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    return [z, labels], layers.Concatenate(name="z_and_label")([z, embedded])


def _model(inputs, outputs, name):
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=name)


def conv_generator(
    image_shape,
    latent_dim,
    base_filters=64,
    num_classes=0,
    initializer=DCGAN_INIT,
    name="generator",
):
    """DCGAN generator: dense projection, then stride-2 transposed convolutions."""
    base_h, base_w, doublings = upsampling_plan(image_shape)
    init = _initializer(initializer)
    inputs, h = _generator_inputs(latent_dim, num_classes, embedding_dim=latent_dim)
    filters = _filters(base_filters, doublings - 1)
    h = layers.Dense(base_h * base_w * filters, use_bias=False, kernel_initializer=init, name="project")(h)
    h = _normalization("batch", "project_bn")(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((base_h, base_w, filters))(h)
    for level in reversed(range(doublings - 1)):
        h = layers.Conv2DTranspose(
            _filters(base_filters, level), 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=init, name=f"up{level}",
        )(h)
        h = _normalization("batch", f"up{level}_bn")(h)
        h = layers.ReLU()(h)
    h = layers.Conv2DTranspose(
        image_shape[-1], 4, strides=2, padding="same", kernel_initializer=init, name="to_image"
    )(h)
    images = layers.Activation("tanh", dtype="float32", name="images")(h)
    return _model(inputs, images, name)


class _SpectrallyNormalized:
    """Mixin: the layer computes with W / sigma(W), sigma its largest singular value.

    As in Miyato et al. 2018 (eq. 8 and 12): sigma is estimated with one power
    iteration per training call on a stored vector `u`, and the gradient flows
    through sigma(W) to the raw weight W, which the optimizer updates. (Keras's
    `SpectralNormalization` instead overwrites W with W / sigma and lets the
    gradient through W only.)
    """

    def build(self, input_shape):
        super().build(input_shape)
        self.u = self.add_weight(
            shape=(1, self.kernel.shape[-1]), initializer=keras.initializers.RandomNormal(),
            trainable=False, name="u",
        )

    # Every variable by position, `u` included (Keras's Dense and Conv2D save
    # only their kernel and bias).
    def save_own_variables(self, store):
        for i, variable in enumerate(self.weights):
            store[str(i)] = variable

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        for i, variable in enumerate(self.weights):
            variable.assign(store[str(i)])

    def normalized_kernel(self, training):
        w = ops.reshape(self.kernel, (-1, self.kernel.shape[-1]))
        u = ops.convert_to_tensor(self.u)
        v = ops.stop_gradient(_unit(ops.matmul(u, ops.transpose(w))))
        u = ops.stop_gradient(_unit(ops.matmul(v, w)))
        if training:
            self.u.assign(u)
        sigma = ops.sum(ops.matmul(v, w) * u)
        return self.kernel / sigma

    def call(self, inputs, training=False):
        outputs = self.apply_kernel(inputs, self.normalized_kernel(training))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


def _unit(x):
    return x / (ops.sqrt(ops.sum(ops.square(x))) + 1e-12)


@keras.saving.register_keras_serializable(package="ganzoo")
class SNConv2D(_SpectrallyNormalized, layers.Conv2D):
    """`Conv2D` with a spectrally normalised kernel (see `_SpectrallyNormalized`)."""

    def apply_kernel(self, inputs, kernel):
        return self.convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="ganzoo")
class SNDense(_SpectrallyNormalized, layers.Dense):
    """`Dense` with a spectrally normalised kernel (see `_SpectrallyNormalized`)."""

    def apply_kernel(self, inputs, kernel):
        return ops.matmul(inputs, kernel)


def _conv2d(spectral_norm, *args, **kwargs):
    return (SNConv2D if spectral_norm else layers.Conv2D)(*args, **kwargs)


def _dense(spectral_norm, *args, **kwargs):
    return (SNDense if spectral_norm else layers.Dense)(*args, **kwargs)


def conv_discriminator(
    image_shape,
    base_filters=64,
    normalization="batch",
    num_classes=0,
    initializer=DCGAN_INIT,
    spectral_norm=False,
    name="discriminator",
):
    """DCGAN discriminator: stride-2 convolutions with LeakyReLU(0.2), one logit out.

    The first layer is never normalised (Radford et al. 2015). With `num_classes`,
    the label is embedded as an extra image channel. `spectral_norm` normalises
    every convolution and the logit layer (`SNConv2D`, `SNDense`).
    """
    _, _, doublings = upsampling_plan(image_shape)
    init = _initializer(initializer)
    images = keras.Input(tuple(image_shape), name="images")
    inputs, h = [images], images
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        height, width = image_shape[0], image_shape[1]
        plane = layers.Embedding(num_classes, height * width, name="label_embedding")(labels)
        plane = layers.Reshape((height, width, 1))(plane)
        inputs.append(labels)
        h = layers.Concatenate(name="image_and_label")([images, plane])
    for level in range(doublings):
        h = _conv2d(
            spectral_norm,
            _filters(base_filters, level), 4, strides=2, padding="same",
            kernel_initializer=init, name=f"down{level}",
        )(h)
        norm = _normalization(normalization, f"down{level}_norm") if level > 0 else None
        if norm is not None:
            h = norm(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    logits = _dense(spectral_norm, 1, kernel_initializer=init, dtype="float32", name="logit")(h)
    return _model(inputs, logits, name)


def mlp_generator(
    data_shape,
    latent_dim,
    units=(256, 256),
    batch_norm=False,
    output_activation="tanh",
    num_classes=0,
    name="generator",
):
    """MLP generator with ReLU hidden layers; output reshaped to `data_shape`."""
    inputs, h = _generator_inputs(latent_dim, num_classes, embedding_dim=max(num_classes, 8))
    for i, width in enumerate(units):
        h = layers.Dense(width, use_bias=not batch_norm, name=f"dense{i}")(h)
        if batch_norm:
            h = _normalization("batch", f"dense{i}_bn")(h)
        h = layers.ReLU()(h)
    h = layers.Dense(math.prod(data_shape), name="to_data")(h)
    h = layers.Activation(output_activation, dtype="float32", name="data")(h)
    outputs = layers.Reshape(tuple(data_shape), dtype="float32")(h)
    return _model(inputs, outputs, name)


def mlp_discriminator(
    data_shape, units=(256, 256), num_classes=0, dropout=0.0, spectral_norm=False,
    name="discriminator",
):
    """MLP discriminator with LeakyReLU(0.2) hidden layers and one logit out;
    `spectral_norm` normalises every dense layer."""
    x = keras.Input(tuple(data_shape), name="data")
    inputs, h = [x], layers.Flatten()(x)
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(num_classes, max(num_classes, 8), name="label_embedding")(labels)
        inputs.append(labels)
        h = layers.Concatenate(name="data_and_label")([h, embedded])
    for i, width in enumerate(units):
        h = _dense(spectral_norm, width, name=f"dense{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    logits = _dense(spectral_norm, 1, dtype="float32", name="logit")(h)
    return _model(inputs, logits, name)


def _residual_block(h, filters, name):
    """Normalization-free residual block (R3GAN, Huang et al. 2024): 1x1 expand,
    3x3 conv, 1x1 back, LeakyReLU(0.2) between; the last conv starts
    at zero so each block starts as the identity (fix-up initialisation)."""
    r = layers.Conv2D(filters, 1, name=f"{name}_in")(h)
    r = layers.LeakyReLU(0.2)(r)
    r = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(r)
    r = layers.LeakyReLU(0.2)(r)
    r = layers.Conv2D(h.shape[-1], 1, kernel_initializer="zeros", use_bias=False, name=f"{name}_out")(r)
    return layers.Add(name=f"{name}_add")([h, r])


def resnet_generator(image_shape, latent_dim, base_filters=32, name="generator"):
    """R3GAN-style generator, scaled down: dense to the base grid, then per level a
    bilinear 2x upsampling, a 1x1 transition and one residual block; no
    normalization. Output through tanh so images lie in [-1, 1] like every ganzoo
    generator (R3GAN's own output is linear)."""
    base_h, base_w, doublings = upsampling_plan(image_shape)
    z = keras.Input((latent_dim,), name="z")
    filters = _filters(base_filters, doublings)
    h = layers.Dense(base_h * base_w * filters, name="project")(z)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Reshape((base_h, base_w, filters))(h)
    h = _residual_block(h, filters, "base")
    for level in reversed(range(doublings)):
        h = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}")(h)
        h = layers.Conv2D(_filters(base_filters, level), 1, name=f"up{level}_transition")(h)
        h = _residual_block(h, _filters(base_filters, level), f"up{level}_block")
    h = layers.Conv2D(image_shape[-1], 1, name="to_image")(h)
    images = layers.Activation("tanh", dtype="float32", name="images")(h)
    return keras.Model(z, images, name=name)


def resnet_discriminator(image_shape, base_filters=32, name="discriminator"):
    """R3GAN-style discriminator, scaled down: a 1x1 stem, then per level one
    residual block, a 1x1 transition and 2x average pooling; no normalization;
    one logit out."""
    _, _, doublings = upsampling_plan(image_shape)
    images = keras.Input(tuple(image_shape), name="images")
    h = layers.Conv2D(base_filters, 1, name="from_image")(images)
    for level in range(doublings):
        h = _residual_block(h, _filters(base_filters, level), f"down{level}_block")
        h = layers.Conv2D(_filters(base_filters, level + 1), 1, name=f"down{level}_transition")(h)
        h = layers.AveragePooling2D(2, name=f"down{level}")(h)
    h = _residual_block(h, _filters(base_filters, doublings), "base")
    h = layers.Flatten()(h)
    logits = layers.Dense(1, dtype="float32", name="logit")(h)
    return keras.Model(images, logits, name=name)


def is_image_shape(data_shape):
    return len(data_shape) == 3
