"""The scripts in tools/ that build what ships: exports made from a comparison."""

import json
import os
import sys

import numpy as np
from conftest import tiny_hparams

import ganzoo
from ganzoo import checkpoints, compare, savedmodel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import build_pretrained


def test_a_zoo_entry_from_a_comparison_serves_that_run_with_its_evaluation(tmp_path, monkeypatch):
    workdir = str(tmp_path / "cmp")
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams("dcgan").items()]
    assert compare.main(["--models=dcgan", "--dataset=digits", "--seeds=0", "--steps=4",
                         "--batch_size=16", "--eval_every=0", "--set=jit_compile=false",
                         f"--workdir={workdir}", *sets]) == 0
    monkeypatch.setitem(build_pretrained.FROM_COMPARE, "dcgan-digits-test", "dcgan")
    out = str(tmp_path / "zoo")
    assert build_pretrained.main(["--from_compare", workdir, "--only=dcgan-digits-test",
                                  "--out", out]) == 0
    with open(os.path.join(workdir, "runs", "dcgan-seed0", "result.json")) as f:
        result = json.load(f)
    path = os.path.join(out, "dcgan-digits-test")
    meta = savedmodel.read_metadata(path)
    (evaluation,) = meta["evaluation"].values()
    assert evaluation["metrics"] == result["metrics"] and meta["steps"] == 4
    assert meta["model_card"]["training_seconds"] == result["train_seconds"]
    with open(os.path.join(path, "MODEL_CARD.md")) as f:
        card = f.read()
    assert "--from_compare" in card and f"{result['metrics']['fid']:.4g}" in card
    # The build's load average would read as the training's; the card leaves it out.
    assert "load average" not in card and "load_average" not in meta["model_card"]["machine"]
    # The card's command reruns this one run, not the whole comparison.
    assert "--models=dcgan --seeds=0 --workdir=" in meta["model_card"]["command"]
    # The export serves the compared run's generator.
    model, _ = checkpoints.load_latest(os.path.join(workdir, "runs", "dcgan-seed0"))
    served = ganzoo.load(path).sample(8, seed=3)
    np.testing.assert_allclose(served, model.sample(8, seed=3), atol=1e-5)
    assert os.path.exists(os.path.join(path, "samples.png"))
