"""Datasets for ganzoo: built-in toy data, image folders, .npz files and TFDS.

`load(name, ...)` returns a `tf.data.Dataset` and a `DatasetInfo`;
`load_numpy(name, ...)` returns the same examples as numpy arrays (for metrics
and tests). Accepted names:

* ``digits`` (default): scikit-learn's bundled 8x8 digits, 1,797 images,
  10 labels. Splits: a fixed permutation (seed 0); ``train`` = first 80 %
  (1,437), ``test`` = the other 360, ``all`` = everything.
* ``ring8``: 8 Gaussians on a circle of radius 2, std 0.02 (VEEGAN).
  ``grid25``: 25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN).
  ``train`` = 100,000 points (numpy seed 0), ``test`` = 10,000 points
  (seed 1); every mode gets exactly the same number of points, in shuffled
  order. Labels are mode indices; see `mixture_spec`.
* ``folder:PATH``: png/jpg/jpeg/bmp/gif images, either in class subfolders
  (sorted subfolder names -> labels 0..K-1) or directly in PATH (no labels).
  Splits ``train`` and ``all`` both mean every image (no held-out split).
* ``npz:PATH``: an .npz with array ``x`` ((N, H, W[, C]) images or (N, D)
  points) and optionally integer labels ``y``. Splits ``train`` / ``all``.
* any other name: a TFDS image dataset (``mnist``, ``cifar10``, ...), read from
  ``data_dir`` and downloaded there when missing and the network is reachable.
  Any TFDS split string works (``train``, ``test[:10%]``, ...).

Elements are ``(x, y)`` when the source has labels and ``x`` alone otherwise:
``x`` is float32, images (H, W, C) scaled to [-1, 1], points (D,) raw; ``y`` is
an int32 scalar. Integer pixels are scaled from [0, 255]; float pixels from
[0, 1] when none is negative, else taken as already in [-1, 1].
"""

import dataclasses
import logging
import socket
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError, check_choice

logger = logging.getLogger(__name__)

BUILTIN_DATASETS = ("digits", "grid25", "ring8")
DATASET_FORMS = ("folder:PATH", "npz:PATH", "<TFDS image dataset, e.g. mnist>")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
ON_CORRUPT = ("skip", "error")
_FILE_SPLITS = ("train", "all")
_MIXTURE_SIZES = {"train": (100_000, 0), "test": (10_000, 1)}  # split: (N, seed)
_NPZ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)
_LOCAL_ALTERNATIVES = ", ".join(BUILTIN_DATASETS + DATASET_FORMS[:2])
_PROBE_TIMEOUT_S = 3.0


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a loaded dataset holds."""

    name: str  # canonical name, e.g. "digits", "folder:/x", "mnist"
    kind: str  # "image" or "points"
    shape: tuple  # per-example shape: (H, W, C) or (D,)
    num_classes: int  # 0 when unlabelled
    class_names: tuple  # () when unlabelled
    num_examples: int  # in the requested split
    split: str


def list_datasets():
    """The built-in dataset names (see the module docstring for other forms)."""
    return list(BUILTIN_DATASETS)


def mixture_spec(name):
    """`(centers [K, 2], std)` of the Gaussian mixture `ring8` or `grid25`."""
    check_choice("mixture dataset", name, ["grid25", "ring8"])
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.02
    ticks = np.arange(-4.0, 5.0, 2.0)
    return np.array([(a, b) for a in ticks for b in ticks]), 0.05


def load(
    name,
    split="train",
    *,
    batch_size=None,
    shuffle=True,
    repeat=False,
    seed=0,
    data_dir=None,
    image_size=None,
    drop_remainder=False,
    on_corrupt="skip",
    cache=True,
):
    """Load dataset `name` as a `tf.data.Dataset`; returns `(dataset, info)`.

    Pipeline: cache -> shuffle (buffer min(N, 10000), reshuffled each epoch)
    -> repeat -> batch -> prefetch. Deterministic for a given `seed`.
    `cache=True` keeps decoded examples in memory: pass False for big TFDS sets.
    """
    _check_positive("batch_size", batch_size)
    check_choice("on_corrupt", on_corrupt, ON_CORRUPT)
    source, arg = _parse_name(name)
    size = _image_size(image_size)
    if source == "tfds":
        ds, info = _tfds_dataset(arg, split, data_dir, size, shuffle, seed)
    else:
        x, y, info = _load_arrays(source, arg, split, size, on_corrupt)
        ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        buffer = max(1, min(info.num_examples, 10_000))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if batch_size is not None:
        ds = ds.batch(int(batch_size), drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE), info


def load_numpy(
    name,
    split="train",
    *,
    data_dir=None,
    image_size=None,
    max_examples=None,
    on_corrupt="skip",
):
    """Load dataset `name` as arrays; returns `(x, y or None, info)`.

    Same scaling as `load`, in the source's fixed order (no shuffling). At most
    `max_examples` examples are returned; `info.num_examples` counts them.
    """
    _check_positive("max_examples", max_examples)
    check_choice("on_corrupt", on_corrupt, ON_CORRUPT)
    source, arg = _parse_name(name)
    size = _image_size(image_size)
    if source == "tfds":
        ds, info = _tfds_dataset(arg, split, data_dir, size, shuffle=False, seed=0)
        if max_examples is not None:
            ds = ds.take(max_examples)
        x, y = _materialise(ds, info)
    else:
        x, y, info = _load_arrays(source, arg, split, size, on_corrupt)
        if max_examples is not None:
            x = x[:max_examples]
            y = None if y is None else y[:max_examples]
    return x, y, dataclasses.replace(info, num_examples=len(x))


# --- names and options --------------------------------------------------------


def _parse_name(name):
    """Split a dataset name into `(source, argument)`."""
    if not isinstance(name, str) or not name.strip():
        raise GanzooError(f"dataset name must be a non-empty string, got {name!r}")
    if name in BUILTIN_DATASETS:
        return name, None
    for source in ("folder", "npz"):
        if name.startswith(source + ":"):
            path = name[len(source) + 1 :]
            if not path:
                raise GanzooError(f"dataset {name!r} needs a path, e.g. {source}:PATH")
            return source, path
    return "tfds", name


def _image_size(image_size):
    """Normalise `image_size` (int, "H", "HxW" or (H, W)) to `(H, W)` or None."""
    if image_size is None:
        return None
    value = image_size
    if isinstance(value, str):
        value = value.lower().replace("x", ",").split(",")
    if not isinstance(value, (list, tuple)):
        value = (value, value)
    try:
        size = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) <= 0:
        raise GanzooError(
            f"image_size must be a positive int or (height, width), got {image_size!r}"
        )
    return size


def _check_positive(flag, value):
    """Raise unless `value` is None or a positive integer."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise GanzooError(f"{flag} must be a positive integer, got {value!r}")


def _check_split(name, split, accepted):
    check_choice(f"split for {name}:", split, accepted)


def _unknown_dataset(name):
    return GanzooError(
        f"unknown dataset {name!r}; accepted: {', '.join(BUILTIN_DATASETS)}, "
        f"{', '.join(DATASET_FORMS)}"
    )


# --- in-memory sources --------------------------------------------------------


def _load_arrays(source, arg, split, size, on_corrupt):
    """Load an in-memory source as `(x, y or None, info)`, resized to `size`."""
    if source == "digits":
        x, y, info = _digits(split)
    elif source in ("ring8", "grid25"):
        x, y, info = _mixture(source, split)
    elif source == "folder":
        x, y, info = _folder(arg, split, size, on_corrupt)
    else:
        x, y, info = _npz(arg, split)
    if size is not None:
        if info.kind == "points":
            raise GanzooError(
                f"image_size applies to images only; {info.name} holds {info.shape[0]}-D points"
            )
        if tuple(x.shape[1:3]) != size:
            x = np.asarray(_resize(x, size))
            info = dataclasses.replace(info, shape=x.shape[1:])
    return x, y, info


def _digits(split):
    """scikit-learn's 8x8 digits scaled from [0, 16] to [-1, 1]."""
    from sklearn.datasets import load_digits

    _check_split("digits", split, ("train", "test", "all"))
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = digits.target.astype(np.int32)
    order = np.random.RandomState(0).permutation(len(x))
    n_train = int(0.8 * len(x))
    order = {"train": order[:n_train], "test": order[n_train:], "all": order}[split]
    info = DatasetInfo(
        name="digits",
        kind="image",
        shape=(8, 8, 1),
        num_classes=10,
        class_names=tuple(str(i) for i in range(10)),
        num_examples=len(order),
        split=split,
    )
    return x[order], y[order], info


def _mixture(name, split):
    """Points of a 2-D Gaussian mixture, equally many per mode, shuffled."""
    _check_split(name, split, tuple(_MIXTURE_SIZES))
    centers, std = mixture_spec(name)
    n, seed = _MIXTURE_SIZES[split]
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(centers)).astype(np.int32)
    x = (centers[y] + std * rng.standard_normal((n, 2))).astype(np.float32)
    info = DatasetInfo(
        name=name,
        kind="points",
        shape=(2,),
        num_classes=len(centers),
        class_names=tuple(f"mode{i}" for i in range(len(centers))),
        num_examples=n,
        split=split,
    )
    return x, y, info


def _folder(path, split, size, on_corrupt):
    """Images in class subfolders (labelled) or directly in `path` (unlabelled)."""
    name = f"folder:{path}"
    _check_split(name, split, _FILE_SPLITS)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise GanzooError(f"{name}: no such directory")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and _image_files(d))
    if classes:
        loose = [p for p in root.iterdir() if _is_image(p)]
        if loose:
            logger.warning("%s: ignoring %d image(s) outside the class subfolders", name, len(loose))
        files = [(f, label) for label, c in enumerate(classes) for f in _image_files(root / c)]
    else:
        files = [(f, None) for f in sorted(p for p in root.iterdir() if _is_image(p))]
    if not files:
        raise GanzooError(
            f"{name}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found"
            " directly inside it or in class subfolders"
        )

    images, labels, corrupt = [], [], []
    for file, label in files:
        try:
            image = tf.io.decode_image(file.read_bytes(), expand_animations=False).numpy()
        except (OSError, tf.errors.OpError) as err:
            if on_corrupt == "error":
                raise GanzooError(
                    f"{name}: cannot decode image {file}: {_first_line(err)}"
                    " (pass on_corrupt='skip' to skip unreadable files)"
                ) from None
            corrupt.append(file)
            continue
        images.append(image[..., :1] if image.shape[-1] < 3 else image[..., :3])
        labels.append(label)
    if corrupt:
        logger.warning(
            "%s: skipped %d unreadable image file(s), e.g. %s",
            name, len(corrupt), ", ".join(str(f) for f in corrupt[:3]),
        )
    if not images:
        raise GanzooError(f"{name}: none of its {len(files)} image files could be decoded")

    channels = 3 if any(im.shape[-1] == 3 for im in images) else 1
    sizes = sorted({im.shape[:2] for im in images})
    if size is None and len(sizes) > 1:
        shown = ", ".join(f"{h}x{w}" for h, w in sizes[:5]) + (", ..." if len(sizes) > 5 else "")
        raise GanzooError(
            f"{name}: images have different sizes ({shown}); pass image_size"
            " (flag --image_size) to resize them all"
        )
    target = size or sizes[0]
    x = np.stack([_folder_image(im, channels, target) for im in images])
    y = None if not classes else np.asarray(labels, np.int32)
    info = DatasetInfo(
        name=name,
        kind="image",
        shape=x.shape[1:],
        num_classes=len(classes),
        class_names=tuple(classes),
        num_examples=len(x),
        split=split,
    )
    return x, y, info


def _folder_image(image, channels, size):
    """One decoded uint8 image as float32 [-1, 1] with `channels` and `size`."""
    if image.shape[-1] != channels:
        image = np.repeat(image, channels, axis=-1)
    x = image.astype(np.float32) / 127.5 - 1.0
    if x.shape[:2] != tuple(size):
        x = np.asarray(_resize(x, size))
    return x


def _is_image(path):
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def _image_files(directory):
    return sorted(p for p in directory.rglob("*") if _is_image(p))


def _npz(path, split):
    """Arrays `x` (images or points) and optional labels `y` from an .npz file."""
    name = f"npz:{path}"
    _check_split(name, split, _FILE_SPLITS)
    file = Path(path).expanduser()
    if not file.is_file():
        raise GanzooError(f"{name}: no such file")
    try:
        data = np.load(file, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise GanzooError(f"{name}: not an .npz archive (a single .npy array?)")
        with data:
            if "x" not in data.files:
                found = ", ".join(data.files) or "nothing"
                raise GanzooError(f"{name}: no array 'x' in the file (found: {found})")
            x = data["x"]
            y = data["y"] if "y" in data.files else None
    except GanzooError:
        raise
    except _NPZ_ERRORS as err:  # np.load's ways of saying "not a usable npz"
        raise GanzooError(f"{name}: not a readable .npz file ({_first_line(err)})") from None

    if x.dtype.kind not in "uif" or len(x) == 0:
        raise GanzooError(f"{name}: 'x' must be a non-empty numeric array, got {x.dtype} {x.shape}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 2:
        kind = "points"
        x = x.astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise GanzooError(f"{name}: 'x' contains NaN or infinite values")
    elif x.ndim == 4 and x.shape[-1] in (1, 3):
        kind = "image"
        x = _npz_pixels(name, x)
    else:
        raise GanzooError(
            f"{name}: 'x' has shape {x.shape}; expected (N, D) points or"
            " (N, H, W) / (N, H, W, C) images with C = 1 or 3 (channels last)"
        )
    num_classes = 0
    if y is not None:
        if y.dtype.kind not in "ui" or y.shape != (len(x),):
            raise GanzooError(
                f"{name}: 'y' must be integer labels of shape ({len(x)},),"
                f" got {y.dtype} {y.shape}"
            )
        if y.min() < 0:
            raise GanzooError(f"{name}: 'y' has negative labels (min {y.min()})")
        y = y.astype(np.int32)
        num_classes = int(y.max()) + 1
    info = DatasetInfo(
        name=name,
        kind=kind,
        shape=x.shape[1:],
        num_classes=num_classes,
        class_names=tuple(str(i) for i in range(num_classes)),
        num_examples=len(x),
        split=split,
    )
    return x, y, info


def _npz_pixels(name, x):
    """Scale npz image pixels to float32 [-1, 1] (see the module docstring)."""
    eps = 1e-3
    if x.dtype.kind in "ui":
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise GanzooError(f"{name}: integer pixels must lie in [0, 255], found [{low}, {high}]")
        return x.astype(np.float32) / 127.5 - 1.0
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise GanzooError(f"{name}: 'x' contains NaN or infinite values")
    low, high = float(x.min()), float(x.max())
    if low >= 0:
        if high > 1 + eps:
            raise GanzooError(
                f"{name}: float pixels must lie in [0, 1] or [-1, 1], found [{low:g}, {high:g}]"
                " (store 0..255 pixels as uint8)"
            )
        x = x * 2.0 - 1.0
    elif low < -1 - eps or high > 1 + eps:
        raise GanzooError(
            f"{name}: float pixels with negatives must lie in [-1, 1], found [{low:g}, {high:g}]"
        )
    return np.clip(x, -1.0, 1.0)


def _resize(images, size):
    """Resize [-1, 1] images (3-D or 4-D) to `size`: bilinear, antialiased, clipped."""
    resized = tf.image.resize(images, size, method="bilinear", antialias=True)
    return tf.clip_by_value(resized, -1.0, 1.0)


# --- TFDS ---------------------------------------------------------------------


def _network_available(hosts=("storage.googleapis.com",), timeout=_PROBE_TIMEOUT_S):
    """Whether a TCP connection to any of `hosts` (port 443) opens within `timeout`."""
    for host in hosts:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            return True
        except OSError:
            continue
    return False


def _download_hosts(builder):
    """Hosts the builder downloads from (when known) plus the TFDS bucket host."""
    urls = type(builder).url_infos or {}
    hosts = {urllib.parse.urlparse(url).hostname for url in urls} - {None}
    return tuple(sorted(hosts))[:3] + ("storage.googleapis.com",)


def _tfds_builder(name, data_dir):
    """The TFDS builder for `name` (not necessarily prepared)."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise _unknown_dataset(name) from None
    except Exception as err:  # noqa: BLE001 - any tfds failure becomes one line
        raise GanzooError(f"cannot open TFDS dataset {name!r}: {_first_line(err)}") from None


def _tfds_prepare(builder, name):
    """Download and prepare `builder` unless done; fail fast when offline."""
    if builder.is_prepared():
        return
    where = builder.data_dir
    if not _network_available(_download_hosts(builder)):
        raise GanzooError(
            f"TFDS dataset {name!r} is not in {where} and the network is unreachable;"
            f" point --data_dir at a directory holding it, or use a local dataset"
            f" ({_LOCAL_ALTERNATIVES})"
        )
    logger.warning("downloading TFDS dataset %r into %s", name, where)
    try:
        builder.download_and_prepare()
    except Exception as err:  # noqa: BLE001 - any tfds failure becomes one line
        raise GanzooError(
            f"could not download TFDS dataset {name!r} into {where}: {_first_line(err)};"
            f" set --data_dir to a prepared copy or use {_LOCAL_ALTERNATIVES}"
        ) from None


def _tfds_dataset(name, split, data_dir, size, shuffle, seed):
    """A streaming TFDS image dataset scaled to [-1, 1], and its info."""
    import tensorflow_datasets as tfds

    builder = _tfds_builder(name, data_dir)
    features = dict(builder.info.features.items())
    image = features.get("image")
    if not isinstance(image, tfds.features.Image):
        raise GanzooError(
            f"TFDS dataset {name!r} has no 'image' feature (features: "
            f"{', '.join(features)}); ganzoo needs an image dataset"
        )
    label = features.get("label")
    if not isinstance(label, tfds.features.ClassLabel):
        label = None
    _tfds_prepare(builder, name)
    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError) as err:
        available = ", ".join(builder.info.splits.keys()) or "none recorded"
        raise GanzooError(
            f"bad split {split!r} for TFDS dataset {name!r} ({_first_line(err)});"
            f" available splits: {available} (slices like 'train[:10%]' work too)"
        ) from None
    height, width, channels = image.shape
    if size is None and (height is None or width is None):
        raise GanzooError(
            f"TFDS dataset {name!r} has images of varying size; pass image_size"
            " (flag --image_size)"
        )
    shape = (*(size or (height, width)), channels)
    dtype = np.dtype(image.np_dtype)
    if dtype.kind not in "ui":
        raise GanzooError(f"TFDS dataset {name!r} has {dtype} images; ganzoo reads integer pixels")
    scale = float(np.iinfo(dtype).max) / 2.0

    def convert(example):
        x = tf.cast(example["image"], tf.float32) / scale - 1.0
        if size is not None:
            x = _resize(x, size)
        x = tf.ensure_shape(x, shape)
        return x if label is None else (x, tf.cast(example["label"], tf.int32))

    ds = builder.as_dataset(
        split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed)
    )
    info = DatasetInfo(
        name=name,
        kind="image",
        shape=shape,
        num_classes=label.num_classes if label else 0,
        class_names=tuple(label.names) if label else (),
        num_examples=num_examples,
        split=split,
    )
    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE), info


def _materialise(ds, info):
    """Collect a (possibly labelled) dataset of single examples into arrays."""
    xs, ys = [], []
    for batch in ds.batch(1024).as_numpy_iterator():
        x, y = batch if info.num_classes else (batch, None)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs) if xs else np.zeros((0, *info.shape), np.float32)
    if not info.num_classes:
        return x, None
    return x, np.concatenate(ys) if ys else np.zeros((0,), np.int32)


def _first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
