"""Issue 35: SIGTERM or SIGINT stops a run cleanly. The step in flight finishes and is
checkpointed, one line says the signal, the step and how to resume, the exit code is
128 + the signal's number, and the same command resumes to the same weights."""

import logging
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from test_train import ROOT, set_flags, tiny_config

from ganzoo import checkpoints, data, train
from ganzoo.errors import Interrupted

# Epochs long next to their end's work (grid, checkpoint, logs): a signal sent just
# after the first epoch's end most likely lands mid-epoch, so the checkpoint it leaves
# is its own, not an epoch's.
STEPS_PER_EPOCH = 50
LINE = re.compile(r"^stopped by (SIG\w+) at step (\d+); checkpoint: (\S+); to resume, run the same "
                  r"command again \(same --workdir\)$")


def _argv(workdir, steps):
    return ["--model=dcgan", f"--steps={steps}", "--batch_size=16", f"--workdir={workdir}",
            f"--set=steps_per_epoch={STEPS_PER_EPOCH}", "--set=jit_compile=false",
            *set_flags("dcgan")]


def _handlers():
    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


def _the_line(err):
    lines = [line for line in err.splitlines() if line.startswith("stopped by")]
    assert len(lines) == 1, err[-3000:]
    match = LINE.match(lines[0])
    assert match, lines[0]
    return match.group(1), int(match.group(2)), match.group(3)


def test_sigterm_checkpoints_the_step_and_the_same_command_resumes_exactly(tmp_path, capsys,
                                                                          caplog):
    workdir = str(tmp_path / "run")
    # A budget it cannot reach: the signal, not the budget, ends this process.
    process = subprocess.Popen([sys.executable, "-m", "ganzoo.train", *_argv(workdir, 100_000)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The first epoch's end is over once its metrics are logged (after its checkpoint).
        metrics = os.path.join(workdir, "metrics.csv")
        deadline = time.time() + 120
        while time.time() < deadline and not os.path.exists(metrics):
            time.sleep(0.01)
        assert os.path.exists(metrics), "no epoch trained in 120 s"
        time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM == 143, err[-3000:]
    name, step, path = _the_line(err)
    assert name == "SIGTERM" and step >= STEPS_PER_EPOCH
    assert path == os.path.join(workdir, "checkpoints", f"ckpt-{step:08d}.keras")
    assert checkpoints.list_checkpoints(workdir)[-1] == (step, path)
    assert keras.models.load_model(path).step == step
    assert "trained dcgan" not in out

    # The same command (to a budget it reaches) resumes from that checkpoint, and ends
    # where a run never interrupted does; the handlers are put back after each run.
    total = step + 5
    before = _handlers()
    with caplog.at_level(logging.INFO, logger="absl"):
        assert train.main(_argv(workdir, total)) == 0
    assert f"resuming from {path} at step {step}" in caplog.text
    assert f"trained dcgan on digits to step {total}" in capsys.readouterr().out
    straight = train.train(tiny_config(steps=total, steps_per_epoch=STEPS_PER_EPOCH),
                           str(tmp_path / "straight"))
    assert _handlers() == before
    resumed, _ = checkpoints.load_latest(workdir)
    assert resumed.step == straight.model.step == total
    for a, b in zip(straight.model.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_sigint_during_a_checkpoint_write_and_a_second_signal_are_one_clean_stop(
        tmp_path, monkeypatch, capsys):
    workdir = str(tmp_path / "run")
    save_checkpoint, write = checkpoints.save_checkpoint, keras.Model.save

    def interrupted_save(model, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return save_checkpoint(model, *args, **kwargs)

    def write_under_a_second_signal(model, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # ignored: the run is stopping already
        return write(model, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_checkpoint", interrupted_save)
    monkeypatch.setattr(keras.Model, "save", write_under_a_second_signal)
    before = _handlers()
    assert train.main(_argv(workdir, 100)) == 128 + signal.SIGINT == 130
    assert _handlers() == before
    err = capsys.readouterr().err
    name, step, path = _the_line(err)
    assert (name, step) == ("SIGINT", STEPS_PER_EPOCH)  # the first epoch's end, then no more
    assert checkpoints.list_checkpoints(workdir) == [(step, path)]
    monkeypatch.undo()
    assert keras.models.load_model(path).step == step


def test_a_signal_before_the_first_step_trains_nothing(tmp_path, monkeypatch):
    load = data.load

    def load_then_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return load(*args, **kwargs)

    monkeypatch.setattr(data, "load", load_then_signal)
    with pytest.raises(Interrupted, match=r"^stopped by SIGTERM at step 0; checkpoint: none at this "
                                          r"step; to resume") as caught:
        train.train(tiny_config(steps=50), str(tmp_path / "run"))
    assert caught.value.exit_code == 143
    assert checkpoints.list_checkpoints(str(tmp_path / "run")) == []
