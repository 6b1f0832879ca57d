"""Extractors, the shipped digits classifier, evaluate() and the training callback."""

import json
import os

import keras
import numpy as np
import pytest
from conftest import tiny_hparams

from ganzoo import data, evaluate, evaluation, train
from ganzoo.config import TrainConfig
from ganzoo.errors import GanzooError
from ganzoo.evaluation import features


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


class Noise:
    conditional = False

    def sample(self, num, labels=None, seed=None):
        return np.random.default_rng(seed).uniform(-1, 1, (num, 8, 8, 1)).astype("float32")


class OneClass(evaluation.RealSampler):
    def sample(self, num, labels=None, seed=None):
        threes = self.x[self.y == 3]
        self.last_labels = None
        return threes[np.random.default_rng(seed).integers(0, len(threes), num)]


def test_shipped_digits_classifier_is_accurate():
    x, y, _ = data.load_numpy("digits", "test")
    _, probabilities = features.get_extractor("digits")(x)
    assert np.mean(probabilities.argmax(axis=1) == y) >= 0.97


def test_real_digits_score_near_zero_and_noise_and_one_class_far_worse():
    scores = {
        name: evaluation.evaluate(sampler, "digits", ["fid", "is", "pr"], num_samples=360)["metrics"]
        for name, sampler in [("real", evaluation.RealSampler("digits", "test")), ("noise", Noise()),
                              ("one_class", OneClass("digits", "test"))]
    }
    assert scores["real"]["fid"] < 5
    assert scores["noise"]["fid"] > 20 * scores["real"]["fid"]
    assert scores["one_class"]["fid"] > 20 * scores["real"]["fid"]
    assert scores["real"]["is"] > 7 and scores["one_class"]["is"] < 1.5
    assert scores["real"]["recall"] > 0.8 and scores["one_class"]["recall"] < 0.1


def test_result_is_stamped():
    result = evaluation.evaluate(evaluation.RealSampler("digits", "test"), "digits", ["fid", "kid"],
                               num_samples=100, seed=3)
    stamp = result["stamp"]
    assert stamp["n_real"] == 1437 and stamp["n_fake"] == 100 and stamp["seed"] == 3
    assert stamp["extractor"] == "digits" and len(stamp["extractor_sha256"]) == 64
    assert stamp["real_split"] == "train" and stamp["resize"] == "bilinear"
    assert set(result["metrics"]) == {"fid", "kid", "kid_std"}


def test_real_features_are_cached(monkeypatch):
    extractor = features.get_extractor("digits")
    first = evaluation.real_features("digits", "train", extractor, 500)
    monkeypatch.setattr(data, "load_numpy", lambda *a, **k: pytest.fail("cache missed"))
    second = evaluation.real_features("digits", "train", extractor, 500)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[2], second[2])


def test_conditional_metrics_use_requested_labels():
    class PerfectConditional:
        conditional, num_classes = True, 10

        def __init__(self):
            self.x, self.y, _ = data.load_numpy("digits", "test")

        def sample(self, num, labels=None, seed=None):
            by_class = [self.x[self.y == label] for label in range(10)]
            return np.stack([by_class[label][i % len(by_class[label])] for i, label in enumerate(labels)])

    metrics = evaluation.evaluate(PerfectConditional(), "digits", ["acc", "intra_fid"], num_samples=200)
    assert metrics["metrics"]["acc"] > 0.97 and metrics["metrics"]["intra_fid"] < 30


def test_classifier_path_extractor_keras_and_saved_model(tmp_path):
    classifier = keras.models.load_model(features.SHIPPED_CLASSIFIERS["digits"])
    path = str(tmp_path / "copy.keras")
    classifier.save(path)
    x, _, _ = data.load_numpy("digits", "test", max_examples=16)
    shipped = features.get_extractor("digits")(x)
    copied = features.get_extractor(f"classifier:{path}")(x)
    np.testing.assert_allclose(shipped[0], copied[0], atol=1e-5)
    exported = str(tmp_path / "saved_model")
    classifier.export(exported, verbose=False)
    saved = features.get_extractor(f"classifier:{exported}")
    _, probabilities = saved(x)
    np.testing.assert_allclose(probabilities, shipped[1], atol=1e-5)


def test_bad_extractor_names():
    with pytest.raises(GanzooError, match="unknown extractor 'vgg'; accepted: inception, fid_inception, digits"):
        features.get_extractor("vgg")
    with pytest.raises(GanzooError, match="no classifier at /nope.keras"):
        features.get_extractor("classifier:/nope.keras")
    with pytest.raises(GanzooError, match="no such file for --inception_weights"):
        features.get_extractor("inception", inception_weights="/nope.h5")


def test_inception_from_local_weights(tmp_path):
    # Offline, ImageNet weights cannot download: a local file must work instead.
    net = keras.applications.InceptionV3(weights=None)
    path = str(tmp_path / "inception.weights.h5")
    net.save_weights(path)
    extractor = features.get_extractor("inception", inception_weights=path)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    feats, probabilities = extractor(x)
    assert feats.shape == (3, 2048) and probabilities.shape == (3, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    assert extractor.stamp()["extractor_sha256"] == features.file_hash(path)


def test_mode_metrics_for_points():
    class Centers:
        conditional = False

        def sample(self, num, labels=None, seed=None):
            centers, _ = data.mixture_spec("ring8")
            return centers[np.arange(num) % 4]  # half the modes, exactly on centre

    result = evaluation.evaluate(Centers(), "ring8")
    assert result["metrics"]["modes_covered"] == 4 and result["metrics"]["high_quality"] == 1.0
    np.testing.assert_allclose(result["metrics"]["reverse_kl"], np.log(2))


def test_training_callback_logs_fid_and_keeps_best(tmp_path):
    config = TrainConfig(model="dcgan", steps=4, batch_size=16, steps_per_epoch=2, eval_every=2,
                         eval_samples=64, jit_compile=False, hparams=tiny_hparams("dcgan"))
    result = train.train(config, str(tmp_path / "run"))
    with open(os.path.join(result.workdir, "evaluations.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    assert [r["step"] for r in rows] == [0, 2, 4]
    assert all(r["metrics"]["fid"] > 0 and r["stamp"]["n_fake"] == 64 for r in rows)
    assert os.path.exists(os.path.join(result.workdir, "checkpoints", "best.keras"))
    with open(os.path.join(result.workdir, "metrics.csv")) as f:
        assert "eval_fid" in f.readline()


def test_evaluate_cli_on_a_pretrained_model_prints_a_stamped_table(capsys, tmp_path):
    out = tmp_path / "eval.json"
    assert evaluate.main(["--pretrained=wgan_gp-digits", "--metrics=fid,is", "--num_samples=200",
                          f"--out={out}"]) == 0
    table = capsys.readouterr().out
    for key in ("fid", "is", "n_real", "n_fake", "extractor_sha256", "resize", "real_split", "seed"):
        assert key in table
    saved = json.loads(out.read_text())
    assert saved["stamp"]["n_fake"] == 200 and saved["metrics"]["fid"] > 0


def test_evaluate_cli_writes_results_into_an_exported_model(tmp_path, capsys):
    from ganzoo.savedmodel import export_generator, read_metadata

    config = TrainConfig(model="cgan", steps=2, batch_size=16, steps_per_epoch=2,
                         jit_compile=False, hparams=tiny_hparams("cgan"))
    result = train.train(config, str(tmp_path / "run"))
    path = str(tmp_path / "exported")
    export_generator(result.model, path, {"dataset": "digits"})
    assert evaluate.main([f"--model_path={path}", "--metrics=fid,acc", "--num_samples=100"]) == 0
    stored = read_metadata(path)["evaluation"]
    (entry,) = stored.values()
    assert set(entry["metrics"]) == {"fid", "acc"} and entry["stamp"]["n_fake"] == 100


def test_evaluate_cli_bad_input(capsys):
    assert evaluate.main(["--pretrained=wgan_gp-digits", "--metrics=fid,xyz"]) == 2
    assert "unknown metric 'xyz'; accepted: fid, kid" in capsys.readouterr().err
    assert evaluate.main(["--metrics=fid"]) == 2
    assert "give exactly one of --model_path, --pretrained, --workdir" in capsys.readouterr().err


def test_shipped_fashion_mnist_classifier_scores_28x28_images():
    extractor = features.get_extractor(features.default_extractor_name("fashion_mnist"))
    assert extractor.num_classes == 10
    x = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    feats, probabilities = extractor(x)
    assert feats.shape == (4, 128) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)


@pytest.mark.slow
def test_shipped_fashion_mnist_classifier_accuracy_on_the_real_test_split():
    # Needs the real files (apt-get install dataset-fashion-mnist); 93.4% when shipped.
    try:
        x, y, _ = data.load_numpy("fashion_mnist", "test")
    except GanzooError:
        pytest.skip("Fashion-MNIST's files are not on this machine")
    _, probabilities = features.get_extractor("fashion_mnist")(x)
    assert np.mean(np.argmax(probabilities, axis=1) == y) >= 0.92
