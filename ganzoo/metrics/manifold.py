"""k-NN based precision, recall, density and coverage.

References:
    Kynkaanniemi et al., "Improved Precision and Recall Metric for Assessing
    Generative Models", NeurIPS 2019.
    Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative
    Models", ICML 2020.

Each metric follows its paper's reference code: precision/recall count a
sample inside a k-NN ball when its distance is <= the radius, density and
coverage when it is < the radius. The two differ only on exact ties.
All distances are compared squared, which preserves their order.
"""

import numpy as np

from ganzoo.metrics._validation import (
    as_feature_matrix,
    check_positive_int,
    check_same_dim,
)

# Rows per block of a pairwise-distance matrix: a block is at most
# _BLOCK_ROWS x n float64 values, so memory stays bounded for large n.
_BLOCK_ROWS = 1024


def _squared_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _iter_squared_distances(a, b):
    """Yields (start, block) with block[i, j] = ||a[start + i] - b[j]||^2.

    Uses ||a||^2 + ||b||^2 - 2 a.b (one matrix product per block), clipped at
    0 because cancellation can make it slightly negative.
    """
    norms_b = _squared_norms(b)
    for start in range(0, a.shape[0], _BLOCK_ROWS):
        rows = a[start : start + _BLOCK_ROWS]
        block = _squared_norms(rows)[:, None] + norms_b[None, :] - 2.0 * (rows @ b.T)
        np.maximum(block, 0.0, out=block)
        yield start, block


def knn_radii_squared(features, k):
    """Squared distance from each point to its k-th nearest other point.

    The point itself is excluded by index (a duplicate point still counts as
    a neighbour at distance 0).

    Args:
        features: float64 array of shape (n, d), n > k.
        k: neighbour rank, k >= 1.

    Returns:
        Array of shape (n,).
    """
    radii = np.empty(features.shape[0], dtype=np.float64)
    for start, block in _iter_squared_distances(features, features):
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = np.inf
        radii[start : start + block.shape[0]] = np.partition(block, k - 1, axis=1)[:, k - 1]
    return radii


def _check_sets(real, fake, k_pr, k_dc, k_names):
    """Validates the sets and the k values (None: metric not requested)."""
    real = as_feature_matrix(real, "real", min_rows=1)
    fake = as_feature_matrix(fake, "fake", min_rows=1)
    check_same_dim(real, fake, "real", "fake")
    # P&R needs radii in both sets, D&C only in the real one.
    checks = (
        (k_pr, k_names[0], (("real", real), ("fake", fake))),
        (k_dc, k_names[1], (("real", real),)),
    )
    for k, name, sets in checks:
        if k is None:
            continue
        check_positive_int(k, name)
        for set_name, array in sets:
            if array.shape[0] <= k:
                raise ValueError(
                    f"{set_name} has {array.shape[0]} sample(s) but {name}={k}; "
                    f"more than {name} samples are needed for k-NN radii"
                )
    return real, fake


def _manifold_metrics(real, fake, k_pr, k_dc):
    """One blockwise pass over real-fake distances for the requested metrics.

    Args:
        real: validated float64 array (n_real, d).
        fake: validated float64 array (n_fake, d).
        k_pr: k for precision/recall, or None to skip them.
        k_dc: k for density/coverage, or None to skip them.

    Returns:
        Dict with the requested entries among "precision", "recall",
        "density", "coverage".
    """
    if k_pr is not None:
        real_radii_pr = knn_radii_squared(real, k_pr)
        fake_radii_pr = knn_radii_squared(fake, k_pr)
        # Per fake: inside any real ball. Per real: inside any fake ball.
        fake_in_real_manifold = np.zeros(fake.shape[0], dtype=bool)
        real_in_fake_manifold = np.empty(real.shape[0], dtype=bool)
    if k_dc is not None:
        real_radii_dc = knn_radii_squared(real, k_dc)
        # Per fake: number of real balls holding it. Per real: ball non-empty.
        fake_ball_counts = np.zeros(fake.shape[0], dtype=np.int64)
        real_covered = np.empty(real.shape[0], dtype=bool)
    for start, block in _iter_squared_distances(real, fake):
        rows = slice(start, start + block.shape[0])
        if k_pr is not None:
            fake_in_real_manifold |= (block <= real_radii_pr[rows, None]).any(axis=0)
            real_in_fake_manifold[rows] = (block <= fake_radii_pr[None, :]).any(axis=1)
        if k_dc is not None:
            fake_ball_counts += (block < real_radii_dc[rows, None]).sum(axis=0)
            real_covered[rows] = block.min(axis=1) < real_radii_dc[rows]
    result = {}
    if k_pr is not None:
        result["precision"] = float(fake_in_real_manifold.mean())
        result["recall"] = float(real_in_fake_manifold.mean())
    if k_dc is not None:
        result["density"] = float(fake_ball_counts.mean() / k_dc)
        result["coverage"] = float(real_covered.mean())
    return result


def prdc(real, fake, nearest_k_pr=3, nearest_k_dc=5):
    """Precision, recall, density and coverage in one pass over distances.

    Args:
        real: real features of shape (n_real, d), n_real > both k.
        fake: generated features of shape (n_fake, d), n_fake > nearest_k_pr.
        nearest_k_pr: k of the k-NN radii for precision/recall
            (Kynkaanniemi et al. 2019 use 3).
        nearest_k_dc: k of the k-NN radii for density/coverage
            (Naeem et al. 2020 use 5).

    Returns:
        Dict with float entries "precision", "recall", "density", "coverage".
    """
    real, fake = _check_sets(
        real, fake, nearest_k_pr, nearest_k_dc, ("nearest_k_pr", "nearest_k_dc")
    )
    return _manifold_metrics(real, fake, nearest_k_pr, nearest_k_dc)


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Precision: share of fake samples inside the union of real k-NN balls.
    Recall: share of real samples inside the union of fake k-NN balls.

    Args:
        real: real features of shape (n_real, d), n_real > k.
        fake: generated features of shape (n_fake, d), n_fake > k.
        k: neighbour rank defining each ball's radius (self excluded).

    Returns:
        (precision, recall) as Python floats in [0, 1].
    """
    real, fake = _check_sets(real, fake, k, None, ("k", "k"))
    result = _manifold_metrics(real, fake, k, None)
    return result["precision"], result["recall"]


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al. 2020).

    Density: mean over fake samples of (number of real k-NN balls containing
    it) / k; it can exceed 1. Coverage: share of real samples whose k-NN
    ball contains at least one fake sample.

    Args:
        real: real features of shape (n_real, d), n_real > k.
        fake: generated features of shape (n_fake, d).
        k: neighbour rank defining each real ball's radius (self excluded).

    Returns:
        (density, coverage) as Python floats.
    """
    real, fake = _check_sets(real, fake, None, k, ("k", "k"))
    result = _manifold_metrics(real, fake, None, k)
    return result["density"], result["coverage"]
