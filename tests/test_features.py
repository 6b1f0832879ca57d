"""The fid_inception extractor: the 2015 Inception graph, fed and read as TTUR's fid.py does.

A small GraphDef with the real graph's tensor names and structure (a decoded image,
`ExpandDims`, `ResizeBilinear`, `Sub`/`Mul` scaling, `pool_3`, a `softmax/logits`
head, and a `pool_3/_reshape` fixed to one image) checks the feeding and reading
against NumPy; the real graph is checked when it is on this machine.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import evaluate, evaluation
from ganzoo.errors import GanzooError
from ganzoo.evaluation import features

SIZE, DIM, CLASSES = 5, 16, 4  # the small graph: its resize, pool_3 width and classes
RNG = np.random.default_rng(0)
KERNEL = RNG.normal(size=(3, DIM)).astype("float32")
WEIGHTS = RNG.normal(size=(DIM, CLASSES)).astype("float32")
BIASES = RNG.normal(size=(CLASSES,)).astype("float32")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(features.FID_GRAPH_ENV, raising=False)


def write_small_graph(path):
    graph = tf.Graph()
    with graph.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        decoded = tf.io.decode_jpeg(contents, channels=3, name="DecodeJpeg")
        image = tf.expand_dims(tf.cast(decoded, tf.float32, name="Cast"), 0, name="ExpandDims")
        resized = tf.compat.v1.image.resize_bilinear(image, [SIZE, SIZE], name="ResizeBilinear")
        scaled = tf.multiply(tf.subtract(resized, 128.0, name="Sub"), 1 / 128, name="Mul")
        conv = tf.nn.conv2d(scaled, KERNEL[None, None], 1, "VALID", name="conv")
        pool_3 = tf.nn.avg_pool2d(tf.nn.relu(conv), SIZE, 1, "VALID", name="pool_3")
        flat = tf.reshape(pool_3, [1, DIM], name="pool_3/_reshape")  # one image, as saved
        logits = tf.nn.bias_add(tf.matmul(flat, WEIGHTS, name="softmax/logits/MatMul"), BIASES,
                                name="softmax/logits")
        tf.nn.softmax(logits, name="softmax")
    with open(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())
    return str(path)


def legacy_bilinear(x, size):
    """TF 1's ResizeBilinear (align_corners=False, no half-pixel centres) in NumPy."""

    def axis_weights(n_in):
        src = np.arange(size) * (n_in / size)
        low = np.floor(src).astype(int)
        return low, np.minimum(low + 1, n_in - 1), (src - low)[:, None]

    top, bottom, fy = axis_weights(x.shape[1])
    left, right, fx = axis_weights(x.shape[2])
    rows = x[:, top] * (1 - fy[None, :, :, None]) + x[:, bottom] * fy[None, :, :, None]
    return rows[:, :, left] * (1 - fx[None, None]) + rows[:, :, right] * fx[None, None]


def small_graph_in_numpy(images):
    """What the small graph computes for images in [-1, 1]: (features, probabilities)."""
    pixels = np.clip(np.round((images.astype("float64") + 1) * 127.5), 0, 255)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    scaled = (legacy_bilinear(pixels, SIZE) - 128) / 128
    feats = np.maximum(scaled @ KERNEL, 0).mean(axis=(1, 2))
    logits = feats @ WEIGHTS + BIASES
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    return feats, probabilities / probabilities.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("shape", [(7, 8, 8, 1), (3, 12, 9, 3)])
def test_fid_inception_feeds_expand_dims_and_reads_pool_3_as_ttur_does(tmp_path, shape):
    path = write_small_graph(tmp_path / features.FID_GRAPH_FILE)
    extractor = features._fid_inception(path)
    extractor.batch_size = 3  # batches of another size than the graph was saved for
    images = np.random.default_rng(1).uniform(-1, 1, shape).astype("float32")
    feats, probabilities = extractor(images)
    expected_feats, expected_probabilities = small_graph_in_numpy(images)
    assert feats.shape == (shape[0], DIM) and probabilities.shape == (shape[0], CLASSES)
    np.testing.assert_allclose(feats, expected_feats, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected_probabilities, rtol=1e-4, atol=1e-6)
    stamp = extractor.stamp()
    assert stamp["extractor"] == "fid_inception" and stamp["resize"] == features.FID_RESIZE
    assert stamp["extractor_sha256"] == features.file_hash(path)


def test_fid_inception_scores_through_evaluate_and_says_fids_compare_with_papers(tmp_path,
                                                                                monkeypatch):
    path = write_small_graph(tmp_path / features.FID_GRAPH_FILE)
    monkeypatch.setenv(features.FID_GRAPH_ENV, path)  # the environment variable works too
    result = evaluation.evaluate(evaluation.RealSampler("digits", "test"), "digits", ["fid"],
                                 extractor="fid_inception", num_samples=100)
    assert result["stamp"]["extractor"] == "fid_inception" and result["metrics"]["fid"] > 0
    assert "comparable with papers' FIDs" in evaluation.format_table(result)


def test_missing_or_foreign_graph_is_refused_in_one_line_saying_how_to_get_it(tmp_path):
    for given in (None, str(tmp_path / "nope.pb")):
        with pytest.raises(GanzooError) as caught:
            features._fid_inception(given)
        message = str(caught.value)
        assert "\n" not in message and features.FID_GRAPH_URL in message
        assert "classify_image_graph_def.pb" in message and features.FID_GRAPH_ENV in message
    junk = tmp_path / "junk.pb"
    junk.write_bytes(b"\x00not a graph")
    with pytest.raises(GanzooError, match="is not a TensorFlow GraphDef"):
        features._fid_inception(str(junk))
    other = tmp_path / "other.pb"
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="x")
    other.write_bytes(graph.as_graph_def().SerializeToString())
    with pytest.raises(GanzooError, match="has no ExpandDims:0 or pool_3:0 tensor"):
        features._fid_inception(str(other))


def test_evaluate_cli_refuses_fid_inception_without_the_graph(capsys, tmp_path):
    assert evaluate.main(["--pretrained=wgan_gp-digits", "--extractor=fid_inception"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and features.FID_GRAPH_URL in err[0], err
    assert evaluate.main(["--pretrained=wgan_gp-digits", "--extractor=digits",
                          f"--fid_inception_graph={tmp_path / 'g.pb'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--fid_inception_graph and --extractor=digits" in err[0], err


def test_fid_notes_tell_paper_fids_from_others():
    assert "comparable with papers" in features.fid_note("fid_inception")
    assert "not a paper FID" in features.fid_note("inception")
    assert "not with papers" in features.fid_note("digits")


REAL_GRAPH = os.environ.get(features.FID_GRAPH_ENV, "")
PANDA = os.path.join(os.path.dirname(REAL_GRAPH), "cropped_panda.jpg")


@pytest.mark.skipif(not (os.path.isfile(REAL_GRAPH) and os.path.isfile(PANDA)), reason=(
    f"the 2015 Inception graph is not here: extract classify_image_graph_def.pb and "
    f"cropped_panda.jpg from {features.FID_GRAPH_URL} into one folder and set "
    f"{features.FID_GRAPH_ENV} to the .pb's path"))
def test_real_inception_graph_classifies_its_own_panda_as_tensorflow_says():
    # TensorFlow's classify_image.py tutorial, on this graph and image: "giant panda ...
    # (score = 0.89107)", class 169. The graph's own path (JPEG bytes in, softmax out)
    # and the extractor's (decoded pixels fed to ExpandDims:0) must both agree with it.
    with open(PANDA, "rb") as f:
        jpeg = f.read()
    graph_def, _ = features._read_graph_def(REAL_GRAPH)

    def own_path(contents):
        softmax, = tf.graph_util.import_graph_def(
            graph_def, input_map={"DecodeJpeg/contents:0": contents},
            return_elements=["softmax:0"], name="own")
        return softmax

    own = tf.compat.v1.wrap_function(own_path, [tf.TensorSpec([], tf.string)])(tf.constant(jpeg))
    own = own.numpy().reshape(-1)
    assert own.argmax() == 169 and abs(own[169] - 0.89107) < 1e-3
    pixels = tf.io.decode_jpeg(jpeg, channels=3).numpy().astype("float32")
    extractor = features._fid_inception(REAL_GRAPH)
    feats, probabilities = extractor(np.stack([pixels, pixels]) / 127.5 - 1.0)
    assert feats.shape == (2, 2048) and (feats >= 0).all()
    np.testing.assert_allclose(probabilities[0], own, atol=1e-3)
    np.testing.assert_allclose(feats[0], feats[1], rtol=1e-5)
