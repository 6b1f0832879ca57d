"""Deep convolutional GAN."""

import tensorflow as tf

from ganzoo import losses, networks
from ganzoo.errors import GanzooError
from ganzoo.models.base import GAN, unpack
from ganzoo.registry import register_model


@register_model("dcgan")
class DCGAN(GAN):
    """DCGAN: strided (transposed) convolutions, batch norm, ReLU / LeakyReLU.

    The layer stack follows from the image size (see `ganzoo.networks`). The
    paper's settings are the defaults: Adam(2e-4, beta_1=0.5), weights drawn
    from N(0, 0.02), LeakyReLU slope 0.2, latent size 100, no batch norm on the
    discriminator's first layer and the non-saturating generator loss.

    Args:
        data_shape: image shape `(H, W, C)`; 1 or 3 channels, sides such as
            8, 16, 28, 32 or 64.
        latent_dim: size of the Gaussian latent vector.
        base_filters: filters of the layer nearest the image; each layer
            further from it doubles them, up to 512.
        learning_rate, d_learning_rate, beta_1, beta_2, seed: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    images, info = data.load("digits", batch_size=64, drop_remainder=True)
    model = ganzoo.create_model("dcgan", data_shape=info.shape)
    model.compile()
    model.fit(images.map(lambda x, y: x), epochs=1)
    grid = model.sample(16, seed=0)
    ```

    Paper: Radford et al. 2015, https://arxiv.org/abs/1511.06434
    """

    def __init__(
        self,
        data_shape,
        latent_dim=100,
        base_filters=64,
        learning_rate=2e-4,
        d_learning_rate=None,
        beta_1=0.5,
        beta_2=0.999,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            data_shape, latent_dim, learning_rate, d_learning_rate, beta_1, beta_2, seed, **kwargs
        )
        if not networks.is_image_shape(self.data_shape):
            raise GanzooError(
                f"dcgan needs images of shape (H, W, C), got data_shape={self.data_shape}; "
                "accepted for points: vanilla, wgan_gp, cgan"
            )
        self.base_filters = base_filters
        self.generator = networks.conv_generator(self.data_shape, latent_dim, base_filters)
        self.discriminator = networks.conv_discriminator(self.data_shape, base_filters)
        self.init_trackers("d_loss", "g_loss", "d_real", "d_fake")

    def train_step(self, data):
        real, _ = unpack(data)
        batch_size = tf.shape(real)[0]

        # 1. Discriminator, on an all-real and an all-fake batch as in the paper.
        #    Each batch gets its own batch-norm statistics.
        fake = self.generator(self.latent_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = losses.discriminator_loss(real_logits, fake_logits)
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator)

        # 2. Generator: non-saturating loss on fresh noise.
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent_noise(batch_size), training=True)
            g_loss = losses.generator_loss(self.discriminator(fake, training=True))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        return self.track(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=tf.reduce_mean(tf.sigmoid(real_logits)),
            d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)),
        )
