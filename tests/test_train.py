"""`train(config, workdir)` and `python -m ganzoo.train`, end to end on real data."""

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_hparams

from ganzoo import checkpoints, train
from ganzoo.config import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(model="dcgan", **fields):
    # jit_compile pinned: `auto` may choose differently from run to run, and these
    # tests compare runs number for number.
    values = {"model": model, "dataset": "digits", "steps": 6, "batch_size": 16,
              "steps_per_epoch": 3, "jit_compile": False, "hparams": tiny_hparams(model)}
    values.update(fields)
    return TrainConfig(**values)


def set_flags(model):
    return [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams(model).items()]


# Columns of metrics.csv that time the machine, not the training: never equal twice
# (`steal` only where /proc/stat exists).
TIMING_COLUMNS = ("seconds", "cpu_seconds", "steal")


def read_metrics(workdir):
    with open(os.path.join(workdir, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def test_train_fills_the_workdir(tmp_path):
    workdir = str(tmp_path / "run")
    result = train.train(tiny_config(), workdir)
    assert result.steps == 6 and result.resumed_from is None
    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == [
        "step_00000000.png", "step_00000003.png", "step_00000006.png"]
    png = tf.io.decode_png(tf.io.read_file(os.path.join(workdir, "samples", "step_00000006.png")))
    assert png.shape[0] > 8 * 8 and png.dtype == tf.uint8
    rows = read_metrics(workdir)
    assert [int(r["step"]) for r in rows] == [3, 6]
    assert all(np.isfinite(float(r["d_loss"])) for r in rows)
    # What each epoch really got of the machine: CPU seconds, and on Linux the steal.
    assert all(float(r["cpu_seconds"]) > 0 for r in rows)
    if os.path.exists("/proc/stat"):
        assert all(0 <= float(r["steal"]) <= 1 for r in rows)
    assert [step for step, _ in checkpoints.list_checkpoints(workdir)] == [3, 6]
    with open(os.path.join(workdir, "config.json")) as f:
        assert TrainConfig(**json.load(f)).to_dict() == tiny_config().to_dict()
    events = glob.glob(os.path.join(workdir, "logs", "events.out.tfevents.*"))
    # Scalars and sample grids may sit in separate event files of the same run.
    tags = {v.tag for path in events for e in tf.compat.v1.train.summary_iterator(path)
            for v in e.summary.value}
    assert {"d_loss", "g_loss"} <= tags


def test_same_seed_gives_the_same_losses(tmp_path):
    a = train.train(tiny_config(model="wgan_gp"), str(tmp_path / "a"))
    b = train.train(tiny_config(model="wgan_gp"), str(tmp_path / "b"))
    assert read_metrics(a.workdir) == [
        {**r, **{k: r_a[k] for k in TIMING_COLUMNS if k in r_a}}
        for r, r_a in zip(read_metrics(b.workdir), read_metrics(a.workdir))]
    c = train.train(tiny_config(model="wgan_gp", seed=1), str(tmp_path / "c"))
    assert read_metrics(c.workdir)[-1]["d_loss"] != read_metrics(a.workdir)[-1]["d_loss"]


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight = train.train(tiny_config(steps=6), str(tmp_path / "straight"))
    workdir = str(tmp_path / "resumed")
    first = train.train(tiny_config(steps=3), workdir)
    assert first.steps == 3
    second = train.train(tiny_config(steps=6), workdir)
    assert second.resumed_from.endswith("ckpt-00000003.keras") and second.steps == 6
    assert [int(r["step"]) for r in read_metrics(workdir)] == [3, 6]
    # Weights, optimizers, RNG and data order all resume: the result is the same run.
    for a, b in zip(straight.model.weights, second.model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    again = train.train(tiny_config(steps=6), workdir)
    assert again.steps == 6 and again.history == {}


def test_resume_refuses_a_different_run(tmp_path):
    workdir = str(tmp_path / "run")
    train.train(tiny_config(steps=3), workdir)
    with pytest.raises(train.GanzooError, match="holds a run with batch_size=16, not 8"):
        train.train(tiny_config(steps=3, batch_size=8), workdir)


def test_points_dataset_writes_a_scatter_plot(tmp_path):
    result = train.train(tiny_config(model="vanilla", dataset="ring8", batch_size=64), str(tmp_path / "r"))
    assert result.steps == 6 and result.model.sample(5).shape == (5, 2)
    png = tf.io.decode_png(tf.io.read_file(os.path.join(result.workdir, "samples", "step_00000006.png")))
    assert png.shape[-1] == 3


def test_cgan_grid_has_a_row_per_class(tmp_path):
    result = train.train(tiny_config(model="cgan", grid_samples=20), str(tmp_path / "c"))
    png = tf.io.decode_png(tf.io.read_file(os.path.join(result.workdir, "samples", "step_00000006.png")))
    cell = 32 + 1  # 8x8 digits upscaled 4x, plus padding
    assert (png.shape[0] - 1) // cell == 10 and (png.shape[1] - 1) // cell == 2


def test_cgan_refuses_unlabelled_data(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, x=np.zeros((40, 8, 8, 1), "uint8"))
    with pytest.raises(train.GanzooError, match="needs labels but dataset .* has none"):
        train.train(tiny_config(model="cgan", dataset=f"npz:{path}"), str(tmp_path / "c"))


@pytest.mark.parametrize("model", ["vanilla", "dcgan", "wgan_gp", "cgan"])
def test_cli_trains_every_model_on_digits(model, tmp_path, capsys):
    workdir = str(tmp_path / model)
    argv = [f"--model={model}", "--steps=4", "--batch_size=16", f"--workdir={workdir}",
            "--set=steps_per_epoch=2", "--set=jit_compile=false", *set_flags(model)]
    assert train.main(argv) == 0
    assert f"trained {model} on digits to step 4" in capsys.readouterr().out
    assert os.path.exists(os.path.join(workdir, "samples", "step_00000004.png"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model=stylegan"], "error: unknown model 'stylegan'; accepted: cgan, dcgan, pacgan, r3gan, sngan, vanilla, wgan_gp"),
        (["--dataset=imagenet_typo_zz"], "error: unknown dataset 'imagenet_typo_zz'"),
        (["--set=n_critic"], "error: bad override 'n_critic'; accepted: key=value"),
        (["--set=colour=red"], "error: unknown --set key 'colour'; accepted: model, dataset"),
        (["--steps=-3"], "error: bad steps=-3; accepted: a positive integer"),
        (["--steps=abc"], "error: flag --steps=abc"),
        (["--model=dcgan", "--image_size=7"], "error: image size 7x7 is not supported"),
    ],
)
def test_cli_bad_input_gets_one_line(argv, message, tmp_path, capsys):
    code = train.main([*argv, f"--workdir={tmp_path / 'w'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(message), err
    assert "Traceback" not in err[0]


def _train_command(workdir, steps):
    return [sys.executable, "-m", "ganzoo.train", "--model=dcgan", f"--steps={steps}",
            "--batch_size=16", f"--workdir={workdir}", "--set=steps_per_epoch=5",
            "--set=jit_compile=false", *set_flags("dcgan")]


def test_kill_9_then_the_same_command_resumes(tmp_path):
    workdir = str(tmp_path / "killed")
    command = _train_command(workdir, steps=300)
    env = {**os.environ, "PYTHONPATH": ROOT}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not any(s >= 10 for s, _ in checkpoints.list_checkpoints(workdir)):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = checkpoints.list_checkpoints(workdir)[-1][0]
    assert 10 <= killed_at < 300
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"at step {killed_at}" in done.stderr  # "resuming from ... at step N"
    assert "to step 300" in done.stdout
    steps = [int(r["step"]) for r in read_metrics(workdir)]
    assert steps[-1] == 300 and steps == sorted(set(steps))
