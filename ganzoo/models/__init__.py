"""The built-in variants and the registry's API. A new variant is one file here
plus one line below; importing this package registers them all."""

from ganzoo.models import cgan, dcgan, pacgan, r3gan, sngan, vanilla, wgan_gp  # noqa: F401
from ganzoo.models.base import GAN
from ganzoo.registry import create_model, get_model_class, list_models, register_model

__all__ = ["GAN", "create_model", "get_model_class", "list_models", "register_model"]
