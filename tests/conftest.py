import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Two xdist workers, and the subprocesses some tests start, share two cores: one
# op thread each stops them spinning against each other (12% faster measured on
# a 2-core Xeon). Tiny networks gain nothing from more. Set before TF is imported.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

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

# Small networks keep the suite fast; the algorithms are the same. Runs that are not
# about XLA also pin jit_compile=false: `auto` compiles and times the step both ways
# first, which costs more than these tiny runs do (10.4 s -> 3.5 s for two of them).
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
