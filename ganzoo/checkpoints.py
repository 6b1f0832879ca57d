"""Crash-safe checkpoints and the workdir lock.

A checkpoint is a `.keras` file (model config, weights, both optimizers and
the RNG state) written under a temporary name, flushed to disk and renamed, so
a reader sees either the whole file or none of it. Loading tries the newest
checkpoint first and falls back to older ones if a file turns out unreadable.
"""

import glob
import json
import os
import re
import socket
import zipfile

import keras
from absl import logging

# Registers the model classes that keras.models.load_model rebuilds.
import ganzoo.models  # noqa: F401
from ganzoo import fileio
from ganzoo.errors import GanzooError, first_line, os_reason

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


def _atomic_save(model, path):
    """`model.save(path)` through `fileio.atomic_output`, with a one-line error."""
    try:
        with fileio.atomic_output(path) as tmp:
            model.save(tmp)
    except OSError as e:
        previous = latest_checkpoint(os.path.dirname(os.path.dirname(path)))
        raise GanzooError(
            f"cannot write checkpoint {path}: {os_reason(e)}; "
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


def why_unloadable(path, error):
    """One line on why the checkpoint at `path` did not load: damaged (a
    truncated or corrupt file) is told apart from missing or foreign."""
    if not os.path.exists(path):
        return "missing"
    if not zipfile.is_zipfile(path):
        return f"damaged: not a complete .keras archive ({os.path.getsize(path)} bytes)"
    return first_line(error, limit=160)


def newest_loadable(workdir, load):
    """`(load(path), path)` for the newest checkpoint in `workdir` that loads.

    Each newer one that does not load is skipped with a warning naming it and
    why. Raises `GanzooError` when none loads (listing why), or there is none;
    `load` is `keras.models.load_model`-like or restores into a model.
    """
    failures = []
    for _, path in reversed(list_checkpoints(workdir)):
        try:
            return load(path), path
        except Exception as e:  # noqa: BLE001 (a damaged or foreign file: try an older one)
            reason = why_unloadable(path, e)
            logging.warning("skipping checkpoint %s: %s; trying an older one", os.path.abspath(path),
                            reason)
            failures.append(f"{os.path.basename(path)}: {reason}")
    if failures:
        raise GanzooError(
            f"no checkpoint in {checkpoint_dir(os.path.abspath(workdir))} loads "
            f"({'; '.join(failures[:3])}); accepted: checkpoints of the same model and settings "
            "(move these away to start afresh)"
        )
    raise GanzooError(f"workdir {os.path.abspath(workdir)} has no checkpoint; accepted: a workdir "
                      "that `python -m ganzoo.train` has checkpointed")


def restore_latest(model, workdir):
    """Load the newest readable checkpoint into `model`; its path, or None if
    there is none. A damaged newest file falls back to an older one; if
    checkpoints exist but none loads (say, another model's), that is an error:
    starting afresh would bury them under new ones.
    """
    if not list_checkpoints(workdir):
        return None
    try:
        return newest_loadable(workdir, model.load_weights)[1]
    except GanzooError as e:
        raise GanzooError(str(e).replace(" loads (", f" loads into this {model.registry_name} model (", 1)) from None


def load_latest(workdir):
    """`(model, path)`: the newest checkpoint of `workdir` that loads, as a model."""
    return newest_loadable(workdir, load_model)


def remove_stale_temporaries(workdir):
    """Delete what killed writers left behind beside the checkpoints."""
    for _, path in list_checkpoints(workdir):
        fileio.remove_stale(path)
    fileio.remove_stale(os.path.join(checkpoint_dir(workdir), "best.keras"))


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
        if not _try_lock(self._file):
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
        self._file.close()  # closing the file releases either kind of lock
        return False


def _try_lock(file):
    """Take an exclusive lock on `file` without waiting; False if another process
    holds it. `fcntl` where there is one (Linux, macOS), else Windows' `msvcrt`:
    imported here, so this module imports everywhere."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        try:
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def read_run_config(workdir):
    """The dict in a run's config.json, or None when it has none; a one-line error
    when it cannot be read or is not a JSON object."""
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, ValueError) as e:
        raise GanzooError(f"cannot read {path}: {first_line(e)}") from None
    if not isinstance(values, dict):
        raise GanzooError(f"cannot read {path}: not a JSON object; accepted: a config.json "
                          "that `ganzoo train` wrote")
    return values


def load_model(path):
    """Load a ganzoo model from a `.keras` file with a one-line error if it fails."""
    path = os.path.abspath(path)
    if not os.path.exists(path):
        raise GanzooError(f"no such file: {path}")
    try:
        return keras.models.load_model(path)
    except Exception as e:  # noqa: BLE001 (Keras raises many types for bad files)
        raise GanzooError(f"cannot load a ganzoo model from {path}: {why_unloadable(path, e)}") from None
