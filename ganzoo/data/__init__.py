"""Datasets for ganzoo: bundled toy data, the user's files and TFDS.

`load(name, ...)` returns a `tf.data.Dataset` and a `DatasetInfo`;
`load_numpy(name, ...)` returns the same examples as numpy arrays (for metrics
and tests). Accepted names, one registered source each (`list_sources()`):

* ``digits``, ``ring8``, ``grid25``: bundled (`builtin`).
* ``folder:PATH``, ``npz:PATH``: the user's image folders and arrays (`files`).
* ``mnist``, ``fashion_mnist``, ``kmnist``, ``cifar10``, ``cifar100``: their
  original files, found in ``data_dir``, Keras's cache or /usr/share/datasets
  (`originals.SYSTEM_DATA_DIRS`), else from TFDS.
* any other name: a TFDS image dataset (``svhn_cropped``, ...), read from
  ``data_dir`` and downloaded there when missing and the network is reachable
  (`tfds_source`).

Labels must be able to be classes (`labels`): integers >= 0, no more classes
than examples nor than `MAX_CLASSES`; `num_classes=N` declares sparse ones.

Splits of every source may be sliced as in TFDS (`splits`): ``train[:90%]``,
``train[90%:]``, ``train[:1000]``, ``test[10%:20%]``.

Elements are ``(x, y)`` when the source has labels and ``x`` alone otherwise:
``x`` is float32, images (H, W, C) scaled to [-1, 1], points (D,) raw; ``y`` is
an int32 scalar.

A new source is one function and one registration (see `registry`)::

    @register_source("h5", takes_path=True)
    def h5(request):
        return Examples(x, y)     # read from request.path
"""

# Importing the source modules registers them; their order is the order the
# accepted datasets are listed in.
from ganzoo.data import builtin, files, originals, tfds_source  # noqa: F401
from ganzoo.data.builtin import mixture_spec
from ganzoo.data.files import IMAGE_EXTENSIONS
from ganzoo.data.labels import MAX_CLASSES
from ganzoo.data.pipeline import ON_CORRUPT, load, load_numpy
from ganzoo.data.registry import (
    DatasetInfo,
    Examples,
    Request,
    Stream,
    get_source,
    list_datasets,
    list_sources,
    preset_for,
    register_source,
)

BUILTIN_DATASETS = tuple(list_datasets())
DATASET_FORMS = tuple(form for form in list_sources() if form not in BUILTIN_DATASETS)

__all__ = [
    "BUILTIN_DATASETS",
    "DATASET_FORMS",
    "IMAGE_EXTENSIONS",
    "MAX_CLASSES",
    "ON_CORRUPT",
    "DatasetInfo",
    "Examples",
    "Request",
    "Stream",
    "get_source",
    "list_datasets",
    "list_sources",
    "load",
    "load_numpy",
    "mixture_spec",
    "preset_for",
    "register_source",
]
