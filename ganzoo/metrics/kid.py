"""Kernel Inception Distance.

Reference: Binkowski et al., "Demystifying MMD GANs", ICLR 2018.
"""

import numpy as np

from ganzoo.metrics._validation import (
    as_feature_matrix,
    check_positive_int,
    check_same_dim,
)


def _polynomial_kernel(x, y):
    """Cubic polynomial kernel k(x, y) = (x . y / d + 1)^3 used by KID.

    Args:
        x: array of shape (n, d).
        y: array of shape (m, d).

    Returns:
        Kernel matrix of shape (n, m).
    """
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x, y):
    """`mmd2_unbiased` on checked feature matrices."""
    m, n = x.shape[0], y.shape[0]
    k_xx = _polynomial_kernel(x, x)
    k_yy = _polynomial_kernel(y, y)
    k_xy = _polynomial_kernel(x, y)
    # The unbiased U-statistic leaves out the i == j diagonal terms.
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * k_xy.sum() / (m * n))


def mmd2_unbiased(x, y):
    """Unbiased MMD^2 between two sample sets with the KID cubic kernel.

    Args:
        x: array of shape (m, d), m >= 2.
        y: array of shape (n, d), n >= 2.

    Returns:
        MMD^2 as a Python float (can be slightly negative: it is unbiased).
    """
    x = as_feature_matrix(x, "x", min_rows=2)
    y = as_feature_matrix(y, "y", min_rows=2)
    check_same_dim(x, y, "x", "y")
    return _mmd2_unbiased(x, y)


def kernel_inception_distance(features1, features2, num_subsets=100, subset_size=1000, seed=0):
    """KID: unbiased polynomial-kernel MMD^2 averaged over random subsets.

    Each subset draws ``subset_size`` rows without replacement from each set
    (independently), as in Binkowski et al. 2018 and torch-fidelity.

    Args:
        features1: array of shape (n1, d), n1 >= 2.
        features2: array of shape (n2, d), n2 >= 2.
        num_subsets: number of random subsets to average over.
        subset_size: rows per subset, capped at min(n1, n2).
        seed: seed of the ``numpy.random.default_rng`` choosing the subsets.

    Returns:
        (mean, std): mean and population standard deviation (ddof=0) of the
        per-subset MMD^2 values, as Python floats.
    """
    features1 = as_feature_matrix(features1, "features1", min_rows=2)
    features2 = as_feature_matrix(features2, "features2", min_rows=2)
    check_same_dim(features1, features2, "features1", "features2")
    num_subsets = check_positive_int(num_subsets, "num_subsets")
    subset_size = check_positive_int(subset_size, "subset_size", minimum=2)
    subset_size = min(subset_size, features1.shape[0], features2.shape[0])
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets, dtype=np.float64)
    for i in range(num_subsets):
        rows1 = rng.choice(features1.shape[0], subset_size, replace=False)
        rows2 = rng.choice(features2.shape[0], subset_size, replace=False)
        values[i] = _mmd2_unbiased(features1[rows1], features2[rows2])
    return float(values.mean()), float(values.std())
