"""Wasserstein GAN with gradient penalty."""

import tensorflow as tf

from ganzoo import checks, losses, networks
from ganzoo.models.base import GAN, unpack
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.registry import register_model


@register_model("wgan_gp")
class WGANGP(GAN):
    """WGAN-GP: a critic with a gradient penalty instead of weight clipping.

    Algorithm 1 of the paper, step for step: `n_critic` critic updates per
    generator update, each on its own real minibatch (so one `train_step`
    consumes `n_critic` batches, see `real_batches_per_step`), the penalty on
    points interpolated with a weight drawn uniform in [0, 1] per sample, and
    a critic without batch norm. The defaults are the paper's: lambda = 10,
    n_critic = 5, Adam(1e-4, beta_1=0, beta_2=0.9). `self.discriminator` is
    the critic.

    Args:
        data_shape: `(H, W, C)` images (convolutional networks) or `(D,)`
            vectors (MLPs).
        latent_dim: size of the Gaussian latent vector.
        n_critic: critic updates per generator update.
        gp_weight: the penalty weight lambda.
        base_filters: conv filters of the layer nearest the image.
        units: hidden widths of the MLPs used for vector data.
        learning_rate, d_learning_rate, beta_1, beta_2, seed: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    model = ganzoo.create_model("wgan_gp", data_shape=(2,))
    points, _ = data.load("ring8", batch_size=64 * model.real_batches_per_step)
    model.compile()
    model.fit(points.take(10), epochs=1)
    ```

    Paper: Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028
    """

    HYPERPARAMETERS = declare(
        n_critic=Hyperparameter(5, checks.positive_int, "critic updates per generator update"),
        gp_weight=Hyperparameter(10.0, checks.number_in(0), "the gradient penalty weight lambda"),
        base_filters=Hyperparameter(64, checks.positive_int, "conv filters of the layer nearest the image"),
        units=Hyperparameter((512, 512, 512), checks.widths, "hidden widths of the MLPs for vector data"),
        learning_rate=1e-4,
        beta_1=0.0,
        beta_2=0.9,
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        if networks.is_image_shape(self.data_shape):
            self.generator = networks.conv_generator(
                self.data_shape, self.latent_dim, self.base_filters, initializer="glorot_uniform"
            )
            self.discriminator = networks.conv_discriminator(
                self.discriminator_input_shape, self.base_filters, normalization=None,
                initializer="glorot_uniform", name="critic",
            )
        else:
            self.generator = networks.mlp_generator(
                self.data_shape, self.latent_dim, self.units, output_activation="linear"
            )
            self.discriminator = networks.mlp_discriminator(
                self.discriminator_input_shape, self.units, name="critic"
            )
        self.init_trackers("d_loss", "g_loss", "gradient_penalty", "wasserstein")

    @property
    def real_batches_per_step(self):
        return self.n_critic

    def train_step(self, data):
        real, _ = unpack(data)
        critic = self.discriminator
        # The batch holds n_critic minibatches: one for each critic update.
        for real_batch in tf.split(real, self.n_critic):
            batch_size = tf.shape(real_batch)[0]
            fake = self.generator(self.latent_noise(batch_size), training=True)
            alpha_shape = [batch_size] + [1] * len(self.data_shape)
            alpha = self.uniform_noise(alpha_shape)
            with tf.GradientTape() as tape:
                real_scores = critic(real_batch, training=True)
                fake_scores = critic(fake, training=True)
                wasserstein_loss = losses.critic_loss(real_scores, fake_scores)
                penalty = losses.gradient_penalty(
                    lambda x: critic(x, training=True), real_batch, fake, alpha
                )
                d_loss = wasserstein_loss + self.gp_weight * penalty + self.regularization(real_batch)
            self.apply_loss(self.d_optimizer, tape, d_loss, critic)
            # The critic's estimate of the Wasserstein distance is -wasserstein_loss.
            self.update_trackers(d_loss=d_loss, gradient_penalty=penalty, wasserstein=-wasserstein_loss)
            self.track_discriminator(real_scores, fake_scores)

        # Generator: descend -E[f(G(z))].
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent_noise(batch_size), training=True)
            g_loss = losses.wasserstein_generator_loss(critic(fake, training=True))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        return self.track(g_loss=g_loss)
