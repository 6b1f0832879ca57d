"""Sizes are checked before any TensorFlow work (issue 13): image_size has a
maximum and a resize must fit in memory; evaluate's and sample's counts are
refused outside what the metrics and memory accept, in one line."""

import numpy as np
import pytest

from ganzoo import data, evaluate, evaluation, train
from ganzoo.data import pixels
from ganzoo.errors import GanzooError


def _one_line(capsys):
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_image_size_has_a_stated_maximum(tmp_path, capsys):
    code = train.main(["--image_size=100000", "--steps=1", f"--workdir={tmp_path / 'w'}"])
    assert code == 2
    assert _one_line(capsys) == ("error: bad image_size=100000; accepted: an integer from 1 to "
                                 f"{pixels.MAX_IMAGE_SIZE} or unset")
    with pytest.raises(GanzooError, match="at most 1024"):
        pixels.image_size(4096)


def test_a_resize_that_would_not_fit_in_memory_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    np.savez(path, x=np.zeros((100, 8, 8, 1), "uint8"))
    monkeypatch.setattr(pixels, "available_memory", lambda: 2**20)
    with pytest.raises(GanzooError, match=r"100 images resized to 64x64x1 take 0\.0 GiB as float32, "
                                          r"more than the 0\.0 GiB of memory available"):
        data.load_numpy(f"npz:{path}", image_size=64)
    assert data.load_numpy(f"npz:{path}", image_size=8)[0].shape == (100, 8, 8, 1)


@pytest.mark.parametrize("argv, message", [
    (["--num_samples=1"], ("error: bad num_samples=1; accepted: an integer from 6 to 50000 "
                          "(MAX_SAMPLES) for the default metrics")),
    (["--num_samples=1", "--metrics=fid"], ("error: bad num_samples=1; accepted: an integer from 2 "
                                           "to 50000 (MAX_SAMPLES) for metrics fid (fid >= 2)")),
    (["--num_samples=5", "--metrics=fid,pr"], "error: bad num_samples=5; accepted: an integer from 6"),
    (["--num_samples=10000000", "--metrics=kid"], ("error: bad num_samples=10000000; accepted: an "
                                                  "integer from 2 to 50000")),
])
def test_evaluate_refuses_sample_counts_before_opening_anything(argv, message, tmp_path, capsys):
    # The workdir does not exist: the count is refused before anything is opened.
    assert evaluate.main([f"--workdir={tmp_path / 'none'}", *argv]) == 2
    assert _one_line(capsys).startswith(message)


def test_check_num_samples():
    assert evaluation.check_num_samples(None, ["fid"]) is None
    assert evaluation.check_num_samples(2, ["fid"]) == 2
    assert evaluation.check_num_samples(1, ["modes"]) == 1
    with pytest.raises(GanzooError, match="from 6 to"):
        evaluation.check_num_samples(3, ["kid", "dc"])
