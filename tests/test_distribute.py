"""tf.distribute: a mirrored step equals a single-device step; replicas draw their own noise.

Each check runs in a fresh process: logical CPU devices must be set up before
TensorFlow starts, and the test session's TensorFlow has long started.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from ganzoo import checkpoints

HELPER = os.path.join(os.path.dirname(__file__), "helpers", "distributed_step.py")


def run_helper(*arguments):
    done = subprocess.run([sys.executable, HELPER, *arguments], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model", ["dcgan", "wgan_gp"])
def test_mirrored_step_matches_single_device(model):
    # Plain SGD: Adam's first step is nearly sign-only and would hide a 2x gradient error.
    result = run_helper(model)
    assert result["replicas"] == 2
    assert result["max_loss_diff"] <= 1e-5, result["losses"]
    assert result["max_weight_diff"] <= 1e-5
    assert result["max_weight_change"] > 1e-2  # the step did move the weights


def test_replicas_draw_different_noise():
    result = run_helper("noise")
    assert result["replica_diff"] > 0.1 and result["step_diff"] > 0.1


def test_jit_compile_over_replicas_is_refused_clearly(tmp_path):
    error = run_helper("jit", str(tmp_path / "run"))["error"]
    assert error and "jit_compile=true with strategy=mirrored over 2 replicas" in error
    assert "accepted: jit_compile=false" in error


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_multi_worker_processes_end_with_identical_weights(tmp_path):
    workdir = str(tmp_path / "run")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    command = [sys.executable, "-m", "ganzoo.train", "--model=dcgan", "--strategy=multi_worker",
               "--steps=4", "--batch_size=16", f"--workdir={workdir}", "--set=steps_per_epoch=2",
               "--set=base_filters=8", "--set=latent_dim=8"]
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster,
                                                       "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    chief = checkpoints.latest_checkpoint(workdir)
    other = checkpoints.latest_checkpoint(os.path.join(workdir, "workers", "worker-1"))
    assert chief.endswith("ckpt-00000004.keras") and other.endswith("ckpt-00000004.keras")
    a, b = keras.models.load_model(chief), keras.models.load_model(other)
    assert a.step == b.step == 4
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
