"""Inception Score.

Reference: Salimans et al., "Improved Techniques for Training GANs",
NeurIPS 2016.
"""

import numpy as np
from scipy.special import xlogy

from ganzoo.metrics._validation import as_float_array, check_positive_int

# Rows of ``probs`` may miss summing to 1 by this much (float32 softmax).
_ROW_SUM_TOLERANCE = 1e-3


def inception_score(probs, num_splits=10):
    """Inception Score exp(E_x KL(p(y|x) || p(y))), computed per split.

    The samples are cut into ``num_splits`` contiguous splits (split i holds
    rows [i*n//num_splits, (i+1)*n//num_splits)); p(y) is the mean
    prediction of the split. 0 log 0 is taken as 0.

    Args:
        probs: class probabilities of shape (num_samples, num_classes); rows
            must be non-negative and sum to 1 (softmax outputs, not logits).
        num_splits: number of splits, 1 <= num_splits <= num_samples.

    Returns:
        (mean, std): mean and population standard deviation (ddof=0) of the
        per-split scores, as Python floats. The score lies in
        [1, num_classes].
    """
    probs = as_float_array(probs, "probs", ndim=2)
    num_splits = check_positive_int(num_splits, "num_splits")
    num_samples = probs.shape[0]
    if num_samples < num_splits:
        raise ValueError(
            f"probs has {num_samples} sample(s) but num_splits is {num_splits}; "
            "at least one sample per split is needed"
        )
    if probs.min() < 0.0:
        raise ValueError(
            f"probs has a negative entry ({probs.min():.3g}); "
            "probabilities (softmax outputs) are needed, not logits"
        )
    worst = float(np.abs(probs.sum(axis=1) - 1.0).max())
    if worst > _ROW_SUM_TOLERANCE:
        raise ValueError(
            f"probs rows must sum to 1 (within {_ROW_SUM_TOLERANCE}); the worst row "
            f"is off by {worst:.3g}: pass softmax outputs, not logits"
        )
    scores = np.empty(num_splits, dtype=np.float64)
    for i in range(num_splits):
        part = probs[i * num_samples // num_splits : (i + 1) * num_samples // num_splits]
        marginal = part.mean(axis=0, keepdims=True)
        kl = (xlogy(part, part) - xlogy(part, marginal)).sum(axis=1)
        scores[i] = np.exp(kl.mean())
    return float(scores.mean()), float(scores.std())
