"""Input checks shared by the metric functions.

Every check raises ``ValueError`` with one line that names the argument, the
value it got and what is accepted.
"""

import numbers

import numpy as np


def as_float_array(value, name, ndim, dtype=np.float64):
    """Converts ``value`` to a finite array with ``ndim`` dimensions.

    Args:
        value: array-like input.
        name: argument name used in error messages.
        ndim: required number of dimensions.
        dtype: dtype of the returned array; ``None`` keeps a floating input's
            own dtype (so float32 features are not copied to float64 here).

    Returns:
        The converted ``np.ndarray``.
    """
    try:
        array = np.asarray(value)
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        elif not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a numeric array; got {type(value).__name__} ({error})"
        ) from None
    if array.ndim != ndim:
        shape = {1: "(n,)", 2: "(num_samples, num_features)"}.get(ndim, f"{ndim}-D")
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {shape}; got shape {array.shape}"
        )
    num_bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if num_bad:
        raise ValueError(
            f"{name} contains {num_bad} non-finite value(s) (NaN or inf); "
            "only finite values are accepted"
        )
    return array


def as_feature_matrix(value, name, min_rows=1, dtype=np.float64):
    """Converts ``value`` to a finite 2-D array with at least ``min_rows`` rows.

    Args:
        value: array-like of shape (num_samples, num_features).
        name: argument name used in error messages.
        min_rows: smallest accepted number of rows.
        dtype: see ``as_float_array``.

    Returns:
        The converted 2-D ``np.ndarray``.
    """
    array = as_float_array(value, name, ndim=2, dtype=dtype)
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} has {array.shape[0]} sample(s); at least {min_rows} are needed")
    if array.shape[1] < 1:
        raise ValueError(f"{name} has 0 features; at least 1 feature is needed")
    return array


def check_same_dim(a, b, name_a, name_b):
    """Raises when two feature matrices have different numbers of columns."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} has {a.shape[1]} features but {name_b} has {b.shape[1]}; "
            "both must have the same feature dimension"
        )


def check_positive_int(value, name, minimum=1):
    """Returns ``value`` as ``int`` if it is an integer >= ``minimum``."""
    is_integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_integer or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def as_label_vector(value, name, num_rows):
    """Converts ``value`` to a 1-D integer label array with ``num_rows`` entries."""
    labels = np.asarray(value)
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of integer class labels; got shape {labels.shape}"
        )
    if labels.shape[0] != num_rows:
        raise ValueError(
            f"{name} has {labels.shape[0]} labels but there are {num_rows} samples; "
            "one label per sample is needed"
        )
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        as_float = as_float_array(labels, name, ndim=1)
        if not np.array_equal(as_float, np.round(as_float)):
            raise ValueError(f"{name} must hold integer class labels; got {labels.dtype}")
        labels = as_float
    return labels.astype(np.int64)
