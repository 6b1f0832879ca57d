"""Precision policies and `tf.distribute` strategies, chosen by name."""

import contextlib
import functools
import platform
import time

import keras
import tensorflow as tf
from absl import logging

from ganzoo.errors import GanzooError

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


@contextlib.contextmanager
def precision(policy):
    """Use the Keras dtype policy `policy` inside the block, then restore the old one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


# CPU flags that mean native hardware for a compute dtype (x86 /proc/cpuinfo names).
NATIVE_CPU_FLAGS = {"mixed_bfloat16": ("avx512_bf16", "amx_bf16"), "mixed_float16": ()}


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo on x86 Linux; None elsewhere."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        return None
    return None


@functools.cache
def measure_precision_speed(policy, seconds=0.3):
    """How fast `policy`'s compute dtype runs a 256x256 matmul on this machine,
    as a multiple of float32's speed (alternating timed bursts, best of each)."""
    dtype = keras.mixed_precision.Policy(policy).compute_dtype
    a = tf.random.stateless_uniform((256, 256), seed=(0, 0))

    @tf.function
    def matmul(x):
        return tf.matmul(x, x)

    operands = {name: tf.cast(a, name) for name in ("float32", dtype)}
    best = {}
    for _ in range(2):
        for name, x in operands.items():
            matmul(x).numpy()  # traced and warm
            runs, started = 0, time.perf_counter()
            while runs < 3 or time.perf_counter() - started < seconds / 2:
                y = matmul(x)
                runs += 1
            y.numpy()
            per_run = (time.perf_counter() - started) / runs
            best[name] = min(best.get(name, per_run), per_run)
    return best["float32"] / best[dtype]


def check_precision(policy, allow_slow=False, strategy="default"):
    """Refuse `policy` on a CPU that runs it slower than float32, naming the
    measured slowdown; `allow_slow` turns the refusal into a warning.

    GPUs and TPUs are not checked. On a CPU, `mixed_bfloat16` needs avx512_bf16
    or amx_bf16 and `mixed_float16` has no fast matmul at all; where the flags
    cannot be read (not x86 Linux) the measurement alone decides.
    """
    if policy == "float32" or strategy == "tpu" or tf.config.list_physical_devices("GPU"):
        return
    flags = cpu_flags()
    native = NATIVE_CPU_FLAGS[policy]
    if flags is not None and flags & set(native):
        return
    ratio = measure_precision_speed(policy)
    if ratio >= 1.0:
        return
    why = f"no {'/'.join(native)}" if native and flags is not None else "no GPU"
    message = f"{policy} ran {ratio:.2f}x as fast as float32 on this CPU ({why})"
    if allow_slow:
        logging.warning("%s; using it anyway (allow_slow_precision=true)", message)
        return
    raise GanzooError(f"{message}; accepted: float32, or --set allow_slow_precision=true")


def make_strategy(name):
    """The `tf.distribute.Strategy` called `name`."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        # Reads the cluster from the TF_CONFIG environment variable.
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.OpError) as e:
            raise GanzooError(f"strategy 'tpu' found no TPU ({str(e).splitlines()[0]}); "
                              "accepted here: default, mirrored, multi_worker") from None
        return tf.distribute.TPUStrategy(resolver)
    raise GanzooError(f"unknown strategy {name!r}; accepted: default, mirrored, multi_worker, tpu")
