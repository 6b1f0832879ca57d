"""`load` and `load_numpy`: a registered source's examples as tf.data or numpy.

Whatever the source, elements are ``(x, y)`` when it has labels and ``x``
alone otherwise: ``x`` is float32, images (H, W, C) in [-1, 1], points (D,)
raw; ``y`` is an int32 scalar.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from ganzoo.checks import positive_int
from ganzoo.data import labels, pixels, registry, splits
from ganzoo.data.registry import DatasetInfo, Examples, Request, Stream
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
    num_classes=None,
):
    """Load dataset `name` as a `tf.data.Dataset`; returns `(dataset, info)`.

    Pipeline: cache -> shuffle (buffer min(N, 10000), reshuffled each epoch)
    -> repeat -> batch -> prefetch. Deterministic for a given `seed`.
    In-memory sources are held as one array already; `cache=True` keeps a
    streaming (TFDS) source's decoded examples in memory: pass False for big ones.

    Labels are checked before anything is built (`ganzoo.data.labels`); pass
    `num_classes=N` for labels that are sparse on purpose: they must then lie
    in [0, N) and `info.num_classes == N`.
    """
    positive_int.or_none().check("batch_size", batch_size)
    read = _read(
        name, split, data_dir, image_size, on_corrupt, num_classes, shuffle=shuffle, seed=seed
    )
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
    num_classes=None,
):
    """Load dataset `name` as arrays; returns `(x, y or None, info)`.

    Same scaling and label checks as `load`, in the source's fixed order (no
    shuffling). At most `max_examples` examples are returned;
    `info.num_examples` counts them (`info.num_classes` counts the classes of
    the whole split).
    """
    positive_int.or_none().check("max_examples", max_examples)
    read = _read(
        name, split, data_dir, image_size, on_corrupt, num_classes, shuffle=False, seed=0,
        limit=max_examples,
    )
    if isinstance(read, Examples):
        x, y, info = read.x, read.y, _info(read, name, split)
    else:
        ds, info = read.dataset, read.info
        if max_examples is not None:
            ds = ds.take(max_examples)
        x, y = _materialise(ds, info)
    return x, y, dataclasses.replace(info, num_examples=len(x))


def _read(name, split, data_dir, image_size, on_corrupt, num_classes, *, shuffle, seed,
          limit=None):
    """Ask the source for `split` of `name`: `Examples` (checked, sliced, cut to `limit`
    examples, resized) or a `Stream`."""
    check_choice("on_corrupt", on_corrupt, ON_CORRUPT)
    labels.num_classes_rule.check("num_classes", num_classes)
    source, path = registry.resolve(name)
    size = pixels.image_size(image_size)
    part = None if source.splits is None else splits.parse(split, name, source.splits)
    request = Request(
        name=name, path=path, split=split if part is None else part.base, split_text=split,
        data_dir=data_dir, image_size=size, on_corrupt=on_corrupt, shuffle=shuffle, seed=seed,
    )
    read = source.read(request)
    if not isinstance(read, Examples):
        names = labels.declared(name, read.info.class_names, num_classes)
        info = dataclasses.replace(read.info, num_classes=len(names), class_names=names)
        return Stream(read.dataset, info)
    x, y, names = np.asarray(read.x, np.float32), read.y, ()
    if x.ndim not in (2, 4) or not len(x):
        raise GanzooError(
            f"{name}: its source returned x of shape {x.shape}; expected (N, D) points or"
            " (N, H, W, C) images, N > 0"
        )
    if y is None:
        labels.declared(name, (), num_classes)  # refuses num_classes for unlabelled data
    else:
        if np.shape(y) != (len(x),):
            raise GanzooError(
                f"{name}: labels must have shape ({len(x)},), one per example,"
                f" got {np.shape(y)}"
            )
        # Before any TensorFlow work: a label may not ask for a huge class table.
        # The whole base split is checked, so every slice of it has the same classes.
        y, names = labels.checked(name, y, read.class_names, num_classes)
    if part.sliced:
        start, stop = part.bounds(len(x), name)
        chosen = slice(start, stop)
        if source.slices_shuffled:
            chosen = np.random.RandomState(0).permutation(len(x))[chosen]
        x = x[chosen]
        y = None if y is None else y[chosen]
    if limit is not None:  # before resizing: only what is returned gets resized
        x = x[:limit]
        y = None if y is None else y[:limit]
    if size is not None:
        if x.ndim == 2:
            raise GanzooError(
                f"image_size applies to images only; {name} holds {x.shape[1]}-D points"
            )
        if tuple(x.shape[1:3]) != size:
            pixels.check_fits(name, len(x), size, x.shape[-1])
            x = np.asarray(pixels.resize(x, size))
    return Examples(x, y, names)


def _info(examples, name, split):
    """The `DatasetInfo` of checked `examples` (their `class_names` final)."""
    x, names = examples.x, examples.class_names
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
