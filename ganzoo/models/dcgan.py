"""Deep convolutional GAN."""

from ganzoo import checks, losses, networks
from ganzoo.errors import GanzooError
from ganzoo.models.base import GAN
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.models.vanilla import VanillaGAN
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

    HYPERPARAMETERS = declare(
        latent_dim=100,
        base_filters=Hyperparameter(
            64, checks.positive_int, "conv filters of the layer nearest the image (doubling, to 512)"
        ),
    )

    def __init__(self, data_shape, **kwargs):
        super().__init__(data_shape, **kwargs)
        if not networks.is_image_shape(self.data_shape):
            raise GanzooError(
                f"dcgan needs images of shape (H, W, C), got data_shape={self.data_shape}; "
                "accepted for points: a model with MLP networks (every other in ganzoo.list_models())"
            )
        self.generator = networks.conv_generator(self.data_shape, self.latent_dim, self.base_filters)
        self.discriminator = networks.conv_discriminator(self.discriminator_input_shape, self.base_filters)
        self.init_trackers("d_loss", "g_loss")

    # DCGAN changes the networks, not the algorithm: one discriminator update on
    # an all-real and an all-fake batch (each with its own batch-norm
    # statistics, as in the paper), then one non-saturating generator update.
    discriminator_loss = staticmethod(losses.discriminator_loss)
    generator_loss = staticmethod(losses.generator_loss)
    train_step = VanillaGAN.train_step
