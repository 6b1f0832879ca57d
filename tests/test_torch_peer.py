"""The PyTorch peer of tools/benchmark.py computes what ganzoo's networks compute.

PyTorch is the optional `[bench]` extra, not a test dependency: without it these
tests are skipped, and say so.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch peer needs the [bench] extra")

import ganzoo

TOOLS = os.path.join(os.path.dirname(__file__), "..", "tools")
sys.path.insert(0, TOOLS)
import torch_peer


@pytest.mark.parametrize("name,shape", [("dcgan", (28, 28, 1)), ("wgan_gp", (8, 8, 1)),
                                        ("vanilla", (8, 8, 1)), ("dcgan", (16, 16, 3))])
def test_the_peer_networks_give_the_keras_networks_outputs(name, shape):
    model = ganzoo.create_model(name, data_shape=shape, seed=0)
    same, keras_counts, torch_counts = torch_peer.check_same_sizes(model)
    assert same, (keras_counts, torch_counts)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, model.latent_dim)).astype("float32")
    x = rng.uniform(-1, 1, (5, *shape)).astype("float32")
    generator = torch_peer.torch_peer(model.generator).eval()
    discriminator = torch_peer.torch_peer(model.discriminator).eval()
    torch_peer.load_keras_weights(generator, model.generator)
    torch_peer.load_keras_weights(discriminator, model.discriminator)
    with torch.no_grad():
        fake = generator(torch.from_numpy(z)).numpy()
        score = discriminator(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    keras_fake = np.asarray(model.generator(z, training=False))
    np.testing.assert_allclose(fake.transpose(0, 2, 3, 1), keras_fake, atol=1e-5)
    np.testing.assert_allclose(score, np.asarray(model.discriminator(x, training=False)),
                               rtol=1e-4, atol=1e-5)


def test_the_peer_loads_into_a_process_that_holds_tensorflow():
    # Triton, which CUDA builds of torch install, segfaults when imported after
    # TensorFlow >= 2.20 (tensorflow/tensorflow#124205); torch.optim imports it.
    code = ("import sys, tensorflow; sys.path.insert(0, sys.argv[1]); import torch_peer; "
            "torch_peer.torch.optim.Adam([torch_peer.torch.zeros(1, requires_grad=True)])")
    done = subprocess.run([sys.executable, "-c", code, TOOLS], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
