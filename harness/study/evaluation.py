"""Evaluating one configuration: the same folds for everyone, every metric per fold.

:func:`evaluate_config` is the one entry point from a configuration and the
folds to per-fold results. The study loop, the held-out evaluation and any
future trainer (for example one that trains all folds as one batched network)
meet here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from harness.data.datasets import Dataset, check_class_counts
from harness.model.pipeline import build_pipeline
from harness.study.guards import TrialGuard
from harness.study.metrics import score_predictions

Fold = tuple[np.ndarray, np.ndarray]


def make_folds(y: Sequence[Any], n_folds: int, seed: int, repeats: int = 1) -> list[Fold]:
    """Return stratified folds that depend on the labels and the seed only.

    Every strategy of a comparison gets the same folds, which makes their
    scores comparable trial by trial.

    Parameters
    ----------
    y : sequence
        The labels of the search rows.
    n_folds : int
        Folds per repeat.
    seed : int
        The task seed.
    repeats : int, default=1
        Repeated stratified K-fold: ``repeats`` differently shuffled K-fold
        splits, ``n_folds * repeats`` folds in all, first repeat first. It cuts
        the noise of the CV estimate at ``repeats`` times the training cost.

    Raises
    ------
    DataError
        If a class has fewer rows than ``n_folds``.
    """
    y = np.asarray(y)
    check_class_counts(y, n_folds)
    if repeats == 1:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        splitter = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=repeats, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


@dataclass
class FoldResult:
    """Scores and timings of one fold."""

    scores: dict[str, float]
    fit_seconds: float
    predict_seconds: float


@dataclass
class Evaluation:
    """Per-fold results of one configuration."""

    folds: list[FoldResult] = field(default_factory=list)

    def fold_scores(self) -> dict[str, list[float]]:
        """Return ``{metric: [score per fold]}``."""
        if not self.folds:
            return {}
        return {name: [f.scores[name] for f in self.folds] for name in self.folds[0].scores}

    def mean(self, metric: str) -> float:
        """Return the mean of ``metric`` over the folds."""
        return float(np.mean([f.scores[metric] for f in self.folds]))


def fit_and_score(model, X_train, y_train, X_test, y_test) -> FoldResult:
    """Fit ``model`` on the training rows and score it on the test rows."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fitted = time.perf_counter()
    proba = model.predict_proba(X_test)
    classes = model.classes_
    y_pred = classes[np.argmax(proba, axis=1)]
    scores = score_predictions(np.asarray(y_test), y_pred, proba, classes)
    return FoldResult(scores, fitted - start, time.perf_counter() - fitted)


def evaluate_config(
    config: Mapping[str, Any],
    dataset: Dataset,
    folds: Sequence[Fold],
    *,
    random_state: int = 0,
    deadline: float | None = None,
    on_fold: Callable[[int, FoldResult], None] | None = None,
    fold_callbacks: Callable[[int], list] | None = None,
) -> Evaluation:
    """Cross-validate one configuration on ``folds``.

    Parameters
    ----------
    config : mapping
        The configuration (see :func:`harness.model.pipeline.build_pipeline`).
    dataset : Dataset
        The rows the folds index into.
    folds : sequence of (train_index, test_index)
        From :func:`make_folds`.
    random_state : int, default=0
        Seed of the estimator and resampler, the same for every fold.
    deadline : float, optional
        :func:`time.monotonic` value after which training stops with
        :class:`~harness.study.guards.TrialStopped`.
    on_fold : callable, optional
        Called as ``on_fold(index, result)`` after each fold; it may raise
        (for example :class:`optuna.TrialPruned`) to stop early.
    fold_callbacks : callable, optional
        ``fold_callbacks(index)`` returns extra skorch callbacks for that
        fold's estimator (for example epoch-level pruning).

    Returns
    -------
    Evaluation
    """
    X, y = dataset.X, dataset.y.to_numpy()
    evaluation = Evaluation()
    for index, (train, test) in enumerate(folds):
        model = build_pipeline(config, dataset, y[train], random_state=random_state)
        extra = fold_callbacks(index) if fold_callbacks is not None else []
        model.set_params(model__callbacks=[TrialGuard(deadline), *extra])
        result = fit_and_score(model, X.iloc[train], y[train], X.iloc[test], y[test])
        evaluation.folds.append(result)
        if on_fold is not None:
            on_fold(index, result)
    return evaluation
