"""Datasets in the user's own files: image folders and .npz arrays.

* ``folder:PATH``: png/jpg/jpeg/bmp/gif images, either in class subfolders
  (sorted subfolder names -> labels 0..K-1) or directly in PATH (no labels).
  Splits ``train`` and ``all`` both mean every image, in class order; their
  slices (``train[90%:]``) index a fixed shuffle (seed 0) of it, so a held-out
  slice holds every class.
* ``npz:PATH``: an .npz with array ``x`` ((N, H, W[, C]) images or (N, D)
  points) and optionally labels ``y`` (integers >= 0, or integral floats).
  Splits ``train`` / ``all``; their slices keep the file's order, as TFDS does.
"""

import logging
import zipfile
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from ganzoo.data import pixels
from ganzoo.data.registry import Examples, register_source
from ganzoo.errors import GanzooError, first_line

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
FILE_SPLITS = ("train", "all")
_NPZ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)


@register_source("folder", takes_path=True, splits=FILE_SPLITS, slices_shuffled=True)
def folder(request):
    """Images in class subfolders (labelled) or directly in the folder (unlabelled)."""
    name, size = request.name, request.image_size
    root = Path(request.path).expanduser()
    if not root.is_dir():
        raise GanzooError(f"{name}: no such directory")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and _image_files(d))
    if classes:
        loose = [p for p in root.iterdir() if _is_image(p)]
        if loose:
            logger.warning("%s: ignoring %d image(s) outside the class subfolders", name, len(loose))
        files = [(f, label) for label, c in enumerate(classes) for f in _image_files(root / c)]
    else:
        files = [(f, None) for f in sorted(p for p in root.iterdir() if _is_image(p))]
    if not files:
        raise GanzooError(
            f"{name}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found"
            " directly inside it or in class subfolders"
        )

    images, labels, corrupt = [], [], []
    for file, label in files:
        try:
            image = tf.io.decode_image(file.read_bytes(), expand_animations=False).numpy()
        except (OSError, tf.errors.OpError) as err:
            if request.on_corrupt == "error":
                raise GanzooError(
                    f"{name}: cannot decode image {file}: {first_line(err)}"
                    " (pass on_corrupt='skip' to skip unreadable files)"
                ) from None
            corrupt.append(file)
            continue
        images.append(image[..., :1] if image.shape[-1] < 3 else image[..., :3])
        labels.append(label)
    if corrupt:
        logger.warning(
            "%s: skipped %d unreadable image file(s), e.g. %s",
            name, len(corrupt), ", ".join(str(f) for f in corrupt[:3]),
        )
    if not images:
        raise GanzooError(f"{name}: none of its {len(files)} image files could be decoded")

    channels = 3 if any(im.shape[-1] == 3 for im in images) else 1
    sizes = sorted({im.shape[:2] for im in images})
    if size is None and len(sizes) > 1:
        shown = ", ".join(f"{h}x{w}" for h, w in sizes[:5]) + (", ..." if len(sizes) > 5 else "")
        raise GanzooError(
            f"{name}: images have different sizes ({shown}); pass image_size"
            " (flag --image_size) to resize them all"
        )
    target = size or sizes[0]
    pixels.check_fits(name, len(images), target, channels)
    x = np.stack([_folder_image(im, channels, target) for im in images])
    if not classes:
        return Examples(x)
    return Examples(x, np.asarray(labels, np.int32), class_names=tuple(classes))


def _folder_image(image, channels, size):
    """One decoded uint8 image as float32 [-1, 1] with `channels` and `size`."""
    if image.shape[-1] != channels:
        image = np.repeat(image, channels, axis=-1)
    x = pixels.from_uint8(image)
    if x.shape[:2] != tuple(size):
        x = np.asarray(pixels.resize(x, size))
    return x


def _is_image(path):
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def _image_files(directory):
    return sorted(p for p in directory.rglob("*") if _is_image(p))


@register_source("npz", takes_path=True, splits=FILE_SPLITS)
def npz(request):
    """Arrays `x` (images or points) and optional labels `y` from an .npz file."""
    name = request.name
    file = Path(request.path).expanduser()
    if not file.is_file():
        raise GanzooError(f"{name}: no such file")
    try:
        data = np.load(file, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise GanzooError(f"{name}: not an .npz archive (a single .npy array?)")
        with data:
            if "x" not in data.files:
                found = ", ".join(data.files) or "nothing"
                raise GanzooError(f"{name}: no array 'x' in the file (found: {found})")
            x = data["x"]
            y = data["y"] if "y" in data.files else None
    except GanzooError:
        raise
    except _NPZ_ERRORS as err:  # np.load's ways of saying "not a usable npz"
        raise GanzooError(f"{name}: not a readable .npz file ({first_line(err)})") from None

    if x.dtype.kind not in "uif" or len(x) == 0:
        raise GanzooError(f"{name}: 'x' must be a non-empty numeric array, got {x.dtype} {x.shape}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 2:
        x = x.astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise GanzooError(f"{name}: 'x' contains NaN or infinite values")
    elif x.ndim == 4 and x.shape[-1] in (1, 3):
        x = pixels.scaled(name, x)
    else:
        raise GanzooError(
            f"{name}: 'x' has shape {x.shape}; expected (N, D) points or"
            " (N, H, W) / (N, H, W, C) images with C = 1 or 3 (channels last)"
        )
    if y is not None and (y.dtype.kind not in "uif" or y.shape != (len(x),)):
        raise GanzooError(
            f"{name}: 'y' must be integer labels of shape ({len(x)},), got {y.dtype} {y.shape}"
        )
    return Examples(x, y)  # the pipeline checks the label values
