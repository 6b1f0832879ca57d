"""Classifier-FID of reference sample sets on `digits`: what a score means.

    python tools/score_references.py [--extractor=digits]

Scores, against the training digits and with the same sample count: the real
held-out test digits (near 0 is the best a generator can do), uniform noise,
and real digits of a single class (total mode collapse). Also prints the
extractor's held-out accuracy.
"""

import argparse
import json
import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import numpy as np

from ganzoo import data, evaluation
from ganzoo.evaluation import features


class Noise:
    conditional = False

    def __init__(self, shape):
        self.shape = shape

    def sample(self, num, labels=None, seed=None):
        return np.random.default_rng(seed).uniform(-1, 1, (num, *self.shape)).astype("float32")


class OneClass(evaluation.RealSampler):
    def __init__(self, dataset, split, label):
        super().__init__(dataset, split)
        self.x, self.y = self.x[self.y == label], self.y[self.y == label]

    def sample(self, num, labels=None, seed=None):
        index = np.random.default_rng(seed).integers(0, len(self.x), num)
        self.last_labels = self.y[index]
        return self.x[index]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--extractor", default="auto")
    args = parser.parse_args(argv)
    held_out = evaluation.RealSampler(args.dataset, "test")
    n = len(held_out.x)
    name = features.default_extractor_name(args.dataset) if args.extractor == "auto" else args.extractor
    x, y, info = data.load_numpy(args.dataset, "test")
    _, probabilities = features.get_extractor(name)(x)
    results = {"extractor": name, "test_accuracy": float(np.mean(probabilities.argmax(1) == y)),
               "n_fake": n}
    for label, sampler in [("real_held_out", held_out), ("uniform_noise", Noise(info.shape)),
                           ("single_class_3", OneClass(args.dataset, "test", 3))]:
        metrics = evaluation.evaluate(sampler, args.dataset, ["fid", "is"], extractor=name, num_samples=n)
        results[label] = {k: round(v, 3) for k, v in metrics["metrics"].items()}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
