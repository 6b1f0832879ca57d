"""R3GAN: relativistic pairing loss with R1 and R2, normalization-free ResNets."""

import tensorflow as tf

from ganzoo import checks, losses, networks
from ganzoo.models.base import GAN, unpack
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.registry import register_model


@register_model("r3gan")
class R3GAN(GAN):
    """R3GAN: the regularised relativistic GAN of "A Modern GAN Baseline".

    The discriminator loss is the relativistic pairing loss
    E[softplus(D(G(z)) - D(x))], each fake paired with one real, plus
    zero-centred gradient penalties on both real (R1) and fake (R2) samples,
    each weighted gamma / 2; the generator descends E[softplus(D(x) - D(G(z)))].
    The paper shows this loss has no mode-dropping local minima and, with both
    penalties, converges locally. Images get normalization-free residual
    networks (1x1-3x3-1x1 blocks whose last conv starts at zero, bilinear up-
    and average down-sampling), a small version of the paper's modernised
    StyleGAN2 backbone without its grouped convolutions; points get MLPs.

    Defaults: Adam(2e-4, beta_1=0, beta_2=0.99), the StyleGAN2-lineage setting
    R3GAN trains with; gamma = 0.05, meant as the small-image (CIFAR-10) end of
    the paper's per-dataset values. The paper also decays the learning rate and
    gamma on a schedule and sets both per dataset; ganzoo keeps them constant.
    These numbers were not re-checked against the official configs: check the
    paper's appendix before quoting results, and tune `--set gamma=...`
    (larger for harder, higher-resolution data).
    The generator ends in tanh (ganzoo's image range) where R3GAN's is linear.

    Args:
        data_shape: `(H, W, C)` images (residual networks) or `(D,)` vectors
            (MLPs).
        latent_dim: size of the Gaussian latent vector.
        gamma: weight of R1 and R2 (each gamma / 2).
        base_filters: filters at full resolution; each halving doubles them,
            up to 512.
        units: hidden widths of the MLPs used for vector data.
        learning_rate, d_learning_rate, beta_1, beta_2, seed, pack, r1_weight,
            augment, ema: see `GAN` (`r1_weight` adds a second R1 on top).

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    images, info = data.load("digits", batch_size=64, drop_remainder=True)
    r3gan = ganzoo.create_model("r3gan", data_shape=info.shape, base_filters=16,
                                augment="translation,cutout")  # small data: DiffAugment
    r3gan.compile()
    history = r3gan.fit(images.map(lambda x, y: x).take(10), epochs=1)
    print(history.history["r1"], history.history["r2"])  # both penalties, logged
    ```

    Paper: Huang et al. 2024, https://arxiv.org/abs/2501.05441
    """

    HYPERPARAMETERS = declare(
        gamma=Hyperparameter(0.05, checks.number_in(0), "weight of the R1 and R2 penalties (each gamma / 2)"),
        base_filters=Hyperparameter(32, checks.positive_int, "conv filters at full resolution (doubling, to 512)"),
        units=Hyperparameter((256, 256), checks.widths, "hidden widths of the MLPs for vector data"),
        beta_1=0.0,
        beta_2=0.99,
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        if networks.is_image_shape(self.data_shape):
            self.generator = networks.resnet_generator(self.data_shape, self.latent_dim, self.base_filters)
            self.discriminator = networks.resnet_discriminator(
                self.discriminator_input_shape, self.base_filters
            )
        else:
            self.generator = networks.mlp_generator(
                self.data_shape, self.latent_dim, self.units, output_activation="linear"
            )
            self.discriminator = networks.mlp_discriminator(self.discriminator_input_shape, self.units)
        self.init_trackers("d_loss", "g_loss", "r1", "r2")

    def train_step(self, data):
        real, _ = unpack(data)
        batch_size = tf.shape(real)[0]
        discriminator = lambda x: self.discriminator(x, training=True)

        # 1. Discriminator: relativistic pairing loss + gamma/2 (R1 + R2).
        fake = self.generator(self.latent_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = discriminator(real)
            fake_logits = discriminator(fake)
            r1 = losses.zero_centered_penalty(discriminator, real)
            r2 = losses.zero_centered_penalty(discriminator, fake)
            d_loss = losses.relativistic_discriminator_loss(real_logits, fake_logits)
            d_loss += 0.5 * self.gamma * (r1 + r2) + self.regularization(real)
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator)

        # 2. Generator: the same pairs seen from the other side, on fresh noise.
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent_noise(batch_size), training=True)
            g_loss = losses.relativistic_generator_loss(discriminator(real), discriminator(fake))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        self.track_discriminator(real_logits, fake_logits)
        return self.track(d_loss=d_loss, g_loss=g_loss, r1=r1, r2=r2)
