"""An export's `assets/ganzoo.json`: building it from a model, and updating it in place."""

import datetime
import json
import os
import re

import keras
import numpy as np
import tensorflow as tf

import ganzoo
from ganzoo import data
from ganzoo.errors import GanzooError, os_reason
from ganzoo.fileio import atomic_write
from ganzoo.savedmodel.card import write_model_card
from ganzoo.savedmodel.format import (
    FORMAT,
    FORMAT_VERSION,
    GENERATE_SIGNATURE,
    MODEL_CARD_FILE,
    SERVING_SIGNATURE,
    metadata_path,
    output_key,
    read_metadata,
)


def jsonable(value):
    """`value` with tuples as lists and NumPy scalars/arrays as Python values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def metadata_json(meta):
    """The text of a ganzoo.json holding `meta`."""
    return json.dumps(jsonable(meta), indent=2, sort_keys=True) + "\n"


def _dataset_info(dataset, data_dir=None):
    """`ganzoo.data`'s `DatasetInfo` for `dataset`, or None when it cannot be read."""
    if not dataset:
        return None
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
    return jsonable(meta)


def update_metadata(path, **fields):
    """Replace top-level `fields` of the export's ganzoo.json, atomically.

    E.g. `update_metadata(path, evaluation={"fid": 12.3})`. A MODEL_CARD.md next
    to the export is rewritten from the new metadata. Returns the new dict.
    """
    meta = read_metadata(path)
    meta.update(jsonable(fields))
    try:
        atomic_write(metadata_path(path), metadata_json(meta))
        if os.path.exists(os.path.join(path, MODEL_CARD_FILE)):
            write_model_card(path, meta)
    except OSError as e:
        raise GanzooError(f"cannot update {metadata_path(path)}: {os_reason(e)}") from None
    return meta
