"""Evaluate a generator against a dataset: `python -m ganzoo.evaluate`.

    python -m ganzoo.evaluate --pretrained=wgan_gp-digits
    python -m ganzoo.evaluate --workdir=runs/dcgan-digits --metrics=fid,kid

Scores an export (`--model_path`, `--pretrained`) or a training workdir's
newest checkpoint with `ganzoo.evaluation.evaluate`, prints a table and
stores the result in the export's metadata.
"""

import json
import os
import sys

from absl import flags

from ganzoo import checkpoints, cli, fileio, hub, savedmodel
from ganzoo.errors import GanzooError
from ganzoo.evaluation import ALL_METRICS, check_num_samples, evaluate, format_table


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("model_path", None, "An exported generator (SavedModel directory).", flag_values=fv)
    flags.DEFINE_string("pretrained", None, "The name of a shipped pretrained generator.", flag_values=fv)
    flags.DEFINE_string("workdir", None, "A training workdir: its latest checkpoint.", flag_values=fv)
    flags.DEFINE_string("dataset", None, "Dataset to compare with (default: the training dataset).",
                        flag_values=fv)
    flags.DEFINE_list("metrics", None, f"Metrics among {', '.join(ALL_METRICS)} (default: all "
                      "that apply).", flag_values=fv)
    flags.DEFINE_string("extractor", "auto", "auto, inception, digits or classifier:PATH.", flag_values=fv)
    flags.DEFINE_string("inception_weights", None, "Local InceptionV3 weights (.h5), for offline use.",
                        flag_values=fv)
    flags.DEFINE_integer("num_samples", None, "Generated samples to score.", flag_values=fv)
    flags.DEFINE_string("split", "train", "Real split to compare with.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Sampling seed.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "TFDS data directory.", flag_values=fv)
    flags.DEFINE_string("out", None, "Write the result as JSON here.", flag_values=fv)
    flags.DEFINE_bool("update_metadata", True, "Store the result in the exported model's metadata.",
                      flag_values=fv)
    return fv


SOURCES = ("model_path", "pretrained", "workdir")
# Flags that one of the other would silently ignore: (a, b, why, accepted).
CONFLICTS = tuple(
    (source, "update_metadata", "only an export at --model_path has metadata to update",
     "--update_metadata with --model_path")
    for source in ("pretrained", "workdir")
)


def check_flags(fv):
    """Refuse flags given together where one would be ignored, before any work."""
    sources = [f"--{name}" for name in SOURCES if fv[name].value]
    if len(sources) > 1:
        raise GanzooError(f"{' and '.join(sources)} given together: each names the generator "
                          "to score; accepted: exactly one of --model_path, --pretrained, --workdir")
    cli.refuse_together(fv, CONFLICTS)
    extractor = fv["extractor"].value
    if fv["inception_weights"].value and extractor not in ("auto", "inception"):
        raise GanzooError(f"--inception_weights and --extractor={extractor} given together: only "
                          "the inception extractor uses the weights; accepted: "
                          "--inception_weights with --extractor=inception (or auto)")


def _open_generator(fv):
    sources = [name for name in SOURCES if fv[name].value]
    if len(sources) != 1:
        raise GanzooError("give exactly one of --model_path, --pretrained, --workdir")
    if fv["workdir"].value:
        workdir = fv["workdir"].value
        model, _ = checkpoints.load_latest(workdir)
        with open(os.path.join(workdir, "config.json")) as f:
            dataset = json.load(f)["dataset"]
        return model, dataset
    generator = hub.load(fv["model_path"].value or fv["pretrained"].value)
    meta = generator.metadata
    return generator, meta.get("dataset") or meta.get("train_config", {}).get("dataset")


def _run(fv):
    # Flags first: a conflict, a bad metric or sample count is refused before any
    # TensorFlow work.
    check_flags(fv)
    for name in fv["metrics"].value or []:
        if name not in ALL_METRICS:
            raise GanzooError(f"unknown metric {name!r}; accepted: {', '.join(ALL_METRICS)}")
    check_num_samples(fv["num_samples"].value, fv["metrics"].value)
    generator, trained_on = _open_generator(fv)
    dataset = fv["dataset"].value or trained_on
    if not dataset:
        raise GanzooError("the generator does not say what it was trained on; pass --dataset")
    result = evaluate(
        generator, dataset, fv["metrics"].value, fv["extractor"].value, fv["num_samples"].value,
        fv["split"].value, fv["seed"].value, fv["data_dir"].value,
        inception_weights=fv["inception_weights"].value,
    )
    print(format_table(result))
    if fv["out"].value:
        fileio.atomic_write_json(fv["out"].value, result)
    if fv["model_path"].value and fv["update_metadata"].value:
        evaluations = dict(generator.metadata.get("evaluation") or {})
        evaluations[f"{dataset}/{result['stamp'].get('extractor')}"] = result
        savedmodel.update_metadata(fv["model_path"].value, evaluation=evaluations)


main = cli.command(make_flags, _run, "python -m ganzoo.evaluate")


if __name__ == "__main__":
    sys.exit(main())
