"""GAN with spectrally normalised discriminator and hinge loss."""

from ganzoo import checks, losses, networks
from ganzoo.models.base import GAN
from ganzoo.models.hyperparameters import Hyperparameter, declare
from ganzoo.models.vanilla import VanillaGAN
from ganzoo.registry import register_model


@register_model("sngan")
class SNGAN(GAN):
    """SNGAN: every discriminator layer spectrally normalised, hinge loss.

    Each weight matrix W of the discriminator is divided by its largest singular
    value, estimated with one power iteration per training call, which bounds
    the discriminator's Lipschitz constant without a penalty. Images get a
    DCGAN generator and a DCGAN-shaped discriminator without batch norm; points
    get MLPs. One discriminator update per generator update (n_dis = 1, the
    paper's settings B and C). Adam(4e-4, beta_1=0, beta_2=0.9) by default, the
    SAGAN/BigGAN practice for spectrally normalised GANs: at the paper's setting
    C, Adam(2e-4, 0.5, 0.999), all 5 seeds of the 2-minute ring8 benchmark
    collapsed onto the data's mean (0 of 8 modes), with this one all 5 covered
    the 8 modes, and on Fashion-MNIST this setting gave FID 312 against 493 for
    setting C (seed 0, 3 minutes on 2 cores; momentum feeds the game's rotation,
    Gidel et al. 2019, https://arxiv.org/abs/1807.04740).

    Spectral normalisation is ganzoo's `networks.SNConv2D` / `SNDense`, as in
    the paper's eq. 12: the gradient flows through sigma(W) to the raw weights.
    (Keras's `SpectralNormalization` overwrites W with W / sigma(W) instead and
    skips that term; on Fashion-MNIST at equal time it gave FID 732 against
    493, seed 0, 3 minutes on 2 cores.)

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

    images, info = data.load("digits", batch_size=64, drop_remainder=True)
    sngan = ganzoo.create_model("sngan", data_shape=info.shape, ema=0.999)
    sngan.compile()
    sngan.fit(images.map(lambda x, y: x).take(20), epochs=1)
    averaged = sngan.sample(16, seed=0)  # from the averaged generator
    ```

    Paper: Miyato et al. 2018, https://arxiv.org/abs/1802.05957
    """

    HYPERPARAMETERS = declare(
        base_filters=Hyperparameter(64, checks.positive_int, "conv filters of the layer nearest the image"),
        units=Hyperparameter((512, 512), checks.widths, "hidden widths of the MLPs for vector data"),
        learning_rate=4e-4,
        beta_1=0.0,
        beta_2=0.9,
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

    # SNGAN changes the networks and the loss, not the algorithm: one hinge
    # discriminator update, then one generator update, as in `VanillaGAN`.
    discriminator_loss = staticmethod(losses.hinge_discriminator_loss)
    generator_loss = staticmethod(losses.hinge_generator_loss)
    train_step = VanillaGAN.train_step
