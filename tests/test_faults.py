"""Faults: NaN losses, kill -9 at any moment, concurrent runs, unwritable or full
disks, corrupt data. Each scenario is real; none loses a written checkpoint."""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_hparams

from ganzoo import checkpoints, train
from ganzoo.config import TrainConfig
from ganzoo.errors import GanzooError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(**fields):
    values = {"model": "dcgan", "dataset": "digits", "steps": 6, "batch_size": 16,
              "steps_per_epoch": 2, "hparams": tiny_hparams("dcgan"), "jit_compile": False}
    values.update(fields)
    return TrainConfig(**values)


class PoisonAt(keras.callbacks.Callback):
    """Writes NaN into a discriminator weight once, after step `step`: the next
    step's losses come out NaN."""

    def __init__(self, step):
        super().__init__()
        self.step, self.done = step, False

    def on_train_batch_end(self, batch, logs=None):
        if not self.done and self.model.step == self.step:
            weight = self.model.discriminator.trainable_weights[0]
            weight.assign(np.full(weight.shape, np.nan, "float32"))
            self.done = True


def _all_finite(path):
    model = keras.models.load_model(path)
    return all(np.isfinite(w.numpy()).all() for w in model.weights if w.dtype.startswith("float"))


def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
    workdir = str(tmp_path / "run")
    with pytest.raises(GanzooError, match=r"training diverged at step 4: d_loss=nan; last good "
                                          r"checkpoint kept: .*ckpt-00000002\.keras"):
        train.train(tiny_config(), workdir, extra_callbacks=[PoisonAt(3)])
    assert [s for s, _ in checkpoints.list_checkpoints(workdir)] == [2]
    assert _all_finite(checkpoints.latest_checkpoint(workdir))


def test_nan_weights_are_never_checkpointed(tmp_path):
    workdir = str(tmp_path / "run")
    with pytest.raises(GanzooError, match=r"training diverged at step 2: weight \S+=nan; last good "
                                          r"checkpoint kept: none"):
        train.train(tiny_config(), workdir, extra_callbacks=[PoisonAt(2)])
    assert checkpoints.list_checkpoints(workdir) == []


def test_nan_loss_rolls_back_with_lower_learning_rate(tmp_path):
    workdir = str(tmp_path / "run")
    config = tiny_config(on_nonfinite="rollback")
    result = train.train(config, workdir, extra_callbacks=[PoisonAt(4)])
    assert result.steps == 6
    assert np.isclose(float(result.model.g_optimizer.learning_rate), 2e-4 * 0.5)
    assert np.isclose(float(result.model.d_optimizer.learning_rate), 2e-4 * 0.5)
    assert _all_finite(checkpoints.latest_checkpoint(workdir))
    # The lowered rate is part of the checkpoint, so a resumed run keeps it.
    reloaded = keras.models.load_model(checkpoints.latest_checkpoint(workdir))
    assert np.isclose(float(reloaded.g_optimizer.learning_rate), 1e-4)


def _command(workdir, steps):
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams("dcgan").items()]
    return [sys.executable, "-m", "ganzoo.train", "--model=dcgan", f"--steps={steps}", "--batch_size=16",
            f"--workdir={workdir}", "--set=steps_per_epoch=4", "--set=checkpoint_every=2",
            "--set=jit_compile=false", *sets]


def _wait_for(predicate, timeout=120, poll=0.002):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False


def _writing(workdir):
    directory = checkpoints.checkpoint_dir(workdir)
    return os.path.isdir(directory) and any(n.startswith(".") and ".tmp-" in n for n in os.listdir(directory))


# ~70 s of six TensorFlow start-ups; the default run keeps the two single-kill tests
# (test_train.py and the kill-then-truncate one below), this one runs with -m slow.
@pytest.mark.slow
def test_kill_9_at_five_moments_then_resume(tmp_path):
    workdir = str(tmp_path / "run")
    total = 400
    command = _command(workdir, total)
    rng = random.Random(0)
    moments = ["startup", "checkpoint write", "random", "checkpoint write", "random"]
    seen_steps = []
    for moment in moments:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = checkpoints.list_checkpoints(workdir)
        if moment == "startup":
            time.sleep(rng.uniform(0.5, 2.0))
        elif moment == "checkpoint write":
            # Kill while a checkpoint is half-written under its temporary name.
            assert _wait_for(lambda b=before: _writing(workdir) and checkpoints.list_checkpoints(workdir) != b)
        else:
            assert _wait_for(lambda b=before: checkpoints.list_checkpoints(workdir) != b)
            time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = checkpoints.list_checkpoints(workdir)
        if found:
            step, path = found[-1]
            assert _all_finite(path)  # the newest complete file loads
            assert keras.models.load_model(path).step == step
            seen_steps.append(step)
    assert seen_steps == sorted(seen_steps) and seen_steps[-1] < total
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"at step {seen_steps[-1]}" in done.stderr and f"to step {total}" in done.stdout
    assert not _writing(workdir)  # stale temporaries were cleared, never loaded
    with open(os.path.join(workdir, "metrics.csv")) as f:
        steps = [int(line.split(",")[0]) for line in f.readlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == total


def test_second_run_in_same_workdir_is_refused_and_stale_lock_is_ignored(tmp_path):
    workdir = str(tmp_path / "run")
    process = subprocess.Popen(_command(workdir, 100_000), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: checkpoints.list_checkpoints(workdir), poll=0.05)
        with pytest.raises(GanzooError, match=r"workdir .* is in use by pid \d+ on .*; accepted: one run"):
            train.train(tiny_config(), workdir)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert os.path.exists(os.path.join(workdir, ".lock"))  # left behind by the killed run
    # The kernel released the killed run's lock: the next run resumes normally.
    config = tiny_config(steps=checkpoints.list_checkpoints(workdir)[-1][0] + 2, steps_per_epoch=4,
                         checkpoint_every=2)
    assert train.train(config, workdir).resumed_from is not None


def test_unwritable_workdir_fails_clearly(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(GanzooError, match="cannot create workdir .*a_file/run"):
        train.train(tiny_config(), str(blocker / "run"))
    with pytest.raises(GanzooError, match="cannot create workdir /proc/ganzoo_run"):
        train.train(tiny_config(), "/proc/ganzoo_run")


def test_full_disk_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    workdir = str(tmp_path / "run")
    train.train(tiny_config(steps=2), workdir)
    good = checkpoints.latest_checkpoint(workdir)
    real_save = keras.Model.save

    def disk_full(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(keras.Model, "save", disk_full)
    with pytest.raises(GanzooError, match="No space left on device; last good checkpoint kept: .*ckpt-00000002"):
        train.train(tiny_config(steps=4), workdir)
    monkeypatch.setattr(keras.Model, "save", real_save)
    assert checkpoints.latest_checkpoint(workdir) == good and _all_finite(good)
    assert not _writing(workdir)  # the partial file was removed
    assert train.train(tiny_config(steps=4), workdir).resumed_from == good


def test_checkpoint_of_another_model_is_refused_not_buried(tmp_path):
    workdir = str(tmp_path / "run")
    train.train(tiny_config(steps=2), workdir)
    os.remove(os.path.join(workdir, "config.json"))  # as if the files were copied in by hand
    other = tiny_config(model="vanilla", steps=2, hparams=tiny_hparams("vanilla"))
    with pytest.raises(GanzooError, match="no checkpoint in .* loads into this vanilla model"):
        train.train(other, workdir)
    assert [s for s, _ in checkpoints.list_checkpoints(workdir)] == [2]


def test_damaged_newest_checkpoint_falls_back_to_the_previous(tmp_path):
    workdir = str(tmp_path / "run")
    train.train(tiny_config(steps=4), workdir)
    newest = checkpoints.latest_checkpoint(workdir)
    with open(newest, "r+b") as f:
        f.truncate(100)
    result = train.train(tiny_config(steps=4), workdir)
    assert result.resumed_from.endswith("ckpt-00000002.keras") and result.steps == 4


def _folder(tmp_path, corrupt):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        os.makedirs(tmp_path / "imgs" / label)
        for i in range(20):
            png = tf.io.encode_png(rng.integers(0, 255, (8, 8, 1), dtype="uint8")).numpy()
            (tmp_path / "imgs" / label / f"{i}.png").write_bytes(png)
    for name in corrupt:
        (tmp_path / "imgs" / "a" / name).write_bytes(b"\x89PNG not really")
    return f"folder:{tmp_path / 'imgs'}"


def test_corrupt_files_are_skipped_or_refused(tmp_path, caplog):
    dataset = _folder(tmp_path, ["bad1.png", "bad2.png"])
    result = train.train(tiny_config(dataset=dataset, steps=2, batch_size=8), str(tmp_path / "skip"))
    assert result.steps == 2
    assert any("2" in r.getMessage() and "bad1.png" in r.getMessage() for r in caplog.records)
    with pytest.raises(GanzooError, match="bad1.png"):
        train.train(tiny_config(dataset=dataset, steps=2, batch_size=8, on_corrupt="error"),
                    str(tmp_path / "error"))


def test_kill_9_then_truncated_newest_checkpoint_export_and_evaluate_use_the_previous(tmp_path):
    workdir = str(tmp_path / "run")
    process = subprocess.Popen(_command(workdir, 100_000), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: len(checkpoints.list_checkpoints(workdir)) >= 2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    found = checkpoints.list_checkpoints(workdir)
    (good_step, good), (_, newest) = found[-2], found[-1]
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) // 2)
    out = str(tmp_path / "export")
    done = subprocess.run([sys.executable, "-m", "ganzoo.export", f"--workdir={workdir}", f"--out={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    skipped = f"skipping checkpoint {newest}: damaged: not a complete .keras archive"
    assert skipped in done.stderr
    assert f"(step {good_step}) from {good}" in done.stdout
    with open(os.path.join(out, "assets", "ganzoo.json")) as f:
        assert json.load(f)["checkpoint"] == good
    done = subprocess.run([sys.executable, "-m", "ganzoo.evaluate", f"--workdir={workdir}",
                           "--metrics=fid", "--num_samples=64"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert skipped in done.stderr and "fid" in done.stdout


@pytest.mark.parametrize("garbage, problem", [
    (b'{"model": "dcgan", ', "is not valid JSON"),
    (b"", "is not valid JSON"),
    (b"\xff\xfe{}", "is not valid JSON"),
    (b"[1, 2]", "holds an array, not a JSON object"),
    (b"null", "holds null, not a JSON object"),
])
def test_a_damaged_config_json_is_refused_and_left_as_it_was(garbage, problem, tmp_path, capsys):
    workdir = tmp_path / "run"
    workdir.mkdir()
    path = workdir / "config.json"
    path.write_bytes(garbage)
    argv = ["--model=dcgan", "--steps=2", "--batch_size=16", f"--workdir={workdir}",
            "--set=jit_compile=false"]
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path} {problem}"), err
    assert "fix or delete the file), or another --workdir" in err[0]
    assert path.read_bytes() == garbage
    assert checkpoints.list_checkpoints(str(workdir)) == []


def test_a_damaged_config_json_beside_checkpoints_is_refused_too(tmp_path):
    workdir = str(tmp_path / "run")
    train.train(tiny_config(steps=2), workdir)
    path = os.path.join(workdir, "config.json")
    with open(path, "wb") as f:
        f.write(b"{oops")
    with pytest.raises(GanzooError, match=r"config\.json is not valid JSON \(.*\); accepted: "):
        train.train(tiny_config(steps=4), workdir)
    with open(path, "rb") as f:
        assert f.read() == b"{oops"
    assert [s for s, _ in checkpoints.list_checkpoints(workdir)] == [2]


def test_workdir_lock_without_fcntl_uses_msvcrt(tmp_path, monkeypatch):
    """Where there is no fcntl (Windows), the lock is msvcrt's: the module imports
    and a second run is still refused."""
    import types

    held = set()

    def locking(fd, mode, nbytes):
        key = os.path.realpath(f"/proc/self/fd/{fd}")
        if key in held:
            raise OSError("locked")
        held.add(key)

    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setitem(sys.modules, "msvcrt", types.SimpleNamespace(locking=locking, LK_NBLCK=2))
    with (checkpoints.WorkdirLock(str(tmp_path)),
          pytest.raises(GanzooError, match="in use by pid"),
          checkpoints.WorkdirLock(str(tmp_path))):
        pass
