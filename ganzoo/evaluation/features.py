"""Feature extractors for the metrics, chosen by name.

- `inception`: InceptionV3 pool features (2048-d) and ImageNet class
  probabilities at 299x299. The ImageNet weights download on first use where
  there is network; `inception_weights=PATH` (the full Keras
  `inception_v3_weights_tf_dim_ordering_tf_kernels.h5`) works offline.
- `digits`, `fashion_mnist`: the classifiers shipped in
  `ganzoo/classifiers/NAME.keras`, trained by `tools/train_classifier.py`
  (commands in its docstring); each the default for its dataset.
- `fid_inception`: the 2015 Inception graph (`classify_image_graph_def.pb`
  from inception-2015-12-05.tgz) that the original FID code (TTUR), TF-GAN and
  pytorch-fid's and clean-fid's legacy modes run: `pool_3` features (2048-d),
  fed as TTUR feeds them. Its FIDs are the ones papers report; `inception`'s
  (another network, resized another way) are not. The graph is a local file:
  `fid_inception_graph=PATH` or `$GANZOO_FID_INCEPTION_GRAPH`.
- `digits`, `fashion_mnist`: the classifiers shipped in
  `ganzoo/classifiers/NAME.keras`, trained by `tools/train_classifier.py`
  (commands in its docstring); each the default for its dataset.
- `classifier:PATH`: any Keras classifier (`.keras`) or SavedModel returning
  logits. Features come from its layer named `features` when it has one (or
  the input of its last layer); a SavedModel gives its logits as features.

Images come in as ganzoo serves them, in [-1, 1]. Grayscale is tiled to three
channels (or colour averaged to one) to fit the extractor, and images are
resized bilinearly (`fid_inception`: by the graph itself); the stamp records both.
"""

import functools
import hashlib
import os

import keras
import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError
from ganzoo.metrics.fid import fid_note  # noqa: F401 (what each extractor's FID compares with)

# The shipped classifiers stay in ganzoo/classifiers/, where setup.py packages them.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED_CLASSIFIERS = {
    name: os.path.join(PACKAGE_DIR, "classifiers", f"{name}.keras") for name in ("digits", "fashion_mnist")
}
RESIZE_METHOD = "bilinear"


def file_hash(path):
    """sha256 of a file, or of every file under a directory (a SavedModel)."""
    digest = hashlib.sha256()
    paths = [path]
    if os.path.isdir(path):
        paths = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
    for item in paths:
        with open(item, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class FeatureExtractor:
    """Maps images in [-1, 1] to (features, class probabilities), in batches."""

    def __init__(self, name, model, input_shape, weights_hash, num_classes, batch_size=256):
        self.name = name
        self.model = model  # images -> (features, logits)
        self.input_shape = tuple(input_shape)
        self.weights_hash = weights_hash
        self.num_classes = num_classes
        self.batch_size = batch_size
        self.resize_method = RESIZE_METHOD

    def stamp(self):
        return {"extractor": self.name, "extractor_sha256": self.weights_hash,
                "input_shape": list(self.input_shape), "resize": self.resize_method}

    def _prepare(self, images):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4:
            raise GanzooError(f"extractor {self.name!r} needs images (N, H, W, C), got {images.shape}")
        channels = self.input_shape[-1]
        if images.shape[-1] == 1 and channels == 3:
            images = tf.tile(images, [1, 1, 1, 3])
        elif images.shape[-1] == 3 and channels == 1:
            images = tf.reduce_mean(images, axis=-1, keepdims=True)
        if tuple(images.shape[1:3]) != self.input_shape[:2]:
            images = tf.image.resize(images, self.input_shape[:2], method=self.resize_method)
        return images

    def __call__(self, images):
        """`(features [N, D] float32, probabilities [N, K] float64)` of `images`."""
        features, probabilities = [], []
        for start in range(0, len(images), self.batch_size):
            batch_features, logits = self.model(self._prepare(images[start : start + self.batch_size]))
            features.append(np.asarray(batch_features, dtype="float32"))
            probabilities.append(tf.nn.softmax(tf.cast(logits, tf.float64)).numpy())
        return np.concatenate(features), np.concatenate(probabilities)


# -- fid_inception: the 2015 Inception graph, as the original FID code runs it ----------

FID_GRAPH_ENV = "GANZOO_FID_INCEPTION_GRAPH"
FID_GRAPH_FILE = "classify_image_graph_def.pb"
FID_GRAPH_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
# TTUR's fid.py feeds images with pixels in 0..255 to this tensor, the graph's decoded
# JPEG with a batch axis; the graph itself resizes them to 299x299 (ResizeBilinear) and
# scales them, then its `pool_3` holds the 2048 features FID is computed from.
FID_INPUT, FID_OUTPUT = "ExpandDims:0", "pool_3:0"
# The classifier head, for the Inception Score: logits = pool_3 @ weights (+ biases).
FID_LOGITS_MATMUL, FID_LOGITS = "softmax/logits/MatMul", "softmax/logits"
FID_RESIZE = "graph ResizeBilinear to 299x299 (TTUR)"


def fid_graph_missing(path=None):
    """The one line that says how to get the 2015 Inception graph."""
    where = f"no such file: {path}" if path else (
        f"no {FID_GRAPH_FILE} given for the fid_inception extractor")
    return (f"{where}; accepted: --fid_inception_graph=PATH or ${FID_GRAPH_ENV}=PATH to "
            f"{FID_GRAPH_FILE}, extracted from {FID_GRAPH_URL}")


class FidInceptionExtractor(FeatureExtractor):
    """Feeds images as TTUR's fid.py does: RGB pixels as floats in 0..255, at their own
    size (the graph resizes them), rounded to whole pixel values as a saved PNG holds."""

    def _prepare(self, images):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
            raise GanzooError(f"extractor {self.name!r} needs images (N, H, W, 1 or 3), got "
                              f"{images.shape}")
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])
        return tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0)


def _read_graph_def(path):
    try:
        with open(path, "rb") as f:
            graph_def = tf.compat.v1.GraphDef.FromString(f.read())
    except OSError as e:
        raise GanzooError(f"cannot read {path}: {e.strerror}") from None
    except Exception as e:  # noqa: BLE001 (protobuf's DecodeError, and others)
        raise GanzooError(f"{path} is not a TensorFlow GraphDef ({str(e)[:80]}); accepted: "
                          f"{FID_GRAPH_FILE} from {FID_GRAPH_URL}") from None
    names = {node.name for node in graph_def.node}
    lacking = [t for t in (FID_INPUT, FID_OUTPUT) if t.split(":")[0] not in names]
    if lacking:
        raise GanzooError(f"{path} has no {' or '.join(lacking)} tensor, so it is not the 2015 "
                          f"Inception graph; accepted: {FID_GRAPH_FILE} from {FID_GRAPH_URL}")
    for node in graph_def.node:
        node.device = ""  # run where TensorFlow places it (a GPU too)
    return graph_def, names


def _fid_inception(graph_path=None):
    path = graph_path or os.environ.get(FID_GRAPH_ENV)
    if not path or not os.path.isfile(os.path.expanduser(path)):
        raise GanzooError(fid_graph_missing(path))
    path = os.path.expanduser(path)
    graph_def, names = _read_graph_def(path)

    def import_graph(images):
        # The batch axis is left unknown (None): the graph was saved for one image,
        # and TTUR likewise clears the batch size the graph's shapes carry.
        pool_3, = tf.graph_util.import_graph_def(
            graph_def, input_map={FID_INPUT: images}, return_elements=[FID_OUTPUT], name="fid")
        features = tf.reshape(pool_3, [tf.shape(pool_3)[0], -1])
        if FID_LOGITS_MATMUL not in names:  # a graph without the classifier head
            return features, tf.zeros([tf.shape(features)[0], 1])
        graph = pool_3.graph
        weights = graph.get_operation_by_name(f"fid/{FID_LOGITS_MATMUL}").inputs[1]
        logits = tf.matmul(features, weights)
        head = graph.get_operation_by_name(f"fid/{FID_LOGITS}") if FID_LOGITS in names else None
        if head is not None and head.type in ("BiasAdd", "Add", "AddV2"):
            logits += head.inputs[1]
        return features, logits

    spec = tf.TensorSpec([None, None, None, 3], tf.float32)
    try:
        run = tf.compat.v1.wrap_function(import_graph, [spec])
    except (ValueError, TypeError, tf.errors.OpError) as e:
        raise GanzooError(f"cannot run {path} as the 2015 Inception graph: "
                          f"{str(e).splitlines()[0][:160]}") from None
    num_classes = int(run.outputs[1].shape[-1])
    extractor = FidInceptionExtractor("fid_inception", run, (299, 299, 3), file_hash(path),
                                      num_classes, batch_size=50)
    extractor.resize_method = FID_RESIZE
    return extractor


def _keras_classifier(name, path):
    if not os.path.exists(path):
        raise GanzooError(f"no classifier at {path}; accepted: a .keras file or a SavedModel directory")
    if os.path.isdir(path):
        return _saved_model_classifier(name, path)
    try:
        classifier = keras.models.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 (any unreadable file becomes one line)
        raise GanzooError(f"cannot load classifier {path}: {str(e).splitlines()[0]}") from None
    try:
        feature_output = classifier.get_layer("features").output
    except ValueError:
        feature_output = classifier.layers[-1].input
    two_heads = keras.Model(classifier.inputs, [feature_output, classifier.outputs[0]])
    num_classes = int(classifier.outputs[0].shape[-1])

    @tf.function(reduce_retracing=True)
    def run(images):
        return two_heads(images, training=False)

    return FeatureExtractor(name, run, classifier.inputs[0].shape[1:], file_hash(path), num_classes)


def _saved_model_classifier(name, path):
    try:
        loaded = tf.saved_model.load(path)
        signature = loaded.signatures["serving_default"]
    except (OSError, KeyError, ValueError, tf.errors.OpError) as e:
        raise GanzooError(f"cannot load SavedModel classifier {path}: {str(e).splitlines()[0]}") from None
    (input_name, spec), = signature.structured_input_signature[1].items()
    outputs = signature.structured_outputs
    logits_key = next((k for k in ("logits", "output_0") if k in outputs), min(outputs))
    features_key = "features" if "features" in outputs else logits_key

    def run(images):
        result = signature(**{input_name: images})
        return result[features_key], result[logits_key]

    num_classes = int(outputs[logits_key].shape[-1])
    return FeatureExtractor(name, run, spec.shape[1:], file_hash(path), num_classes)


def _inception(weights_path=None):
    weights = weights_path or "imagenet"
    if weights_path and not os.path.exists(weights_path):
        raise GanzooError(f"no such file for --inception_weights: {weights_path}")
    try:
        net = keras.applications.InceptionV3(weights=weights, include_top=True)
    except Exception as e:  # noqa: BLE001 (offline, the download fails in many ways)
        raise GanzooError(
            f"cannot load InceptionV3 ImageNet weights ({str(e).splitlines()[0][:120]}); "
            "accepted: network access, or --inception_weights=PATH to "
            "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
        ) from None
    pool = net.get_layer("avg_pool").output
    logits = net.get_layer("predictions")
    # The top layer applies softmax; recompute its pre-activation for logits.
    pre_softmax = keras.ops.matmul(pool, logits.kernel) + logits.bias
    two_heads = keras.Model(net.inputs, [pool, pre_softmax])
    if weights_path:
        weights_hash = file_hash(weights_path)
    else:
        cached = os.path.join(os.path.expanduser("~"), ".keras", "models",
                              "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
        weights_hash = file_hash(cached) if os.path.exists(cached) else "imagenet"

    @tf.function(reduce_retracing=True)
    def run(images):
        return two_heads(images, training=False)

    return FeatureExtractor("inception", run, (299, 299, 3), weights_hash, 1000, batch_size=64)


EXTRACTORS = ("auto", "inception", "fid_inception", *SHIPPED_CLASSIFIERS, "classifier:PATH")
EXTRACTOR_CHOICES = ", ".join(EXTRACTORS)


def default_extractor_name(dataset):
    """The extractor a dataset is scored with unless another is asked for."""
    return dataset if dataset in SHIPPED_CLASSIFIERS else "inception"


def get_extractor(name, inception_weights=None, fid_inception_graph=None):
    """The `FeatureExtractor` called `name`: inception, fid_inception, digits,
    fashion_mnist or classifier:PATH.

    Cached, so repeated evaluations (every N steps in training) reuse one
    traced network instead of retracing it each time.
    """
    if name == "fid_inception":
        # Cached by the file used, whichever way it was named.
        fid_inception_graph = fid_inception_graph or os.environ.get(FID_GRAPH_ENV)
    return _get_extractor(name, inception_weights, fid_inception_graph)


@functools.lru_cache(maxsize=8)
def _get_extractor(name, inception_weights, fid_inception_graph):
    if name == "inception":
        return _inception(inception_weights)
    if name == "fid_inception":
        return _fid_inception(fid_inception_graph)
    if name in SHIPPED_CLASSIFIERS:
        return _keras_classifier(name, SHIPPED_CLASSIFIERS[name])
    if name.startswith("classifier:"):
        return _keras_classifier(name, os.path.expanduser(name.split(":", 1)[1]))
    raise GanzooError(
        f"unknown extractor {name!r}; accepted: {', '.join(EXTRACTORS[1:])}"
    )

