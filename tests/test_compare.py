"""`python -m ganzoo.compare`: one protocol for every run, resumable, with tables and figures."""

import json
import os

import numpy as np
import pytest
from conftest import tiny_hparams

from ganzoo import checkpoints, compare, evaluation
from ganzoo.errors import GanzooError


def test_tiny_comparison_writes_results_and_skips_finished_runs(tmp_path, capsys):
    workdir = str(tmp_path / "cmp")
    argv = ["--models=vanilla,wgan_gp", "--dataset=ring8", "--seeds=0,1", "--steps=4",
            f"--workdir={workdir}", "--eval_every=2", "--eval_samples=200", "--batch_size=32",
            "--set=steps_per_epoch=2", "--set=units=16,16", "--set=generator_units=16,16",
            "--set=discriminator_units=16,16", "--set=n_critic=2", "--set=jit_compile=false"]
    assert compare.main(argv) == 0
    assert "4 runs" in capsys.readouterr().out
    for name in ("results.json", "results.md", "curves.png", "samples.png"):
        assert os.path.getsize(os.path.join(workdir, name)) > 0, name
    with open(os.path.join(workdir, "results.json")) as f:
        results = json.load(f)
    runs = results["runs"]
    assert [(r["model"], r["seed"]) for r in runs] == [
        ("vanilla", 0), ("vanilla", 1), ("wgan_gp", 0), ("wgan_gp", 1)]
    # One protocol: same data, budget and evaluation for every run.
    assert {r["steps"] for r in runs} == {4}
    assert {(r["stamp"]["dataset"], r["stamp"]["n_fake"]) for r in runs} == {("ring8", 2500)}
    assert all([p["step"] for p in r["curve"]] == [0, 2, 4] for r in runs)
    assert all(r["train_seconds"] > 0 for r in runs)
    assert runs[2]["config"]["hparams"]["n_critic"] == 2 and "n_critic" not in runs[0]["config"]["hparams"]
    with open(os.path.join(workdir, "results.md")) as f:
        table = f.read()
    assert "| vanilla |" in table and "modes_covered" in table and "±" in table

    # Run again: every run is finished, so nothing trains.
    os.remove(os.path.join(workdir, "results.md"))
    mtime = os.path.getmtime(os.path.join(workdir, "runs", "wgan_gp-seed1", "result.json"))
    assert compare.main(argv) == 0
    assert os.path.getmtime(os.path.join(workdir, "runs", "wgan_gp-seed1", "result.json")) == mtime
    assert os.path.exists(os.path.join(workdir, "results.md"))


def test_interrupted_run_resumes(tmp_path):
    protocol = compare.Protocol("ring8", steps=4, seeds=(0,), eval_every=2, eval_samples=100,
                                overrides=("steps_per_epoch=2", "generator_units=8",
                                           "discriminator_units=8"))
    workdir = str(tmp_path / "cmp")
    # A first attempt stopped after 2 steps (as if killed): its checkpoint is kept.
    from ganzoo.config import make_config
    from ganzoo.train import train

    run_dir = os.path.join(workdir, "runs", "vanilla-seed0")
    train(make_config(model="vanilla", dataset="ring8", steps=2, seed=0, batch_size=32,
                      overrides=["steps_per_epoch=2", "generator_units=8", "discriminator_units=8",
                                 "eval_every=2", "eval_samples=100"]), run_dir)
    result = compare.run_one("vanilla", 0, protocol, workdir, batch_size=32)
    assert result["steps"] == 4
    assert [p["step"] for p in result["curve"]] == [0, 2, 4]


def test_a_setting_of_a_model_not_compared_is_skipped():
    # A flag file narrowed with --models keeps its other models' settings.
    fields, hparams = compare.split_overrides(["vanilla"], ["dcgan:base_filters=8", "ema=0.9"])
    assert hparams == {"vanilla": {"ema": 0.9}} and fields == {}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models=vanilla,gan9"], "unknown model 'gan9'"),
        (["--seeds=a,b"], "bad --seeds=a,b"),
        (["--models=dcgan", "--set=n_critic=3"], "--set n_critic applies to none of dcgan"),
        (["--models=cgan", "--dataset=npz:/nonexistent.npz"], "nonexistent.npz"),
        (["--models=vanilla,wgan_gp", "--sweep=n_critic=1,2"], "--sweep n_critic is not a setting of vanilla"),
        (["--models=vanilla", "--sweep=learning_rate=1e-4"], "bad --sweep='learning_rate=1e-4'"),
        (["--models=vanilla", "--sweep=learning_rate=1e-4,7"], "learning_rate"),
        (["--models=vanilla", "--sweep=learning_rate=1e-4,1e-4"], "given twice"),
        (["--models=vanilla", "--set=dcgna:base_filters=8"], "names model 'dcgna', which is not registered"),
        (["--models=vanilla", "--set=dcgan:base_filters=x"], "base_filters"),
    ],
)
def test_bad_input(argv, message, tmp_path, capsys):
    assert compare.main([*argv, f"--workdir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_sweep_runs_every_value_and_counts_collapsed_runs(tmp_path, capsys):
    workdir = str(tmp_path / "sweep")
    # learning_rate=0.9 kills the generator (see test_monitor): a collapse.
    argv = ["--models=vanilla", "--dataset=ring8", "--seeds=0", "--steps=300", "--batch_size=64",
            f"--workdir={workdir}", "--eval_every=0", "--sweep=learning_rate=2e-4,0.9",
            "--set=steps_per_epoch=50", "--set=jit_compile=false",
            "--set=generator_units=32,32", "--set=discriminator_units=32,32"]
    assert compare.main(argv) == 0
    with open(os.path.join(workdir, "results.json")) as f:
        results = json.load(f)
    runs = {r["group"]: r for r in results["runs"]}
    assert set(runs) == {"vanilla learning_rate=2e-4", "vanilla learning_rate=0.9"}
    assert runs["vanilla learning_rate=0.9"]["config"]["hparams"]["learning_rate"] == 0.9
    assert "collapse" in runs["vanilla learning_rate=0.9"]["symptoms"]
    assert "collapse" not in runs["vanilla learning_rate=2e-4"]["symptoms"]
    assert os.path.isdir(os.path.join(workdir, "runs", "vanilla-learning_rate=0.9-seed0"))
    with open(os.path.join(workdir, "results.md")) as f:
        table = f.read()
    assert "| vanilla learning_rate=0.9 |" in table and "| diverged | collapsed |" in table
    assert "modes_covered range" in table
    row = next(line for line in table.splitlines() if line.startswith("| vanilla learning_rate=0.9 |"))
    header = next(line for line in table.splitlines() if line.startswith("| model |")).split("|")
    at = header.index(" diverged ")
    assert row.split("|")[at:at + 2] == [" 0/1 ", " 1/1 "], row


def test_a_diverged_run_is_a_result_not_an_abort(tmp_path, monkeypatch):
    from ganzoo import training

    def diverge(config, workdir, **kwargs):
        os.makedirs(workdir, exist_ok=True)
        raise training.TrainingDiverged("training diverged at step 7: d_loss=nan", step=7)

    monkeypatch.setattr(training, "train", diverge)
    protocol = compare.Protocol("ring8", steps=10, seeds=(0,), eval_every=0, eval_samples=None)
    result = compare.run_one("vanilla", 0, protocol, str(tmp_path), hparams={}, batch_size=32)
    assert result["steps"] == 7 and result["metrics"] == {} and result["symptoms"] == ["diverged"]
    summary = compare.summarize([result], compare.POINT_COLUMNS)
    assert summary["vanilla"]["unstable"] == (1, 0, 1)
    table = compare.markdown_table(summary, compare.POINT_COLUMNS, protocol)
    assert "| 1/1 | 0/1 |" in table


def test_per_model_overrides_apply_to_that_model_alone():
    fields, hparams = compare.split_overrides(
        ["vanilla", "pacgan"], ["pacgan:pack=2", "learning_rate=1e-3", "batch_size=32"])
    assert fields == {"batch_size": 32}
    assert hparams == {"vanilla": {"learning_rate": 1e-3}, "pacgan": {"pack": 2, "learning_rate": 1e-3}}


def _tiny_ring8(workdir, *extra):
    return ["--models=vanilla", "--dataset=ring8", "--seeds=0", f"--workdir={workdir}",
            "--eval_every=2", "--eval_samples=100", "--batch_size=32", "--set=steps_per_epoch=2",
            "--set=generator_units=8", "--set=discriminator_units=8", "--set=jit_compile=false", *extra]


def test_a_finished_run_of_other_settings_is_refused_not_reused(tmp_path, capsys):
    workdir = str(tmp_path / "cmp")
    assert compare.main(_tiny_ring8(workdir, "--steps=2")) == 0
    result_path = os.path.join(workdir, "runs", "vanilla-seed0", "result.json")
    before = os.path.getmtime(result_path)
    capsys.readouterr()
    # Another learning rate: the stored run does not answer it.
    assert compare.main(_tiny_ring8(workdir, "--steps=2", "--set=learning_rate=3e-4")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hyperparameters.learning_rate=0.0002, not 0.0003" in err[0] and "--workdir" in err[0]
    # The default given explicitly is the same run.
    assert compare.main(_tiny_ring8(workdir, "--steps=2", "--set=learning_rate=2e-4")) == 0
    assert os.path.getmtime(result_path) == before
    # A run built under another default (an older version's) is not this one.
    with open(result_path) as f:
        stored = json.load(f)
    assert stored["hyperparameters"]["learning_rate"] == 2e-4 and stored["config"]["hparams"].get("learning_rate") is None
    stored["hyperparameters"]["beta_1"] = 0.9
    with open(result_path, "w") as f:
        json.dump(stored, f)
    before = os.path.getmtime(result_path)
    capsys.readouterr()
    assert compare.main(_tiny_ring8(workdir, "--steps=2")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hyperparameters.beta_1=0.9, not 0.5" in err[0]
    # One added since, at its default, does not make it another run.
    stored["hyperparameters"]["beta_1"] = 0.5
    del stored["hyperparameters"]["ema"]
    with open(result_path, "w") as f:
        json.dump(stored, f)
    before = os.path.getmtime(result_path)
    assert compare.main(_tiny_ring8(workdir, "--steps=2")) == 0
    assert os.path.getmtime(result_path) == before
    capsys.readouterr()
    # A smaller budget cannot be met by a run trained for more.
    assert compare.main(_tiny_ring8(workdir, "--steps=1")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "steps=2, not 1" in err[0]
    assert os.path.getmtime(result_path) == before
    # A larger budget trains on from the run's checkpoint and scores again.
    assert compare.main(_tiny_ring8(workdir, "--steps=4")) == 0
    with open(result_path) as f:
        result = json.load(f)
    assert result["steps"] == 4 and [p["step"] for p in result["curve"]] == [0, 2, 4]


def test_a_model_may_set_its_own_batch_size_but_not_the_shared_protocol():
    items = ["cgan:batch_size=32", "batch_size=64", "ema=0.9"]
    fields, hparams = compare.split_overrides(["cgan", "dcgan"], items)
    assert fields == {"batch_size": 64} and hparams["cgan"] == {"ema": 0.9}
    assert {**fields, **compare.model_fields("cgan", items)} == {"batch_size": 32}
    assert compare.model_fields("dcgan", items) == {}
    with pytest.raises(GanzooError, match="cgan:minutes: minutes is a config field, shared"):
        compare.split_overrides(["cgan"], ["cgan:minutes=3"])
    with pytest.raises(GanzooError, match="cgan:batch_size: bad batch_size=0"):
        compare.split_overrides(["cgan"], ["cgan:batch_size=0"])


def test_a_per_model_batch_size_reaches_that_models_runs_alone(tmp_path):
    workdir = str(tmp_path / "cmp")
    argv = ["--models=vanilla,pacgan", "--dataset=ring8", "--seeds=0", "--steps=2", f"--workdir={workdir}",
            "--eval_every=2", "--eval_samples=100", "--batch_size=32", "--set=pacgan:batch_size=16",
            "--set=steps_per_epoch=2", "--set=generator_units=8", "--set=discriminator_units=8",
            "--set=jit_compile=false"]
    assert compare.main(argv) == 0
    with open(os.path.join(workdir, "results.json")) as f:
        runs = {r["model"]: r for r in json.load(f)["runs"]}
    assert runs["vanilla"]["config"]["batch_size"] == 32 and runs["pacgan"]["config"]["batch_size"] == 16


def _tiny_digits(workdir, *extra):
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams("dcgan").items()]
    return ["--models=dcgan", "--dataset=digits", "--seeds=0", "--batch_size=16",
            "--set=jit_compile=false", f"--workdir={workdir}", *sets, *extra]


def test_the_reference_split_is_chosen_and_a_finished_run_is_scored_again_not_retrained(
        tmp_path, capsys):
    workdir = str(tmp_path / "cmp")
    on_test = _tiny_digits(workdir, "--minutes=0.02,0.04", "--real_split=test",
                           "--held_out_split=train")
    assert compare.main(on_test) == 0
    run_dir = os.path.join(workdir, "runs", "dcgan-seed0")
    with open(os.path.join(workdir, "results.json")) as f:
        results = json.load(f)
    (run,) = results["runs"]
    early = run["snapshots"]["0.02"]
    assert run["stamp"]["real_split"] == early["stamp"]["real_split"] == "test"
    assert results["baseline"]["stamp"]["real_split"] == "test"
    assert "real (train split)" in results["summary"]
    with open(os.path.join(workdir, "results.md")) as f:
        assert "against the `test` split, as is the real baseline row (`train` examples)" in f.read()
    # The earlier budget's generator is kept: training went on and pruned its checkpoint.
    assert os.path.exists(os.path.join(run_dir, "generator-0.02min.keras"))

    # The same runs against the train split: scored again, nothing trains.
    kept = checkpoints.list_checkpoints(run_dir)
    assert compare.main(_tiny_digits(workdir, "--minutes=0.02,0.04")) == 0
    assert checkpoints.list_checkpoints(run_dir) == kept
    with open(os.path.join(workdir, "results.json")) as f:
        (again,) = json.load(f)["runs"]
    assert again["steps"] == run["steps"] and again["snapshots"]["0.02"]["steps"] == early["steps"]
    assert again["stamp"]["real_split"] == again["snapshots"]["0.02"]["stamp"]["real_split"] == "train"
    assert again["rescored_from"] == {"real_split": "test", "metrics": run["metrics"]}
    # Against an independent evaluation of the kept generator.
    generator = checkpoints.load_model(os.path.join(run_dir, "generator-0.02min.keras"))
    direct = evaluation.evaluate(generator, "digits", real_split="train", seed=1000,
                                 num_samples=again["stamp"]["n_fake"])
    assert again["snapshots"]["0.02"]["metrics"]["fid"] == pytest.approx(direct["metrics"]["fid"], rel=1e-6)
    assert again["snapshots"]["0.02"]["metrics"]["fid"] != early["metrics"]["fid"]

    # Without the generator of a budget, a run scored otherwise is refused, not mixed in.
    os.remove(os.path.join(run_dir, "generator-0.02min.keras"))
    capsys.readouterr()
    assert compare.main(on_test) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scored against the 'train' split, not 'test'" in err[0]
    assert "--real_split=train to reuse it" in err[0]


def test_an_earlier_budget_of_a_run_that_went_on_is_its_kept_result_not_a_refusal(tmp_path):
    workdir = str(tmp_path / "cmp")
    assert compare.main(_tiny_digits(workdir, "--minutes=0.02,0.04")) == 0
    with open(os.path.join(workdir, "results.json")) as f:
        (run,) = json.load(f)["runs"]
    run_dir = os.path.join(workdir, "runs", "dcgan-seed0")
    kept = checkpoints.list_checkpoints(run_dir)
    grid_before = os.path.getmtime(os.path.join(run_dir, "final_samples-0.02min.png"))

    # Asked for the earlier budget alone: the result kept at it, nothing trains.
    assert compare.main(_tiny_digits(workdir, "--minutes=0.02")) == 0
    with open(os.path.join(workdir, "results.json")) as f:
        (early,) = json.load(f)["runs"]
    assert checkpoints.list_checkpoints(run_dir) == kept
    assert early["steps"] == run["snapshots"]["0.02"]["steps"] < run["steps"]
    assert early["metrics"] == run["snapshots"]["0.02"]["metrics"] != run["metrics"]
    assert os.path.getmtime(os.path.join(run_dir, "final_samples-0.02min.png")) == grid_before
    # The comparison's grid is that budget's samples, not the later ones.
    shown = compare.plt.imread(os.path.join(workdir, "samples.png"))
    compare.plot_samples(workdir, {"dcgan": "dcgan-seed0"}, str(tmp_path / "early.png"),
                         suffixes=("-0.02min",))
    compare.plot_samples(workdir, {"dcgan": "dcgan-seed0"}, str(tmp_path / "late.png"))
    np.testing.assert_array_equal(shown, compare.plt.imread(str(tmp_path / "early.png")))
    assert not np.array_equal(shown, compare.plt.imread(str(tmp_path / "late.png")))


def test_the_baseline_row_must_be_another_split_than_the_reference(tmp_path, capsys):
    argv = _tiny_digits(str(tmp_path / "cmp"), "--steps=2", "--real_split=test")
    assert compare.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "real_split and held_out_split are both 'test'" in err[0]
