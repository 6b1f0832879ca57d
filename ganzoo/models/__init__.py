"""The built-in variants. A new variant is one file here plus one line below."""

from ganzoo.models import cgan, dcgan, vanilla, wgan_gp  # noqa: F401
from ganzoo.models.base import GAN

__all__ = ["GAN"]
