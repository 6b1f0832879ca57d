"""Evaluation: feature extractors, the shipped classifiers and scoring.

Pure metric functions live in `ganzoo.metrics`; this package feeds them
features of generated and real examples.
"""

from ganzoo.evaluation import features
from ganzoo.evaluation.scoring import (
    ALL_METRICS,
    CONDITIONAL_METRICS,
    IMAGE_METRICS,
    MAX_REAL,
    MAX_SAMPLES,
    MIN_SAMPLES,
    POINT_METRICS,
    RealSampler,
    check_num_samples,
    evaluate,
    format_table,
    real_features,
    score,
    scorer_for,
)

__all__ = [
    "ALL_METRICS", "CONDITIONAL_METRICS", "IMAGE_METRICS", "MAX_REAL", "MAX_SAMPLES", "MIN_SAMPLES", "POINT_METRICS",
    "RealSampler", "check_num_samples", "evaluate", "features", "format_table", "real_features", "score", "scorer_for",
]
