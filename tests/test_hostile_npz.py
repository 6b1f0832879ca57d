"""Property-based: random small .npz files, hostile ones included (huge or
negative labels, NaN/Inf pixels, odd shapes, strings, objects, complex, bool),
trained on by `python -m ganzoo.train` in a subprocess under a memory cap.
Each run either trains its 2 steps (exit 0) or exits 2 with one `error: ` line."""

import os
import resource
import subprocess
import sys

import numpy as np
from conftest import tiny_hparams
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMORY_CAP = 4 << 30  # TensorFlow starts and trains tiny models under 4 GiB
# Each example is a TensorFlow process (about 14 s on a 2-core Xeon); hunt wider with
# GANZOO_HOSTILE_EXAMPLES=50 pytest tests/test_hostile_npz.py --hypothesis-profile=explore
MAX_EXAMPLES = int(os.environ.get("GANZOO_HOSTILE_EXAMPLES", "3"))
DTYPES = ["float32", "float64", "uint8", "int64", "int8", "bool", "complex64", "<U3", "object"]


def _shape(n, kind):
    return {"points": (n, 2), "points3": (n, 3), "points0": (n, 0), "flat": (n,),
            "images": (n, 8, 8, 1), "gray": (n, 8, 8), "rgb": (n, 4, 4, 3), "two": (n, 8, 8, 2),
            "deep": (n, 1, 1, 1, 1), "empty": (0, 8, 8, 1)}[kind]


@st.composite
def hostile_npz(draw):
    """`{name: array}` for an .npz, and the model to train on it."""
    n = draw(st.integers(1, 24))
    shape = _shape(n, draw(st.sampled_from(
        ["points", "points3", "points0", "flat", "images", "gray", "rgb", "two", "deep", "empty"])))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = rng.uniform(-1, 1, shape)
    poison = draw(st.sampled_from([None, np.nan, np.inf, -np.inf, 1e30, 300.0]))
    if poison is not None and values.size:
        values.flat[draw(st.integers(0, values.size - 1))] = poison
    if dtype in ("<U3", "object"):
        x = values.astype(str).astype(dtype)
    elif dtype == "complex64":
        x = (values + 1j).astype(dtype)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            x = (values * (255 if dtype in ("uint8", "int64", "int8") else 1)).astype(dtype)
    arrays = {"x": x}
    labels = draw(st.sampled_from([None, "ok", "huge", "negative", "nan", "text", "short", "float"]))
    if labels is not None:
        count = max(len(x) - 1, 0) if labels == "short" else len(x)
        y = rng.integers(0, 3, count)
        if labels == "huge" and count:
            y[0] = 10**12
        elif labels == "negative" and count:
            y[0] = -5
        elif labels in ("nan", "float"):
            y = y.astype("float64") + (0.5 if labels == "float" else 0.0)
            if labels == "nan" and count:
                y[0] = np.nan
        elif labels == "text":
            y = y.astype(str)
        arrays["y"] = y
    model = draw(st.sampled_from(["vanilla", "cgan"] if labels is not None else ["vanilla"]))
    return arrays, model


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=hostile_npz())
# Always one that must train (3-D points) and one that must be refused (a huge label).
@example(case=({"x": np.random.default_rng(0).normal(size=(16, 3)).astype("float32")}, "vanilla"))
@example(case=({"x": np.zeros((8, 8, 8, 1), "uint8"), "y": np.array([0, 1] * 3 + [1, 10**12])},
               "cgan"))
def test_train_on_any_npz_trains_or_refuses_in_one_line(case, tmp_path):
    arrays, model = case
    path = tmp_path / f"case-{os.urandom(4).hex()}.npz"
    np.savez(path, **arrays)
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in tiny_hparams(model).items()]
    command = [sys.executable, "-m", "ganzoo.train", f"--model={model}", f"--dataset=npz:{path}",
               "--steps=2", "--batch_size=4", f"--workdir={path}.run", "--set=steps_per_epoch=2",
               "--set=grid_samples=4", "--set=jit_compile=false", *sets]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False, preexec_fn=_cap_memory, env=env)
    shown = {k: (v.dtype, v.shape) for k, v in arrays.items()}
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    if done.returncode == 0:
        assert "to step 2" in done.stdout, (shown, done.stdout[-500:])
        assert not errors, (shown, errors)
    else:
        assert done.returncode == 2, (shown, model, done.stderr[-1500:])
        assert len(errors) == 1 and "Traceback" not in done.stderr, (shown, done.stderr[-1500:])
