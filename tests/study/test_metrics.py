"""The stored metrics equal scikit-learn's, computed from one confusion matrix per fold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from harness.study.metrics import (
    HEADLINE_METRICS,
    METRICS,
    compute_metric,
    score_predictions,
    task_metrics,
)


def _sklearn(y, pred, proba, labels):
    def auc():
        if len(labels) == 2:
            return skm.roc_auc_score(y == labels[1], proba[:, 1])
        return skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)

    averaged = {
        f"{name}_{average}": func(y, pred, labels=labels, average=average, zero_division=0)
        for name, func in (
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        )
        for average in ("macro", "weighted")
    }
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        **averaged,
        "log_loss": skm.log_loss(y, proba, labels=labels),
        "roc_auc_ovr": auc(),
    }


@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_every_metric_equals_scikit_learns(n_classes, seed):
    rng = np.random.default_rng(seed)
    labels = np.array([10, 20, 30, 40][:n_classes])
    y = labels[rng.integers(0, n_classes, 60)]
    proba = rng.dirichlet(np.ones(n_classes), 60)
    proba[:3] = np.eye(n_classes)[0]  # exact 0 and 1 probabilities: the log-loss clipping
    proba[3:6] = 1.0 / n_classes  # ties: mid-ranks in the AUC
    pred = labels[proba.argmax(axis=1)]
    if seed % 2:  # a class never predicted: zero-division cases
        pred[pred == labels[-1]] = labels[0]
    ours = score_predictions(y, pred, proba, labels)
    expected = _sklearn(y, pred, proba, labels)
    assert set(ours) == set(task_metrics("classification")) == set(expected)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name


def test_a_class_missing_from_the_fold_makes_auc_nan_and_the_rest_defined():
    labels = np.array([0, 1, 2])
    y = np.array([0, 1, 0, 1, 0, 1])
    proba = np.tile([0.5, 0.3, 0.2], (6, 1))
    scores = score_predictions(y, np.zeros(6, dtype=int), proba, labels)
    assert np.isnan(scores["roc_auc_ovr"])
    assert scores["accuracy"] == 0.5
    assert scores["balanced_accuracy"] == pytest.approx(0.5)  # over the classes present
    # One metric alone (a bootstrap resample of the held-out rows) behaves the same.
    assert np.isnan(compute_metric("roc_auc_ovr", y, np.zeros(6, dtype=int), proba, labels))


def test_headline_metrics_are_a_subset_in_registry_order():
    assert list(HEADLINE_METRICS) == [m for m in METRICS if m in HEADLINE_METRICS]
    assert "f1_macro" in HEADLINE_METRICS and "f1_weighted" not in HEADLINE_METRICS
