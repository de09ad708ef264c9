"""After the search: the best configuration and the baselines, scored on the held-out test rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from harness.datasets import Dataset
from harness.evaluation import fit_and_score
from harness.pipeline import BASELINE_CONFIG, build_pipeline
from harness.preprocessing import build_preprocessor

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


def evaluate_holdout(
    best_config: Mapping[str, Any], train: Dataset, test: Dataset, seed: int
) -> tuple[dict[str, dict[str, Any]], Pipeline]:
    """Score the tuned configuration and every baseline on the held-out rows.

    Parameters
    ----------
    best_config : mapping
        The best trial's configuration.
    train, test : Dataset
        The search rows and the held-out rows (see :func:`harness.preprocessing.holdout_split`).
    seed : int
        Seed of every model.

    Returns
    -------
    results : dict
        See :func:`score_on_holdout`; the tuned MLP first, then the baselines.
    tuned : Pipeline
        The tuned pipeline, fitted on all training rows.
    """
    tuned = build_pipeline(best_config, train, train.y.to_numpy(), random_state=seed)
    models = {TUNED: tuned, **baseline_models(train, seed)}
    return score_on_holdout(models, train, test), tuned


def _plain(value: Any) -> Any:
    # numpy scalars are not JSON-serialisable in study attributes.
    return value.item() if isinstance(value, np.generic) else value
