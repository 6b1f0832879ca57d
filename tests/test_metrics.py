"""Tests of ganzoo.metrics, each against an independent reference.

References are written here from the definitions (closed forms, explicit
loops, scipy.linalg.sqrtm), not with the package's own helpers.
"""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from ganzoo import metrics
from ganzoo.metrics import (
    GRID25,
    RING8,
    StatisticsAccumulator,
    default_min_count,
    density_coverage,
    feature_statistics,
    fid_from_features,
    frechet_distance,
    grid_centers,
    inception_score,
    intra_class_fid,
    kernel_inception_distance,
    label_accuracy,
    manifold,
    mmd2_unbiased,
    mode_metrics,
    prdc,
    precision_recall,
    ring_centers,
)

# ---------------------------------------------------------------- references


def reference_fid_sqrtm(features1, features2):
    """FID as usually written: np.cov + scipy.linalg.sqrtm(sigma1 @ sigma2)."""
    mu1, mu2 = features1.mean(axis=0), features2.mean(axis=0)
    sigma1 = np.cov(features1, rowvar=False)
    sigma2 = np.cov(features2, rowvar=False)
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean).real


def reference_fid_nuclear(features1, features2):
    """FID for n < d: the nonzero eigenvalues of sigma1 sigma2 are the squared
    singular values of X1c X2c^T / sqrt((n1 - 1)(n2 - 1))."""
    x1 = features1 - features1.mean(axis=0)
    x2 = features2 - features2.mean(axis=0)
    n1, n2 = len(x1), len(x2)
    singular = np.linalg.svd(x1 @ x2.T, compute_uv=False)
    trace_sqrt = singular.sum() / math.sqrt((n1 - 1) * (n2 - 1))
    diff = features1.mean(axis=0) - features2.mean(axis=0)
    tr1 = (x1**2).sum() / (n1 - 1)
    tr2 = (x2**2).sum() / (n2 - 1)
    return diff @ diff + tr1 + tr2 - 2 * trace_sqrt


def brute_force_mmd2(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, by explicit loops."""
    d = x.shape[1]

    def kernel(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(kernel(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    xy = sum(kernel(x[i], y[j]) for i in range(m) for j in range(n))
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


def brute_force_knn_radius(points, k):
    """Distance from each point to its k-th nearest other point, by loops."""
    radii = []
    for i, p in enumerate(points):
        others = sorted(float(np.linalg.norm(p - q)) for j, q in enumerate(points) if j != i)
        radii.append(others[k - 1])
    return np.array(radii)


def brute_force_prdc(real, fake, k_pr, k_dc):
    """Precision/recall (<= radius) and density/coverage (< radius), by loops."""
    real_r_pr = brute_force_knn_radius(real, k_pr)
    fake_r_pr = brute_force_knn_radius(fake, k_pr)
    real_r_dc = brute_force_knn_radius(real, k_dc)

    def dist(a, b):
        return float(np.linalg.norm(a - b))

    precision = np.mean([any(dist(f, r) <= rr for r, rr in zip(real, real_r_pr)) for f in fake])
    recall = np.mean([any(dist(r, f) <= fr for f, fr in zip(fake, fake_r_pr)) for r in real])
    density = np.mean([sum(dist(f, r) < rr for r, rr in zip(real, real_r_dc)) for f in fake]) / k_dc
    coverage = np.mean([min(dist(r, f) for f in fake) < rr for r, rr in zip(real, real_r_dc)])
    return precision, recall, density, coverage


def correlated_features(rng, n, d, shift=0.0, scale=1.0, mixing=None):
    """Inception-like non-negative, correlated features relu(z @ W + noise).

    z has 256 latent dimensions (cheap to generate); the small isotropic
    noise makes the covariance full rank when n > d.
    """
    if mixing is None:
        mixing = rng.standard_normal((256, d)) / 16.0
    z = scale * rng.standard_normal((n, mixing.shape[0])) + shift
    return np.maximum(z @ mixing + 0.1 * rng.standard_normal((n, d)), 0.0)


# ----------------------------------------------------------------------- FID


def test_frechet_distance_matches_diagonal_closed_form():
    rng = np.random.default_rng(0)
    d = 32
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_matches_commuting_full_covariances():
    rng = np.random.default_rng(1)
    d = 64
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = rng.uniform(0.01, 5.0, d), rng.uniform(0.01, 5.0, d)
    sigma1, sigma2 = (q * a) @ q.T, (q * b) @ q.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(a + b - 2 * np.sqrt(a * b))
    got = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert got == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_univariate_gaussians():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
    got = frechet_distance([1.0], [[4.0]], [-2.0], [[0.25]])
    assert got == pytest.approx(9.0 + (2.0 - 0.5) ** 2, rel=1e-12)


def test_frechet_distance_is_zero_for_identical_and_symmetric():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 20))
    mu, sigma = np.mean(x, axis=0), np.cov(x, rowvar=False)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-10)
    y = rng.normal(size=(150, 20)) @ rng.normal(size=(20, 20))
    mu2, sigma2 = np.mean(y, axis=0), np.cov(y, rowvar=False)
    forward = frechet_distance(mu, sigma, mu2, sigma2)
    assert forward > 1.0
    assert frechet_distance(mu2, sigma2, mu, sigma) == pytest.approx(forward, rel=1e-10)


def test_frechet_distance_handles_zero_covariance():
    # Point masses: only the means differ, and the Cholesky path must fall back.
    zeros = np.zeros((3, 3))
    got = frechet_distance([0.0, 0.0, 0.0], zeros, [1.0, 2.0, 2.0], zeros)
    assert got == pytest.approx(9.0)
    got = frechet_distance(np.zeros(3), zeros, np.zeros(3), np.diag([1.0, 4.0, 9.0]))
    assert got == pytest.approx(14.0)


@pytest.mark.parametrize("d", [512, pytest.param(2048, marks=pytest.mark.slow)])
def test_fid_matches_scipy_sqrtm(d):
    # 2048 is Inception's width; scipy's sqrtm alone takes ~20 s there, so it runs by hand.
    rng = np.random.default_rng(3)
    mixing = rng.standard_normal((256, d)) / 16.0
    real = correlated_features(rng, 3000, d, mixing=mixing)
    fake = correlated_features(rng, 3000, d, shift=0.1, scale=0.9, mixing=mixing)
    got = fid_from_features(real, fake)
    expected = reference_fid_sqrtm(real, fake)
    assert isinstance(got, float)
    assert expected > 1.0
    assert abs(got - expected) / expected <= 1e-4


def test_fid_near_singular_2048d_matches_nuclear_norm_reference():
    # n < d: both covariances have rank n - 1, the Cholesky fast path fails.
    rng = np.random.default_rng(4)
    d = 2048
    mixing = rng.standard_normal((256, d)) / 16.0
    real = correlated_features(rng, 400, d, mixing=mixing)
    fake = correlated_features(rng, 300, d, shift=0.2, mixing=mixing)
    got = fid_from_features(real, fake)
    assert isinstance(got, float)
    assert math.isfinite(got)
    expected = reference_fid_nuclear(real, fake)
    assert got == pytest.approx(expected, rel=1e-6)


def test_fid_near_singular_matches_scipy_sqrtm():
    rng = np.random.default_rng(5)
    real = correlated_features(rng, 100, 256)
    fake = correlated_features(rng, 120, 256, shift=0.3)
    got = fid_from_features(real, fake)
    assert math.isfinite(got)
    assert got == pytest.approx(reference_fid_sqrtm(real, fake), rel=1e-5)


def test_fid_from_float32_features_matches_float64():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(500, 16)).astype(np.float32)
    fake = (rng.normal(size=(400, 16)) + 0.5).astype(np.float32)
    got = fid_from_features(real, fake)
    expected = reference_fid_sqrtm(real.astype(np.float64), fake.astype(np.float64))
    assert got == pytest.approx(expected, rel=1e-9)


def test_feature_statistics_matches_numpy():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5000, 8)) * 3 + 10
    mu, sigma = feature_statistics(x)
    assert mu.dtype == np.float64
    assert sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)


def test_statistics_accumulator_equals_one_shot():
    rng = np.random.default_rng(8)
    # Large common offset: a naive sum-of-squares would lose most digits.
    x = rng.normal(size=(1234, 12)) + 1e6
    accumulator = StatisticsAccumulator()
    for start, stop in [(0, 1), (1, 100), (100, 100), (100, 777), (777, 1234)]:
        accumulator.update(x[start:stop])
    mu, sigma, n = accumulator.result()
    assert n == 1234
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-8, atol=1e-9)


def test_statistics_accumulator_float32_batches():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    accumulator = StatisticsAccumulator()
    for batch in np.array_split(x, 7):
        accumulator.update(batch)
    mu, sigma, _ = accumulator.result()
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mu, x64.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sigma, np.cov(x64, rowvar=False), rtol=1e-12, atol=1e-15)


def test_statistics_accumulator_rejects_bad_use():
    accumulator = StatisticsAccumulator()
    with pytest.raises(ValueError, match="at least 2"):
        accumulator.result()
    accumulator.update(np.ones((3, 4)))
    with pytest.raises(ValueError, match="batch has 5 features"):
        accumulator.update(np.ones((3, 5)))


def test_fid_rejects_bad_input():
    good = np.ones((10, 4))
    with pytest.raises(ValueError, match=r"features1 must be a 2-D array.*got shape \(10,\)"):
        fid_from_features(np.ones(10), good)
    with pytest.raises(ValueError, match="features1 has 4 features but features2 has 3"):
        fid_from_features(good, np.ones((10, 3)))
    bad = good.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="features2 contains 1 non-finite"):
        fid_from_features(good, bad)
    with pytest.raises(ValueError, match="features1 has 1 sample"):
        fid_from_features(np.ones((1, 4)), good)
    with pytest.raises(ValueError, match=r"sigma2 has shape \(3, 3\)"):
        frechet_distance(np.zeros(4), np.eye(4), np.zeros(4), np.eye(3))
    with pytest.raises(ValueError, match="sigma1 is not positive semi-definite"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="sigma2 is not positive semi-definite"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -0.5]))
    with pytest.raises(ValueError, match="numeric array"):
        fid_from_features([["a", "b"], ["c", "d"]], good)


# ----------------------------------------------------------------------- KID


def test_kid_matches_brute_force_on_full_sets():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(40, 5))
    y = rng.normal(size=(40, 5)) * 1.3 + 0.4
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=40)
    assert mean == pytest.approx(brute_force_mmd2(x, y), rel=1e-10)
    assert std == 0.0
    # subset_size larger than the sets is capped, giving the same value.
    capped, _ = kernel_inception_distance(x, y, num_subsets=1, subset_size=1000)
    assert capped == pytest.approx(mean, rel=1e-12)
    # Unequal set sizes use m(m-1), n(n-1) and mn normalisers.
    assert mmd2_unbiased(x[:25], y) == pytest.approx(brute_force_mmd2(x[:25], y), rel=1e-10)


def test_kid_near_zero_for_same_distribution_and_positive_for_shift():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1000, 16))
    same = rng.normal(size=(1000, 16))
    shifted = rng.normal(size=(1000, 16)) + 0.5
    mean_same, std_same = kernel_inception_distance(x, same, num_subsets=20, subset_size=200)
    mean_shift, std_shift = kernel_inception_distance(x, shifted, num_subsets=20, subset_size=200)
    assert abs(mean_same) < 0.01
    assert mean_shift > 0.05
    assert mean_shift > 10 * max(abs(mean_same), std_same)
    assert std_same > 0.0
    assert std_shift > 0.0


def test_kid_is_reproducible_for_a_seed():
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=(250, 4)) + 0.2
    first = kernel_inception_distance(x, y, num_subsets=5, subset_size=100, seed=3)
    second = kernel_inception_distance(x, y, num_subsets=5, subset_size=100, seed=3)
    other = kernel_inception_distance(x, y, num_subsets=5, subset_size=100, seed=4)
    assert first == second
    assert first != other


def test_kid_rejects_bad_input():
    x = np.ones((10, 3))
    with pytest.raises(ValueError, match="num_subsets must be an integer >= 1; got 0"):
        kernel_inception_distance(x, x, num_subsets=0)
    with pytest.raises(ValueError, match="subset_size must be an integer >= 2"):
        kernel_inception_distance(x, x, subset_size=1.5)
    with pytest.raises(ValueError, match="features1 has 3 features but features2 has 2"):
        kernel_inception_distance(x, np.ones((10, 2)))


# ------------------------------------------------------------ Inception Score


def test_inception_score_equals_num_classes_for_confident_balanced_predictions():
    num_classes = 10
    probs = np.tile(np.eye(num_classes), (50, 1))  # every split is balanced
    mean, std = inception_score(probs, num_splits=10)
    assert mean == pytest.approx(num_classes, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_is_one_for_single_class_or_uniform_predictions():
    one_class = np.zeros((100, 7))
    one_class[:, 3] = 1.0
    assert inception_score(one_class, num_splits=4)[0] == pytest.approx(1.0)
    uniform = np.full((100, 7), 1.0 / 7)
    assert inception_score(uniform, num_splits=4)[0] == pytest.approx(1.0)


def test_inception_score_matches_direct_formula():
    rng = np.random.default_rng(13)
    probs = rng.dirichlet(np.full(6, 0.3), size=103)
    num_splits = 4
    scores = []
    for i in range(num_splits):
        part = probs[i * 103 // num_splits : (i + 1) * 103 // num_splits]
        marginal = part.mean(axis=0)
        kls = [sum(p * math.log(p / q) for p, q in zip(row, marginal) if p > 0) for row in part]
        scores.append(math.exp(np.mean(kls)))
    mean, std = inception_score(probs, num_splits=num_splits)
    assert mean == pytest.approx(np.mean(scores), rel=1e-10)
    assert std == pytest.approx(np.std(scores), rel=1e-8)
    assert 1.0 < mean < 6.0


def test_inception_score_rejects_bad_input():
    with pytest.raises(ValueError, match="negative entry.*not logits"):
        inception_score(np.array([[2.0, -1.0], [0.5, 0.5]]), num_splits=1)
    with pytest.raises(ValueError, match="rows must sum to 1"):
        inception_score(np.full((4, 3), 0.5), num_splits=1)
    with pytest.raises(ValueError, match="4 sample.*num_splits is 10"):
        inception_score(np.full((4, 2), 0.5), num_splits=10)
    with pytest.raises(ValueError, match=r"probs must be a 2-D array"):
        inception_score(np.full(4, 0.25), num_splits=1)


# -------------------------------------------------------- precision / recall


def test_prdc_matches_brute_force():
    rng = np.random.default_rng(14)
    real = rng.normal(size=(60, 4))
    fake = rng.normal(size=(50, 4)) * 1.2 + 0.5
    expected = brute_force_prdc(real, fake, k_pr=3, k_dc=5)
    assert precision_recall(real, fake, k=3) == pytest.approx(expected[:2], abs=1e-12)
    assert density_coverage(real, fake, k=5) == pytest.approx(expected[2:], abs=1e-12)
    combined = prdc(real, fake, nearest_k_pr=3, nearest_k_dc=5)
    assert [combined[key] for key in ("precision", "recall", "density", "coverage")] == (
        pytest.approx(list(expected), abs=1e-12)
    )
    # The answers are not trivial: the sets overlap only partly.
    assert 0.0 < expected[0] < 1.0
    assert 0.0 < expected[1] < 1.0
    assert 0.0 < expected[3] < 1.0


def test_prdc_blocks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(15)
    real = rng.normal(size=(45, 3))
    fake = rng.normal(size=(38, 3)) + 0.3
    whole = prdc(real, fake)
    monkeypatch.setattr(manifold, "_BLOCK_ROWS", 7)
    assert prdc(real, fake) == whole
    assert precision_recall(real, fake) == (whole["precision"], whole["recall"])
    assert density_coverage(real, fake) == (whole["density"], whole["coverage"])


def test_prdc_known_answers():
    rng = np.random.default_rng(16)
    real = rng.normal(size=(80, 6))
    precision, recall = precision_recall(real, real.copy(), k=3)
    density, coverage = density_coverage(real, real.copy(), k=5)
    assert (precision, recall, coverage) == (1.0, 1.0, 1.0)
    assert density > 0.5
    far = real + 1000.0
    assert precision_recall(real, far, k=3) == (0.0, 0.0)
    assert density_coverage(real, far, k=5) == (0.0, 0.0)


def test_prdc_tie_conventions():
    # Integer points make the tie exact: the fake point lies at distance 1,
    # exactly the 1-NN radius of real point 9. P&R count it (<=), D&C not (<).
    real = np.stack([np.arange(10.0), np.zeros(10)], axis=1)
    fake = np.array([[10.0, 0.0], [10.0, 100.0]])
    assert precision_recall(real, fake, k=1)[0] == 0.5
    assert density_coverage(real, fake, k=1) == (0.0, 0.0)
    combined = prdc(real, fake, nearest_k_pr=1, nearest_k_dc=1)
    assert (combined["precision"], combined["density"], combined["coverage"]) == (
        0.5,
        0.0,
        0.0,
    )


def test_knn_radius_excludes_self_but_keeps_duplicates():
    # Two copies of each point: the 1st neighbour is the duplicate (distance 0).
    points = np.repeat(np.arange(10.0)[:, None], 2, axis=0)
    radii = manifold.knn_radii_squared(points, 1)
    np.testing.assert_array_equal(radii, np.zeros(20))
    radii = manifold.knn_radii_squared(points, 2)
    np.testing.assert_array_equal(radii, np.ones(20))


def test_prdc_rejects_bad_input():
    real, fake = np.zeros((5, 2)), np.ones((4, 2))
    with pytest.raises(ValueError, match="fake has 4 sample.*k=5"):
        precision_recall(np.zeros((10, 2)), fake, k=5)
    with pytest.raises(ValueError, match="real has 5 sample.*k=5"):
        density_coverage(real, np.ones((10, 2)), k=5)
    with pytest.raises(ValueError, match="k must be an integer >= 1; got 0"):
        precision_recall(real, fake, k=0)
    with pytest.raises(ValueError, match="real has 2 features but fake has 3"):
        prdc(real, np.ones((10, 3)))
    bad = np.zeros((10, 2))
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="real contains 1 non-finite"):
        density_coverage(bad, np.ones((10, 2)))


# --------------------------------------------------------------- conditional


def test_intra_class_fid_on_constructed_classes():
    rng = np.random.default_rng(17)
    labels = np.repeat(np.arange(3), 100)
    real = rng.normal(size=(300, 4)) + labels[:, None] * 5.0
    order = rng.permutation(300)
    fake, fake_labels = real[order].copy(), labels[order]
    shift = np.array([1.0, -2.0, 0.0, 2.0])  # ||shift||^2 = 9
    fake[fake_labels == 1] += shift
    mean, per_class = intra_class_fid(real, labels, fake, fake_labels)
    assert sorted(per_class) == [0, 1, 2]
    assert per_class[0] == pytest.approx(0.0, abs=1e-9)
    assert per_class[2] == pytest.approx(0.0, abs=1e-9)
    assert per_class[1] == pytest.approx(9.0, rel=1e-9)
    assert mean == pytest.approx(3.0, rel=1e-9)


def test_intra_class_fid_rejects_missing_class():
    real, labels = np.ones((6, 2)) * np.arange(6)[:, None], np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="class 1 has 1 fake sample"):
        intra_class_fid(real, labels, real[:4], np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="real_labels has 5 labels but there are 6"):
        intra_class_fid(real, labels[:5], real, labels)


def test_label_accuracy_on_constructed_predictions():
    logits = np.array(
        [[5.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 3.0], [4.0, 0.0, 0.0], [0, 9, 0]]
    )
    labels = np.array([0, 1, 2, 2, 1])
    assert label_accuracy(logits, labels) == pytest.approx(0.8)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert label_accuracy(probs, labels) == pytest.approx(0.8)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        label_accuracy(logits, np.array([0, 1, 2, 3, 1]))
    with pytest.raises(ValueError, match="integer class labels"):
        label_accuracy(logits, np.array([0.5, 1, 2, 2, 1]))


# --------------------------------------------------------------------- modes


def test_benchmark_constants():
    expected_grid = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in GRID25.centers.tolist()} == expected_grid
    assert GRID25.std == 0.05
    assert RING8.std == 0.02
    np.testing.assert_allclose(np.linalg.norm(RING8.centers, axis=1), 2.0)
    np.testing.assert_allclose(RING8.centers[0], [2.0, 0.0])
    np.testing.assert_allclose(RING8.centers[2], [0.0, 2.0], atol=1e-15)
    np.testing.assert_array_equal(ring_centers(), RING8.centers)
    np.testing.assert_array_equal(grid_centers(), GRID25.centers)
    with pytest.raises(ValueError, match="read-only"):
        GRID25.centers[0, 0] = 1.0


def test_mode_metrics_samples_on_five_of_25_centres():
    centers, std = GRID25
    samples = np.repeat(centers[[0, 6, 12, 18, 24]], 100, axis=0)
    result = mode_metrics(samples, centers, std)
    assert result["num_modes"] == 25
    assert result["modes_covered"] == 5
    assert result["high_quality"] == 1.0
    assert result["reverse_kl"] == pytest.approx(math.log(25 / 5), rel=1e-12)
    assert result["counts"].tolist() == [100 if i in (0, 6, 12, 18, 24) else 0 for i in range(25)]
    assert result["min_count"] == 4  # 20 * 500 / 2500


def test_mode_metrics_far_samples_have_no_quality():
    centers, std = GRID25
    samples = np.full((50, 2), 1.0)  # between modes: distance sqrt(2) >> 0.15
    result = mode_metrics(samples, centers, std)
    assert result["high_quality"] == 0.0
    assert result["modes_covered"] == 0
    assert result["reverse_kl"] == pytest.approx(math.log(25))


def test_mode_metrics_on_sampled_mixtures():
    rng = np.random.default_rng(18)
    centers, std = RING8
    which = np.repeat(np.arange(8), 2500)
    samples = centers[which] + std * rng.normal(size=(20000, 2))
    result = mode_metrics(samples, centers, std)
    # 2-D isotropic Gaussian: P(radius <= 3 std) = 1 - exp(-9 / 2).
    assert result["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.003)
    assert result["modes_covered"] == 8
    assert 0.0 <= result["reverse_kl"] < 1e-3
    # Collapsing onto 2 of 8 modes.
    collapsed = mode_metrics(samples[which < 2], centers, std)
    assert collapsed["modes_covered"] == 2
    assert collapsed["reverse_kl"] == pytest.approx(math.log(4), abs=1e-3)


def test_mode_metrics_three_std_boundary_and_min_count():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.29, 0.0]] * 25 + [[0.31, 0.0]] * 5 + [[10.0, 0.2]] * 10)
    result = mode_metrics(samples, centers, std=0.1, min_count=20)
    assert result["counts"].tolist() == [25, 10]
    assert result["high_quality"] == pytest.approx(35 / 40)
    assert result["modes_covered"] == 1
    p = np.array([25, 10]) / 35
    assert result["reverse_kl"] == pytest.approx(float(np.sum(p * np.log(2 * p))))


def test_default_min_count_scales_pacgan_rule():
    assert default_min_count(2500) == 20
    assert default_min_count(10000) == 80
    assert default_min_count(100) == 1
    assert default_min_count(1) == 1


def test_mode_metrics_rejects_bad_input():
    centers, std = GRID25
    with pytest.raises(ValueError, match="samples have 3 coordinates but centers have 2"):
        mode_metrics(np.zeros((5, 3)), centers, std)
    with pytest.raises(ValueError, match="std must be a finite number > 0; got 0"):
        mode_metrics(np.zeros((5, 2)), centers, 0)
    with pytest.raises(ValueError, match="min_count must be an integer >= 1"):
        mode_metrics(np.zeros((5, 2)), centers, std, min_count=0)
    with pytest.raises(ValueError, match="samples contains 1 non-finite"):
        mode_metrics(np.array([[0.0, np.nan]]), centers, std)


# ------------------------------------------------------------------- package


def test_metrics_package_does_not_import_tensorflow_or_keras():
    package_dir = Path(metrics.__file__).parent
    imported = set()
    for path in package_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert imported <= {"numpy", "scipy", "numbers", "typing", "ganzoo"}
    assert {"numpy", "scipy"} <= imported
