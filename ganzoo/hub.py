"""Load exported generators: `ganzoo.load(path_or_name)` and `ganzoo.list_pretrained()`.

    import ganzoo

    ganzoo.list_pretrained()                     # ['cgan-digits', ..., 'wgan_gp-ring8']
    generator = ganzoo.load("wgan_gp-digits")    # a shipped pretrained model
    generator = ganzoo.load("exported/my-run")   # any `ganzoo.export` directory
    generator = ganzoo.load("https://example.org/my-run.tar.gz", sha256="9f2c...")
    x = generator.sample(16, seed=0)             # (16, 8, 8, 1) images in [-1, 1]

`Generator.sample` returns examples in the data's own scale, like
`GAN.sample`: images in [-1, 1], points as raw values. `Generator.to_uint8`
turns images into uint8 pixels, `(x + 1) / 2` gives [0, 1].

A URL must point to a `.zip`, `.tar.gz`, `.tgz` or `.tar` archive of one
export and come with its sha256; it is downloaded once with
`keras.utils.get_file` into `cache_dir` (default `~/.keras`), under
`ganzoo/<sha256>/`, and refused if the checksum differs.
"""

import copy
import hashlib
import os
import re
import urllib.parse

import keras
import numpy as np
import tensorflow as tf

from ganzoo import checkpoints
from ganzoo.distribute import PRECISIONS, precision
from ganzoo.errors import GanzooError, check_choice, first_line, os_reason
from ganzoo.images import to_uint8 as _to_uint8
from ganzoo.models import create_model, get_model_class
from ganzoo.savedmodel.format import (
    GENERATE_SIGNATURE,
    SERVING_SIGNATURE,
    metadata_path,
    output_key,
    read_metadata,
)
from ganzoo.savedmodel.metadata import build_metadata

PRETRAINED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained")
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def list_pretrained():
    """Sorted names of the pretrained generators shipped in `ganzoo/pretrained/`."""
    if not os.path.isdir(PRETRAINED_DIR):
        return []
    return sorted(
        name for name in os.listdir(PRETRAINED_DIR)
        if os.path.isfile(metadata_path(os.path.join(PRETRAINED_DIR, name)))
    )


def pretrained_path(name):
    """The directory of the shipped pretrained generator `name`."""
    names = list_pretrained()
    if name not in names:
        raise GanzooError(
            f"unknown pretrained model {name!r}; accepted: {', '.join(names) or 'none installed'}"
        )
    return os.path.join(PRETRAINED_DIR, name)


class Generator:
    """A loaded generator: sampling plus the export's metadata.

    Attributes:
        name: e.g. "wgan_gp-digits".
        model: the ganzoo model name, e.g. "wgan_gp".
        metadata: the export's ganzoo.json as a dict.
        latent_dim: size of the standard-normal latent vector z.
        data_shape: shape of one example, e.g. (8, 8, 1) or (2,).
        conditional: whether it takes labels.
        num_classes: number of labels (0 when unconditional).
        class_names: names of the labels (() when unconditional).
        path: the SavedModel directory.
    """

    def __init__(self, path, loaded, metadata):
        self.path = path
        self.metadata = metadata
        self.model = metadata.get("model")
        self.name = metadata.get("name") or self.model
        self.latent_dim = int(metadata["latent_dim"])
        self.data_shape = tuple(int(d) for d in metadata["data_shape"])
        self.num_classes = int(metadata.get("num_classes") or 0)
        self.conditional = bool(metadata.get("conditional")) and self.num_classes > 0
        self.class_names = tuple(metadata.get("class_names") or ())
        self._loaded = loaded  # keeps the variables alive
        if loaded is not None:
            signatures = loaded.signatures
            self._generate = signatures.get(GENERATE_SIGNATURE)
            self._serve = signatures[SERVING_SIGNATURE]

    def __repr__(self):
        labels = f", num_classes={self.num_classes}" if self.conditional else ""
        return (f"Generator({self.name!r}, latent_dim={self.latent_dim}, "
                f"data_shape={self.data_shape}{labels})")

    @property
    def steps(self):
        return self.metadata.get("steps")

    @property
    def is_image(self):
        return len(self.data_shape) == 3

    def latents(self, num, seed=None):
        """`num` standard-normal latents, the same ones `GAN.sample(num, seed=seed)` uses."""
        num = _count("num", num)
        z = keras.random.normal((num, self.latent_dim), seed=seed)
        return np.asarray(keras.ops.convert_to_numpy(z), dtype="float32")

    def label_index(self, label):
        """The class number of `label`: a class name (`class_names`) or a number, given
        as an int or as text (`"7"`, `"Sneaker"`); a one-line error for anything else."""
        if not self.conditional:
            raise GanzooError(f"model {self.name!r} is unconditional; accepted: no label")
        if isinstance(label, str):
            # A name first: a dataset may name its classes with other numbers' text.
            if label in self.class_names:
                return self.class_names.index(label)
            try:
                label = int(label)
            except ValueError:
                names = ", ".join(self.class_names) or "none"
                raise GanzooError(f"unknown label {label!r} for {self.name!r}; accepted: a class "
                                  f"name ({names}) or a number from 0 to "
                                  f"{self.num_classes - 1}") from None
        return int(self.check_labels(label, 1)[0])

    def check_labels(self, labels, num):
        """`labels` (one int or `num` ints) as int32 in [0, num_classes), or None."""
        if not self.conditional:
            if labels is not None:
                raise GanzooError(f"model {self.name!r} is unconditional; accepted: no labels")
            return None
        if labels is None:
            raise GanzooError(
                f"model {self.name!r} is conditional; accepted: labels from 0 to "
                f"{self.num_classes - 1} ({', '.join(self.class_names)})"
            )
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((num,), labels)
        if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (num,):
            raise GanzooError(f"bad labels of shape {labels.shape} and type {labels.dtype}; "
                              f"accepted: one integer or {num} integers")
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.size:
            raise GanzooError(f"label {int(bad[0])} is out of range; accepted: 0 to "
                              f"{self.num_classes - 1}")
        return labels.astype("int32")

    def check_latents(self, z, source=None):
        """`z` as float32 of shape (N, latent_dim), or a one-line error (naming
        `source`, say the file the latents came from)."""
        z = np.asarray(z)
        where = f" in {source}" if source else ""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise GanzooError(f"bad latent of shape {z.shape}{where}; accepted: shape (N, "
                              f"{self.latent_dim}) for {self.name!r}")
        if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
            raise GanzooError(f"bad latent of type {z.dtype}{where}; accepted: float32 numbers")
        z = z.astype("float32")
        bad = np.argwhere(~np.isfinite(z))
        if len(bad):
            i, j = (int(k) for k in bad[0])
            raise GanzooError(f"bad latent{where}: z[{i}, {j}] is {z[i, j]} ({len(bad)} non-finite "
                              "value(s)); accepted: finite numbers")
        return z

    def at_precision(self, policy):
        """This generator computing under the Keras dtype policy `policy`.

        `float32` returns self. Otherwise the generator network is rebuilt from
        the export's model config under the policy (e.g. `mixed_bfloat16`, the
        fast path on CPUs with AMX) and given the export's weights.
        """
        check_choice("precision", policy, PRECISIONS)
        if policy == "float32":
            return self
        names = ["data_shape", *get_model_class(self.model).hyperparameter_names()]
        config = {k: v for k, v in (self.metadata.get("model_config") or {}).items() if k in names}
        with precision(policy):
            network = create_model(self.model, **config).generator
        for weight, value in zip(network.weights, self._weights(), strict=True):
            weight.assign(value)

        @tf.function(reduce_retracing=True)
        def generate(z, labels=None):
            x = network([z, labels] if labels is not None else z, training=False)
            return {"samples": tf.cast(x, tf.float32)}

        clone = copy.copy(self)
        clone._generate = generate
        return clone

    def generate(self, z, labels=None, batch_size=256):
        """Examples for the latents `z` of shape (N, latent_dim), in the data's scale."""
        z = self.check_latents(z)
        labels = self.check_labels(labels, len(z))
        batch_size = _count("batch_size", batch_size, minimum=1)
        out = []
        for start in range(0, len(z), batch_size):
            inputs = {"z": tf.constant(z[start : start + batch_size])}
            if labels is not None:
                inputs["labels"] = tf.constant(labels[start : start + batch_size])
            out.append(self._call(inputs))
        if not out:
            return np.zeros((0, *self.data_shape), "float32")
        return np.concatenate(out)

    def _weights(self):
        """The generator's variables, in the order of its network's `weights`."""
        return self._loaded.generator_variables

    def _call(self, inputs):
        if self._generate is not None:
            return self._generate(**inputs)["samples"].numpy()
        # An export without the raw signature: undo serving_default's scaling.
        out = self._serve(**inputs)[output_key(self.data_shape)].numpy()
        return out * 2.0 - 1.0 if self.is_image else out

    def sample(self, num, labels=None, seed=None, batch_size=256):
        """`num` examples as a NumPy array in the data's scale ([-1, 1] for images).

        The arguments come in the order of the trained model's `GAN.sample(num,
        labels, seed)`. For conditional models `labels` is one int or `num` ints.
        An integer `seed` gives the same latents every call (and the same as the
        trained model's `sample(num, seed=seed)`); `None` draws fresh ones.
        """
        num = _count("num", num)
        labels = self.check_labels(labels, num)
        return self.generate(self.latents(num, seed), labels, batch_size)

    @staticmethod
    def to_uint8(images):
        """Images in [-1, 1] as uint8 pixels in [0, 255]."""
        return _to_uint8(images)


class RunGenerator(Generator):
    """A training run's newest valid checkpoint, sampled like an export (`load_run`)."""

    def __init__(self, path, gan, metadata):
        super().__init__(path, None, metadata)
        self._gan = gan
        self._generate = None  # set by `at_precision` on a copy

    def _weights(self):
        return self._gan.sampling_generator.weights

    def _call(self, inputs):
        if self._generate is not None:
            return self._generate(**inputs)["samples"].numpy()
        x = self._gan.generate(inputs["z"], inputs.get("labels"))
        return np.asarray(keras.ops.convert_to_numpy(x), "float32")


def load_run(workdir):
    """A `Generator` of the training run at `workdir`: its newest checkpoint that loads,
    with the run's config.json (dataset, image size, data directory) in `metadata`
    under `train_config`, as an export of it would have."""
    if not os.path.isdir(workdir):
        raise GanzooError(f"no such workdir: {workdir}; accepted: a run directory that "
                          "`ganzoo train` wrote")
    gan, checkpoint = checkpoints.load_latest(workdir)
    train_config = checkpoints.read_run_config(workdir)
    name = os.path.basename(os.path.normpath(os.path.abspath(workdir)))
    metadata = build_metadata(gan, {"name": name, "train_config": train_config,
                                    "checkpoint": os.path.abspath(checkpoint)})
    return RunGenerator(os.path.abspath(workdir), gan, metadata)


def _count(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GanzooError(f"bad {name}={value!r}; accepted: an integer >= {minimum}")
    return int(value)


def is_url(text):
    """True for `scheme://...` strings."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def load(path_or_name, sha256=None, cache_dir=None):
    """Load an exported generator from a path, a pretrained name or a URL.

    Args:
        path_or_name: a directory written by `ganzoo.export`; the name of a
            shipped pretrained model (`list_pretrained()`); or the URL of a
            `.zip` / `.tar.gz` archive of an export.
        sha256: the archive's SHA-256 hex digest; required with a URL.
        cache_dir: where URL downloads are kept (default `~/.keras`).

    Returns:
        A `Generator`.
    """
    text = os.fspath(path_or_name) if isinstance(path_or_name, (str, os.PathLike)) else None
    if not isinstance(text, str) or not text:
        raise GanzooError(f"bad model {path_or_name!r}; accepted: a path, a pretrained name "
                          "or a URL")
    if is_url(text):
        return load_path(download(text, sha256, cache_dir))
    if sha256 is not None:
        raise GanzooError("sha256 applies to URLs only; accepted: load(url, sha256=...)")
    if os.path.lexists(text):
        return load_path(text)
    if text in list_pretrained():
        return load_path(pretrained_path(text))
    if os.sep in text or text.startswith((".", "~")) or (os.altsep and os.altsep in text):
        raise GanzooError(f"no such file or directory: {text}")
    names = list_pretrained()
    raise GanzooError(
        f"unknown pretrained model {text!r} (and no such path); accepted: "
        f"{', '.join(names) or 'none installed'}, a path to an export or a URL"
    )


def load_path(path):
    """Load the export at `path` (a directory written by `ganzoo.export`)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise GanzooError(f"no such file or directory: {path}")
    if not os.path.isdir(path):
        raise GanzooError(f"{path} is not a ganzoo generator: a file, not a SavedModel "
                          "directory")
    if not any(os.path.isfile(os.path.join(path, f)) for f in ("saved_model.pb",
                                                               "saved_model.pbtxt")):
        raise GanzooError(f"{path} is not a ganzoo generator: no saved_model.pb")
    metadata = read_metadata(path)
    for key in ("latent_dim", "data_shape", "model"):
        if key not in metadata:
            raise GanzooError(f"{path} is not a ganzoo generator: ganzoo.json has no {key!r}")
    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:  # noqa: BLE001 (TensorFlow raises many types for bad files)
        raise GanzooError(f"cannot load the SavedModel {path}: {first_line(e)}") from None
    if SERVING_SIGNATURE not in loaded.signatures:
        raise GanzooError(f"{path} is not a ganzoo generator: no {SERVING_SIGNATURE!r} "
                          "signature")
    specs = loaded.signatures[SERVING_SIGNATURE].structured_input_signature[1]
    z_spec = specs.get("z")
    if z_spec is None or z_spec.shape.as_list() != [None, int(metadata["latent_dim"])]:
        raise GanzooError(f"{path} is not a ganzoo generator: its {SERVING_SIGNATURE!r} "
                          f"signature takes no z of shape [None, {metadata['latent_dim']}]")
    return Generator(path, loaded, metadata)


def _archive_name(url):
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        raise GanzooError(f"cannot load {url}: accepted: a URL of a "
                          f"{', '.join(ARCHIVE_SUFFIXES)} archive of an export")
    return name


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url, sha256, cache_dir=None):
    """Download and unpack the archive at `url` if its SHA-256 is `sha256`.

    Returns the export directory inside the unpacked archive.
    """
    if sha256 is None:
        raise GanzooError(f"loading {url} needs its checksum; accepted: load(url, sha256=HEX)")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise GanzooError(f"bad sha256 {sha256!r}; accepted: 64 hexadecimal digits")
    sha256 = sha256.lower()
    name = _archive_name(url)
    subdir = os.path.join("ganzoo", sha256)
    if cache_dir is not None:
        # get_file falls back to /tmp/.keras when the cache directory is missing.
        try:
            os.makedirs(os.path.expanduser(cache_dir), exist_ok=True)
        except OSError as e:
            raise GanzooError(f"cannot use cache_dir {cache_dir}: {os_reason(e)}") from None
    try:
        extracted = keras.utils.get_file(
            fname=name, origin=url, file_hash=sha256, hash_algorithm="sha256", extract=True,
            cache_dir=cache_dir, cache_subdir=subdir,
        )
    except ValueError as e:
        if "hash" not in str(e):
            raise GanzooError(f"cannot download {url}: {first_line(e)}") from None
        raise GanzooError(
            f"checksum mismatch for {url}: sha256 {_discard(name, subdir, cache_dir)}, "
            f"expected {sha256}; refused"
        ) from None
    except Exception as e:  # noqa: BLE001 (get_file raises bare Exceptions for URL errors)
        raise GanzooError(f"cannot download {url}: {first_line(e)}") from None
    return _find_export(extracted, url)


def _discard(name, subdir, cache_dir):
    """Delete the rejected download; its sha256 (or "unknown")."""
    base = os.path.expanduser(cache_dir) if cache_dir else keras.config.keras_home()
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    path = os.path.join(base, subdir, name)
    if not os.path.isfile(path):
        return "unknown"
    actual = _file_sha256(path)
    os.remove(path)
    return actual


def _find_export(root, url):
    found = [d for d, _, files in os.walk(root) if "saved_model.pb" in files]
    if len(found) != 1:
        what = "no SavedModel" if not found else f"{len(found)} SavedModels"
        raise GanzooError(f"{url} is not a ganzoo generator: the archive holds {what}; "
                          "accepted: an archive of one export")
    return found[0]
