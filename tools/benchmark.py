"""ganzoo's speed, as ratios measured in one run: `python tools/benchmark.py [--quick]`.

Every figure is a ratio of two timings taken in this process, one after the
other, because shared machines are noisy. It reports:

- training throughput (images/s of a train step) of each model, and ganzoo's
  `dcgan` against a reference loop written plainly below (a `tf.function`
  with two `GradientTape`s running the same algorithm on the same networks at
  28x28x1, batch 64): what the `keras.Model` abstraction costs;
- the keras.io DCGAN example's own 28x28 networks in the reference loop, as an
  absolute anchor;
- `mixed_bfloat16` against the float32 reference;
- FLOP/s achieved by the reference step against this machine's matmul peak;
- the share of step time spent waiting on ganzoo's input pipeline;
- `jit_compile` and `steps_per_execution` against the defaults;
- sampling through an exported SavedModel against in-process generation;
- FID of two 10,000 x 2048 feature sets against `scipy.linalg.sqrtm`;
- vanilla steps on 2-D points (`ring8`, batch 256) against the step as it
  was before `FusedAdam` and the points defaults, and with 100 steps per graph
  call as the 2-D configs run them (`--two_d_only` for these alone);
- with `--peer=torch` (needs the `[bench]` extra): ganzoo's training steps
  against a PyTorch peer of the same networks and algorithm
  (`tools/torch_peer.py`), for `dcgan` at 28x28 and `wgan_gp` (the paper's
  settings, 5 critic updates per step) on 8x8 digits, batch 64. ganzoo runs as `jit_compile=auto` would choose: the
  faster of with and without XLA, both timed here. This part always runs in
  full (about 2 minutes on 2 cores), `--quick` or not.

With `--isa=avx2` the chosen benchmark runs twice, each in a fresh process:
once on the machine's own instruction sets and once capped at AVX2 (see
`tools/isa.py`, which also checks that every cap applied), and the ratios of
both are printed side by side. A cap that cannot be shown to apply leaves its
figures marked as such, not claimed for AVX2.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import keras
import numpy as np
import tensorflow as tf

import ganzoo
import ganzoo.models
from ganzoo import data, losses
from ganzoo.savedmodel import export_generator

SHAPE = (28, 28, 1)
BATCH = 64


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def _dataset(batch, n_batches=16):
    return tf.data.Dataset.from_tensor_slices(_images(batch * n_batches)).batch(batch).repeat().prefetch(2)


def fit_timer(model, steps, warmup, batch=BATCH, dataset=None):
    """A callable timing `steps` steps of `model.fit` (seconds per step), after a
    warm-up that traces the step."""
    dataset = dataset if dataset is not None else _dataset(batch * model.real_batches_per_step)
    model.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0)

    def timed():
        started = time.perf_counter()
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
        return (time.perf_counter() - started) / steps

    return timed


def best_of(trials, *timers):
    """Alternate the timers `trials` times; the fastest run of each.

    Alternating spreads the machine's slow spells over all contenders, and
    the minimum is the run least disturbed by them.
    """
    times = [[] for _ in timers]
    for _ in range(trials):
        for i, timer in enumerate(timers):
            times[i].append(timer())
    return [min(t) for t in times]


def reference_step_fn(generator, discriminator, latent_dim):
    """The reference: DCGAN's alternating updates, written plainly."""
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function
    def step(real):
        batch = tf.shape(real)[0]
        fake = generator(tf.random.normal((batch, latent_dim)), training=True)
        with tf.GradientTape() as tape:
            d_loss = losses.discriminator_loss(
                discriminator(real, training=True), discriminator(fake, training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            fake = generator(tf.random.normal((batch, latent_dim)), training=True)
            g_loss = losses.generator_loss(discriminator(fake, training=True))
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return step


def reference_timer(step, steps, warmup, batch=BATCH):
    iterator = iter(_dataset(batch))
    for _ in range(warmup):
        step(next(iterator))

    def timed():
        started = time.perf_counter()
        for _ in range(steps):
            out = step(next(iterator))
        float(out[0])  # wait for the last step
        return (time.perf_counter() - started) / steps

    return timed


def keras_io_networks(latent_dim=128):
    """The keras.io "GAN overriding Model.train_step" example's MNIST networks."""
    layers = keras.layers
    discriminator = keras.Sequential([
        keras.Input(SHAPE),
        layers.Conv2D(64, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.GlobalMaxPooling2D(), layers.Dense(1),
    ])
    generator = keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 128), layers.LeakyReLU(0.2), layers.Reshape((7, 7, 128)),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(1, 7, padding="same", activation="sigmoid"),
    ])
    return generator, discriminator


def step_flops(step, batch=BATCH):
    """FLOPs of one traced step, counted by TensorFlow's graph profiler."""
    graph = step.get_concrete_function(tf.TensorSpec((batch, *SHAPE), tf.float32)).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


def matmul_peak(size=2048, repeats=10):
    """FLOP/s of a large float32 matmul: the practical peak of this machine."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    mm = tf.function(lambda x, y: tf.matmul(x, y))
    mm(a, b).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        c = mm(a, b)
    c.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def dcgan(**compile_kwargs):
    keras.utils.set_random_seed(0)
    model = ganzoo.create_model("dcgan", data_shape=SHAPE, seed=0)
    model.compile(**compile_kwargs)
    return model


def input_pipeline_wait(steps, warmup, trials):
    """Share of a ganzoo dcgan step spent waiting on `ganzoo.data` (digits at 28x28)."""
    pipeline, _ = data.load("digits", image_size=28, repeat=True, batch_size=BATCH, drop_remainder=True)
    constant = tf.data.Dataset.from_tensors(next(iter(pipeline))).repeat()
    with_pipeline, without = best_of(
        trials, fit_timer(dcgan(), steps, warmup, dataset=pipeline),
        fit_timer(dcgan(), steps, warmup, dataset=constant))
    return max(0.0, 1.0 - without / with_pipeline)


def sampling_ratio(repeats):
    """SavedModel sampling throughput over in-process generation (same generator)."""
    model = dcgan()
    z = np.random.default_rng(0).normal(size=(256, model.latent_dim)).astype("float32")
    generate = tf.function(lambda z: model.generator(z, training=False))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "generator")
        export_generator(model, path)
        serving = tf.saved_model.load(path).signatures["serving_default"]

        def timer(fn):
            fn()

            def timed():
                started = time.perf_counter()
                for _ in range(repeats):
                    fn()
                return (time.perf_counter() - started) / repeats

            return timed

        in_process, saved = best_of(
            3, timer(lambda: generate(z).numpy()),
            timer(lambda: serving(z=tf.constant(z))["images"].numpy()))
    return in_process / saved, 256 / in_process, 256 / saved


def machine():
    """The CPU model and the instruction sets that decide XLA's and bf16's worth."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", "x86_64"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = sorted(f for f in flags if f.startswith(("avx512", "amx", "avx2")))
    return f"{model}, {os.cpu_count()} cores, {' '.join(wanted) or 'no avx2/avx512/amx'}"


def run(quick):
    steps, warmup, trials = (15, 5, 3) if quick else (50, 10, 5)
    results = {"machine": machine(), "tensorflow": tf.__version__, "keras": keras.__version__,
               "quick": quick, "steps": steps, "trials": trials}

    model = dcgan()
    reference = reference_step_fn(model.generator, model.discriminator, model.latent_dim)
    io_generator, io_discriminator = keras_io_networks()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        bf16 = dcgan()
    finally:
        keras.config.set_dtype_policy(previous)
    spe = 5
    t_ref, t_dcgan, t_bf16, t_jit, t_spe, t_io = best_of(
        trials,
        reference_timer(reference, steps, warmup),
        fit_timer(model, steps, warmup),
        fit_timer(bf16, steps, warmup),
        fit_timer(dcgan(jit_compile=True), steps, warmup),
        fit_timer(dcgan(steps_per_execution=spe), steps // spe * spe, spe),
        reference_timer(reference_step_fn(io_generator, io_discriminator, 128), steps, warmup),
    )
    results["reference_images_per_s"] = BATCH / t_ref
    results["dcgan_images_per_s"] = BATCH / t_dcgan
    results["dcgan_vs_reference"] = t_ref / t_dcgan
    results["bf16_images_per_s"] = BATCH / t_bf16
    results["bf16_vs_float32_reference"] = t_ref / t_bf16
    results["jit_compile_vs_default"] = t_dcgan / t_jit
    results[f"steps_per_execution_{spe}_vs_1"] = t_dcgan / t_spe
    results["keras_io_networks_images_per_s"] = BATCH / t_io

    flops = step_flops(reference)
    peak = matmul_peak()
    results["reference_gflop_per_step"] = flops / 1e9
    results["achieved_gflops"] = flops / t_ref / 1e9
    results["matmul_peak_gflops"] = peak / 1e9
    results["flops_vs_peak"] = flops / t_ref / peak

    results["input_pipeline_wait_share"] = input_pipeline_wait(steps, warmup, trials)

    for name in ganzoo.list_models():
        if name == "dcgan":
            continue
        keras.utils.set_random_seed(0)
        kwargs = {"num_classes": 10} if ganzoo.models.get_model_class(name).conditional else {}
        m = ganzoo.create_model(name, data_shape=SHAPE, seed=0, **kwargs)
        m.compile()
        dataset = None
        if m.conditional:
            dataset = tf.data.Dataset.from_tensor_slices(
                (_images(BATCH * 16), np.arange(BATCH * 16) % 10)).batch(BATCH).repeat()
        (t,) = best_of(1, fit_timer(m, max(5, steps // m.real_batches_per_step), 3, dataset=dataset))
        results[f"{name}_images_per_s"] = BATCH * m.real_batches_per_step / t

    ratio, in_process, saved = sampling_ratio(5 if quick else 20)
    results["savedmodel_vs_in_process_sampling"] = ratio
    results["in_process_samples_per_s"] = in_process
    results["savedmodel_samples_per_s"] = saved

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchmark_metrics import benchmark_fid

    fid = benchmark_fid(n=10000, dim=2048, seed=0, repeats=1)
    results["fid_10000x2048_seconds"] = fid["seconds_ours"]
    results["fid_speedup_vs_sqrtm"] = fid["speedup"]
    results["fid_relative_difference_vs_sqrtm"] = fid["relative_difference"]
    return results


def peer_ratios(steps=50, warmup=10, trials=5):
    """ganzoo / PyTorch throughput for the same networks and algorithm. Never
    shortened by --quick: 15-step trials swung this ratio by 20% (0.86x quick,
    1.08-1.26x full, on one machine the same evening)."""
    import torch_peer  # first: it keeps Triton out of this TensorFlow process

    torch = torch_peer.torch  # the optional [bench] extra

    torch.set_num_threads(os.cpu_count())
    results = {"torch": torch.__version__}
    for key, name, shape in (("dcgan_28x28", "dcgan", SHAPE), ("wgan_gp_8x8", "wgan_gp", (8, 8, 1))):
        def build(name=name, shape=shape, **compile_kwargs):
            keras.utils.set_random_seed(0)
            model = ganzoo.create_model(name, data_shape=shape, seed=0)
            model.compile(**compile_kwargs)
            return model

        model = build()
        same, keras_counts, torch_counts = torch_peer.check_same_sizes(model)
        if not same:
            raise RuntimeError(f"{name}: parameter counts differ: Keras {keras_counts}, PyTorch {torch_counts}")
        batch = BATCH * model.real_batches_per_step
        images = np.random.default_rng(0).uniform(-1, 1, (batch * 16, *shape)).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch).repeat().prefetch(2)
        n = max(5, steps // model.real_batches_per_step)
        t_plain, t_xla, t_torch = best_of(
            trials, fit_timer(model, n, warmup, dataset=dataset),
            fit_timer(build(jit_compile=True), n, warmup, dataset=dataset),
            torch_peer.step_timer(model, BATCH, n, warmup))
        results[f"{key}_torch_images_per_s"] = batch / t_torch
        results[f"{key}_ganzoo_images_per_s"] = batch / min(t_plain, t_xla)
        results[f"{key}_xla_vs_no_xla"] = t_plain / t_xla
        results[f"{key}_vs_torch"] = t_torch / min(t_plain, t_xla)
    return results


# Train steps per graph call in the 2-D configs (`--set steps_per_execution=100`):
# a 2-D step is so small that the per-call overhead of Keras's loop dominates it.
FUSED_STEPS = 100


def two_d_ratios(steps, trials):
    """Vanilla GAN steps on `ring8` at batch 256: the step as it was (Keras's
    Adam, 512x512 MLPs, one step per graph call) against the same networks
    with `FusedAdam`, and against vanilla's defaults for points, as
    `ganzoo.train` runs them (XLA or not, whichever `jit_compile=auto` would
    pick: both are timed)."""
    points, info = data.load("ring8", batch_size=256)
    points = points.repeat().prefetch(2)

    def build(spe=1, keras_adam=False, jit=False, **hparams):
        keras.utils.set_random_seed(0)
        model = ganzoo.create_model("vanilla", data_shape=info.shape, seed=0, **hparams)
        optimizers = {}
        if keras_adam:
            optimizers = {k: keras.optimizers.Adam(2e-4, beta_1=0.5) for k in ("g_optimizer", "d_optimizer")}
        model.compile(jit_compile=jit, steps_per_execution=spe, **optimizers)
        return fit_timer(model, steps // spe * spe, spe * 2, dataset=points)

    wide = {"generator_units": (512, 512), "discriminator_units": (512, 512)}
    t_before, t_fused, t_points, t_points_xla, t_fused_calls, t_fused_calls_xla = best_of(
        trials, build(keras_adam=True, **wide), build(**wide), build(), build(jit=True),
        build(spe=FUSED_STEPS), build(spe=FUSED_STEPS, jit=True))
    t_now = min(t_fused_calls, t_fused_calls_xla)
    return {
        "ring8_vanilla_before_ms_per_step": 1000 * t_before,
        "ring8_vanilla_points_defaults_ms_per_step": 1000 * min(t_points, t_points_xla),
        "ring8_fused_adam_vs_keras_adam": t_before / t_fused,
        "ring8_points_defaults_vs_before": t_before / min(t_points, t_points_xla),
        "ring8_points_defaults_xla_vs_no_xla": t_points / t_points_xla,
        f"ring8_vanilla_points_defaults_{FUSED_STEPS}_steps_per_call_ms_per_step": 1000 * t_now,
        f"ring8_points_defaults_{FUSED_STEPS}_steps_per_call_vs_before": t_before / t_now,
        f"ring8_{FUSED_STEPS}_steps_per_call_xla_vs_no_xla": t_fused_calls / t_fused_calls_xla,
    }



TARGETS = [
    ("dcgan_28x28_vs_torch", ">=", 1.0, "dcgan 28x28 vs PyTorch peer (auto XLA)"),
    ("wgan_gp_8x8_vs_torch", ">=", 1.0, "wgan_gp 8x8 (paper settings) vs PyTorch peer"),
    ("dcgan_vs_reference", ">=", 1.0, "dcgan float32 vs the reference loop"),
    ("ring8_points_defaults_vs_before", None, None, "ring8 vanilla step: points defaults vs before"),
    ("ring8_points_defaults_100_steps_per_call_vs_before", ">=", 5.0,
     "ring8 vanilla: + 100 steps per call vs before"),
    ("ring8_fused_adam_vs_keras_adam", None, None, "ring8 vanilla 512x512: FusedAdam vs Adam"),
    ("bf16_vs_float32_reference", ">=", 2.0, "dcgan mixed_bfloat16 vs float32 reference"),
    ("input_pipeline_wait_share", "<=", 0.05, "share of step time waiting on input"),
    ("savedmodel_vs_in_process_sampling", ">=", 0.9, "SavedModel vs in-process sampling"),
    ("fid_10000x2048_seconds", "<=", 3.0, "FID of 10,000 x 2,048 features (s)"),
    ("jit_compile_vs_default", None, None, "jit_compile=True vs default (False)"),
    ("steps_per_execution_5_vs_1", None, None, "steps_per_execution=5 vs 1"),
    ("flops_vs_peak", None, None, "reference step FLOP/s vs matmul peak"),
    ("fid_speedup_vs_sqrtm", None, None, "FID vs scipy.linalg.sqrtm (speed-up)"),
]


def format_table(results):
    lines = [f"{'measure':<45} {'value':>10}  {'target':>8}  ok", "-" * 72]
    for key, op, target, label in TARGETS:
        value = results.get(key)
        if value is None:
            continue
        ok = "" if op is None else ("yes" if (value >= target if op == ">=" else value <= target) else "NO")
        goal = "" if op is None else f"{op}{target:g}"
        lines.append(f"{label:<45} {value:>10.3f}  {goal:>8}  {ok}")
    lines.append("-" * 72)
    for key in sorted(results):
        if key.endswith(("per_s", "gflops", "per_step", "xla_vs_no_xla")):
            lines.append(f"{key:<45} {results[key]:>10.1f}")
    lines.append(f"machine: {results['machine']}; TF {results['tensorflow']}, Keras {results['keras']}")
    return "\n".join(lines)


def isa_comparison(argv, torch):
    """Run this benchmark (`argv`, less --isa) natively and capped at AVX2, each
    in a fresh process; print both tables and the side-by-side ratios."""
    import isa as isa_caps

    combined = {}
    for isa in ("native", "avx2"):
        evidence = isa_caps.verify(isa, torch=torch)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "results.json")
            child = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--json", out],
                                   env=isa_caps.capped_env(isa), capture_output=True, text=True,
                                   check=False)
            if child.returncode:
                raise RuntimeError(f"the {isa} run failed:\n{child.stderr[-3000:]}")
            results = json.loads(Path(out).read_text())
        print(f"== {isa} ({', '.join(f'{k}={v}' for k, v in isa_caps.CAPS[isa].items()) or 'no caps'})")
        print(format_table(results))
        verdict = "caps applied" if evidence["applied"] else "CAPS NOT SHOWN TO APPLY: " + "; ".join(evidence["problems"])
        print(f"{verdict}; evidence: {json.dumps({k: v for k, v in evidence.items() if k not in ('env', 'problems')})}")
        combined[isa] = {"results": results, "caps": evidence}
    ratios = sorted({k for run in combined.values() for k in run["results"] if k.endswith("_vs_torch")})
    print(f"\n{'ganzoo / PyTorch':<32}" + "".join(f"{isa:>12}" for isa in combined))
    for key in ratios:
        cells = []
        for run in combined.values():
            value = run["results"].get(key)
            mark = "x" if run["caps"]["applied"] else "?"
            cells.append(f"{value:>11.2f}{mark}" if value is not None else f"{'-':>12}")
        print(f"{key:<32}" + "".join(cells))
    if not all(run["caps"]["applied"] for run in combined.values()):
        print("?: a cap could not be shown to apply, so that column is no AVX2 figure")
    return combined


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (not for the PyTorch peer): under 3 minutes without it")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--peer", choices=["torch"], help="also time a PyTorch peer ([bench] extra)")
    parser.add_argument("--peer_only", action="store_true", help="only the peer comparison")
    parser.add_argument("--two_d_only", action="store_true", help="only the 2-D (ring8) step ratios")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native",
                        help="avx2: run natively and again capped at AVX2 (tools/isa.py), side by side")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.isa == "avx2":
        child_argv = [f"--{name}" for name in ("quick", "peer_only", "two_d_only") if getattr(args, name)]
        child_argv += [f"--peer={args.peer}"] if args.peer else []
        combined = isa_comparison(child_argv, torch=bool(args.peer or args.peer_only))
        combined["seconds"] = time.perf_counter() - started
        if args.json:
            Path(args.json).write_text(json.dumps(combined, indent=2, sort_keys=True) + "\n")
        return 0
    trials = 3 if args.quick else 5
    if args.peer_only or args.two_d_only:
        results = {"machine": machine(), "tensorflow": tf.__version__, "keras": keras.__version__,
                   "quick": args.quick}
    else:
        results = run(args.quick)
    if not args.peer_only:
        results.update(two_d_ratios(200 if args.quick else 1000, trials))
    if args.peer or args.peer_only:
        results.update(peer_ratios())
    results["seconds"] = time.perf_counter() - started
    print(format_table(results))
    print(json.dumps(results, indent=2, sort_keys=True))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
