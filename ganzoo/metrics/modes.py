"""Mode-coverage metrics for 2-D Gaussian-mixture benchmarks.

References:
    Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs using
    Implicit Variational Learning", NeurIPS 2017 (ring of 8 Gaussians).
    Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018 (grid of 25 Gaussians).

The benchmark mixtures are uniform mixtures of isotropic Gaussians
N(center, std^2 I); ``RING8`` and ``GRID25`` hold their exact constants so
that data generation and evaluation use the same ones.
"""

from typing import NamedTuple

import numpy as np

from ganzoo.metrics._validation import as_feature_matrix, check_positive_int

# A sample is "high quality" when within this many std of its nearest centre.
HIGH_QUALITY_STDS = 3.0

# PacGAN counts a mode as covered when >= 20 of 2,500 samples are
# high-quality samples of it; the default threshold keeps that rate.
PACGAN_MIN_COUNT = 20
PACGAN_NUM_SAMPLES = 2500


class MixtureModes(NamedTuple):
    """Centres (num_modes, 2) and per-coordinate std of a Gaussian mixture."""

    centers: np.ndarray
    std: float


def ring_centers(num_modes=8, radius=2.0):
    """Centres evenly spaced on a circle, mode i at angle 2*pi*i/num_modes.

    Args:
        num_modes: number of modes.
        radius: circle radius.

    Returns:
        float64 array of shape (num_modes, 2); mode 0 is (radius, 0).
    """
    num_modes = check_positive_int(num_modes, "num_modes")
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centers(side=5, spacing=2.0):
    """Centres of a side x side grid centred on the origin.

    Args:
        side: modes per row and column.
        spacing: distance between neighbouring modes.

    Returns:
        float64 array of shape (side * side, 2); row i * side + j is
        (coords[i], coords[j]) with coords = (arange(side) - (side - 1) / 2)
        * spacing, i.e. {-4, -2, 0, 2, 4} for the defaults.
    """
    side = check_positive_int(side, "side")
    coords = (np.arange(side) - (side - 1) / 2.0) * spacing
    first, second = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([first.ravel(), second.ravel()], axis=1)


def _frozen(array):
    array.setflags(write=False)
    return array


# 8 Gaussians on a circle of radius 2 with std 0.02 (VEEGAN).
RING8 = MixtureModes(centers=_frozen(ring_centers(8, 2.0)), std=0.02)
# 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2 with std 0.05 (PacGAN).
GRID25 = MixtureModes(centers=_frozen(grid_centers(5, 2.0)), std=0.05)


def default_min_count(num_samples):
    """PacGAN's covered-mode threshold scaled to ``num_samples``.

    Returns max(1, floor(20 * num_samples / 2500 + 0.5)): 20 for 2,500
    samples, 1 for 100 or fewer.
    """
    return max(1, int(np.floor(PACGAN_MIN_COUNT * num_samples / PACGAN_NUM_SAMPLES + 0.5)))


def mode_metrics(samples, centers, std, min_count=None):
    """Mode coverage and sample quality of generated mixture samples.

    Each sample is assigned to its nearest centre (Euclidean) and is
    high-quality when within 3 * std of it.

    Args:
        samples: generated points of shape (n, dim).
        centers: mode centres of shape (num_modes, dim).
        std: per-coordinate std of each mixture component, > 0.
        min_count: high-quality samples a mode needs to count as covered;
            ``None`` uses ``default_min_count(n)`` (PacGAN's 20 per 2,500).

    Returns:
        Dict with
            "num_modes": number of centres (int);
            "modes_covered": modes with >= min_count high-quality samples (int);
            "high_quality": share of samples that are high-quality (float);
            "reverse_kl": KL(p || uniform) = sum_i p_i log(p_i * num_modes),
                p = high-quality counts per mode / their total, 0 log 0 = 0
                (float). With no high-quality sample it is log(num_modes),
                its value for a full collapse onto one mode, so it stays
                finite and bounded;
            "counts": high-quality samples per mode (int64 array, num_modes);
            "min_count": the threshold used (int).
    """
    samples = as_feature_matrix(samples, "samples", min_rows=1)
    centers = as_feature_matrix(centers, "centers", min_rows=1)
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples have {samples.shape[1]} coordinates but centers have "
            f"{centers.shape[1]}; both must have the same dimension"
        )
    try:
        std_value = float(std)
    except (TypeError, ValueError):
        std_value = float("nan")
    if not np.isfinite(std_value) or std_value <= 0:
        raise ValueError(f"std must be a finite number > 0; got {std!r}")
    num_samples, num_modes = samples.shape[0], centers.shape[0]
    if min_count is None:
        min_count = default_min_count(num_samples)
    min_count = check_positive_int(min_count, "min_count")

    # Direct differences (not the a^2 + b^2 - 2ab expansion): exact for the
    # small distances the 3-std test is about.
    nearest = np.empty(num_samples, dtype=np.int64)
    nearest_distance = np.empty(num_samples, dtype=np.float64)
    block_rows = max(1, 2**20 // (num_modes * samples.shape[1]))
    for start in range(0, num_samples, block_rows):
        rows = samples[start : start + block_rows]
        distances = np.linalg.norm(rows[:, None, :] - centers[None, :, :], axis=2)
        nearest[start : start + rows.shape[0]] = distances.argmin(axis=1)
        nearest_distance[start : start + rows.shape[0]] = distances.min(axis=1)

    high_quality = nearest_distance <= HIGH_QUALITY_STDS * std_value
    counts = np.bincount(nearest[high_quality], minlength=num_modes).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        reverse_kl = float(np.log(num_modes))
    else:
        p = counts[counts > 0] / total
        reverse_kl = float(np.sum(p * np.log(p * num_modes)))
    return {
        "num_modes": num_modes,
        "modes_covered": int(np.count_nonzero(counts >= min_count)),
        "high_quality": float(high_quality.mean()),
        "reverse_kl": max(reverse_kl, 0.0),
        "counts": counts,
        "min_count": min_count,
    }
