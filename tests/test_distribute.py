"""tf.distribute: a mirrored step equals a single-device step; replicas draw their own noise.

Each check runs in a fresh process: logical CPU devices must be set up before
TensorFlow starts, and the test session's TensorFlow has long started.
"""

import json
import os
import subprocess
import sys

import pytest

HELPER = os.path.join(os.path.dirname(__file__), "helpers", "distributed_step.py")


def run_helper(argument):
    done = subprocess.run([sys.executable, HELPER, argument], capture_output=True, text=True,
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
