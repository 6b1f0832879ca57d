"""Feature extractors for the metrics, chosen by name.

- `inception`: InceptionV3 pool features (2048-d) and ImageNet class
  probabilities at 299x299. The ImageNet weights download on first use where
  there is network; `inception_weights=PATH` (the full Keras
  `inception_v3_weights_tf_dim_ordering_tf_kernels.h5`) works offline.
- `digits`, `fashion_mnist`: the classifiers shipped in
  `ganzoo/classifiers/NAME.keras`, trained by `tools/train_classifier.py`
  (commands in its docstring); each the default for its dataset.
- `classifier:PATH`: any Keras classifier (`.keras`) or SavedModel returning
  logits. Features come from its layer named `features` when it has one (or
  the input of its last layer); a SavedModel gives its logits as features.

Images come in as ganzoo serves them, in [-1, 1]. Grayscale is tiled to three
channels (or colour averaged to one) to fit the extractor, and images are
resized bilinearly; the stamp records both.
"""

import functools
import hashlib
import os

import keras
import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError

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


def default_extractor_name(dataset):
    """The extractor a dataset is scored with unless another is asked for."""
    return dataset if dataset in SHIPPED_CLASSIFIERS else "inception"


@functools.lru_cache(maxsize=8)
def get_extractor(name, inception_weights=None):
    """The `FeatureExtractor` called `name`: inception, digits or classifier:PATH.

    Cached, so repeated evaluations (every N steps in training) reuse one
    traced network instead of retracing it each time.
    """
    if name == "inception":
        return _inception(inception_weights)
    if name in SHIPPED_CLASSIFIERS:
        return _keras_classifier(name, SHIPPED_CLASSIFIERS[name])
    if name.startswith("classifier:"):
        return _keras_classifier(name, os.path.expanduser(name.split(":", 1)[1]))
    raise GanzooError(
        f"unknown extractor {name!r}; accepted: inception, {', '.join(SHIPPED_CLASSIFIERS)}, classifier:PATH"
    )
