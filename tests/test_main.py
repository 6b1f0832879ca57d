"""The `ganzoo` command (ganzoo/__main__.py): one usage text, dispatch to each
subcommand's `main`, and a run that `ganzoo train` made, taken directly by
`ganzoo sample --workdir` and `ganzoo evaluate --workdir`."""

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
from conftest import tiny_hparams

from ganzoo import __main__ as ganzoo_command
from ganzoo import compare, evaluate, export, hub, sample, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def test_no_subcommand_or_help_prints_one_short_usage_naming_every_subcommand(capsys):
    for argv in ([], ["--help"], ["-h"]):
        assert ganzoo_command.main(argv) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: ganzoo SUBCOMMAND") and len(out.splitlines()) < 15
        for name in ("train", "sample", "evaluate", "export", "compare"):
            assert f"\n  {name} " in out


def test_unknown_subcommand_is_refused_in_one_line_naming_it_and_the_accepted_ones(capsys):
    assert ganzoo_command.main(["trian", "--model=wgan_gp"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [("error: unknown subcommand 'trian'; accepted: train, sample, evaluate, "
                    "export, compare")]


def test_each_subcommand_is_the_module_main(capsys):
    # The same flags and help as `python -m ganzoo.<name>`, under the name `ganzoo <name>`.
    for name, module in [("train", train), ("sample", sample), ("evaluate", evaluate),
                         ("export", export), ("compare", compare)]:
        assert ganzoo_command.main([name, "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: ganzoo {name} [flags]")
        assert module.main.make_flags().get_help() in out
    assert ganzoo_command.main(["train", "--set=help"]) == 0  # lists settings, trains nothing
    assert "config fields (--set NAME=VALUE):" in capsys.readouterr().out
    assert ganzoo_command.main(["export", "--workdir=nowhere"]) == 2
    assert "error: missing --out" in capsys.readouterr().err


def test_python_dash_m_ganzoo_dispatches_too():
    done = subprocess.run([sys.executable, "-m", "ganzoo", "export", "--workdir=nowhere"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: missing --out; accepted: --out=PATH, the SavedModel directory to write"]


def test_sample_and_evaluate_take_a_run_that_ganzoo_train_made(tmp_path, capsys):
    run = str(tmp_path / "runs" / "wgan_gp-digits")
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams("wgan_gp").items()]
    assert ganzoo_command.main(["train", "--model=wgan_gp", "--dataset=digits", "--steps=2",
                                "--batch_size=16", "--image_size=12", f"--workdir={run}",
                                "--set=steps_per_epoch=2", "--set=jit_compile=false",
                                *sets]) == 0
    capsys.readouterr()

    png, npz = str(tmp_path / "g.png"), str(tmp_path / "g.npz")
    assert ganzoo_command.main(["sample", f"--workdir={run}", f"--out={png}", f"--npz={npz}"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"wrote 64 samples of wgan_gp-digits to {png}") and not err.strip()
    with np.load(npz) as saved:
        assert saved["x"].shape == (64, 12, 12, 1)  # the run's image size
        x = saved["x"]
    # Another precision computes with a copy of the run's generator, not the run's model.
    half = hub.load_run(run).at_precision("mixed_bfloat16")
    assert half._generate is not None
    np.testing.assert_allclose(half.generate(half.latents(64, 0)), x, atol=0.05)

    result = str(tmp_path / "eval.json")
    assert ganzoo_command.main(["evaluate", f"--workdir={run}", f"--out={result}"]) == 0
    table = capsys.readouterr().out
    assert "FID in the features of the digits extractor" in table
    with open(result) as f:
        stamp = json.load(f)["stamp"]
    # The run's dataset at the run's image size; every real training example (1437).
    assert (stamp["dataset"], stamp["image_size"], stamp["n_fake"]) == ("digits", 12, 1437)
    assert stamp["real_split"] == "train" and stamp["extractor"] == "digits"


def test_evaluate_workdir_reads_the_runs_data_dir(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(
        {"model": "dcgan", "dataset": "digits", "image_size": 10, "data_dir": str(tmp_path)}))
    seen = {}

    metadata = {"train_config": json.loads((run / "config.json").read_text()),
                "dataset": "digits"}
    monkeypatch.setattr(evaluate.hub, "load_run",
                        lambda path: types.SimpleNamespace(metadata=metadata))
    monkeypatch.setattr(evaluate, "evaluate", lambda *args, **kwargs: seen.update(
        args=args, kwargs=kwargs) or {"metrics": {}, "stamp": {"extractor": "digits"}})
    assert evaluate.main([f"--workdir={run}", "--split=test"]) == 0
    dataset, split, data_dir = seen["args"][1], seen["args"][5], seen["args"][7]
    assert (dataset, split, data_dir, seen["kwargs"]["image_size"]) == (
        "digits", "test", str(tmp_path), 10)
    # The old flag name still works, and says what to use instead.
    assert capsys.readouterr().err.strip() == "warning: --split is deprecated; use --real_split " \
                                              "instead"
    # Another dataset than the run's: its own size and files, not the run's.
    assert evaluate.main([f"--workdir={run}", "--dataset=ring8"]) == 0
    assert seen["args"][7] is None and seen["kwargs"]["image_size"] is None


def test_label_is_a_class_name_or_a_number(tmp_path, capsys):
    npz = str(tmp_path / "x.npz")
    argv = ["sample", "--pretrained=cgan-fashion_mnist", "--num_samples=3", f"--npz={npz}",
            f"--out={tmp_path / 'x.png'}"]
    for label, index in (("Sneaker", 7), ("Ankle boot", 9), ("2", 2)):
        assert ganzoo_command.main([*argv, f"--label={label}"]) == 0
        with np.load(npz) as saved:
            assert saved["y"].tolist() == [index] * 3
    capsys.readouterr()
    assert ganzoo_command.main([*argv, "--label=Sneakers"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [("error: unknown label 'Sneakers' for 'cgan-fashion_mnist'; accepted: a "
                    "class name (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, "
                    "Sneaker, Bag, Ankle boot) or a number from 0 to 9")]
