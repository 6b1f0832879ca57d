"""Export a trained generator as a TensorFlow SavedModel: `python -m ganzoo.export`.

    python -m ganzoo.export --workdir=runs/wgan_gp-digits --out=exported/wgan_gp-digits
    python -m ganzoo.export --checkpoint=RUN/checkpoints/ckpt-00003000.keras --out=PATH

Only the generator is exported, as a SavedModel that plain TensorFlow (TF
Serving, `tf.saved_model.load`, other languages) can run without ganzoo:

* ``serving_default(z: float32[None, latent_dim]) -> {"images": float32[None, H, W, C]}``
  with pixels in [0, 1], i.e. ``(x + 1) / 2`` of the generator's tanh output. For
  vector data (``data_shape`` of rank 1: 2-D points, flattened images) the output
  is the generator's raw values under the key ``"samples"`` instead.
  Conditional models (``cgan``) take a second input ``labels: int32[None]``
  (each in ``[0, num_classes)``). The batch size is dynamic and the input names
  are exactly ``z`` and ``labels``.
* ``generate(z[, labels]) -> {"samples": ...}``: the generator's raw output in
  the data's scale (``[-1, 1]`` for images), which `ganzoo.load` uses.
* ``assets/ganzoo.json``: plain-JSON metadata (ganzoo version, model name and
  config, training config and dataset, data shape, latent size, class names,
  steps trained, an ``evaluation`` dict that `update_metadata` fills later).

Each variable is stored once: the SavedModel tracks the list of the
generator's underlying `tf.Variable`s and not the Keras model, which
`keras.Model.export` also tracks, so that it saves every variable twice.

Writing is atomic: the export is written into a temporary sibling directory and
renamed into place only when complete; an existing export at PATH is renamed
aside, replaced, then deleted. An interrupted export leaves PATH as it was and
never half-written. (A process killed between those two renames leaves the
old export at `.NAME.old-PID-*` next to PATH; the next export to PATH puts it
back first.)
"""

import contextlib
import datetime
import glob
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf
from absl import flags

from ganzoo import checkpoints, cli
from ganzoo.errors import GanzooError
from ganzoo.hub import (
    FORMAT,
    GENERATE_SIGNATURE,
    SERVING_SIGNATURE,
    metadata_path,
    output_key,
    read_metadata,
)

FORMAT_VERSION = 1
MODEL_CARD_FILE = "MODEL_CARD.md"
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[^/]*$")


# -- metadata -------------------------------------------------------------------


def _jsonable(value):
    """`value` with tuples as lists and NumPy scalars/arrays as Python values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _dataset_info(dataset, data_dir=None):
    """`ganzoo.data`'s `DatasetInfo` for `dataset`, or None when it cannot be read."""
    if not dataset:
        return None
    from ganzoo import data

    try:
        return data.load_numpy(dataset, data_dir=data_dir, max_examples=1)[2]
    except (GanzooError, OSError):
        return None


def _steps(model):
    try:
        return model.step
    except AttributeError:  # never compiled: never trained
        return 0


def build_metadata(model, metadata=None):
    """The `ganzoo.json` dict for `model`, updated with the fields of `metadata`.

    `metadata` may hold `train_config` (a `TrainConfig` dict, e.g. a workdir's
    config.json), `dataset`, `class_names`, `name` and any extra fields (such as
    a `model_card` dict), which are stored as given.
    """
    import keras

    import ganzoo

    extra = dict(metadata or {})
    train_config = extra.pop("train_config", None)
    dataset = extra.pop("dataset", None) or (train_config or {}).get("dataset")
    info = _dataset_info(dataset, (train_config or {}).get("data_dir"))
    num_classes = int(getattr(model, "num_classes", 0) or 0) if model.conditional else 0
    class_names = extra.pop("class_names", None)
    if class_names is None and num_classes:
        if info is not None and info.num_classes == num_classes:
            class_names = list(info.class_names)
        else:
            class_names = [str(i) for i in range(num_classes)]
    data_shape = list(model.data_shape)
    key = output_key(data_shape)
    inputs = {"z": {"dtype": "float32", "shape": [None, model.latent_dim]}}
    if num_classes:
        inputs["labels"] = {"dtype": "int32", "shape": [None], "range": [0, num_classes - 1]}
    if key == "images":
        serving_output = {"dtype": "float32", "shape": [None, *data_shape], "range": [0.0, 1.0]}
    else:
        serving_output = {"dtype": "float32", "shape": [None, *data_shape], "range": None}
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", (dataset or "").split(":", 1)[-1]).strip("_")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": f"{model.registry_name}-{slug}" if slug else model.registry_name,
        "ganzoo_version": ganzoo.__version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "model": model.registry_name,
        "model_config": model.get_config(),
        "train_config": train_config,
        "dataset": dataset,
        "dataset_info": None if info is None else {
            "name": info.name, "kind": info.kind, "shape": list(info.shape),
            "num_classes": info.num_classes, "class_names": list(info.class_names),
        },
        "data_shape": data_shape,
        "kind": "image" if key == "images" else "vector",
        "latent_dim": int(model.latent_dim),
        "latent_distribution": "standard normal",
        "conditional": bool(model.conditional),
        "num_classes": num_classes,
        "class_names": list(class_names or []),
        "steps": _steps(model),
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "signatures": {
            SERVING_SIGNATURE: {"inputs": inputs, "outputs": {key: serving_output}},
            GENERATE_SIGNATURE: {
                "inputs": inputs,
                "outputs": {"samples": {"dtype": "float32", "shape": [None, *data_shape],
                                        "range": [-1.0, 1.0] if key == "images" else None}},
            },
        },
        "evaluation": {},
    }
    meta.update(extra)
    return _jsonable(meta)


def _dump(meta):
    return json.dumps(_jsonable(meta), indent=2, sort_keys=True) + "\n"


def _write_text(path, text):
    """Write `text` to `path` via a temporary file, flushed, and a rename."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def update_metadata(path, **fields):
    """Replace top-level `fields` of the export's ganzoo.json, atomically.

    E.g. `update_metadata(path, evaluation={"fid": 12.3})`. A MODEL_CARD.md next
    to the export is rewritten from the new metadata. Returns the new dict.
    """
    meta = read_metadata(path)
    meta.update(_jsonable(fields))
    try:
        _write_text(metadata_path(path), _dump(meta))
        if os.path.exists(os.path.join(path, MODEL_CARD_FILE)):
            write_model_card(path, meta)
    except OSError as e:
        raise GanzooError(f"cannot update {metadata_path(path)}: {e.strerror or e}") from None
    return meta


# -- the model card ---------------------------------------------------------------


def _format_seconds(seconds):
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(float(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def render_model_card(meta):
    """MODEL_CARD.md text from an export's metadata (its `model_card` dict and the rest)."""
    card = meta.get("model_card") or {}
    name = meta.get("name") or meta.get("model")
    machine = card.get("machine") or {}
    config = meta.get("train_config") or {}
    conditional, image = meta.get("conditional"), meta.get("kind") == "image"
    labels_arg = ", labels=3" if conditional else ""
    scale = "images in [-1, 1]" if image else "raw values"
    serving_args = "z=z, labels=labels" if conditional else "z=z"
    serving_out = "`images` in [0, 1]" if image else "the raw `samples`"
    platform = f"; {machine['platform']}" if machine.get("platform") else ""
    if machine.get("load_average") is not None:
        platform += f"; load average {machine['load_average']} when training began"
    platform = f" ({platform[2:]})" if platform else ""
    python = f", Python {card['python']}" if card.get("python") else ""
    intro = (f"A `{meta.get('model')}` generator trained on `{meta.get('dataset')}` with "
             f"ganzoo {meta.get('ganzoo_version')}, exported as a TensorFlow SavedModel.")
    lines = [f"# {name}", "", intro, ""]
    if card.get("samples"):
        lines += [f"![samples]({card['samples']})", ""]
    lines += [
        "## Use",
        "",
        "```python",
        "import ganzoo",
        "",
        f"generator = ganzoo.load({name!r})",
        f"x = generator.sample(16, seed=0{labels_arg})  # {scale}",
        "```",
        "",
        (f"Plain TensorFlow, without ganzoo: `tf.saved_model.load(path).signatures"
         f"['serving_default']({serving_args})` returns {serving_out}."),
        "",
        "## Model",
        "",
        (f"- model: `{meta.get('model')}`; data shape {tuple(meta.get('data_shape') or ())}; "
         f"latent size {meta.get('latent_dim')} (standard normal)"),
    ]
    if conditional:
        names = ", ".join(map(str, meta.get("class_names") or []))
        lines.append(f"- classes ({meta.get('num_classes')}): {names}")
    hyper = {k: v for k, v in (meta.get("model_config") or {}).items()
             if k not in ("name", "trainable", "dtype")}
    lines += [f"- hyperparameters: `{json.dumps(hyper, sort_keys=True)}`", ""]
    if card.get("notes"):
        lines += ["## Notes", "", card["notes"], ""]
    lines += [
        "## Training",
        "",
        f"- command: `{card.get('command', 'unknown')}`",
    ]
    if card.get("equivalent_commands"):
        lines.append("- the same with ganzoo's commands:")
        lines += [f"  - `{command}`" for command in card["equivalent_commands"]]
    lines += [
        (f"- dataset: `{meta.get('dataset')}`; batch size {config.get('batch_size')}; "
         f"seed {config.get('seed')}"),
        f"- steps trained: {meta.get('steps')}",
        f"- training time: {_format_seconds(card.get('training_seconds'))}",
        (f"- machine: {machine.get('cpu', 'unknown CPU')}, {machine.get('cores', '?')} "
         f"cores{platform}"),
        f"- date: {card.get('date', meta.get('exported_at', 'unknown'))}",
        (f"- software: ganzoo {meta.get('ganzoo_version')}, TensorFlow "
         f"{meta.get('tensorflow_version')}, Keras {meta.get('keras_version')}{python}"),
        "",
        "## Evaluation",
        "",
    ]
    evaluation = meta.get("evaluation") or {}
    if evaluation:
        lines += _evaluation_lines(evaluation)
    else:
        lines.append("Not evaluated yet. `ganzoo.export.update_metadata(path, evaluation={...})` "
                     "records results here and in `assets/ganzoo.json`.")
    return "\n".join(lines) + "\n"


def _evaluation_lines(evaluation):
    """Each evaluation as a metric table and its stamp (`python -m ganzoo.evaluate` output)."""
    lines = []
    for key, result in sorted(evaluation.items()):
        if not isinstance(result, dict) or "metrics" not in result:
            lines.append(f"- {key}: {json.dumps(result, sort_keys=True)}")
            continue
        values = {k: v for k, v in result["metrics"].items() if isinstance(v, (int, float))}
        lines += [f"### {key}", "", "| " + " | ".join(values) + " |",
                  "|" + "---|" * len(values),
                  "| " + " | ".join(f"{v:.4g}" for v in values.values()) + " |", ""]
        stamp = result.get("stamp", {})
        lines.append("Stamp: " + ", ".join(f"{k}={v}" for k, v in sorted(stamp.items())) + ".")
        lines.append("")
    return lines


def write_model_card(path, meta=None):
    """Write MODEL_CARD.md into the export at `path` from its metadata."""
    meta = read_metadata(path) if meta is None else meta
    _write_text(os.path.join(path, MODEL_CARD_FILE), render_model_card(meta))


# -- the SavedModel --------------------------------------------------------------


def _raw_variable(variable):
    value = getattr(variable, "value", variable)
    if not isinstance(value, tf.Variable):
        raise TypeError(f"generator weight {getattr(variable, 'path', variable)} is not a "
                        "tf.Variable; ganzoo exports need the TensorFlow backend")
    return value


def _serving_module(model, metadata_file):
    """A `tf.Module` whose only tracked state is the generator's variables, once."""
    generator = model.generator
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


def fsync_tree(root):
    """Flush every file and directory under `root` to disk."""
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(path):
    """Clean up after exports to `path` that were killed.

    Their temporary directories are deleted. An export killed between its two
    renames left the previous export renamed aside and `path` missing: that
    one is put back.
    """
    parent, name = os.path.split(os.path.abspath(path))
    for entry in sorted(glob.glob(os.path.join(glob.escape(parent),
                                               f".{glob.escape(name)}.*-*-*"))):
        match = _STAGING.match(os.path.basename(entry))
        if not match or match.group("name") != name or _pid_alive(int(match.group("pid"))):
            continue
        if match.group("kind") == "old" and not os.path.lexists(path):
            os.rename(entry, path)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def staging_directory(path):
    """A new empty temporary directory next to `path`, for writing it atomically."""
    parent, name = os.path.split(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
        remove_stale_staging(path)
        staging = tempfile.mkdtemp(prefix=f".{name}.tmp-{os.getpid()}-", dir=parent)
        # mkdtemp makes it private (0700); the export should get the usual mode.
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        return staging
    except OSError as e:
        raise GanzooError(f"cannot write {path}: {e.strerror or e}") from None


def _is_replaceable(path):
    """True if `path` may be replaced: absent, an empty directory or a ganzoo export."""
    if not os.path.lexists(path):
        return True
    if os.path.islink(path) or not os.path.isdir(path):
        return False
    return not os.listdir(path) or os.path.isfile(metadata_path(path))


def _check_replaceable(path):
    if not _is_replaceable(path):
        raise GanzooError(
            f"{path} exists and is not a ganzoo export; accepted: a new path, an empty "
            "directory or an earlier export to replace"
        )


def replace_directory(new, path):
    """Move the complete directory `new` to `path`, replacing what is there.

    An existing `path` is renamed aside first, and deleted only once `new` is
    in place; if the second rename fails the old one is put back.
    """
    parent, name = os.path.split(os.path.abspath(path))
    _check_replaceable(path)
    if os.path.lexists(path):
        old = tempfile.mkdtemp(prefix=f".{name}.old-{os.getpid()}-", dir=parent)
        os.rmdir(old)  # a unique name to rename to
        os.rename(path, old)
        try:
            os.rename(new, path)
        except BaseException:
            os.rename(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, path)
    fd = os.open(parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def write_savedmodel(model, directory, meta):
    """Write the generator SavedModel and its ganzoo.json into `directory` (not atomic)."""
    with tempfile.TemporaryDirectory(prefix="ganzoo-meta-") as scratch:
        source = os.path.join(scratch, "ganzoo.json")
        with open(source, "w", encoding="utf-8") as f:
            f.write(_dump(meta))
        module, signatures = _serving_module(model, source)
        tf.saved_model.save(module, directory, signatures=signatures)
    # The asset is a copy made by the saver; write it again to be sure it is current.
    _write_text(metadata_path(directory), _dump(meta))


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
    _check_replaceable(path)
    meta = build_metadata(model, metadata)
    staging = staging_directory(path)
    try:
        write_savedmodel(model, staging, meta)
        fsync_tree(staging)
        replace_directory(staging, path)
    except OSError as e:
        raise GanzooError(f"cannot write export {path}: {e.strerror or e}") from None
    finally:
        if os.path.lexists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return meta


def variables_bytes(path):
    """Bytes of the export's variables data files (`variables/variables.data-*`)."""
    files = glob.glob(os.path.join(glob.escape(path), "variables", "variables.data-*"))
    return sum(os.path.getsize(f) for f in files)


def weight_bytes(network):
    """Sum of the bytes of `network`'s weights (trainable and not)."""
    return sum(int(np.prod(w.shape)) * tf.as_dtype(w.dtype).size for w in network.weights)


# -- from a workdir ----------------------------------------------------------------


def _read_train_config(workdir):
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise GanzooError(f"cannot read {path}: {str(e).splitlines()[0]}") from None


def export_workdir(out, workdir=None, checkpoint=None, metadata=None):
    """Export the latest checkpoint of `workdir` (or the file `checkpoint`) to `out`.

    The training config (the workdir's config.json) goes into the metadata.
    Returns `(metadata, checkpoint_path)`.
    """
    if checkpoint is None:
        if workdir is None:
            raise GanzooError("nothing to export; accepted: --workdir=RUN or "
                              "--checkpoint=FILE.keras")
        if not os.path.isdir(workdir):
            raise GanzooError(f"no such workdir: {workdir}")
        checkpoint = checkpoints.latest_checkpoint(workdir)
        if checkpoint is None:
            raise GanzooError(f"workdir {workdir} has no checkpoint; accepted: a workdir "
                              "that `python -m ganzoo.train` has checkpointed")
    elif workdir is None:
        # RUN/checkpoints/ckpt-N.keras: the run's config is two levels up.
        parent = os.path.dirname(os.path.dirname(os.path.abspath(checkpoint)))
        workdir = parent if os.path.isfile(os.path.join(parent, "config.json")) else None
    _check_replaceable(out)
    model = checkpoints.load_model(checkpoint)
    extra = dict(metadata or {})
    if workdir is not None and "train_config" not in extra:
        extra["train_config"] = _read_train_config(workdir)
    extra.setdefault("checkpoint", os.path.abspath(checkpoint))
    return export_generator(model, out, extra), checkpoint


# -- command line --------------------------------------------------------------------


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("workdir", None, "Training run to export (its latest checkpoint).",
                        flag_values=fv)
    flags.DEFINE_string("checkpoint", None, "A .keras checkpoint to export instead.",
                        flag_values=fv)
    flags.DEFINE_string("out", None, "SavedModel directory to write (replaced if it "
                        "holds an earlier export).", flag_values=fv)
    return fv


def _run(fv):
    out = fv["out"].value
    if not out:
        raise GanzooError("missing --out; accepted: --out=PATH, the SavedModel directory to write")
    meta, checkpoint = export_workdir(out, fv["workdir"].value, fv["checkpoint"].value)
    print(f"exported the {meta['model']} generator (step {meta['steps']}) from {checkpoint} "
          f"to {out} ({variables_bytes(out) / 1e6:.2f} MB of variables)")


def main(argv=None):
    return cli.run(make_flags(), _run, argv, prog="python -m ganzoo.export")


if __name__ == "__main__":
    sys.exit(main())
