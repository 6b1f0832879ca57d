"""`load` and `load_numpy`: a registered source's examples as tf.data or numpy.

Whatever the source, elements are ``(x, y)`` when it has labels and ``x``
alone otherwise: ``x`` is float32, images (H, W, C) in [-1, 1], points (D,)
raw; ``y`` is an int32 scalar.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from ganzoo.checks import positive_int
from ganzoo.data import pixels, registry
from ganzoo.data.registry import DatasetInfo, Examples, Request
from ganzoo.errors import GanzooError, check_choice

ON_CORRUPT = ("skip", "error")
SHUFFLE_BUFFER = 10_000


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
    In-memory sources are held as one array already; `cache=True` keeps a
    streaming (TFDS) source's decoded examples in memory: pass False for big ones.
    """
    positive_int.or_none().check("batch_size", batch_size)
    read = _read(name, split, data_dir, image_size, on_corrupt, shuffle=shuffle, seed=seed)
    if isinstance(read, Examples):
        ds, info = _from_examples(read, name, split)
    else:
        ds, info = read.dataset, read.info
        if cache:
            ds = ds.cache()
    if shuffle:
        buffer = max(1, min(info.num_examples, SHUFFLE_BUFFER))
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
    positive_int.or_none().check("max_examples", max_examples)
    read = _read(name, split, data_dir, image_size, on_corrupt, shuffle=False, seed=0)
    if isinstance(read, Examples):
        x, y, info = read.x, read.y, _info(read, name, split)
        if max_examples is not None:
            x = x[:max_examples]
            y = None if y is None else y[:max_examples]
    else:
        ds, info = read.dataset, read.info
        if max_examples is not None:
            ds = ds.take(max_examples)
        x, y = _materialise(ds, info)
    return x, y, dataclasses.replace(info, num_examples=len(x))


def _read(name, split, data_dir, image_size, on_corrupt, *, shuffle, seed):
    """Ask the source for `split` of `name`: `Examples` (checked, resized) or a `Stream`."""
    check_choice("on_corrupt", on_corrupt, ON_CORRUPT)
    source, path = registry.resolve(name)
    size = pixels.image_size(image_size)
    if source.splits is not None and split not in source.splits:
        raise GanzooError(
            f"unknown split for {name}: {split!r}; accepted: {', '.join(source.splits)}"
        )
    request = Request(
        name=name, path=path, split=split, data_dir=data_dir, image_size=size,
        on_corrupt=on_corrupt, shuffle=shuffle, seed=seed,
    )
    read = source.read(request)
    if not isinstance(read, Examples):
        return read
    x, y = read.x, read.y
    if y is not None:
        y = np.asarray(y).astype(np.int32)
    if size is not None:
        if x.ndim == 2:
            raise GanzooError(
                f"image_size applies to images only; {name} holds {x.shape[1]}-D points"
            )
        if tuple(x.shape[1:3]) != size:
            x = np.asarray(pixels.resize(x, size))
    return Examples(x, y, read.class_names)


def _info(examples, name, split):
    """The `DatasetInfo` of checked `examples`."""
    x, y, names = examples.x, examples.y, examples.class_names
    if y is None:
        names = ()
    elif names is None:
        names = tuple(str(i) for i in range(int(y.max()) + 1))
    return DatasetInfo(
        name=name,
        kind="points" if x.ndim == 2 else "image",
        shape=tuple(x.shape[1:]),
        num_classes=len(names),
        class_names=tuple(names),
        num_examples=len(x),
        split=split,
    )


def _from_examples(examples, name, split):
    """`(dataset of single examples, info)` from in-memory `examples`."""
    x, y = examples.x, examples.y
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    return ds, _info(examples, name, split)


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
