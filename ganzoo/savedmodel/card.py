"""An export's MODEL_CARD.md: a human-readable page rendered from its ganzoo.json."""

import json
import os

from ganzoo.fileio import atomic_write
from ganzoo.savedmodel.format import MODEL_CARD_FILE, read_metadata


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
    return lines


def write_model_card(path, meta=None):
    """Write MODEL_CARD.md into the export at `path` from its metadata."""
    meta = read_metadata(path) if meta is None else meta
    atomic_write(os.path.join(path, MODEL_CARD_FILE), render_model_card(meta))
