"""The export format's names: what the writer and `ganzoo.hub` (the reader) agree on."""

import json
import os

from ganzoo.errors import GanzooError, first_line

FORMAT = "ganzoo-generator"
FORMAT_VERSION = 1
METADATA_FILE = os.path.join("assets", "ganzoo.json")
MODEL_CARD_FILE = "MODEL_CARD.md"
SERVING_SIGNATURE = "serving_default"
GENERATE_SIGNATURE = "generate"


def output_key(data_shape):
    """`"images"` for (H, W, C) data, `"samples"` for vectors."""
    return "images" if len(data_shape) == 3 else "samples"


def metadata_path(path):
    """Where the export at `path` keeps its ganzoo.json."""
    return os.path.join(path, METADATA_FILE)


def read_metadata(path):
    """The `ganzoo.json` dict of the export at `path` (one-line error if unreadable)."""
    file = metadata_path(path)
    if not os.path.isfile(file):
        raise GanzooError(f"{path} is not a ganzoo generator: no {METADATA_FILE}")
    try:
        with open(file, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise GanzooError(f"cannot read {file}: {first_line(e)}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise GanzooError(f"{path} is not a ganzoo generator: {file} has no format {FORMAT!r}")
    return meta
