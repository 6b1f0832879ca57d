"""Metrics for class-conditional generators.

References:
    Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018
    (intra-class FID).
    Odena et al., "Conditional Image Synthesis with Auxiliary Classifier
    GANs", ICML 2017 (accuracy of a classifier on generated samples).
"""

import numpy as np

from ganzoo.metrics._validation import (
    as_feature_matrix,
    as_label_vector,
    check_same_dim,
)
from ganzoo.metrics.fid import feature_statistics, frechet_distance


def intra_class_fid(real_features, real_labels, fake_features, fake_labels):
    """Intra-class FID: FID between real and fake features of each class.

    The classes are those present in ``real_labels`` or ``fake_labels``;
    every one needs at least 2 samples in both sets.

    Args:
        real_features: array of shape (n_real, d).
        real_labels: integer labels of shape (n_real,).
        fake_features: array of shape (n_fake, d).
        fake_labels: integer labels (the conditioning labels) of shape (n_fake,).

    Returns:
        (mean, per_class): the unweighted mean over classes of the per-class
        FIDs, and a dict {class label (int): FID (float)}.
    """
    real_features = as_feature_matrix(real_features, "real_features", dtype=None)
    fake_features = as_feature_matrix(fake_features, "fake_features", dtype=None)
    check_same_dim(real_features, fake_features, "real_features", "fake_features")
    real_labels = as_label_vector(real_labels, "real_labels", real_features.shape[0])
    fake_labels = as_label_vector(fake_labels, "fake_labels", fake_features.shape[0])
    per_class = {}
    for label in np.union1d(real_labels, fake_labels):
        real_rows = real_labels == label
        fake_rows = fake_labels == label
        for name, rows in (("real", real_rows), ("fake", fake_rows)):
            count = int(rows.sum())
            if count < 2:
                raise ValueError(
                    f"class {int(label)} has {count} {name} sample(s); "
                    "intra-class FID needs at least 2 per class in both sets"
                )
        per_class[int(label)] = frechet_distance(
            *feature_statistics(real_features[real_rows]),
            *feature_statistics(fake_features[fake_rows]),
        )
    return float(np.mean(list(per_class.values()))), per_class


def label_accuracy(probs_or_logits, labels):
    """Share of samples whose arg-max class equals the label.

    Args:
        probs_or_logits: classifier outputs of shape (n, num_classes);
            probabilities or logits give the same arg-max.
        labels: integer labels in [0, num_classes) of shape (n,).

    Returns:
        Accuracy as a Python float in [0, 1].
    """
    scores = as_feature_matrix(probs_or_logits, "probs_or_logits", dtype=None)
    labels = as_label_vector(labels, "labels", scores.shape[0])
    num_classes = scores.shape[1]
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes}) for {num_classes} classes; "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    return float(np.mean(np.argmax(scores, axis=1) == labels))
