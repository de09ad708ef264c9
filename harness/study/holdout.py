"""After the search: the best configuration and the baselines, scored on the held-out test rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.model.pipeline import build_pipeline
from harness.model.vocabulary import BASELINE_CONFIG
from harness.study import ledger
from harness.study.evaluation import fit_and_score

TUNED = "tuned MLP"
BASELINE = "baseline MLP"
MAJORITY = "majority class"


def baseline_models(train: Dataset, seed: int) -> dict[str, Any]:
    """Return the unfitted baselines: the unoptimized MLP, then the reference models.

    Every one starts with the same per-fold preprocessing as the tuned pipeline.
    """
    references = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        "logistic regression": LogisticRegression(max_iter=5000),
        "random forest": RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1),
        "k-nearest neighbours": KNeighborsClassifier(n_neighbors=9),
    }
    models: dict[str, Any] = {
        BASELINE: build_pipeline(BASELINE_CONFIG, train, train.y.to_numpy(), random_state=seed)
    }
    for name, model in references.items():
        models[name] = Pipeline([("preprocess", build_preprocessor(train)), ("model", model)])
    return models


def score_on_holdout(
    models: Mapping[str, Any], train: Dataset, test: Dataset
) -> dict[str, dict[str, Any]]:
    """Fit each model on all training rows and score it on the held-out rows.

    Returns
    -------
    dict
        ``{model name: {"scores": {metric: value}, "labels": [...], "confusion": [[...]],
        "fit_seconds": float, "history": [{"epoch", "train_loss", ...}]}}`` in the
        order of ``models``; ``history`` is the MLPs' learning curve, empty for
        the other models. The models are fitted in place.
    """
    results = {}
    for name, model in models.items():
        result = fit_and_score(model, train.X, train.y.to_numpy(), test.X, test.y.to_numpy())
        labels = model.classes_
        results[name] = {
            "scores": result.scores,
            "labels": [_plain(label) for label in labels],
            "confusion": confusion_matrix(test.y, model.predict(test.X), labels=labels).tolist(),
            "fit_seconds": result.fit_seconds,
            "history": _history(model),
        }
    return results


HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "valid_acc")


def _history(model: Any) -> list[dict[str, float]]:
    """Per-epoch losses of an MLP pipeline's final step (empty for other models)."""
    net = getattr(model[-1], "net_", None)
    if net is None:
        return []
    return [{k: _plain(row[k]) for k in HISTORY_KEYS if k in row} for row in net.history]


@dataclass
class HoldoutRefit:
    """What :func:`refit_best` produced.

    Attributes
    ----------
    results : dict
        See :func:`score_on_holdout`: the tuned MLP first, then the baselines.
    tuned : Pipeline
        The tuned pipeline, fitted on all training rows.
    baselines : dict
        The baselines' part of ``results``; pass it to the next :func:`refit_best`
        of a comparison, whose studies share the task, so the baselines are fitted once.
    """

    results: dict[str, dict[str, Any]]
    tuned: Pipeline
    baselines: dict[str, dict[str, Any]]


def refit_best(
    study: optuna.Study,
    train: Dataset,
    test: Dataset,
    seed: int,
    *,
    baselines: dict[str, dict[str, Any]] | None = None,
) -> HoldoutRefit:
    """Refit the study's best configuration and the baselines, score them on the held-out rows,
    and record the results with the study.

    The one held-out step: ``run`` and ``compare`` both call it.

    Parameters
    ----------
    study : optuna.Study
        A study with at least one complete trial.
    train, test : Dataset
        The search rows and the held-out rows (see :func:`harness.holdout_split`).
    seed : int
        Seed of every model (the task seed).
    baselines : dict, optional
        :attr:`HoldoutRefit.baselines` of an earlier refit on the same task; fitted
        here when None.

    Returns
    -------
    HoldoutRefit
    """
    best = study.best_trial
    tuned = build_pipeline(ledger.stored_config(best), train, train.y.to_numpy(), seed)
    if baselines is None:
        baselines = score_on_holdout(baseline_models(train, seed), train, test)
    results = {**score_on_holdout({TUNED: tuned}, train, test), **baselines}
    ledger.record_holdout(study, results, best.number)
    return HoldoutRefit(results, tuned, baselines)


def _plain(value: Any) -> Any:
    # numpy scalars are not JSON-serialisable in study attributes.
    return value.item() if isinstance(value, np.generic) else value
