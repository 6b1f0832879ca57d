"""Sample grids and scatter plots as PNG files, with no plotting dependency.

Points of any dimension D are drawn as a 2-D scatter: D == 2 as they are,
other D as their projection on the first two principal axes of the reference
(real) data, D == 1 as the value against a small fixed jitter. The PNG's
"Description" text chunk says which, and the first such figure logs it once.
"""

import math
import struct
import zlib

import numpy as np
import tensorflow as tf
from absl import logging

from ganzoo import fileio

# Flattened square grayscale images, e.g. an (N, 784) npz, are drawn as a grid
# from this size on (8x8, the digits); smaller square D are points.
MIN_FLAT_IMAGE = 64
_told = set()


def to_uint8(images):
    """Images in [-1, 1] to uint8 in [0, 255]."""
    return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype("uint8")


def make_grid(images, columns=None, padding=1, min_cell=32):
    """Tile `(N, H, W, C)` images in [-1, 1] into one uint8 image.

    Small images are upscaled (nearest neighbour) so each cell is at least
    `min_cell` pixels: an 8x8 digit stays readable.
    """
    images = to_uint8(images)
    n, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    scale = max(1, math.ceil(min_cell / max(height, width)))
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    height, width = height * scale, width * scale
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        255, dtype="uint8",
    )
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def scatter(points, reference=None, size=320, extent=None):
    """Rasterise 2-D `points` (blue) over `reference` points (grey) to uint8 RGB."""
    points = np.asarray(points, dtype="float64")
    # The real data fixes the frame, so plots of one dataset compare at a glance.
    framing = points if reference is None else np.asarray(reference, dtype="float64")
    if extent is None:
        finite = framing[np.isfinite(framing).all(axis=1)]
        extent = float(np.abs(finite).max()) * 1.25 if len(finite) else 1.0
    canvas = np.full((size, size, 3), 255, dtype="uint8")

    def draw(xy, color):
        xy = xy[np.isfinite(xy).all(axis=1)]
        cols = np.round((xy[:, 0] / extent + 1) / 2 * (size - 1)).astype(int)
        rows = np.round((1 - (xy[:, 1] / extent + 1) / 2) * (size - 1)).astype(int)
        keep = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
        for dr in (0, 1):
            for dc in (0, 1):
                canvas[np.clip(rows[keep] + dr, 0, size - 1), np.clip(cols[keep] + dc, 0, size - 1)] = color

    if reference is not None:
        draw(np.asarray(reference, dtype="float64"), (190, 190, 190))
    draw(points, (31, 119, 180))
    return canvas


def with_text(png, key, text):
    """The PNG bytes `png` with a tEXt chunk `key: text` right after its header."""
    body = key.encode("latin-1") + b"\0" + text.encode("latin-1", "replace")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    header_end = 8 + 25  # signature, then the IHDR chunk (13 bytes of data)
    return png[:header_end] + chunk + png[header_end:]


def save_png(image, path, description=None):
    """Write a uint8 `(H, W, C)` array to `path` atomically (with a "Description")."""
    image = np.asarray(image, dtype="uint8")
    if image.ndim == 2:
        image = image[..., None]
    png = tf.io.encode_png(image).numpy()
    if description:
        png = with_text(png, "Description", description)
    return fileio.atomic_write(path, png)


def projection(points, reference=None):
    """`(project, description)`: a function mapping (N, D) points to 2-D for a
    scatter plot, and the words for what it shows.

    D == 2: the points themselves. D == 1: the value against a fixed jitter.
    Otherwise: the first two principal axes of `reference` (or of `points`
    when there is no reference), the same for samples and reference.
    """
    points = np.asarray(points, dtype="float64")
    dim = points.shape[1]
    if dim == 2:
        return (lambda xy: np.asarray(xy, dtype="float64")), None
    basis = points if reference is None else np.asarray(reference, dtype="float64")
    basis = basis[np.isfinite(basis).all(axis=1)]
    if dim == 1:
        spread = float(np.abs(basis).max()) * 0.1 if len(basis) else 0.1

        def project(x):
            x = np.asarray(x, dtype="float64").reshape(-1, 1)
            jitter = np.random.default_rng(0).uniform(-1, 1, (len(x), 1)) * (spread or 0.1)
            return np.concatenate([x, jitter], axis=1)

        return project, ("sample grids of 1-D points show the value (x) against a random jitter "
                         "(y)")
    mean = basis.mean(axis=0) if len(basis) else np.zeros(dim)
    if len(basis) > 1:
        _, _, vt = np.linalg.svd(basis - mean, full_matrices=False)
        axes = vt[:2].T
    else:
        axes = np.eye(dim)[:, :2]
    if axes.shape[1] < 2:
        axes = np.concatenate([axes, np.zeros((dim, 2 - axes.shape[1]))], axis=1)
    which = "data" if reference is not None else "samples"
    description = (f"sample grids of {dim}-D points show their projection on the first 2 "
                   f"principal axes of the {which}")
    return (lambda x: (np.asarray(x, dtype="float64") - mean) @ axes), description


def save_scatter(samples, path, reference=None):
    """A scatter PNG of (N, D) points over `reference`, projected to 2-D if D != 2."""
    project, description = projection(samples, reference)
    if description and description not in _told:
        _told.add(description)
        logging.info("%s", description)
    canvas = scatter(project(samples), None if reference is None else project(reference))
    return save_png(canvas, path, description)


def draws_points(shape):
    """Whether examples of `shape` are drawn as a scatter (not as an image grid)."""
    shape = tuple(shape)
    if len(shape) != 1:
        return False
    side = math.isqrt(shape[0])
    return not (side * side == shape[0] and shape[0] >= MIN_FLAT_IMAGE)


def save_samples(samples, path, columns=None, reference=None):
    """A grid PNG for images, a scatter PNG for points (module docstring)."""
    samples = np.asarray(samples)
    if samples.ndim == 4:
        return save_png(make_grid(samples, columns), path)
    if samples.ndim != 2 or samples.shape[1] < 1:
        raise ValueError(f"cannot draw samples of shape {samples.shape}")
    if draws_points(samples.shape[1:]):
        return save_scatter(samples, path, reference)
    # Flattened square grayscale images, e.g. an (N, 784) npz.
    side = math.isqrt(samples.shape[1])
    return save_png(make_grid(samples.reshape(-1, side, side, 1), columns), path)
