"""Where a training step's time goes, and what each setting gives:
`python tools/profile_step.py [--model=wgan_gp --size=8 --n_critic=5]`.

For the step of `--model` on `--size` x `--size` x 1 images at batch 64, it
prints the milliseconds per step under each variant below, each timed in a
fresh process (thread pools, oneDNN and XLA read their settings at start-up),
then the TensorFlow profiler's op-type breakdown of the variant `--ops_of`
names. Variants:

- `default`: as `ganzoo.train` runs it without XLA;
- `xla`: `jit_compile=True`;
- `no_onednn`: `TF_ENABLE_ONEDNN_OPTS=0`, with and without XLA;
- `inter_op_1`, `intra_op_1`: one thread for independent ops, or within each op;
- `xla_onednn`: XLA with its oneDNN ops (`--xla_cpu_use_onednn`);
- `conv_kernels`: small convolutions run by TensorFlow's convolution kernels
  instead of as one matmul (`networks.UNROLL_MAX_COST_RATIO = 0`), with and
  without XLA: what `networks.Conv2D` and `Conv2DTranspose` gained.

`--isa=avx2` caps every variant at AVX2 (`tools/isa.py`).
"""

import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import isa as isa_caps
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "wgan_gp", "the registered model whose step is timed")
flags.DEFINE_integer("size", 8, "image side: 8 is the quickstart's digits")
flags.DEFINE_integer("n_critic", None, "for wgan_gp: critic updates per step (default: the paper's)")
flags.DEFINE_integer("steps", 40, "steps per timed trial")
flags.DEFINE_integer("trials", 5, "timed trials per variant; the fastest counts")
flags.DEFINE_list("variants", None, "which variants (default: all)")
flags.DEFINE_string("ops_of", "default", "the variant whose op-type breakdown is printed ('' for none)")
flags.DEFINE_enum("isa", "native", ["native", "avx2"], "cap every variant at this ISA")
flags.DEFINE_string("json", None, "also write the results here")

VARIANTS = {
    "default": ({}, {}),
    "xla": ({}, {"jit": True}),
    "no_onednn": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
    "no_onednn_xla": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {"jit": True}),
    "inter_op_1": ({"TF_NUM_INTEROP_THREADS": "1"}, {}),
    "intra_op_1": ({"TF_NUM_INTRAOP_THREADS": "1"}, {}),
    "xla_onednn": ({"XLA_FLAGS": "--xla_cpu_use_onednn=true"}, {"jit": True}),
    "conv_kernels": ({}, {"unroll": False}),
    "conv_kernels_xla": ({}, {"unroll": False, "jit": True}),
}

# The child: time (and optionally profile) the step in this fresh process.
_CHILD = """
import json, sys, time
import numpy as np
options = json.loads(sys.argv[1])
import tensorflow as tf, keras, ganzoo
from ganzoo import networks
if not options["unroll"]:
    networks.UNROLL_MAX_COST_RATIO = 0
keras.utils.set_random_seed(0)
hparams = {"n_critic": options["n_critic"]} if options["n_critic"] else {}
model = ganzoo.create_model(options["model"], data_shape=(options["size"],) * 2 + (1,), seed=0, **hparams)
model.compile(jit_compile=options["jit"])
batch = 64 * model.real_batches_per_step
images = np.random.default_rng(0).uniform(-1, 1, (batch * 16, options["size"], options["size"], 1))
data = tf.data.Dataset.from_tensor_slices(images.astype("float32")).batch(batch).repeat().prefetch(2)
model.fit(data, epochs=1, steps_per_epoch=10, verbose=0)
times = []
for _ in range(options["trials"]):
    started = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=options["steps"], verbose=0)
    times.append((time.perf_counter() - started) / options["steps"])
if options["profile_dir"]:
    tf.profiler.experimental.start(options["profile_dir"])
    model.fit(data, epochs=1, steps_per_epoch=options["steps"], verbose=0)
    tf.profiler.experimental.stop()
print("RESULT=" + json.dumps({"ms_per_step": 1000 * min(times)}))
"""


def op_breakdown(profile_dir, steps):
    """{op type: (ms per step, calls per step)} of the profiled steps, summed over
    threads (so it can exceed the wall time), largest first."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    path = glob.glob(os.path.join(profile_dir, "plugins", "profile", "*", "*.xplane.pb"))[0]
    data, _ = plugin.xspace_to_tools_data([path], "framework_op_stats", {})
    rows = json.loads(data)[0]["rows"]
    totals, calls = collections.Counter(), collections.Counter()
    for row in rows:
        cells = [c.get("v") for c in row["c"]]
        if cells[2] != "IDLE":
            totals[cells[2]] += cells[7] / 1000 / steps
            calls[cells[2]] += cells[4] / steps
    return {op: (ms, calls[op]) for op, ms in totals.most_common()}


def run_variant(name, profile_dir=None):
    env_extra, options = VARIANTS[name]
    env = isa_caps.capped_env(FLAGS.isa)
    for key, value in env_extra.items():
        env[key] = f"{env[key]} {value}" if key == "XLA_FLAGS" and env.get(key) else value
    options = {"jit": False, "unroll": True, **options, "model": FLAGS.model, "size": FLAGS.size,
               "n_critic": FLAGS.n_critic, "steps": FLAGS.steps, "trials": FLAGS.trials,
               "profile_dir": profile_dir}
    result = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(options)], env=env,
                            capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT=")]
    if result.returncode or not lines:
        raise RuntimeError(f"variant {name} failed:\n{result.stderr[-2000:]}")
    return json.loads(lines[0][len("RESULT="):])["ms_per_step"]


def main(argv):
    del argv
    names = FLAGS.variants or list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise app.UsageError(f"unknown variant {unknown[0]!r}; accepted: {', '.join(VARIANTS)}")
    started = time.perf_counter()
    results = {"model": FLAGS.model, "size": FLAGS.size, "n_critic": FLAGS.n_critic,
               "isa": FLAGS.isa, "caps": isa_caps.CAPS[FLAGS.isa], "ms_per_step": {}}
    for name in names:
        results["ms_per_step"][name] = run_variant(name)
        print(f"{name:<18} {results['ms_per_step'][name]:8.1f} ms/step", flush=True)
    if FLAGS.ops_of:
        with tempfile.TemporaryDirectory() as tmp:
            run_variant(FLAGS.ops_of, profile_dir=tmp)
            ops = op_breakdown(tmp, FLAGS.steps)
        results["ops_of"] = FLAGS.ops_of
        results["ops"] = {op: {"ms_per_step": round(ms, 3), "calls_per_step": round(n, 1)}
                          for op, (ms, n) in ops.items()}
        print(f"\nop types of '{FLAGS.ops_of}' (ms per step, summed over threads):")
        for op, (ms, n) in list(ops.items())[:15]:
            print(f"  {op:<28} {ms:8.2f} ms  {n:6.1f} calls")
    results["seconds"] = round(time.perf_counter() - started, 1)
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    app.run(main)
