"""GAN with spectrally normalised discriminator and hinge loss."""

import tensorflow as tf

from ganzoo import checks, losses, networks
from ganzoo.models.base import GAN, unpack
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.registry import register_model


@register_model("sngan")
class SNGAN(GAN):
    """SNGAN: every discriminator layer spectrally normalised, hinge loss.

    Each weight matrix W of the discriminator is divided by its largest singular
    value, estimated with one power iteration per training call, which bounds
    the discriminator's Lipschitz constant without a penalty. Images get a
    DCGAN generator and a DCGAN-shaped discriminator without batch norm; points
    get MLPs. Defaults are the paper's DCGAN-like setting "C" (Table 1):
    Adam(2e-4, beta_1=0.5, beta_2=0.999) with one discriminator update per
    generator update (n_dis = 1). The paper's other setting, Adam(1e-4, 0.5,
    0.9) with n_dis = 5, is not offered: this variant takes one update each.

    Departure: spectral normalisation is `keras.layers.SpectralNormalization`,
    which overwrites the kernel with W / sigma(W) on each training call and
    lets the gradient through W only, not through sigma(W) as in the paper's
    eq. 12; the normalised network is the same, the gradient differs by the
    paper's "adaptive regularisation" term.

    Args:
        data_shape: `(H, W, C)` images (convolutional networks) or `(D,)`
            vectors (MLPs).
        latent_dim: size of the Gaussian latent vector (the paper: 128).
        base_filters: conv filters of the layer nearest the image.
        units: hidden widths of the MLPs used for vector data.
        learning_rate, d_learning_rate, beta_1, beta_2, seed, pack, r1_weight,
            augment, ema: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    points, info = data.load("ring8", batch_size=256)
    model = ganzoo.create_model("sngan", data_shape=info.shape)
    model.compile()
    model.fit(points.take(20), epochs=1)
    samples = model.sample(1000)
    ```

    Paper: Miyato et al. 2018, https://arxiv.org/abs/1802.05957
    """

    HYPERPARAMETERS = declare(
        base_filters=Hyperparameter(64, checks.positive_int, "conv filters of the layer nearest the image"),
        units=Hyperparameter((512, 512), checks.widths, "hidden widths of the MLPs for vector data"),
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        if networks.is_image_shape(self.data_shape):
            self.generator = networks.conv_generator(self.data_shape, self.latent_dim, self.base_filters)
            self.discriminator = networks.conv_discriminator(
                self.discriminator_input_shape, self.base_filters, normalization=None,
                initializer="glorot_uniform", spectral_norm=True,
            )
        else:
            self.generator = networks.mlp_generator(
                self.data_shape, self.latent_dim, self.units, output_activation="linear"
            )
            self.discriminator = networks.mlp_discriminator(
                self.discriminator_input_shape, self.units, spectral_norm=True
            )
        self.init_trackers("d_loss", "g_loss")

    def train_step(self, data):
        real, _ = unpack(data)
        batch_size = tf.shape(real)[0]

        # 1. Discriminator: hinge loss, E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))].
        fake = self.generator(self.latent_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = losses.hinge_discriminator_loss(real_logits, fake_logits)
            d_loss += self.regularization(real)
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator)

        # 2. Generator: descend -E[D(G(z))] on fresh noise.
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent_noise(batch_size), training=True)
            g_loss = losses.hinge_generator_loss(self.discriminator(fake, training=True))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        self.track_discriminator(real_logits, fake_logits)
        return self.track(d_loss=d_loss, g_loss=g_loss)
