"""The original files of MNIST, Fashion-MNIST, KMNIST, CIFAR-10 and CIFAR-100.

Names ``mnist``, ``fashion_mnist``, ``kmnist``, ``cifar10`` and ``cifar100``;
splits ``train`` and ``test`` (sliceable: ``train[:90%]``). Each split's files
are looked for, in order, in

1. ``data_dir`` (flag ``--data_dir``) itself and its subfolder for the dataset;
2. Keras's cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``);
3. the system data directories `SYSTEM_DATA_DIRS` (Debian's
   ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist``),

and read from the first place that holds them all. When none does, the name
goes to TFDS like any other (a prepared copy in ``data_dir``, or a download);
offline, the error names every place searched and the files expected there.

The files, as their authors distribute them:

* MNIST, Fashion-MNIST, KMNIST: the IDX files ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, raw or ``.gz``, in ``mnist/``,
  ``fashion-mnist/`` or ``kmnist/``; for MNIST also Keras's ``mnist.npz``.
* CIFAR-10: ``cifar-10-python.tar.gz`` or its ``cifar-10-batches-py/``
  (``data_batch_1``..``data_batch_5``, ``test_batch``, ``batches.meta``).
* CIFAR-100: ``cifar-100-python.tar.gz`` or its ``cifar-100-python/``
  (``train``, ``test``, ``meta``); labels are the 100 fine labels.

Keras 3's extraction folders (``cifar-10-batches-py-target/...``) are found too.
The CIFAR pickles are read by an unpickler that builds numpy arrays and nothing
else, so a doctored file cannot run code.
"""

import dataclasses
import gzip
import io
import math
import os
import pickle
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ganzoo.data import pixels, tfds_source
from ganzoo.data.registry import Examples, register_source
from ganzoo.errors import GanzooError, first_line, os_reason

SYSTEM_DATA_DIRS = ("/usr/share/datasets",)
SPLITS = ("train", "test")
_READ_ERRORS = (OSError, EOFError, zlib.error, tarfile.TarError, zipfile.BadZipFile, ValueError)


def keras_datasets_dir():
    """Where Keras caches datasets: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets"


def _roots(data_dir):
    """`(directory, is_data_dir)` for each place files may be, in search order."""
    roots = [(Path(data_dir).expanduser(), True)] if data_dir else []
    roots.append((keras_datasets_dir(), False))
    return roots + [(Path(d), False) for d in SYSTEM_DATA_DIRS]


def _not_found(request, searched, files):
    """Read `request` from TFDS, which names the places searched when offline."""
    data_dir = "" if request.data_dir else " (no --data_dir given)"
    search = f"searched {', '.join(map(str, searched))}{data_dir} for {' and '.join(files)}"
    request = dataclasses.replace(request, split=request.split_text or request.split)
    return tfds_source.read(request, local_search=search)


# --- MNIST, Fashion-MNIST, KMNIST: IDX files ---------------------------------------

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DATASETS = {  # name: (folder, class names)
    "mnist": ("mnist", tuple("0123456789")),
    "fashion_mnist": (
        "fashion-mnist",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "kmnist": ("kmnist", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}
_KERAS_MNIST = "mnist.npz"


def _idx_file(directory, stem):
    """`directory/stem` or `directory/stem.gz`, whichever exists (raw first), else None."""
    for file in (directory / stem, directory / f"{stem}.gz"):
        if file.is_file():
            return file
    return None


def read_idx(path, ndim, name):
    """The uint8 array of an IDX file (raw or gzipped) with `ndim` dimensions."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except OSError as err:  # gzip.BadGzipFile included
        raise GanzooError(f"{name}: cannot read {path}: {os_reason(err)}") from None
    except (EOFError, zlib.error) as err:
        raise GanzooError(f"{name}: cannot read {path}: {first_line(err)}") from None
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:3] != b"\0\0\x08" or raw[3] != ndim:
        raise GanzooError(
            f"{name}: {path} is not an IDX file of {ndim}-D unsigned bytes"
            f" (magic {raw[:4].hex() or 'missing'}, expected 000008{ndim:02x})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    if len(raw) - header != math.prod(shape):
        raise GanzooError(
            f"{name}: {path} is truncated or padded: {len(raw) - header} bytes of data"
            f" for shape {shape}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _read_keras_mnist(path, split, name):
    """`(images, labels)` of `split` from Keras's ``mnist.npz``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return data[f"x_{split}"], data[f"y_{split}"]
    except (KeyError, *_READ_ERRORS) as err:
        raise GanzooError(f"{name}: cannot read {path}: {first_line(err)}") from None


def _idx_source(request):
    """MNIST-format IDX files, found per `originals`' search order."""
    name, split = request.name, request.split
    folder, class_names = _IDX_DATASETS[name]
    stems = IDX_FILES[split]
    searched = []
    for root, is_data_dir in _roots(request.data_dir):
        for directory in ([root] if is_data_dir else []) + [root / folder]:
            searched.append(directory)
            images, labels = (_idx_file(directory, stem) for stem in stems)
            if images and labels:
                x, y = read_idx(images, 3, name), read_idx(labels, 1, name)
                if len(x) != len(y):
                    raise GanzooError(
                        f"{name}: {images} holds {len(x)} images but {labels} {len(y)} labels"
                    )
                return Examples(pixels.from_uint8(x[..., None]), y, class_names)
        if name == "mnist" and (root / _KERAS_MNIST).is_file():
            x, y = _read_keras_mnist(root / _KERAS_MNIST, split, name)
            if x.dtype != np.uint8 or x.ndim != 3 or y.shape != (len(x),):
                raise GanzooError(
                    f"{name}: {root / _KERAS_MNIST} holds x_{split} {x.dtype} {x.shape} and"
                    f" y_{split} {y.shape}; expected uint8 (N, 28, 28) images and (N,) labels"
                )
            return Examples(pixels.from_uint8(x[..., None]), y, class_names)
    files = [f"{stem}[.gz]" for stem in stems]
    if name == "mnist":
        files[-1] += f" (or Keras's {_KERAS_MNIST})"
    return _not_found(request, searched, files)


for _name in _IDX_DATASETS:
    register_source(_name, splits=SPLITS)(_idx_source)


# --- CIFAR-10 and CIFAR-100: pickled python batches -----------------------------


@dataclasses.dataclass(frozen=True)
class _Cifar:
    folder: str  # the archive's top folder
    archive: str
    members: dict  # split: files in the folder
    label_key: str
    meta: str
    names_key: str
    class_names: tuple  # when the meta file is missing


_CIFAR = {
    "cifar10": _Cifar(
        folder="cifar-10-batches-py",
        archive="cifar-10-python.tar.gz",
        members={"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
        label_key="labels",
        meta="batches.meta",
        names_key="label_names",
        class_names=("airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"),
    ),
    "cifar100": _Cifar(
        folder="cifar-100-python",
        archive="cifar-100-python.tar.gz",
        members={"train": ("train",), "test": ("test",)},
        label_key="fine_labels",
        meta="meta",
        names_key="fine_label_names",
        class_names=tuple(str(i) for i in range(100)),
    ),
}

# What a pickled numpy array needs, under numpy 1 and 2 names; nothing else loads.
_RECONSTRUCT = np.ndarray(0).__reduce__()[0]
_FROMBUFFER = np.arange(1).__reduce_ex__(5)[0]
_PICKLE_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays only."""

    def find_class(self, module, name):
        if (module, name) in _PICKLE_GLOBALS:
            return _PICKLE_GLOBALS[module, name]
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _unpickle(blob, where, name):
    """The dict a CIFAR pickle holds, with str keys."""
    try:
        # encoding="bytes": the originals were pickled by Python 2.
        content = _ArrayUnpickler(io.BytesIO(blob), encoding="bytes").load()
    except Exception as err:  # noqa: BLE001 - a broken pickle fails in many ways
        raise GanzooError(
            f"{name}: {where} is not a CIFAR python pickle: {first_line(err)}"
        ) from None
    if not isinstance(content, dict):
        raise GanzooError(f"{name}: {where} holds a {type(content).__name__}, not a CIFAR dict")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in content.items()}


def _cifar_batch(blob, where, spec, name):
    """`(images uint8 (N, 32, 32, 3), labels)` of one pickled batch."""
    batch = _unpickle(blob, where, name)
    data, labels = batch.get("data"), batch.get(spec.label_key)
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3 * 32 * 32
        or labels is None
        or len(labels) != len(data)
    ):
        shape = getattr(data, "shape", None)
        raise GanzooError(
            f"{name}: {where} is not a CIFAR batch: expected 'data' uint8 (N, 3072) and"
            f" {len(data) if shape else 'N'} '{spec.label_key}', found data {shape} and"
            f" {'no' if labels is None else len(labels)} labels"
        )
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(labels)


def _class_names(blob, where, spec, name):
    if blob is None:
        return spec.class_names
    names = _unpickle(blob, where, name).get(spec.names_key)
    if not isinstance(names, list) or len(names) != len(spec.class_names):
        raise GanzooError(
            f"{name}: {where} has no list of {len(spec.class_names)} '{spec.names_key}'"
        )
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names)


def _read_members(location, spec, wanted, name):
    """{member: bytes} of the files `wanted` (and the meta file, when present)."""
    if location.is_dir():
        try:
            blobs = {m: (location / m).read_bytes() for m in wanted}
            meta = location / spec.meta
            blobs[spec.meta] = meta.read_bytes() if meta.is_file() else None
        except OSError as err:
            raise GanzooError(f"{name}: cannot read {err.filename}: {os_reason(err)}") from None
        return blobs
    paths = {f"{spec.folder}/{m}": m for m in (*wanted, spec.meta)}
    blobs = {}
    try:
        with tarfile.open(location, "r:gz") as tar:
            for member in tar:
                key = paths.get(member.name.removeprefix("./"))
                if key and member.isfile():
                    blobs[key] = tar.extractfile(member).read()
                    if len(blobs) == len(paths):
                        break
    except _READ_ERRORS as err:
        raise GanzooError(f"{name}: cannot read {location}: {first_line(err)}") from None
    blobs.setdefault(spec.meta, None)
    missing = [m for m in wanted if m not in blobs]
    if missing:
        raise GanzooError(
            f"{name}: {location} lacks {spec.folder}/{', '.join(missing)};"
            f" accepted: the original {spec.archive}"
        )
    return blobs


def _cifar_source(request):
    """CIFAR python batches, extracted or in their archive."""
    name, split = request.name, request.split
    spec = _CIFAR[name]
    wanted = spec.members[split]
    searched = []
    for root, is_data_dir in _roots(request.data_dir):
        searched.append(root)
        folders = [root / spec.folder, root / f"{spec.folder}-target" / spec.folder]
        for location in ([root] if is_data_dir else []) + folders + [root / spec.archive]:
            found = location.is_file() or (
                location.is_dir() and all((location / m).is_file() for m in wanted)
            )
            if not found:
                continue
            blobs = _read_members(location, spec, wanted, name)
            batches = [_cifar_batch(blobs[m], location / m, spec, name) for m in wanted]
            names = _class_names(blobs[spec.meta], location / spec.meta, spec, name)
            x = np.concatenate([b[0] for b in batches])
            y = np.concatenate([b[1] for b in batches])
            return Examples(pixels.from_uint8(x), y, names)
    members = wanted[0] if len(wanted) == 1 else f"{wanted[0]}..{wanted[-1]}"
    return _not_found(request, searched, [f"{spec.archive} or {spec.folder}/{members}"])


for _name in _CIFAR:
    register_source(_name, splits=SPLITS)(_cifar_source)
