"""Crash-safe writes: a reader sees the old file or directory, or the whole new one.

Everything ganzoo writes that a later run reads (configs, checkpoints, exports,
figures, results) goes through `atomic_output`: the content is written under a
temporary name beside the target, flushed to disk, then renamed over it.
"""

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile

_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[^/]*$")


def fsync_path(path):
    """Flush one file or directory to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root):
    """Flush every file and directory under `root` to disk."""
    for directory, _, files in os.walk(root):
        for name in files:
            fsync_path(os.path.join(directory, name))
        fsync_path(directory)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_name(path, kind="tmp"):
    """A hidden unique name beside `path` that keeps its suffix (Keras checks it)."""
    parent, name = os.path.split(os.path.abspath(path))
    fd, staging = tempfile.mkstemp(prefix=f".{name}.{kind}-{os.getpid()}-",
                                   suffix=os.path.splitext(name)[1], dir=parent)
    os.close(fd)
    os.remove(staging)
    return staging


def remove_stale(path):
    """Clean up after writers of `path` that were killed.

    Their temporary files and directories are deleted. A directory write killed
    between its two renames left the previous one renamed aside and `path`
    missing: that one is put back.
    """
    parent, name = os.path.split(os.path.abspath(path))
    pattern = os.path.join(glob.escape(parent), f".{glob.escape(name)}.*-*-*")
    for entry in sorted(glob.glob(pattern)):
        match = _STAGING.match(os.path.basename(entry))
        if not match or match.group("name") != name or _pid_alive(int(match.group("pid"))):
            continue
        if match.group("kind") == "old" and not os.path.lexists(path):
            os.rename(entry, path)
        elif os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry, ignore_errors=True)
        else:
            os.remove(entry)


def _discard(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(OSError):
            os.remove(path)


def _replace_directory(new, path):
    """Move directory `new` to `path`; an existing `path` is renamed aside
    first and deleted once `new` is in place (put back if that rename fails)."""
    if not os.path.lexists(path):
        os.rename(new, path)
        return
    old = staging_name(path, "old")
    os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path, directory=False):
    """Yield a temporary path to write `path`'s new content to; on success it
    is flushed and renamed into place, on failure removed.

        with atomic_output("model.keras") as tmp:
            model.save(tmp)

    With `directory=True` the temporary path is a new empty directory and an
    existing directory at `path` is replaced whole.
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale(path)
    staging = staging_name(path)
    if directory:
        os.mkdir(staging)
    try:
        yield staging
        if directory:
            fsync_tree(staging)
            _replace_directory(staging, path)
        else:
            fsync_path(staging)
            os.replace(staging, path)
        fsync_path(parent)
    finally:
        _discard(staging)


def atomic_write(path, content):
    """Write `content` (str or bytes) to `path` atomically."""
    mode = "wb" if isinstance(content, bytes) else "w"
    with atomic_output(path) as tmp, open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        f.write(content)
    return path


def atomic_write_json(path, value, **dump_kwargs):
    """Write `value` as indented JSON (with a final newline) to `path` atomically."""
    dump_kwargs = {"indent": 2, **dump_kwargs}
    return atomic_write(path, json.dumps(value, **dump_kwargs) + "\n")
