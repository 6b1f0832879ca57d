"""Train the classifier that scores samples of a labelled dataset.

    python tools/train_classifier.py --dataset=digits --out=ganzoo/classifiers/digits.keras
    python tools/train_classifier.py --dataset=fashion_mnist --epochs=15 --shift=0.0625 \
        --pooling=flatten --out=ganzoo/classifiers/fashion_mnist.keras

Then evaluate with `--extractor=classifier:PATH`. The shipped classifiers were
made by these two commands.
"""

import json
import sys

from absl import flags

from ganzoo import cli
from ganzoo.evaluation.classifier import train_classifier


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("dataset", "digits", "A labelled dataset ganzoo.data loads.", flag_values=fv)
    flags.DEFINE_string("out", None, "Where to write the .keras classifier.", flag_values=fv)
    flags.DEFINE_integer("epochs", 40, "Training epochs.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Random seed.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "TFDS data directory.", flag_values=fv)
    flags.DEFINE_integer("image_size", None, "Resize images to this square size.", flag_values=fv)
    flags.DEFINE_string("test_split", "test", "Held-out split for the reported accuracy.", flag_values=fv)
    flags.DEFINE_float("shift", 1.0 / 8, "Random translation, as a fraction of the size.", flag_values=fv)
    flags.DEFINE_enum("pooling", "average", ["average", "flatten"], "Pooling before the features.",
                      flag_values=fv)
    return fv


def _run(fv):
    out = fv["out"].value or f"{fv['dataset'].value.replace(':', '_').replace('/', '_')}_classifier.keras"
    _, accuracy = train_classifier(
        fv["dataset"].value, out, epochs=fv["epochs"].value, seed=fv["seed"].value,
        data_dir=fv["data_dir"].value, image_size=fv["image_size"].value,
        test_split=fv["test_split"].value, shift=fv["shift"].value, pooling=fv["pooling"].value,
    )
    print(json.dumps({"classifier": out, "dataset": fv["dataset"].value,
                      "test_split": fv["test_split"].value, "test_accuracy": round(accuracy, 4)}))


if __name__ == "__main__":
    sys.exit(cli.run(make_flags(), _run, prog="python tools/train_classifier.py"))
