"""The metrics stored for every fold, and how to compute them from predictions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from harness.errors import ConfigError


@dataclass(frozen=True)
class Metric:
    """One evaluation metric.

    Parameters
    ----------
    name : str
        Name used on the command line and in the ledger.
    compute : callable
        ``compute(y_true, y_pred, proba, labels) -> float``.
    greater_is_better : bool
        Direction of the objective when this metric is optimised.
    headline : bool
        Shown in held-out tables, the console summary and the notebook; every
        metric is stored for every fold either way.
    """

    name: str
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]
    greater_is_better: bool = True
    headline: bool = True


def _roc_auc(y_true: np.ndarray, proba: np.ndarray, labels: np.ndarray) -> float:
    if len(labels) == 2:
        return skm.roc_auc_score(y_true == labels[1], proba[:, 1])
    return skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)


def _averaged(func: Callable[..., float], average: str) -> Callable[..., float]:
    def compute(y_true, y_pred, proba, labels):
        return func(y_true, y_pred, labels=labels, average=average, zero_division=0)

    return compute


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("accuracy", lambda y, p, proba, labels: skm.accuracy_score(y, p)),
        Metric("balanced_accuracy", lambda y, p, proba, labels: skm.balanced_accuracy_score(y, p)),
        Metric("precision_macro", _averaged(skm.precision_score, "macro")),
        Metric("recall_macro", _averaged(skm.recall_score, "macro")),
        Metric("f1_macro", _averaged(skm.f1_score, "macro")),
        Metric("precision_weighted", _averaged(skm.precision_score, "weighted"), headline=False),
        Metric("recall_weighted", _averaged(skm.recall_score, "weighted"), headline=False),
        Metric("f1_weighted", _averaged(skm.f1_score, "weighted"), headline=False),
        Metric(
            "log_loss",
            lambda y, p, proba, labels: skm.log_loss(y, proba, labels=labels),
            greater_is_better=False,
        ),
        Metric("roc_auc_ovr", lambda y, p, proba, labels: _roc_auc(y, proba, labels)),
    )
}
"""Every metric, by name: computed and stored for every fold of every trial."""

HEADLINE_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.headline)
"""The metrics shown in held-out tables, the console summary and the notebook."""

DEFAULT_METRIC = "f1_macro"


def get_metric(name: str) -> Metric:
    """Return the metric called ``name`` or raise a :class:`ConfigError` listing valid names."""
    try:
        return METRICS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}") from None


def score_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """Compute every metric in :data:`METRICS`.

    A metric that is undefined on this fold (ROC-AUC when the fold lacks a
    class) is NaN rather than an error.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,)
        True and predicted labels.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities, columns in the order of ``labels``.
    labels : ndarray of shape (n_classes,)
        All classes of the task.

    Returns
    -------
    dict
        ``{metric name: score}``.
    """
    scores = {}
    for name, metric in METRICS.items():
        try:
            scores[name] = float(metric.compute(y_true, y_pred, proba, labels))
        except ValueError:
            scores[name] = float("nan")
    return scores
