"""Scoring a generator against a dataset: the library behind `python -m ganzoo.evaluate`.

`evaluate(generator, dataset, ...)` samples the generator, extracts features of
the samples and of the real split (cached on disk), computes the requested
metrics and returns them with a stamp of how they were computed. 2-D mixture
datasets (`ring8`, `grid25`) are scored with the mode metrics instead.
`scorer_for(config)` is what training calls every `eval_every` steps.
"""

import hashlib
import json
import os
import time

import numpy as np
from absl import logging

from ganzoo import __version__, data, fileio, metrics
from ganzoo.errors import GanzooError
from ganzoo.evaluation import features

IMAGE_METRICS = ("fid", "kid", "is", "pr", "dc")
CONDITIONAL_METRICS = ("acc", "intra_fid")
POINT_METRICS = ("modes",)
ALL_METRICS = IMAGE_METRICS + CONDITIONAL_METRICS + POINT_METRICS
MAX_REAL = 10_000
POINT_SAMPLES = 2_500  # PacGAN's evaluation sample count
# Fewest generated samples each metric can be computed from: FID/KID need a
# covariance, IS one split of two, precision/recall/density/coverage more than
# their k nearest neighbours (prdc's k = 3 and 5), intra-FID two per class.
MIN_SAMPLES = {"fid": 2, "kid": 2, "is": 2, "pr": 6, "dc": 6, "acc": 1, "intra_fid": 2,
               "modes": 1}
MAX_SAMPLES = 50_000


def check_num_samples(num, names=None):
    """Refuse `num` generated samples (None: the default) too few for the
    metrics `names` (None: any default set) or more than `MAX_SAMPLES`."""
    if num is None:
        return None
    which = f"metrics {', '.join(names)}" if names else "the default metrics"
    names = list(names or ALL_METRICS)
    low = max(MIN_SAMPLES.get(name, 1) for name in names)
    if isinstance(num, bool) or not isinstance(num, int) or not low <= num <= MAX_SAMPLES:
        needs = ", ".join(f"{n} >= {MIN_SAMPLES[n]}" for n in names if MIN_SAMPLES.get(n, 1) > 1)
        raise GanzooError(
            f"bad num_samples={num!r}; accepted: an integer from {low} to {MAX_SAMPLES} "
            f"(MAX_SAMPLES) for {which} ({needs})"
        )
    return num


def cache_dir():
    return os.environ.get("GANZOO_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "ganzoo"))


def _num_classes(generator):
    return int(getattr(generator, "num_classes", 0) or 0) if _is_conditional(generator) else 0


def _is_conditional(generator):
    conditional = getattr(generator, "conditional", None)
    if conditional is None:
        return bool(getattr(generator, "num_classes", 0))
    return bool(conditional)


def balanced_labels(num, num_classes):
    """0, 1, ..., K-1, 0, 1, ...: an equal share of every class."""
    return (np.arange(num) % num_classes).astype("int32")


def generate(generator, num, seed):
    """`num` samples (and their labels, for conditional generators)."""
    if _is_conditional(generator):
        labels = balanced_labels(num, _num_classes(generator))
        return np.asarray(generator.sample(num, seed=seed, labels=labels)), labels
    return np.asarray(generator.sample(num, seed=seed)), None


class RealSampler:
    """Serves real examples of a split as if generated: the reference baseline."""

    def __init__(self, dataset, split, data_dir=None, image_size=None):
        self.x, self.y, info = data.load_numpy(dataset, split, data_dir=data_dir, image_size=image_size)
        self.num_classes = info.num_classes
        self.conditional = False

    def sample(self, num, labels=None, seed=None):
        if num > len(self.x):
            raise GanzooError(f"asked for {num} real examples; the split has {len(self.x)}")
        index = np.random.default_rng(seed).permutation(len(self.x))[:num]
        self.last_labels = None if self.y is None else self.y[index]
        return self.x[index]


def real_features(dataset, split, extractor, max_examples, data_dir=None, image_size=None):
    """(features, probabilities, labels) of a real split, cached on disk by
    dataset, split, extractor weights, resize method and size."""
    key = json.dumps({"dataset": dataset, "split": split, "max": max_examples,
                      "image_size": image_size, **extractor.stamp()}, sort_keys=True)
    path = os.path.join(cache_dir(), "real_features", hashlib.sha256(key.encode()).hexdigest()[:24] + ".npz")
    if os.path.exists(path):
        try:
            with np.load(path) as cached:
                labels = cached["labels"] if cached["labels"].size else None
                return cached["features"], cached["probabilities"], labels
        except (OSError, ValueError, KeyError):
            logging.warning("ignoring unreadable feature cache %s", path)
    x, y, _ = data.load_numpy(dataset, split, data_dir=data_dir, image_size=image_size,
                              max_examples=max_examples)
    feats, probs = extractor(x)
    with fileio.atomic_output(path) as tmp:
        np.savez(tmp, features=feats, probabilities=probs, labels=np.array([] if y is None else y))
    return feats, probs, y


def evaluate(generator, dataset, metric_names=None, extractor="auto", num_samples=None,
             real_split="train", seed=0, data_dir=None, image_size=None, inception_weights=None,
             fid_inception_graph=None):
    """Score `generator` on `dataset`; returns `{"metrics": {...}, "stamp": {...}}`.

    Args:
        generator: anything with `.sample(n, labels=..., seed=...)` returning
            examples in ganzoo's data scale (a ganzoo model or `ganzoo.load`).
        dataset: a name `ganzoo.data.load` accepts; its `real_split` is the reference.
        metric_names: any of fid, kid, is, pr, dc, acc, intra_fid (images) or
            modes (2-D mixtures); `None` picks every metric that applies.
        extractor: `auto` (the dataset's shipped classifier, else inception),
            `inception`, `fid_inception` (FIDs comparable with papers; needs
            `fid_inception_graph` or `$GANZOO_FID_INCEPTION_GRAPH`), `digits`,
            `fashion_mnist` or `classifier:PATH`.
        num_samples: generated samples; default as many as real examples
            (at most 10,000), or 2,500 for 2-D mixtures.
    """
    started = time.time()
    _, info = data.load(dataset, real_split, data_dir=data_dir, image_size=image_size, shuffle=False)
    stamp = {"dataset": dataset, "real_split": real_split, "seed": seed, "ganzoo": __version__,
             **({"image_size": image_size} if image_size else {})}
    if info.kind == "points":
        _check_metrics(metric_names or POINT_METRICS, POINT_METRICS, dataset)
        if dataset not in ("ring8", "grid25"):
            raise GanzooError("mode metrics need a known mixture; accepted datasets: ring8, grid25")
        centers, std = data.mixture_spec(dataset)
        check_num_samples(num_samples, metric_names or POINT_METRICS)
        num = num_samples or POINT_SAMPLES
        samples, _ = generate(generator, num, seed)
        scores = metrics.mode_metrics(samples, centers, std)
        result = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in scores.items()}
        stamp.update(n_fake=num, n_real=0, extractor="none", extractor_sha256=None, resize=None)
        return {"metrics": result, "stamp": {**stamp, "seconds": round(time.time() - started, 2)}}

    conditional = _is_conditional(generator)
    applicable = IMAGE_METRICS + (CONDITIONAL_METRICS if conditional else ())
    names = _check_metrics(metric_names or applicable, applicable, dataset)
    check_num_samples(num_samples, names)
    extractor_name = features.default_extractor_name(dataset) if extractor == "auto" else extractor
    if inception_weights and extractor_name != "inception":
        # Ignoring them would score with another network than the one asked for.
        raise GanzooError(f"inception_weights given, but {dataset!r} is scored with the "
                          f"{extractor_name} extractor (extractor={extractor}); accepted: "
                          "inception_weights with extractor=inception")
    if fid_inception_graph and extractor_name != "fid_inception":
        raise GanzooError(f"fid_inception_graph given, but {dataset!r} is scored with the "
                          f"{extractor_name} extractor (extractor={extractor}); accepted: "
                          "fid_inception_graph with extractor=fid_inception")
    net = features.get_extractor(extractor_name, inception_weights, fid_inception_graph)
    real_f, _, real_y = real_features(dataset, real_split, net, MAX_REAL, data_dir, image_size)
    num = num_samples or len(real_f)
    samples, labels = generate(generator, num, seed)
    if labels is None and isinstance(generator, RealSampler):
        labels = generator.last_labels
    fake_f, fake_p = net(samples)
    result = {}
    if "fid" in names:
        result["fid"] = metrics.fid_from_features(real_f, fake_f)
    if "kid" in names:
        result["kid"], result["kid_std"] = metrics.kernel_inception_distance(
            real_f, fake_f, subset_size=min(1000, len(real_f), len(fake_f)), seed=seed)
    if "is" in names:
        result["is"], result["is_std"] = metrics.inception_score(fake_p, num_splits=min(10, num // 2))
    if "pr" in names or "dc" in names:
        scores = metrics.prdc(real_f, fake_f)
        keys = (["precision", "recall"] if "pr" in names else []) + (
            ["density", "coverage"] if "dc" in names else [])
        result.update({k: scores[k] for k in keys})
    if ("acc" in names or "intra_fid" in names) and labels is not None:
        if net.num_classes != _num_classes(generator) and not isinstance(generator, RealSampler):
            raise GanzooError(
                f"extractor {extractor_name!r} has {net.num_classes} classes but the generator has "
                f"{_num_classes(generator)}; accepted: a classifier of the same labels for acc/intra_fid"
            )
        if "acc" in names:
            result["acc"] = metrics.label_accuracy(fake_p, labels)
        if "intra_fid" in names:
            result["intra_fid"], _ = metrics.intra_class_fid(real_f, real_y, fake_f, labels)
    stamp.update(n_real=len(real_f), n_fake=num, **net.stamp())
    result = {k: float(v) for k, v in result.items()}
    return {"metrics": result, "stamp": {**stamp, "seconds": round(time.time() - started, 2)}}


def _check_metrics(names, accepted, dataset):
    names = list(names)
    for name in names:
        if name not in accepted:
            raise GanzooError(
                f"metric {name!r} does not apply to {dataset!r} with this generator; "
                f"accepted: {', '.join(accepted)}"
            )
    return names


def format_table(result):
    """A two-column text table of the metrics, then the stamp, then (for an FID) what
    its extractor makes it comparable with."""
    rows = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in result["metrics"].items()]
    rows += [("--", "--")] + [(k, str(v)) for k, v in result["stamp"].items()]
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    if "fid" in result["metrics"]:
        table += "\n\n" + features.fid_note(result["stamp"].get("extractor"))
    return table


def score(values):
    """How good an evaluation is, higher better: -FID for images; modes
    covered, then the share of high-quality samples, for 2-D mixtures."""
    if "fid" in values:
        return -values["fid"]
    return (values["modes_covered"], values["high_quality"])


def scorer_for(config):
    """The evaluation `ganzoo.training.train` runs every `config.eval_every`
    steps: `model -> {"metrics", "stamp", "score"}`."""

    def evaluate_model(model):
        metric_names = None if model.data_shape == (2,) else ["fid"]
        result = evaluate(model, config.dataset, metric_names, num_samples=config.eval_samples,
                          seed=config.seed, data_dir=config.data_dir, image_size=config.image_size)
        values = {k: float(v) for k, v in result["metrics"].items() if isinstance(v, (int, float))}
        return {**result, "score": score(values)}

    return evaluate_model
