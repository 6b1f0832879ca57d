"""The original GAN with MLP networks."""

import tensorflow as tf

from ganzoo import checks, losses, networks
from ganzoo.models.base import GAN, unpack
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.registry import register_model

IMAGE_UNITS = (512, 512)
POINT_UNITS = (128, 128, 128)


@register_model("vanilla")
class VanillaGAN(GAN):
    """The original GAN: MLP generator and discriminator, non-saturating loss.

    One discriminator update, then one generator update, per step (k = 1 in
    Algorithm 1). Images are generated flat and reshaped, so the same model
    trains on 2-D points and on images. The paper trained with SGD and
    momentum; ganzoo uses Adam(2e-4, beta_1=0.5), the setting later work found
    stable, for every non-Wasserstein variant.

    Args:
        data_shape: shape of one example, `(D,)` or `(H, W, C)`.
        latent_dim: size of the Gaussian latent vector.
        generator_units: widths of the generator's ReLU hidden layers; `None`
            picks 512,512 for images and 128,128,128 for points.
        discriminator_units: widths of the discriminator's LeakyReLU layers;
            `None` picks as for the generator.
        dropout: dropout rate in the discriminator (the paper used dropout).
        output_activation: `None` picks `"tanh"` for images in [-1, 1] and
            `"linear"` for points, which are not bounded.
        learning_rate, d_learning_rate, beta_1, beta_2, seed: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    points, info = data.load("ring8", batch_size=256)
    model = ganzoo.create_model("vanilla", data_shape=info.shape)
    model.compile()
    model.fit(points.take(20), epochs=1)
    samples = model.sample(1000)
    ```

    Paper: Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661
    """

    HYPERPARAMETERS = declare(
        latent_dim=64,
        generator_units=Hyperparameter(
            None, checks.widths.or_none(),
            "widths of the generator's ReLU hidden layers (None: 512,512 for images, "
            "128,128,128 for points)", kind=tuple,
        ),
        discriminator_units=Hyperparameter(
            None, checks.widths.or_none(),
            "widths of the discriminator's LeakyReLU hidden layers (None: as the generator's)",
            kind=tuple,
        ),
        dropout=Hyperparameter(0.0, checks.probability, "dropout rate in the discriminator"),
        output_activation=Hyperparameter(
            None, checks.one_of("tanh", "linear", "sigmoid").or_none(),
            "generator output (None: tanh for images, linear for points)",
        ),
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        activation = self.output_activation or (
            "tanh" if networks.is_image_shape(self.data_shape) else "linear"
        )
        # Points need far smaller networks than flattened images: at 128 units the
        # step costs a fifth of a 512x512 one and mixtures are still fitted.
        default_units = IMAGE_UNITS if networks.is_image_shape(self.data_shape) else POINT_UNITS
        self.generator = networks.mlp_generator(
            self.data_shape, self.latent_dim, self.generator_units or default_units,
            output_activation=activation,
        )
        self.discriminator = networks.mlp_discriminator(
            self.discriminator_input_shape, self.discriminator_units or default_units,
            dropout=self.dropout,
        )
        self.init_trackers("d_loss", "g_loss")

    # The non-saturating losses; a variant that keeps this algorithm with other
    # losses (SNGAN's hinge) sets these two.
    discriminator_loss = staticmethod(losses.discriminator_loss)
    generator_loss = staticmethod(losses.generator_loss)

    def train_step(self, data):
        real, _ = unpack(data)
        batch_size = tf.shape(real)[0]

        # 1. Discriminator: ascend log D(x) + log(1 - D(G(z))) (minus R1 if set).
        fake = self.generator(self.latent_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.discriminator_loss(real_logits, fake_logits) + self.regularization(real)
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator)

        # 2. Generator: descend -log D(G(z)) on fresh noise.
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent_noise(batch_size), training=True)
            g_loss = self.generator_loss(self.discriminator(fake, training=True))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        self.track_discriminator(real_logits, fake_logits)
        return self.track(d_loss=d_loss, g_loss=g_loss)
