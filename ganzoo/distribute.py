"""Precision policies and `tf.distribute` strategies, chosen by name."""

import contextlib

import keras
import tensorflow as tf

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
