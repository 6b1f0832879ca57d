"""Labels that can be classes: checked before anything is built from them.

A conditional model sizes its class embedding from `DatasetInfo.num_classes`,
so a stray label of 1,000,000,000 would ask for a billion-row table. Every
labelled source's labels pass `checked` first:

* labels are integers (or integral floats such as 3.0) and >= 0;
* the classes are 0..K-1 with K = largest label + 1, and K may be neither more
  than the number of examples nor more than `MAX_CLASSES`;
* a source that names its classes (``digits``, class subfolders) has exactly
  that many;
* `num_classes=N` declares the classes instead (for labels that are sparse on
  purpose): labels must lie in [0, N) and K = N, however few the examples.
"""

import numpy as np

from ganzoo.checks import Rule, is_int
from ganzoo.errors import GanzooError

MAX_CLASSES = 10_000

num_classes_rule = Rule(
    lambda v: v is None or (is_int(v) and 1 <= v <= MAX_CLASSES),
    f"an integer from 1 to {MAX_CLASSES} (MAX_CLASSES), or None",
)
_SPARSE_HINT = "or num_classes=N (--set num_classes=N) for labels that are sparse on purpose"


def _show(value):
    """A label for a message: 3.0 as 3, others as they print."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_values(name, y):
    """Refuse unless every label is an integral number >= 0."""
    if y.dtype.kind not in "uif":
        raise GanzooError(f"{name}: labels must be integers, got {y.dtype} values")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.floor(y))
        if bad.any():
            raise GanzooError(
                f"{name}: label {_show(y[bad][0])} is not a class number;"
                " accepted: integer labels >= 0 (integral floats such as 3.0 too)"
            )
    if y.size and y.min() < 0:
        raise GanzooError(
            f"{name}: negative label {_show(y.min())}; accepted: labels 0..K-1"
            " (integers >= 0)"
        )


def checked(name, y, class_names=None, num_classes=None):
    """`(labels as int32, class names)` for the labels `y` of dataset `name`.

    `class_names`: the source's names for its classes, or None when the
    classes are the label values. `num_classes`: the caller's declared number
    of classes, or None. Raises `GanzooError` (one line) for labels that cannot
    be classes; see the module docstring.
    """
    num_classes_rule.check("num_classes", num_classes)
    y = np.asarray(y)
    _check_values(name, y)
    n = len(y)
    largest = int(y.max()) if n else -1
    if num_classes is not None:
        if largest >= num_classes:
            raise GanzooError(
                f"{name}: label {largest} is outside 0..{num_classes - 1} (num_classes="
                f"{num_classes}); accepted: labels 0..num_classes-1, or a larger num_classes"
                f" (at most {MAX_CLASSES})"
            )
        names = tuple(class_names or ())[:num_classes]
        names += tuple(str(i) for i in range(len(names), num_classes))
    elif class_names is not None:
        if largest >= len(class_names):
            raise GanzooError(
                f"{name}: label {largest} is outside its {len(class_names)} named classes"
                f" (0..{len(class_names) - 1})"
            )
        names = tuple(class_names)
    else:
        classes = largest + 1
        if classes > n or classes > MAX_CLASSES:
            raise GanzooError(
                f"{name}: largest label {largest} means {classes} classes for {n} examples;"
                f" accepted: labels 0..K-1 with K <= {n} (the number of examples) and"
                f" K <= {MAX_CLASSES}, {_SPARSE_HINT}"
            )
        names = tuple(str(i) for i in range(classes))
    # Every label is now below a class count of at most MAX_CLASSES: int32 holds it.
    return y.astype(np.int32), names


def declared(name, class_names, num_classes):
    """The class names of a source that declares its classes without holding its
    labels in memory (a stream), under the caller's `num_classes` (or None)."""
    num_classes_rule.check("num_classes", num_classes)
    if num_classes is None:
        return tuple(class_names)
    if not class_names:
        raise GanzooError(
            f"{name} has no labels; num_classes={num_classes} applies to labelled datasets only"
        )
    if num_classes < len(class_names):
        raise GanzooError(
            f"{name} has {len(class_names)} classes; num_classes={num_classes} cannot hold"
            f" them; accepted: num_classes >= {len(class_names)} or unset"
        )
    return tuple(class_names) + tuple(str(i) for i in range(len(class_names), num_classes))
