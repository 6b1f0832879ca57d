"""The source registry: dataset names to the functions that read them.

A source is one function plus one registration:

    @register_source("npz", takes_path=True, splits=("train", "all"))
    def npz_source(request):
        x, y = ...                    # read request.path
        return Examples(x, y)

The name ``digits`` selects the source registered as ``digits``; ``npz:PATH``
selects the path-taking source ``npz`` with ``request.path == PATH``; a name no
source claims goes to the fallback source (TFDS), if one is registered.

A source returns either `Examples` (numpy arrays; the pipeline validates the
labels, slices the split, resizes and builds the `DatasetInfo`) or a `Stream`
(a `tf.data.Dataset` with its info, for sources too big to hold in memory).
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError

_SOURCES = {}  # name -> Source, in registration order


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


@dataclasses.dataclass(frozen=True)
class Request:
    """What a source is asked for."""

    name: str  # the dataset name as given: "digits", "npz:/data/x.npz", "mnist"
    path: str | None  # the PATH of a path-taking source, else None
    # A base split name ("train") for sources that list their splits: the pipeline
    # slices the `Examples` they return. For sources that take any split, the
    # split as asked, like `split_text`.
    split: str
    # The split as asked, slice included ("train[:10%]"); a source that returns
    # a `Stream` reads this one (TFDS slices it).
    split_text: str = ""
    data_dir: str | None = None
    image_size: tuple | None = None  # (height, width) or None: the source's own size
    on_corrupt: str = "skip"
    shuffle: bool = False  # for streaming sources: shuffle files
    seed: int = 0


@dataclasses.dataclass
class Examples:
    """A whole split in memory.

    `x`: float32 images (N, H, W, C) in [-1, 1] or points (N, D).
    `y`: labels (N,) or None. The pipeline checks them and casts them to int32.
    `class_names`: one per class when the source knows its classes; None
    means the classes are the label values 0..K-1.
    """

    x: np.ndarray
    y: np.ndarray | None = None
    class_names: tuple | None = None


@dataclasses.dataclass
class Stream:
    """A split read lazily: elements `x` or `(x, y)` as `load` yields them."""

    dataset: tf.data.Dataset
    info: DatasetInfo


@dataclasses.dataclass(frozen=True)
class Source:
    """A registered source (see `register_source`)."""

    name: str
    read: Callable[[Request], Examples | Stream]
    takes_path: bool = False
    splits: tuple | None = ("train",)
    bundled: bool = False
    fallback: bool = False
    slices_shuffled: bool = False
    form: str = ""
    presets: dict = dataclasses.field(default_factory=dict)


def register_source(
    name,
    *,
    takes_path=False,
    splits=("train",),
    bundled=False,
    fallback=False,
    slices_shuffled=False,
    form=None,
    presets=None,
):
    """Decorator that registers `function(request) -> Examples | Stream` as `name`.

    Args:
        name: the dataset name (``digits``), or the prefix of ``name:PATH``
            when `takes_path`.
        takes_path: the source reads a file or directory named after the colon.
        splits: the base split names it serves; the pipeline refuses others and
            cuts slices (``train[:90%]``) itself. None: the source takes any
            split string and slices it itself (TFDS).
        bundled: ships with ganzoo and needs no files or network
            (`list_datasets` lists these).
        fallback: reads every name no other source claims (at most one source).
        slices_shuffled: slices index a fixed permutation (seed 0) of the split
            rather than its stored order, for sources whose order is sorted by
            class (image folders), so ``train[90%:]`` is not one class.
        form: how users write it in the list of accepted datasets; defaults to
            ``name`` or ``name:PATH``.
        presets: ``{model: {hyperparameter: value}}``, settings that train that
            model well on this dataset within the default budget; a run with
            ``preset=auto`` (the default) starts from them (see `preset_for`).
    """
    if not isinstance(name, str) or not name or ":" in name or name != name.strip():
        raise ValueError(f"source name must be a non-empty string without ':', got {name!r}")
    if splits is not None:
        splits = tuple(splits)
        if not splits or not all(isinstance(s, str) and s for s in splits):
            raise ValueError(f"source {name!r}: splits must be non-empty split names or None")

    def decorator(function):
        known = _SOURCES.get(name)
        if known is not None and known.read is not function:
            raise ValueError(f"dataset source {name!r} is already registered to {known.read}")
        other = fallback_source()
        if fallback and other is not None and other.name != name:
            raise ValueError(f"{other.name!r} is already the fallback source")
        _SOURCES[name] = Source(
            name=name,
            read=function,
            takes_path=takes_path,
            splits=splits,
            bundled=bundled,
            fallback=fallback,
            slices_shuffled=slices_shuffled,
            form=form or (f"{name}:PATH" if takes_path else name),
            presets={model: dict(values) for model, values in (presets or {}).items()},
        )
        return function

    return decorator


def get_source(name):
    """The source registered as `name`; an unknown name lists the registered ones."""
    if name not in _SOURCES:
        raise GanzooError(f"unknown dataset source {name!r}; accepted: {', '.join(_SOURCES)}")
    return _SOURCES[name]


def fallback_source():
    """The source that reads names no other source claims, or None."""
    return next((s for s in _SOURCES.values() if s.fallback), None)


def resolve(name):
    """`(source, path or None)` for the dataset name `name`."""
    if not isinstance(name, str) or not name.strip():
        raise GanzooError(f"dataset name must be a non-empty string, got {name!r}")
    source = _SOURCES.get(name)
    if source is not None and not source.fallback:
        if source.takes_path:
            raise GanzooError(f"dataset {name!r} needs a path, e.g. {source.form}")
        return source, None
    prefix, colon, path = name.partition(":")
    source = _SOURCES.get(prefix)
    if colon and source is not None and source.takes_path:
        if not path:
            raise GanzooError(f"dataset {name!r} needs a path, e.g. {source.form}")
        return source, path
    source = fallback_source()
    if source is None:
        raise unknown_dataset(name)
    return source, None


def preset_for(dataset, model):
    """The hyperparameters registered for `model` on `dataset` ({} if none)."""
    source, _ = resolve(dataset)
    return dict(source.presets.get(model, {}))


def list_sources():
    """How to name each registered source, in registration order, the fallback last."""
    ordered = sorted(_SOURCES.values(), key=lambda s: s.fallback)  # stable
    return [s.form for s in ordered]


def list_datasets():
    """The names of the bundled datasets: those that need no files or network."""
    return sorted(s.name for s in _SOURCES.values() if s.bundled)


def local_alternatives():
    """Datasets that work offline with nothing to download, as words."""
    return ", ".join(
        [s.form for s in _SOURCES.values() if s.bundled]
        + [s.form for s in _SOURCES.values() if s.takes_path]
    )


def unknown_dataset(name):
    """The error for a name no source can read; it lists the registered sources."""
    return GanzooError(f"unknown dataset {name!r}; accepted: {', '.join(list_sources())}")
