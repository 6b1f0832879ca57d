"""Writing an export: the generator's SavedModel with its metadata, atomically."""

import contextlib
import glob
import os
import tempfile

import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError, os_reason
from ganzoo.fileio import atomic_output, atomic_write
from ganzoo.savedmodel.format import (
    GENERATE_SIGNATURE,
    SERVING_SIGNATURE,
    metadata_path,
    output_key,
)
from ganzoo.savedmodel.metadata import build_metadata, metadata_json


def _raw_variable(variable):
    value = getattr(variable, "value", variable)
    if not isinstance(value, tf.Variable):
        raise TypeError(f"generator weight {getattr(variable, 'path', variable)} is not a "
                        "tf.Variable; ganzoo exports need the TensorFlow backend")
    return value


def _serving_module(model, metadata_file):
    """A `tf.Module` whose only tracked state is the generator's variables, once."""
    generator = model.sampling_generator  # the moving average when `ema` is on
    module = tf.Module(name="ganzoo_generator")
    seen, variables = set(), []
    for weight in generator.weights:
        raw = _raw_variable(weight)
        if id(raw) not in seen:
            seen.add(id(raw))
            variables.append(raw)
    # Only the raw variables are tracked, not the Keras model (which the
    # functions reach through their closure): each variable is saved once.
    module.generator_variables = variables
    module.metadata_file = tf.saved_model.Asset(metadata_file)
    key = output_key(model.data_shape)
    z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")

    def to_serving(x):
        return {key: (x + 1.0) / 2.0} if key == "images" else {key: x}

    if model.conditional:
        num_classes = int(model.num_classes)
        label_spec = tf.TensorSpec([None], tf.int32, name="labels")

        def raw(z, labels):
            tf.debugging.assert_non_negative(labels, message="labels must be >= 0")
            tf.debugging.assert_less(
                labels, num_classes, message=f"labels must be < num_classes={num_classes}")
            return tf.cast(generator([z, labels], training=False), tf.float32)

        @tf.function(input_signature=[z_spec, label_spec], autograph=False)
        def serve(z, labels):
            return to_serving(raw(z, labels))

        @tf.function(input_signature=[z_spec, label_spec], autograph=False)
        def generate(z, labels):
            return {"samples": raw(z, labels)}
    else:

        def raw(z):
            return tf.cast(generator(z, training=False), tf.float32)

        @tf.function(input_signature=[z_spec], autograph=False)
        def serve(z):
            return to_serving(raw(z))

        @tf.function(input_signature=[z_spec], autograph=False)
        def generate(z):
            return {"samples": raw(z)}

    return module, {SERVING_SIGNATURE: serve, GENERATE_SIGNATURE: generate}


def _is_replaceable(path):
    """True if `path` may be replaced: absent, an empty directory or a ganzoo export."""
    if not os.path.lexists(path):
        return True
    if os.path.islink(path) or not os.path.isdir(path):
        return False
    return not os.listdir(path) or os.path.isfile(metadata_path(path))


def check_replaceable(path):
    """Refuse (one-line error) to replace a `path` that is not a ganzoo export."""
    if not _is_replaceable(path):
        raise GanzooError(
            f"{path} exists and is not a ganzoo export; accepted: a new path, an empty "
            "directory or an earlier export to replace"
        )


@contextlib.contextmanager
def staged_export(path):
    """Yield a new empty directory to write an export into; on success it
    replaces `path` whole (`ganzoo.fileio.atomic_output`), on failure `path`
    is left as it was. Only an earlier export or an empty directory is replaced.
    """
    check_replaceable(path)
    with atomic_output(path, directory=True) as staging:
        yield staging
        # Again: something else may have appeared at `path` while writing.
        check_replaceable(path)


def write_savedmodel(model, directory, meta):
    """Write the generator SavedModel and its ganzoo.json into `directory` (not atomic)."""
    with tempfile.TemporaryDirectory(prefix="ganzoo-meta-") as scratch:
        source = os.path.join(scratch, "ganzoo.json")
        with open(source, "w", encoding="utf-8") as f:
            f.write(metadata_json(meta))
        module, signatures = _serving_module(model, source)
        tf.saved_model.save(module, directory, signatures=signatures)
    # The asset is a copy made by the saver; write it again to be sure it is current.
    atomic_write(metadata_path(directory), metadata_json(meta))


def export_generator(model, path, metadata=None):
    """Export `model`'s generator as a SavedModel at `path`, atomically.

    Args:
        model: a ganzoo `GAN` (trained or not).
        path: the SavedModel directory to write. An earlier export there is
            replaced once the new one is complete; any other existing
            non-empty path is refused.
        metadata: extra ganzoo.json fields: `train_config` (dict), `dataset`,
            `name`, `class_names`, `model_card` (dict), ... (see `build_metadata`).

    Returns:
        The metadata dict written to `path/assets/ganzoo.json`.
    """
    path = os.fspath(path)
    check_replaceable(path)  # before the slow part
    meta = build_metadata(model, metadata)
    try:
        with staged_export(path) as staging:
            write_savedmodel(model, staging, meta)
    except OSError as e:
        raise GanzooError(f"cannot write export {path}: {os_reason(e)}") from None
    return meta


def variables_bytes(path):
    """Bytes of the export's variables data files (`variables/variables.data-*`)."""
    files = glob.glob(os.path.join(glob.escape(path), "variables", "variables.data-*"))
    return sum(os.path.getsize(f) for f in files)


def weight_bytes(network):
    """Sum of the bytes of `network`'s weights (trainable and not)."""
    return sum(int(np.prod(w.shape)) * tf.as_dtype(w.dtype).size for w in network.weights)
