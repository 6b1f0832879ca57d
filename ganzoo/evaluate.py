"""Evaluate a generator against a dataset: `ganzoo evaluate` (or `python -m ganzoo.evaluate`).

    ganzoo evaluate --workdir=runs/wgan_gp-digits
    python -m ganzoo.evaluate --pretrained=wgan_gp-digits --metrics=fid,kid
    python -m ganzoo.evaluate --model_path=exported/run --extractor=fid_inception \
        --fid_inception_graph=classify_image_graph_def.pb

Scores a training run's newest checkpoint that loads (`--workdir`: with the
run's dataset, image size and data directory from its config.json), an export
(`--model_path`) or a shipped model (`--pretrained`) with
`ganzoo.evaluation.evaluate`, prints a table and stores the result in an
export's metadata.
"""

import sys

from absl import flags

from ganzoo import cli, fileio, hub, savedmodel
from ganzoo.errors import GanzooError
from ganzoo.evaluation import ALL_METRICS, check_num_samples, evaluate, format_table
from ganzoo.evaluation.features import EXTRACTOR_CHOICES, FID_GRAPH_ENV


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("model_path", None, "An exported generator: a directory from "
                        "`ganzoo export`.", flag_values=fv)
    flags.DEFINE_string("pretrained", None, "A shipped pretrained generator, e.g. "
                        "wgan_gp-digits.", flag_values=fv)
    flags.DEFINE_string("workdir", None, "A training run directory: its newest checkpoint that "
                        "loads, and the dataset, image size and data directory in its "
                        "config.json.", flag_values=fv)
    flags.DEFINE_string("dataset", None, "Dataset to compare with (default: the training dataset).",
                        flag_values=fv)
    flags.DEFINE_list("metrics", None, f"Metrics among {', '.join(ALL_METRICS)} (default: all "
                      "that apply).", flag_values=fv)
    flags.DEFINE_string("extractor", "auto", f"Feature extractor: {EXTRACTOR_CHOICES}.",
                        flag_values=fv)
    flags.DEFINE_string("inception_weights", None, "Local InceptionV3 weights (.h5) for "
                        "--extractor=inception, for offline use.", flag_values=fv)
    flags.DEFINE_string("fid_inception_graph", None, "The 2015 Inception graph "
                        "(classify_image_graph_def.pb) for --extractor=fid_inception (default: "
                        f"${FID_GRAPH_ENV}).", flag_values=fv)
    flags.DEFINE_integer("num_samples", None, "Number of generated samples to score (default: "
                         "as many as the real examples, at most 10,000).", flag_values=fv)
    flags.DEFINE_string("real_split", "train", "Real split to score against (FID's reference).",
                        flag_values=fv)
    cli.define_deprecated(fv, "split", "real_split")
    flags.DEFINE_integer("seed", 0, "Seed of the randomness: the latents drawn.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "Where dataset files are (TFDS downloads there); "
                        "default: the run's, with --workdir.", flag_values=fv)
    flags.DEFINE_string("out", None, "Output: the JSON file to write the result to.",
                        flag_values=fv)
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
    if fv["fid_inception_graph"].value and extractor != "fid_inception":
        raise GanzooError(f"--fid_inception_graph and --extractor={extractor} given together: "
                          "only the fid_inception extractor runs that graph; accepted: "
                          "--fid_inception_graph with --extractor=fid_inception")


def _open_generator(fv):
    """`(generator, its training config dict)`; a run's config is its config.json."""
    sources = [name for name in SOURCES if fv[name].value]
    if len(sources) != 1:
        raise GanzooError("give exactly one of --model_path, --pretrained, --workdir")
    if fv["workdir"].value:
        generator = hub.load_run(fv["workdir"].value)
    else:
        generator = hub.load(fv["model_path"].value or fv["pretrained"].value)
    meta = generator.metadata
    train_config = dict(meta.get("train_config") or {})
    train_config.setdefault("dataset", meta.get("dataset"))
    return generator, train_config


def _run(fv):
    # Flags first: a conflict, a bad metric or sample count is refused before any
    # TensorFlow work.
    check_flags(fv)
    for name in fv["metrics"].value or []:
        if name not in ALL_METRICS:
            raise GanzooError(f"unknown metric {name!r}; accepted: {', '.join(ALL_METRICS)}")
    check_num_samples(fv["num_samples"].value, fv["metrics"].value)
    generator, trained = _open_generator(fv)
    dataset = fv["dataset"].value or trained.get("dataset")
    if not dataset:
        raise GanzooError("the generator does not say what it was trained on; pass --dataset")
    # Real examples at the size the generator was trained at, from where its run read
    # them (a run's data directory; an export may come from another machine's).
    same_data = dataset == trained.get("dataset")
    image_size = trained.get("image_size") if same_data else None
    data_dir = fv["data_dir"].value
    if data_dir is None and fv["workdir"].value and same_data:
        data_dir = trained.get("data_dir")
    result = evaluate(
        generator, dataset, fv["metrics"].value, fv["extractor"].value, fv["num_samples"].value,
        fv["real_split"].value, fv["seed"].value, data_dir, image_size=image_size,
        inception_weights=fv["inception_weights"].value,
        fid_inception_graph=fv["fid_inception_graph"].value,
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
