"""The ganzoo export format: a generator as a TensorFlow SavedModel plus metadata.

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
* ``MODEL_CARD.md`` (optional): the metadata as a page for people.

Each variable is stored once: the SavedModel tracks the list of the
generator's underlying `tf.Variable`s and not the Keras model, which
`keras.Model.export` also tracks, so that it saves every variable twice.

Writing is atomic (`ganzoo.fileio.atomic_output`): an interrupted export
leaves the path as it was, never half-written.

`format` names the files and signatures, `metadata` builds and updates
ganzoo.json, `card` renders MODEL_CARD.md, `writer` writes the SavedModel.
`ganzoo.hub` reads exports; `python -m ganzoo.export` writes one from a run.
"""

from ganzoo.savedmodel.card import render_model_card, write_model_card
from ganzoo.savedmodel.format import (
    FORMAT,
    FORMAT_VERSION,
    GENERATE_SIGNATURE,
    METADATA_FILE,
    MODEL_CARD_FILE,
    SERVING_SIGNATURE,
    metadata_path,
    output_key,
    read_metadata,
)
from ganzoo.savedmodel.metadata import build_metadata, jsonable, metadata_json, update_metadata
from ganzoo.savedmodel.writer import (
    check_replaceable,
    export_generator,
    staged_export,
    variables_bytes,
    weight_bytes,
    write_savedmodel,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "GENERATE_SIGNATURE",
    "METADATA_FILE",
    "MODEL_CARD_FILE",
    "SERVING_SIGNATURE",
    "build_metadata",
    "check_replaceable",
    "export_generator",
    "jsonable",
    "metadata_json",
    "metadata_path",
    "output_key",
    "read_metadata",
    "render_model_card",
    "staged_export",
    "update_metadata",
    "variables_bytes",
    "weight_bytes",
    "write_model_card",
    "write_savedmodel",
]
