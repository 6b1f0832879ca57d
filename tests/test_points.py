"""Points of any dimension train and draw (issue 13): D != 2 is drawn as a
projection on two axes, and the figure says so."""

import os

import numpy as np
import pytest
from absl import logging as absl_logging
from conftest import tiny_hparams

from ganzoo import images, train
from ganzoo.config import TrainConfig


def _description(path):
    with open(path, "rb") as f:
        png = f.read()
    start = png.find(b"tEXtDescription\0")
    assert start > 0, "no Description chunk"
    length = int.from_bytes(png[start - 4:start], "big")
    return png[start + 4 + len("Description") + 1:start + 4 + length].decode("latin-1")


@pytest.mark.parametrize("dim", [1, 3])
def test_vanilla_trains_on_points_of_any_dimension(tmp_path, dim, monkeypatch):
    rng = np.random.default_rng(dim)
    np.savez(tmp_path / "points.npz", x=rng.normal(size=(256, dim)).astype("float32"))
    told = []
    monkeypatch.setattr(images, "_told", set())
    monkeypatch.setattr(absl_logging, "info", lambda fmt, *args: told.append(fmt % args))
    config = TrainConfig(model="vanilla", dataset=f"npz:{tmp_path / 'points.npz'}", steps=3,
                         batch_size=16, steps_per_epoch=3, jit_compile=False,
                         hparams=tiny_hparams("vanilla"))
    result = train.train(config, str(tmp_path / "run"))
    assert result.steps == 3
    pngs = sorted(os.listdir(tmp_path / "run" / "samples"))
    assert pngs == ["step_00000000.png", "step_00000003.png"]
    description = _description(tmp_path / "run" / "samples" / pngs[-1])
    assert description.startswith(f"sample grids of {dim}-D points show")
    assert told.count(description) == 1  # logged once, not per figure


def test_flattened_images_still_draw_as_a_grid(tmp_path):
    path = images.save_samples(np.zeros((4, 64), "float32"), str(tmp_path / "grid.png"))
    with open(path, "rb") as f:
        assert b"tEXtDescription" not in f.read()
    assert images.draws_points((63,)) and not images.draws_points((64,))
    assert images.draws_points((2,)) and not images.draws_points((8, 8, 1))
