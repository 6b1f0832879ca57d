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
import numpy as np
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


# -- small convolutions as one matmul -----------------------------------------
#
# On a feature map of a few pixels, TensorFlow's CPU kernel for a convolution's
# gradient with respect to its input (Conv2DBackpropInput, which is also a
# transposed convolution's forward pass) runs one tiny GEMM per image and
# kernel chunk: on AVX2 it took 80% of the 8x8 WGAN-GP step, 20 ms for one
# 64-image 4x4x64 -> 2x2x128 layer (docs/benchmarks/avx2_wgan_gp_profile.md).
# Such a layer is a product with a dense matrix built from the kernel, of
# about the same FLOPs, whose forward and every gradient are large matmuls.
# Layers keep Keras's variables, so checkpoints and exports do not change.

# Unroll only where the dense product costs at most this many times the
# convolution's multiply-adds, and the matrix stays small.
UNROLL_MAX_COST_RATIO = 4
UNROLL_MAX_ENTRIES = 1 << 20


def _same_padding(size, kernel, stride):
    """(output size, padding before) of a 'same' convolution, as TensorFlow pads."""
    out = -(-size // stride)
    return out, max((out - 1) * stride + kernel - size, 0) // 2


def tap_map(height, width, kernel_size, stride):
    """`(taps, out_h, out_w)`: `taps[p, q, k]` is 1 where kernel tap `k` links
    input pixel `p` to output pixel `q` of a stride-`stride` 'same' convolution."""
    kh, kw = kernel_size
    out_h, top = _same_padding(height, kh, stride)
    out_w, left = _same_padding(width, kw, stride)
    taps = np.zeros((height * width, out_h * out_w, kh * kw), "float32")
    for oy in range(out_h):
        for ox in range(out_w):
            for ky in range(kh):
                for kx in range(kw):
                    iy, ix = oy * stride + ky - top, ox * stride + kx - left
                    if 0 <= iy < height and 0 <= ix < width:
                        taps[iy * width + ix, oy * out_w + ox, ky * kw + kx] = 1.0
    return taps, out_h, out_w


def unroll_pays(taps, in_channels, out_channels):
    """Whether the convolution whose `tap_map` is `taps` is cheaper as a dense
    matmul (`UNROLL_MAX_COST_RATIO`, `UNROLL_MAX_ENTRIES`)."""
    dense = taps.shape[0] * taps.shape[1]  # input pixels x output pixels
    entries = dense * in_channels * out_channels
    return dense <= UNROLL_MAX_COST_RATIO * taps.sum() and entries <= UNROLL_MAX_ENTRIES


def unrolled_matrix(kernel, taps):
    """The `(H*W*C_in, H'*W'*C_out)` matrix of a convolution with `kernel`
    `(kh, kw, C_in, C_out)`, channels-last flattening on both sides."""
    kh, kw, c_in, c_out = kernel.shape
    pixels_in, pixels_out = taps.shape[0], taps.shape[1]
    taps = ops.cast(taps, kernel.dtype)  # bfloat16 under mixed precision, like the kernel
    matrix = ops.einsum("pqk,kio->piqo", taps, ops.reshape(kernel, (kh * kw, c_in, c_out)))
    return ops.reshape(matrix, (pixels_in * c_in, pixels_out * c_out))


class _SmallMapsAsMatmul:
    """Mixin for Keras's 2-D convolution layers: where `unroll_pays` for the
    input's shape, compute as one matmul with `unrolled_matrix`."""

    def build(self, input_shape):
        super().build(input_shape)
        self.taps = None
        height, width, channels = input_shape[1], input_shape[2], input_shape[3]
        simple = (self.padding == "same" and self.data_format == "channels_last"
                  and self.strides[0] == self.strides[1] and set(self.dilation_rate) == {1}
                  and getattr(self, "groups", 1) == 1 and None not in (height, width))
        if not simple:
            return
        stride, filters = self.strides[0], self.filters
        if self.transposed:  # the adjoint of a convolution from the larger map
            height, width, channels, filters = height * stride, width * stride, filters, channels
        taps = tap_map(height, width, self.kernel_size, stride)[0]
        if unroll_pays(taps, channels, filters):
            self.taps = taps

    def call(self, inputs):
        if self.taps is None:
            return super().call(inputs)
        _, height, width, channels = inputs.shape
        matrix = unrolled_matrix(ops.cast(self.kernel, inputs.dtype), self.taps)
        if self.transposed:
            matrix = ops.transpose(matrix)
        outputs = ops.matmul(ops.reshape(inputs, (-1, height * width * channels)), matrix)
        out_h, out_w = self.compute_output_shape(inputs.shape)[1:3]
        outputs = ops.reshape(outputs, (-1, out_h, out_w, self.filters))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


# Named as Keras's classes on purpose: Keras names saved weights after the
# class (`conv2d_1/vars`), so checkpoints load either way.
@keras.saving.register_keras_serializable(package="ganzoo")
class Conv2D(_SmallMapsAsMatmul, layers.Conv2D):
    """Keras's `Conv2D`, computed as one matmul on small maps (`unroll_pays`)."""

    transposed = False


@keras.saving.register_keras_serializable(package="ganzoo")
class Conv2DTranspose(_SmallMapsAsMatmul, layers.Conv2DTranspose):
    """Keras's `Conv2DTranspose`, computed as one matmul on small maps: the
    transpose of the matrix of the convolution it is the adjoint of. Keras keeps
    its kernel as (kh, kw, filters, in_channels), that convolution's layout."""

    transposed = True

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
        h = Conv2DTranspose(
            _filters(base_filters, level), 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=init, name=f"up{level}",
        )(h)
        h = _normalization("batch", f"up{level}_bn")(h)
        h = layers.ReLU()(h)
    h = Conv2DTranspose(
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
        h = (SNConv2D if spectral_norm else Conv2D)(
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
