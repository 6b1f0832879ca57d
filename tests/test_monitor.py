"""Diagnostics of instability: logged with the losses, and one warning line per symptom."""

import csv
import logging
import os

import numpy as np
import pytest

from ganzoo import train
from ganzoo.config import TrainConfig
from ganzoo.models.base import DIAGNOSTICS
from ganzoo.training.callbacks import spread

TINY = {"generator_units": (32, 32), "discriminator_units": (32, 32)}


def run(tmp_path, caplog, model="vanilla", **hparams):
    config = TrainConfig(model=model, dataset="ring8", steps=300, batch_size=64, steps_per_epoch=50,
                         jit_compile=False, hparams=hparams)
    with caplog.at_level(logging.WARNING):
        result = train.train(config, str(tmp_path / "run"))
    warnings = [r.getMessage() for r in caplog.records if "instability at step" in r.getMessage()]
    return result, warnings


def test_diagnostics_are_logged_with_the_losses(tmp_path, caplog):
    result, _ = run(tmp_path, caplog, **TINY)
    with open(os.path.join(result.workdir, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for key in DIAGNOSTICS:
        values = [float(row[key]) for row in rows]
        assert all(np.isfinite(values)), key
    assert all(0.0 <= float(row["d_accuracy"]) <= 1.0 for row in rows)
    assert all(float(row["d_grad_norm"]) > 0 and float(row["g_grad_norm"]) > 0 for row in rows)
    # The sample grids go to TensorBoard beside the scalars.
    assert any(name.startswith("events") for name in os.listdir(os.path.join(result.workdir, "logs")))


@pytest.mark.parametrize("hparams, symptom", [
    # A huge learning rate kills the generator: every latent gives the same point.
    ({"learning_rate": 0.9, **TINY}, "samples collapsed"),
    # A fast discriminator against a frozen generator separates them perfectly.
    ({"learning_rate": 1e-6, "d_learning_rate": 1e-2, **TINY}, "the discriminator wins outright"),
])
def test_a_provoked_failure_is_named_with_its_step(tmp_path, caplog, hparams, symptom):
    _, warnings = run(tmp_path, caplog, **hparams)
    assert len([w for w in warnings if symptom in w]) == 1, warnings  # once, not every epoch
    assert any(w.startswith("instability at step ") and symptom in w for w in warnings)


def test_a_blow_up_is_named(tmp_path, caplog):
    # A critic without its gradient penalty, updated far too fast, grows without bound.
    _, warnings = run(tmp_path, caplog, model="wgan_gp", gp_weight=0.0, d_learning_rate=0.5,
                      learning_rate=1e-5, units=(32, 32), n_critic=2)
    assert any("blew up" in w for w in warnings), warnings


def test_a_healthy_run_raises_no_warning(tmp_path, caplog):
    _, warnings = run(tmp_path, caplog, **TINY)
    assert warnings == []


def test_spread_is_the_mean_pairwise_distance():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    # Pairs: 5, 0, 5 (each counted twice): mean over the 6 ordered pairs is 10/3.
    assert spread(points) == pytest.approx(10 / 3)
