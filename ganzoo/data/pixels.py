"""Pixel values and image sizes: every source's images end as float32 in [-1, 1].

Integer pixels are scaled from [0, 255]; float pixels from [0, 1] when none is
negative, else taken as already in [-1, 1].
"""

import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError

_EPS = 1e-3


def image_size(value):
    """Normalise `value` (int, "H", "HxW" or (H, W)) to `(H, W)` or None."""
    if value is None:
        return None
    parts = value
    if isinstance(parts, str):
        parts = parts.lower().replace("x", ",").split(",")
    if not isinstance(parts, (list, tuple)):
        parts = (parts, parts)
    try:
        size = tuple(int(v) for v in parts)
    except (TypeError, ValueError):
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) <= 0:
        raise GanzooError(
            f"image_size must be a positive int or (height, width), got {value!r}"
        )
    return size


def from_uint8(pixels):
    """uint8 pixels (any shape) as float32 in [-1, 1]."""
    x = np.array(pixels, np.float32)  # a copy: scaled in place below
    x /= 127.5  # in place: the same values as x / 127.5 - 1, one array fewer
    x -= 1.0
    return x


def scaled(name, x):
    """Scale image pixels of any numeric dtype to float32 [-1, 1] (module docstring)."""
    if x.dtype.kind in "ui":
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise GanzooError(f"{name}: integer pixels must lie in [0, 255], found [{low}, {high}]")
        return from_uint8(x)
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise GanzooError(f"{name}: 'x' contains NaN or infinite values")
    low, high = float(x.min()), float(x.max())
    if low >= 0:
        if high > 1 + _EPS:
            raise GanzooError(
                f"{name}: float pixels must lie in [0, 1] or [-1, 1], found [{low:g}, {high:g}]"
                " (store 0..255 pixels as uint8)"
            )
        x = x * 2.0 - 1.0
    elif low < -1 - _EPS or high > 1 + _EPS:
        raise GanzooError(
            f"{name}: float pixels with negatives must lie in [-1, 1], found [{low:g}, {high:g}]"
        )
    return np.clip(x, -1.0, 1.0)


def resize(images, size):
    """Resize [-1, 1] images (3-D or 4-D) to `size`: bilinear, antialiased, clipped."""
    resized = tf.image.resize(images, size, method="bilinear", antialias=True)
    return tf.clip_by_value(resized, -1.0, 1.0)
