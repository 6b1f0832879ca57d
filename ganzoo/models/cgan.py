"""Conditional GAN."""

import tensorflow as tf

from ganzoo import checks, losses, networks
from ganzoo.data import MAX_CLASSES
from ganzoo.models.base import GAN, unpack
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.registry import register_model


@register_model("cgan")
class ConditionalGAN(GAN):
    """Conditional GAN: generator and discriminator both see the class label.

    The generator takes `[z, labels]` and the discriminator `[x, labels]`; the
    label is embedded and joined to z, and to the image as one more channel
    (or to the vector, for flat data). The paper's MLPs and SGD schedule are
    replaced by DCGAN networks and Adam(2e-4, beta_1=0.5) for images, as in the
    Keras conditional GAN example; flat data gets MLPs. Fake examples are
    generated for the labels of the real batch, so both share one class mix.

    Args:
        data_shape: `(H, W, C)` images or `(D,)` vectors.
        num_classes: number of class labels, from the dataset.
        latent_dim: size of the Gaussian latent vector.
        base_filters: conv filters of the layer nearest the image.
        units: hidden widths of the MLPs used for vector data.
        learning_rate, d_learning_rate, beta_1, beta_2, seed: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    images, info = data.load("digits", batch_size=64, drop_remainder=True)
    model = ganzoo.create_model("cgan", data_shape=info.shape, num_classes=info.num_classes)
    model.compile()
    model.fit(images, epochs=1)
    sevens = model.sample(8, labels=7)
    ```

    Paper: Mirza & Osindero 2014, https://arxiv.org/abs/1411.1784
    """

    conditional = True

    HYPERPARAMETERS = declare(
        num_classes=Hyperparameter(
            10, checks.Rule(lambda v: checks.is_int(v) and 2 <= v <= MAX_CLASSES,
                            f"an integer from 2 to {MAX_CLASSES}"),
            "number of class labels (from the data; set it for labels sparse on purpose)",
        ),
        latent_dim=100,
        base_filters=Hyperparameter(64, checks.positive_int, "conv filters of the layer nearest the image"),
        units=Hyperparameter((512, 512), checks.widths, "hidden widths of the MLPs for vector data"),
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        if networks.is_image_shape(self.data_shape):
            self.generator = networks.conv_generator(
                self.data_shape, self.latent_dim, self.base_filters, num_classes=self.num_classes
            )
            self.discriminator = networks.conv_discriminator(
                self.data_shape, self.base_filters, num_classes=self.num_classes
            )
        else:
            self.generator = networks.mlp_generator(
                self.data_shape, self.latent_dim, self.units, output_activation="linear",
                num_classes=self.num_classes,
            )
            self.discriminator = networks.mlp_discriminator(
                self.data_shape, self.units, num_classes=self.num_classes
            )
        self.init_trackers("d_loss", "g_loss")

    def train_step(self, data):
        real, labels = unpack(data)
        labels = self.require_labels(labels)
        batch_size = tf.shape(real)[0]

        # 1. Discriminator: real (x, y) pairs against generated (G(z, y), y).
        fake = self.generator([self.latent_noise(batch_size), labels], training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([real, labels], training=True)
            fake_logits = self.discriminator([fake, labels], training=True)
            d_loss = losses.discriminator_loss(real_logits, fake_logits)
            d_loss += self.regularization(real, labels)
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator)

        # 2. Generator: make D accept G(z, y) as an example of class y.
        with tf.GradientTape() as tape:
            fake = self.generator([self.latent_noise(batch_size), labels], training=True)
            g_loss = losses.generator_loss(self.discriminator([fake, labels], training=True))
        self.apply_loss(self.g_optimizer, tape, g_loss, self.generator)

        self.track_discriminator(real_logits, fake_logits)
        return self.track(d_loss=d_loss, g_loss=g_loss)
