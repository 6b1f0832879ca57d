"""Evaluation metrics for generative models: pure NumPy/SciPy, float64.

The functions take feature arrays (e.g. Inception activations or classifier
probabilities) or samples; extracting features is left to the caller, so
this package imports no TensorFlow or Keras.
"""

from ganzoo.metrics.conditional import intra_class_fid, label_accuracy
from ganzoo.metrics.fid import (
    StatisticsAccumulator,
    feature_statistics,
    fid_from_features,
    fid_note,
    frechet_distance,
)
from ganzoo.metrics.inception import inception_score
from ganzoo.metrics.kid import (
    kernel_inception_distance,
    mmd2_unbiased,
)
from ganzoo.metrics.manifold import density_coverage, prdc, precision_recall
from ganzoo.metrics.modes import (
    GRID25,
    RING8,
    MixtureModes,
    default_min_count,
    grid_centers,
    mode_metrics,
    ring_centers,
)

__all__ = [
    "GRID25",
    "RING8",
    "MixtureModes",
    "StatisticsAccumulator",
    "default_min_count",
    "density_coverage",
    "feature_statistics",
    "fid_from_features",
    "fid_note",
    "frechet_distance",
    "grid_centers",
    "inception_score",
    "intra_class_fid",
    "kernel_inception_distance",
    "label_accuracy",
    "mmd2_unbiased",
    "mode_metrics",
    "prdc",
    "precision_recall",
    "ring_centers",
]
