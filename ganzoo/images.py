"""Sample grids and 2-D scatter plots as PNG files, with no plotting dependency."""

import math

import numpy as np
import tensorflow as tf

from ganzoo import fileio


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


def save_png(image, path):
    """Write a uint8 `(H, W, C)` array to `path` atomically."""
    image = np.asarray(image, dtype="uint8")
    if image.ndim == 2:
        image = image[..., None]
    return fileio.atomic_write(path, tf.io.encode_png(image).numpy())


def save_samples(samples, path, columns=None, reference=None):
    """A grid PNG for images, a scatter PNG for 2-D points."""
    samples = np.asarray(samples)
    if samples.ndim == 4:
        return save_png(make_grid(samples, columns), path)
    if samples.ndim == 2 and samples.shape[1] == 2:
        return save_png(scatter(samples, reference), path)
    side = math.isqrt(samples.shape[1]) if samples.ndim == 2 else 0
    if side * side == samples.shape[-1]:
        # Flattened square grayscale images, e.g. an (N, 784) npz.
        return save_png(make_grid(samples.reshape(-1, side, side, 1), columns), path)
    raise ValueError(f"cannot draw samples of shape {samples.shape}")
