"""Crash-safe checkpoints and the workdir lock.

A checkpoint is a `.keras` file (model config, weights, both optimizers and
the RNG state) written under a temporary name, flushed to disk and renamed, so
a reader sees either the whole file or none of it. Loading tries the newest
checkpoint first and falls back to older ones if a file turns out unreadable.
"""

import fcntl
import glob
import os
import re
import socket

import keras
from absl import logging

from ganzoo.errors import GanzooError

CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^ckpt-(\d+)\.keras$")


def checkpoint_dir(workdir):
    return os.path.join(workdir, CHECKPOINT_DIR)


def list_checkpoints(workdir):
    """[(step, path)] of the complete checkpoints in `workdir`, oldest first."""
    found = []
    for path in glob.glob(os.path.join(checkpoint_dir(workdir), "ckpt-*.keras")):
        match = _NAME.match(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(workdir):
    """Path of the newest complete checkpoint, or None."""
    found = list_checkpoints(workdir)
    return found[-1][1] if found else None


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_save(model, path):
    """`model.save(path)` via a flushed temporary file and a rename."""
    directory = os.path.dirname(path)
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        os.makedirs(directory, exist_ok=True)
        model.save(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(directory)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        previous = latest_checkpoint(os.path.dirname(directory))
        raise GanzooError(
            f"cannot write checkpoint {path}: {e.strerror or e}; "
            f"last good checkpoint kept: {previous or 'none'}"
        ) from None
    return path


def save_checkpoint(model, workdir, keep=3):
    """Write `ckpt-<step>.keras` atomically and prune all but the newest `keep`."""
    path = os.path.join(checkpoint_dir(workdir), f"ckpt-{model.step:08d}.keras")
    _atomic_save(model, path)
    for _, old in list_checkpoints(workdir)[:-keep]:
        os.remove(old)
    return path


def save_best(model, workdir):
    """Write `best.keras`, the checkpoint with the best evaluation so far."""
    return _atomic_save(model, os.path.join(checkpoint_dir(workdir), "best.keras"))


def restore_latest(model, workdir):
    """Load the newest readable checkpoint into `model`; its path, or None if
    there is none. A damaged newest file falls back to an older one; if
    checkpoints exist but none loads (say, another model's), that is an error:
    starting afresh would bury them under new ones.
    """
    failures = []
    for _, path in reversed(list_checkpoints(workdir)):
        try:
            model.load_weights(path)
        except Exception as e:  # noqa: BLE001 (a damaged file: try an older one)
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            logging.warning("checkpoint %s does not load (%s); trying an older one", path, reason)
            failures.append(f"{os.path.basename(path)}: {reason[:160]}")
            continue
        return path
    if failures:
        raise GanzooError(
            f"no checkpoint in {checkpoint_dir(workdir)} loads into this {model.registry_name} "
            f"model ({failures[0]}); accepted: checkpoints of the same model and settings "
            "(move these away to start afresh)"
        )
    return None


def remove_stale_temporaries(workdir):
    for path in glob.glob(os.path.join(checkpoint_dir(workdir), ".tmp-*")):
        os.remove(path)


class WorkdirLock:
    """An exclusive `flock` on `<workdir>/.lock` for the length of a run.

    The kernel drops the lock when its process dies, even by `kill -9`, so a
    stale lock from a killed run never blocks the next one.
    """

    def __init__(self, workdir):
        self.path = os.path.join(workdir, ".lock")
        self._file = None

    def __enter__(self):
        try:
            self._file = open(self.path, "a+")
        except OSError as e:
            raise GanzooError(f"cannot use workdir {os.path.dirname(self.path)}: {e.strerror}") from None
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise GanzooError(
                f"workdir {os.path.dirname(self.path)} is in use by {holder}; "
                "accepted: one run per workdir (wait for it, or pass another --workdir)"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        self._file.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        return False


def load_model(path):
    """Load a ganzoo model from a `.keras` file with a one-line error if it fails."""
    import ganzoo.models  # noqa: F401  (registers the classes)

    if not os.path.exists(path):
        raise GanzooError(f"no such file: {path}")
    try:
        return keras.models.load_model(path)
    except Exception as e:  # noqa: BLE001 (Keras raises many types for bad files)
        raise GanzooError(f"cannot load a ganzoo model from {path}: {str(e).splitlines()[0]}") from None
