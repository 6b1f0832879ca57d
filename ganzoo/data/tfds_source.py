"""TFDS image datasets: the fallback source for names no other source claims.

Read from ``data_dir`` (TFDS's default directory when None) and downloaded
there when missing and the network is reachable; unreachable, loading fails
within seconds with one line instead of TFDS's minutes of retries. Any TFDS
split string works (``train``, ``test[:10%]``, ...).
"""

import logging
import socket
import urllib.parse

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from ganzoo.data import pixels
from ganzoo.data.registry import (
    DatasetInfo,
    Stream,
    local_alternatives,
    register_source,
    unknown_dataset,
)
from ganzoo.errors import GanzooError, first_line

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
_BUCKET_HOST = "storage.googleapis.com"


def network_available(hosts=(_BUCKET_HOST,), timeout=PROBE_TIMEOUT_S):
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
    return tuple(sorted(hosts))[:3] + (_BUCKET_HOST,)


def _builder(name, data_dir):
    """The TFDS builder for `name` (not necessarily prepared)."""
    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise unknown_dataset(name) from None
    except Exception as err:  # noqa: BLE001 - any tfds failure becomes one line
        raise GanzooError(f"cannot open TFDS dataset {name!r}: {first_line(err)}") from None


def _prepare(builder, name, split, local_search):
    """Download and prepare `builder` unless done; fail fast when offline."""
    if builder.is_prepared():
        return
    where = builder.data_dir
    if not network_available(_download_hosts(builder)):
        if local_search:
            raise GanzooError(
                f"{name}: split {split!r} not found offline: {local_search}, and TFDS"
                f" looked in {where}, and the network is unreachable; put the files in one"
                f" of the searched directories (or in --data_dir), or use a local dataset"
                f" ({local_alternatives()})"
            )
        raise GanzooError(
            f"TFDS dataset {name!r} is not in {where} and the network is unreachable;"
            f" point --data_dir at a directory holding it, or use a local dataset"
            f" ({local_alternatives()})"
        )
    logger.warning("downloading TFDS dataset %r into %s", name, where)
    try:
        builder.download_and_prepare()
    except Exception as err:  # noqa: BLE001 - any tfds failure becomes one line
        raise GanzooError(
            f"could not download TFDS dataset {name!r} into {where}: {first_line(err)};"
            f" set --data_dir to a prepared copy or use {local_alternatives()}"
        ) from None


def read(request, local_search=None):
    """A streaming TFDS image dataset scaled to [-1, 1], as a `Stream`.

    `local_search` says where a source that looks for local files first looked
    ("searched DIR, DIR for FILE and FILE"); the offline error repeats it.
    """
    name, split, size = request.name, request.split, request.image_size
    builder = _builder(name, request.data_dir)
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
    _prepare(builder, name, split, local_search)
    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError) as err:
        available = ", ".join(builder.info.splits.keys()) or "none recorded"
        raise GanzooError(
            f"bad split {split!r} for TFDS dataset {name!r} ({first_line(err)});"
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
            x = pixels.resize(x, size)
        x = tf.ensure_shape(x, shape)
        return x if label is None else (x, tf.cast(example["label"], tf.int32))

    ds = builder.as_dataset(
        split=split,
        shuffle_files=request.shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=request.seed),
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
    return Stream(ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE), info)


register_source(
    "tfds", splits=None, fallback=True, form="<TFDS image dataset, e.g. svhn_cropped>"
)(read)
