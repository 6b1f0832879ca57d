import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest
from hypothesis import settings

import ganzoo

# Property tests draw the same examples on every run, so CI cannot fail by chance;
# `pytest --hypothesis-profile=explore` draws fresh ones to hunt for new failures.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")

# Each xdist worker imports TensorFlow: keep its start-up chatter out of the report.
ganzoo._import_tensorflow_quietly()

# Small networks keep the suite fast; the algorithms are the same.
TINY = {
    "vanilla": {"generator_units": (32, 32), "discriminator_units": (32, 32), "latent_dim": 8},
    "dcgan": {"base_filters": 8, "latent_dim": 8},
    "wgan_gp": {"base_filters": 8, "units": (32, 32), "latent_dim": 8, "n_critic": 2},
    "cgan": {"base_filters": 8, "units": (32, 32), "latent_dim": 8},
    "sngan": {"base_filters": 8, "units": (32, 32), "latent_dim": 8},
    "r3gan": {"base_filters": 8, "units": (32, 32), "latent_dim": 8},
    "pacgan": {"generator_units": (32, 32), "discriminator_units": (32, 32), "latent_dim": 8},
}


def tiny_hparams(name):
    """Small hyperparameters for `name`; {} for models registered later."""
    return dict(TINY.get(name, {}))


@pytest.fixture(params=ganzoo.list_models())
def model_name(request):
    return request.param
