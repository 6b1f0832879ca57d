"""Frechet Inception Distance and the feature statistics it is built on.

Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium", NeurIPS 2017.
"""

import numpy as np
from scipy.linalg import blas

from ganzoo.metrics._validation import (
    as_feature_matrix,
    as_float_array,
    check_same_dim,
)

# Rows per block when forming scatter matrices: keeps the float64 centred copy
# small (2048 x 2048 floats = 32 MiB) while BLAS still runs near peak.
_BLOCK_ROWS = 2048

# Relative size of a negative eigenvalue beyond which a covariance is rejected
# as not positive semi-definite instead of treated as round-off (covariances
# computed in float32 show about -2e-7).
_PSD_TOLERANCE = 1e-4


def fid_note(extractor):
    """One sentence on what an FID computed in `extractor`'s features (the name
    ganzoo's evaluation stamps) can be compared with."""
    if extractor == "fid_inception":
        return ("FID from the 2015 Inception graph's pool_3 (fid_inception), as TTUR, TF-GAN "
                "and pytorch-fid compute it: comparable with papers' FIDs at equal sample "
                "counts and reference images.")
    if extractor == "inception":
        return ("FID from keras.applications InceptionV3 with bilinear resizing (inception): "
                "not a paper FID; --extractor=fid_inception gives FIDs comparable with papers.")
    return (f"FID in the features of the {extractor} extractor: comparable only with FIDs from "
            "the same extractor, not with papers' (those use fid_inception).")


def _mean_and_scatter(features):
    """Returns (mean, scatter matrix sum (x - mean)(x - mean)^T) in float64.

    Two-pass (mean first, then centred products) and blockwise, so a float32
    input is never copied to float64 whole.
    """
    mean = np.mean(features, axis=0, dtype=np.float64)
    dim = features.shape[1]
    scatter = np.zeros((dim, dim), dtype=np.float64)
    for start in range(0, features.shape[0], _BLOCK_ROWS):
        block = features[start : start + _BLOCK_ROWS].astype(np.float64) - mean
        # block.T @ block is dispatched to BLAS syrk (half the flops of gemm).
        scatter += block.T @ block
    return mean, scatter


def feature_statistics(features):
    """Computes the mean and covariance of a set of feature vectors.

    Args:
        features: array of shape (num_samples, num_features), num_samples >= 2.

    Returns:
        (mu, sigma): float64 mean of shape (num_features,) and covariance of
        shape (num_features, num_features) (rows are samples, ddof=1).
    """
    features = as_feature_matrix(features, "features", min_rows=2, dtype=None)
    mean, scatter = _mean_and_scatter(features)
    return mean, scatter / (features.shape[0] - 1)


class StatisticsAccumulator:
    """Streaming float64 mean and covariance of features seen in batches.

    Uses the pairwise update of Chan, Golub & LeVeque (1979): each batch is
    reduced to (count, mean, centred scatter) and merged exactly, so the
    result matches ``feature_statistics`` on the concatenated batches up to
    round-off, and features never have to be held all at once.
    """

    def __init__(self):
        self.count = 0
        self._mean = None
        self._scatter = None

    def update(self, batch):
        """Adds a batch of feature vectors.

        Args:
            batch: array of shape (batch_size, num_features); an empty batch
                is ignored.

        Returns:
            self, so calls can be chained.
        """
        batch = as_feature_matrix(batch, "batch", min_rows=0, dtype=None)
        if self._mean is not None:
            check_same_dim(batch, self._mean[None, :], "batch", "earlier batches")
        if batch.shape[0] == 0:
            return self
        batch_count = batch.shape[0]
        batch_mean, batch_scatter = _mean_and_scatter(batch)
        if self._mean is None:
            self.count, self._mean, self._scatter = batch_count, batch_mean, batch_scatter
            return self
        total = self.count + batch_count
        delta = batch_mean - self._mean
        self._mean = self._mean + delta * (batch_count / total)
        self._scatter += batch_scatter
        self._scatter += np.outer(delta, delta) * (self.count * batch_count / total)
        self.count = total
        return self

    def result(self):
        """Returns the statistics of everything seen so far.

        Returns:
            (mu, sigma, n): float64 mean, covariance (ddof=1) and sample count.
        """
        if self.count < 2:
            raise ValueError(
                f"StatisticsAccumulator has seen {self.count} sample(s); "
                "at least 2 are needed for a covariance"
            )
        return self._mean.copy(), self._scatter / (self.count - 1), self.count


def _check_statistics(mu, sigma, suffix):
    mu = as_float_array(mu, f"mu{suffix}", ndim=1)
    sigma = as_float_array(sigma, f"sigma{suffix}", ndim=2)
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(
            f"sigma{suffix} has shape {sigma.shape} but mu{suffix} has "
            f"{mu.shape[0]} entries; sigma{suffix} must be "
            f"({mu.shape[0]}, {mu.shape[0]})"
        )
    # Symmetrise so both factorisations below see the same matrix.
    return mu, 0.5 * (sigma + sigma.T)


def _check_psd(eigenvalues, name):
    largest = max(float(eigenvalues.max()), 0.0)
    smallest = float(eigenvalues.min())
    if smallest < -_PSD_TOLERANCE * max(largest, np.finfo(np.float64).tiny):
        raise ValueError(
            f"{name} is not positive semi-definite: smallest eigenvalue "
            f"{smallest:.3g}, largest {largest:.3g}; a covariance matrix is needed"
        )


def _trace_sqrt_product(sigma1, sigma2):
    """Computes tr(sqrt(sigma1 @ sigma2)) for symmetric PSD matrices.

    sigma1 @ sigma2 is similar to the symmetric PSD matrix
    A = F^T sigma2 F for any factor sigma1 = F F^T, so the trace is the sum of
    square roots of the eigenvalues of A (real, clipped at 0 against
    round-off). F is the Cholesky factor when sigma1 is positive definite
    (fast), else the symmetric square root from ``eigh`` (rank-deficient
    covariances, e.g. fewer samples than features).

    Args:
        sigma1: symmetric PSD matrix of shape (d, d).
        sigma2: symmetric PSD matrix of shape (d, d).

    Returns:
        The trace as a Python float (never complex, never NaN for PSD input).
    """
    try:
        lower = np.asfortranarray(np.linalg.cholesky(sigma1))
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(sigma1)
        _check_psd(eigenvalues, "sigma1")
        factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
        inner = factor.T @ sigma2 @ factor
    else:
        # Triangular products (trmm) take half the flops of general ones;
        # sigma2.T is the Fortran-ordered view BLAS wants (sigma2 is symmetric).
        inner = blas.dtrmm(1.0, lower, sigma2.T, side=1, lower=1)
        inner = blas.dtrmm(1.0, lower, inner, side=0, lower=1, trans_a=1, overwrite_b=1)
    eigenvalues = np.linalg.eigvalsh(0.5 * (inner + inner.T))
    _check_psd(eigenvalues, "sigma2")
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Frechet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrt(sigma1 sigma2))
    (Heusel et al. 2017). Exactly-equal inputs can give -1e-12-sized round-off;
    the result is clipped at 0 because d^2 is a squared distance.

    Args:
        mu1: mean of shape (d,).
        sigma1: covariance of shape (d, d), symmetric PSD.
        mu2: mean of shape (d,).
        sigma2: covariance of shape (d, d), symmetric PSD.

    Returns:
        The distance d^2 as a non-negative Python float.
    """
    mu1, sigma1 = _check_statistics(mu1, sigma1, "1")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"mu1 has {mu1.shape[0]} entries but mu2 has {mu2.shape[0]}; "
            "both Gaussians must have the same dimension"
        )
    diff = mu1 - mu2
    value = (
        float(diff @ diff)
        + float(np.trace(sigma1))
        + float(np.trace(sigma2))
        - 2.0 * _trace_sqrt_product(sigma1, sigma2)
    )
    return max(value, 0.0)


def fid_from_features(features1, features2):
    """FID between two feature sets (e.g. Inception pool3 activations).

    Args:
        features1: array of shape (n1, d), n1 >= 2.
        features2: array of shape (n2, d), n2 >= 2.

    Returns:
        The FID as a non-negative Python float.
    """
    features1 = as_feature_matrix(features1, "features1", min_rows=2, dtype=None)
    features2 = as_feature_matrix(features2, "features2", min_rows=2, dtype=None)
    check_same_dim(features1, features2, "features1", "features2")
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))
