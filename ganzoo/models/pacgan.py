"""PacGAN: the original GAN whose discriminator judges packs of samples."""

from ganzoo.models.hyperparameters import declare
from ganzoo.models.vanilla import VanillaGAN
from ganzoo.registry import register_model


@register_model("pacgan")
class PacGAN(VanillaGAN):
    """PacGAN: the discriminator sees `pack` samples at once, all real or all fake.

    Packing lets the discriminator notice a lack of diversity, which penalises
    mode collapse. The algorithm is `vanilla`'s (non-saturating loss, one
    discriminator then one generator update, MLP networks); packing itself is
    the base class's `pack` technique, which any variant can switch on. The
    default `pack=4` is the paper's PacGAN4; its 2-D ring and grid experiments
    used pack 2 to 4 with MLPs. Batches must divide by `pack`.

    Args:
        pack: samples judged together (default 4).
        data_shape, latent_dim, generator_units, discriminator_units, dropout,
            output_activation: see `vanilla`.
        learning_rate, d_learning_rate, beta_1, beta_2, seed, r1_weight,
            augment, ema: see `GAN`.

    Example:
    ```python
    import ganzoo
    from ganzoo import data

    points, info = data.load("grid25", batch_size=256)
    model = ganzoo.create_model("pacgan", data_shape=info.shape, pack=4)
    model.compile()
    model.fit(points.take(20), epochs=1)
    samples = model.sample(1000)
    ```

    Paper: Lin et al. 2018, https://arxiv.org/abs/1712.04086
    """

    HYPERPARAMETERS = declare(pack=4)
