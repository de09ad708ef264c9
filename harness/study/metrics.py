"""The metrics stored for every fold, and how to compute them from predictions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from harness.errors import ConfigError, choose


@dataclass(frozen=True)
class Metric:
    """One evaluation metric.

    Parameters
    ----------
    name : str
        Name used on the command line and in the ledger.
    compute : callable
        ``compute(counts, y_true, y_pred, proba, labels) -> float``, where ``counts``
        holds the fold's confusion counts (shared by the label-based metrics).
    greater_is_better : bool
        Direction of the objective when this metric is optimised.
    headline : bool
        Shown in held-out tables, the console summary and the notebook; every
        metric is stored for every fold either way.
    task : {"classification", "regression"}
        What the metric scores. A regression metric's ``compute`` is
        ``compute(y_true, y_pred) -> float``. Errors are stored negated
        (``neg_rmse``), so every regression metric is greater-is-better and a
        regression study maximises like every other.
    """

    name: str
    compute: Callable[..., float]
    greater_is_better: bool = True
    headline: bool = True
    task: str = "classification"


class _Counts:
    """The confusion counts of one fold, computed once for every label-based metric.

    The metrics below equal scikit-learn's (``zero_division=0``, macro and weighted
    averages over ``labels``; ``tests/study/test_metrics.py`` checks them against it), at a
    fraction of the cost: scikit-learn validates its inputs on every call, which cost
    more than training a small network's fold.
    """

    def __init__(self, y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> None:
        n = len(labels)
        true = np.searchsorted(labels, y_true)
        pred = np.searchsorted(labels, y_pred)
        known = (true < n) & (pred < n)
        known[known] &= (labels[true[known]] == y_true[known]) & (
            labels[pred[known]] == y_pred[known]
        )
        self.confusion = (
            np.bincount(true[known] * n + pred[known], minlength=n * n).reshape(n, n).astype(float)
        )
        self.tp = np.diag(self.confusion)
        self.support = self.confusion.sum(axis=1)
        self.predicted = self.confusion.sum(axis=0)
        self.n = len(y_true)

    def precision(self) -> np.ndarray:
        return _ratio(self.tp, self.predicted)

    def recall(self) -> np.ndarray:
        return _ratio(self.tp, self.support)

    def f1(self) -> np.ndarray:
        return _ratio(2 * self.tp, self.support + self.predicted)


def _positions(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of each value in the sorted ``labels``, -1 where it is not one of them."""
    index = np.minimum(np.searchsorted(labels, values), len(labels) - 1)
    return np.where(labels[index] == values, index, -1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _average(per_class: np.ndarray, counts: _Counts, average: str) -> float:
    if average == "macro":
        return float(per_class.mean())
    total = counts.support.sum()
    return float((per_class * counts.support).sum() / total) if total > 0 else 0.0


def _accuracy(counts: _Counts, y_true, y_pred, proba, labels) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _balanced_accuracy(counts: _Counts, y_true, y_pred, proba, labels) -> float:
    present = counts.support > 0
    return float(np.mean(counts.tp[present] / counts.support[present]))


def _averaged(kind: str, average: str) -> Callable[..., float]:
    def compute(counts: _Counts, y_true, y_pred, proba, labels) -> float:
        return _average(getattr(counts, kind)(), counts, average)

    return compute


def _log_loss(counts: _Counts, y_true, y_pred, proba, labels) -> float:
    eps = np.finfo(proba.dtype).eps
    columns = np.searchsorted(labels, y_true)
    p_true = np.clip(proba[np.arange(len(columns)), columns], eps, 1 - eps)
    return float(-np.mean(np.log(p_true)))


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic with mid-ranks (equal to the trapezoidal AUC)."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC is undefined when a fold has only one class")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _roc_auc(counts: _Counts, y_true, y_pred, proba, labels) -> float:
    y_true = np.asarray(y_true)
    if len(labels) == 2:
        return _binary_auc(y_true == labels[1], proba[:, 1])
    return float(
        np.mean([_binary_auc(y_true == label, proba[:, k]) for k, label in enumerate(labels)])
    )


def _neg_mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.mean((y_true - y_pred) ** 2))


def _neg_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _neg_mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.mean(np.abs(y_true - y_pred)))


def _r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # As scikit-learn's r2_score: 1.0 for a perfect fit of a constant truth, else 0.0.
    residual = float(np.sum((y_true - y_pred) ** 2))
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("accuracy", _accuracy),
        Metric("balanced_accuracy", _balanced_accuracy),
        Metric("precision_macro", _averaged("precision", "macro")),
        Metric("recall_macro", _averaged("recall", "macro")),
        Metric("f1_macro", _averaged("f1", "macro")),
        Metric("precision_weighted", _averaged("precision", "weighted"), headline=False),
        Metric("recall_weighted", _averaged("recall", "weighted"), headline=False),
        Metric("f1_weighted", _averaged("f1", "weighted"), headline=False),
        Metric("log_loss", _log_loss, greater_is_better=False),
        Metric("roc_auc_ovr", _roc_auc),
        Metric("neg_rmse", _neg_rmse, task="regression"),
        Metric("neg_mae", _neg_mae, task="regression"),
        Metric("neg_mse", _neg_mse, task="regression"),
        Metric("r2", _r2, task="regression"),
    )
}
"""Every metric, by name: those of the dataset's task are stored for every fold of every trial."""


def task_metrics(task: str) -> tuple[str, ...]:
    """The names of the metrics of ``task`` (``"classification"`` or ``"regression"``)."""
    return tuple(name for name, m in METRICS.items() if m.task == task)


def headline_metrics(task: str = "classification") -> tuple[str, ...]:
    """The metrics of ``task`` shown in held-out tables, the console summary and the notebook."""
    return tuple(name for name in task_metrics(task) if METRICS[name].headline)


def task_of(names: Iterable[str]) -> str:
    """The task whose metrics ``names`` (stored scores' keys) are: regression when any is one."""
    regression = any(METRICS[n].task == "regression" for n in names if n in METRICS)
    return "regression" if regression else "classification"


HEADLINE_METRICS: tuple[str, ...] = headline_metrics("classification")
"""The classification metrics shown in held-out tables, the console summary and the notebook."""

DEFAULT_METRIC = "f1_macro"
DEFAULT_METRICS = {"classification": DEFAULT_METRIC, "regression": "neg_rmse"}
"""Each task's default objective: macro F1, and the RMSE (negated) for regression."""


def default_metric(task: str = "classification") -> str:
    """The default objective metric of ``task``."""
    return DEFAULT_METRICS[task]


def get_metric(name: str, task: str | None = None) -> Metric:
    """Return the metric called ``name`` or raise a :class:`ConfigError` listing valid names.

    With ``task``, the metric must also be one of that task's.
    """
    metric = choose(name, METRICS, "metric")
    if task is not None and metric.task != task:
        raise ConfigError(
            f"metric {name!r} scores {metric.task}, but this task is {task}: use one of "
            f"{', '.join(task_metrics(task))} (default {default_metric(task)})"
        )
    return metric


def compute_metric(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, labels: np.ndarray
) -> float:
    """One metric of :data:`METRICS` from predictions (see :func:`score_predictions`).

    A regression metric reads ``y_true`` and ``y_pred`` only. A metric that is
    undefined on these rows (ROC-AUC when they lack a class, as a bootstrap
    resample of a small test set may) is NaN, as in :func:`score_predictions`.
    """
    if METRICS[name].task == "regression":
        return float(METRICS[name].compute(np.asarray(y_true, float), np.asarray(y_pred, float)))
    y_true, y_pred, labels = np.asarray(y_true), np.asarray(y_pred), np.asarray(labels)
    counts = _Counts(y_true, y_pred, labels)
    try:
        return float(
            METRICS[name].compute(counts, y_true, y_pred, np.asarray(proba, float), labels)
        )
    except ValueError:
        return float("nan")


def score_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """Compute every classification metric in :data:`METRICS`.

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
    y_true, y_pred, labels = np.asarray(y_true), np.asarray(y_pred), np.asarray(labels)
    proba = np.asarray(proba, dtype=float)
    counts = _Counts(y_true, y_pred, labels)
    scores = {}
    for name in task_metrics("classification"):
        metric = METRICS[name]
        try:
            scores[name] = float(metric.compute(counts, y_true, y_pred, proba, labels))
        except ValueError:
            scores[name] = float("nan")
    return scores


def score_regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Compute every regression metric in :data:`METRICS`.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    dict
        ``{metric name: score}``; errors negated (``neg_rmse``, ...), so greater is better.
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    names = task_metrics("regression")
    return {name: float(METRICS[name].compute(y_true, y_pred)) for name in names}
