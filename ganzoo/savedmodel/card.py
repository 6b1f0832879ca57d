"""An export's MODEL_CARD.md: a human-readable page rendered from its ganzoo.json.

The page opens with Hugging Face-style YAML front matter (licence, library,
tags, datasets, metrics, and a `model-index` whose FID entries name the
extractor they came from), so a card reads the same on a model hub.
"""

import json
import os

from ganzoo.fileio import atomic_write
from ganzoo.metrics.fid import fid_note
from ganzoo.savedmodel.format import MODEL_CARD_FILE, read_metadata

LICENSE = "apache-2.0"  # the repository's LICENSE; the weights ship under it too
LIBRARY = "ganzoo"
# ganzoo's metric keys -> the names a model hub shows.
METRIC_NAMES = {"fid": "FID", "kid": "KID", "is": "Inception Score", "precision": "precision",
                "recall": "recall", "density": "density", "coverage": "coverage",
                "acc": "label accuracy", "intra_fid": "intra-class FID",
                "modes_covered": "modes covered", "high_quality": "high-quality share",
                "reverse_kl": "reverse KL"}
# Metrics whose value depends on the feature extractor.
EXTRACTOR_METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "acc",
                     "intra_fid")


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
    labels_arg = "labels=3, " if conditional else ""
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
    lines = [*front_matter(meta), "", f"# {name}", "", intro, ""]
    if card.get("samples"):
        lines += [f"![samples]({card['samples']})", ""]
    lines += [
        "## Use",
        "",
        "```python",
        "import ganzoo",
        "",
        f"generator = ganzoo.load({name!r})",
        f"x = generator.sample(16, {labels_arg}seed=0)  # {scale}",
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
    lines += _use_and_limits(meta)
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
        lines.append("Not evaluated yet. `ganzoo.savedmodel.update_metadata(path, "
                     "evaluation={...})` records results here and in `assets/ganzoo.json`.")
    return "\n".join(lines) + "\n"


# Metric columns in the order `python -m ganzoo.evaluate` prints them; ganzoo.json
# stores keys sorted, so a card rendered again from disk must not take their order.
METRIC_ORDER = ("fid", "kid", "kid_std", "is", "is_std", "precision", "recall", "density",
                "coverage", "acc", "intra_fid", "modes_covered", "high_quality", "reverse_kl")


def _metric_rank(name):
    return (METRIC_ORDER.index(name), "") if name in METRIC_ORDER else (len(METRIC_ORDER), name)


def _evaluation_lines(evaluation):
    """Each evaluation as a metric table and its stamp (`python -m ganzoo.evaluate` output)."""
    lines = []
    for key, result in sorted(evaluation.items()):
        if not isinstance(result, dict) or "metrics" not in result:
            lines.append(f"- {key}: {json.dumps(result, sort_keys=True)}")
            continue
        values = {k: result["metrics"][k] for k in sorted(result["metrics"], key=_metric_rank)
                  if isinstance(result["metrics"][k], (int, float))}
        lines += [f"### {key}", "", "| " + " | ".join(values) + " |",
                  "|" + "---|" * len(values),
                  "| " + " | ".join(f"{v:.4g}" for v in values.values()) + " |", ""]
        stamp = result.get("stamp", {})
        lines.append("Stamp: " + ", ".join(f"{k}={v}" for k, v in sorted(stamp.items())) + ".")
        lines.append("")
        if "fid" in values:
            lines += [fid_note(stamp.get("extractor")), ""]
    return lines


def _use_and_limits(meta):
    """The "Intended use" and "Limitations" sections."""
    dataset, image = meta.get("dataset"), meta.get("kind") == "image"
    what = "images like" if image else "2-D points like"
    lines = [
        "## Intended use",
        "",
        (f"Research and teaching: studying how GANs train and fail, comparing variants under "
         f"one protocol, and drawing {what} those of `{dataset}` for demonstrations and tests. "
         "It is not meant for making decisions about people, nor as a stand-in for real data "
         "without checking what it produces."),
        "",
        "## Limitations",
        "",
        (f"- It draws only what `{dataset}` holds, at its shape "
         f"{tuple(meta.get('data_shape') or ())}; it knows nothing else."),
        (f"- A small network trained for {meta.get('steps')} steps: samples show the variant's "
         "behaviour, not the state of the art; some are malformed, and a mode-collapsed model "
         "covers part of the data only (see Notes and Evaluation)."),
        "- A GAN can reproduce training examples; the dataset's own terms apply to its samples.",
    ]
    extractors = sorted({str((r.get("stamp") or {}).get("extractor"))
                         for r in (meta.get("evaluation") or {}).values()
                         if isinstance(r, dict) and "fid" in (r.get("metrics") or {})})
    lines += [f"- {fid_note(extractor)}" for extractor in extractors]
    return [*lines, ""]


def _yaml_scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a YAML double-quoted scalar


def _flat(value):
    """A dict of a few scalars: written on one line, in flow style (JSON is YAML)."""
    return (isinstance(value, dict) and len(value) <= 4
            and not any(isinstance(v, (dict, list)) for v in value.values()))


def _yaml(value, indent=0):
    """Block-style YAML lines for dicts, lists and scalars (no PyYAML needed)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _flat(item):
                lines.append(f"{pad}{key}: {json.dumps(item)}")
            elif isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines += _yaml(item, indent + 2)
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item) if item != [] else '[]'}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _yaml(item, indent + 2)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return lines


def _task(meta):
    if meta.get("kind") != "image":
        return {"type": "other", "name": "2-D point generation"}
    if meta.get("conditional"):
        return {"type": "other", "name": "Class-conditional image generation"}
    return {"type": "unconditional-image-generation", "name": "Unconditional image generation"}


def card_metadata(meta):
    """The front matter's fields, from an export's metadata."""
    dataset, model = meta.get("dataset"), meta.get("model")
    task = _task(meta)
    tags = ["gan", "generative-adversarial-network", str(model), "tensorflow", "keras",
            "savedmodel", "conditional" if meta.get("conditional") else "unconditional",
            "image-generation" if meta.get("kind") == "image" else "2d-points"]
    results, names = [], []
    for key, result in sorted((meta.get("evaluation") or {}).items()):
        if not isinstance(result, dict) or not isinstance(result.get("metrics"), dict):
            continue
        stamp = result.get("stamp") or {}
        extractor = stamp.get("extractor")
        metrics = []
        for metric in sorted(result["metrics"], key=_metric_rank):
            value = result["metrics"][metric]
            if metric not in METRIC_NAMES or not isinstance(value, (int, float)):
                continue
            names.append(metric)
            value = value if isinstance(value, int) else round(float(value), 4)
            entry = {"type": metric, "value": value,
                     "name": METRIC_NAMES[metric]}
            if metric in EXTRACTOR_METRICS and extractor not in (None, "none"):
                entry["name"] += f" ({extractor} extractor)"
                entry["args"] = {"extractor": extractor, "n_fake": stamp.get("n_fake"),
                                 "n_real": stamp.get("n_real")}
            entry["verified"] = False
            metrics.append(entry)
        if metrics:
            results.append({"task": task, "dataset": {
                "type": str(stamp.get("dataset") or dataset), "name": str(stamp.get("dataset")
                                                                       or dataset),
                "split": str(stamp.get("real_split") or "train")}, "metrics": metrics})
    fields = {"license": LICENSE, "library_name": LIBRARY, "tags": tags,
              "datasets": [str(dataset)]}
    if task["type"] != "other":
        fields["pipeline_tag"] = task["type"]
    fields["metrics"] = list(dict.fromkeys(names))
    if results:
        fields["model-index"] = [{"name": str(meta.get("name") or model), "results": results}]
    return fields


def front_matter(meta):
    """The card's YAML front matter, between `---` lines."""
    return ["---", *_yaml(card_metadata(meta)), "---"]


def write_model_card(path, meta=None):
    """Write MODEL_CARD.md into the export at `path` from its metadata."""
    meta = read_metadata(path) if meta is None else meta
    atomic_write(os.path.join(path, MODEL_CARD_FILE), render_model_card(meta))
