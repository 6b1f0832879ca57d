"""Pixel values and image sizes: every source's images end as float32 in [-1, 1].

Integer pixels are scaled from [0, 255]; float pixels from [0, 1] when none is
negative, else taken as already in [-1, 1]. A resize is at most
`MAX_IMAGE_SIZE` a side, and refused (`check_fits`) before any TensorFlow work
when its float32 result would not fit in the memory available.
"""

import os

import numpy as np
import tensorflow as tf

from ganzoo.errors import GanzooError

_EPS = 1e-3
MAX_IMAGE_SIZE = 1024


def available_memory():
    """Bytes of memory this process can still use (MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(name, count, size, channels):
    """Refuse resizing `count` images to `size` when the float32 result would
    not fit in the available memory (naming the size)."""
    needed = int(count) * int(size[0]) * int(size[1]) * int(channels) * 4
    available = available_memory()
    if available is not None and needed > available:
        raise GanzooError(
            f"{name}: {count} images resized to {size[0]}x{size[1]}x{channels} take "
            f"{needed / 2**30:.1f} GiB as float32, more than the {available / 2**30:.1f} GiB of "
            "memory available; accepted: a smaller image_size"
        )


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
    if len(size) != 2 or min(size) <= 0 or max(size) > MAX_IMAGE_SIZE:
        raise GanzooError(
            f"image_size must be a positive int or (height, width), at most {MAX_IMAGE_SIZE}"
            f" (MAX_IMAGE_SIZE) a side, got {value!r}"
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
