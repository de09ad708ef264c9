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


def reference_models(seed: int) -> dict[str, Any]:
    """Return the reference baselines (unfitted), each preceded by the same preprocessing."""
    return {
        "majority class": DummyClassifier(strategy="most_frequent"),
        "logistic regression": LogisticRegression(max_iter=5000),
        "random forest": RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1),
        "k-nearest neighbours": KNeighborsClassifier(n_neighbors=9),
    }


def evaluate_holdout(
    best_config: Mapping[str, Any], train: Dataset, test: Dataset, seed: int
) -> tuple[dict[str, dict[str, Any]], Pipeline]:
    """Refit the tuned and baseline models on all training rows and score them on ``test``.

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
        ``{model name: {"scores": {metric: value}, "labels": [...], "confusion": [[...]],
        "fit_seconds": float}}``; the tuned and baseline MLPs first.
    tuned : Pipeline
        The tuned pipeline, fitted on all training rows.
    """
    y_train = train.y.to_numpy()
    models: dict[str, Any] = {
        TUNED: build_pipeline(best_config, train, y_train, random_state=seed),
        BASELINE: build_pipeline(BASELINE_CONFIG, train, y_train, random_state=seed),
    }
    for name, model in reference_models(seed).items():
        models[name] = Pipeline([("preprocess", build_preprocessor(train)), ("model", model)])
    results = {}
    for name, model in models.items():
        result = fit_and_score(model, train.X, y_train, test.X, test.y.to_numpy())
        labels = model.classes_
        predicted = model.predict(test.X)
        results[name] = {
            "scores": result.scores,
            "labels": [_plain(label) for label in labels],
            "confusion": confusion_matrix(test.y, predicted, labels=labels).tolist(),
            "fit_seconds": result.fit_seconds,
        }
    return results, models[TUNED]


def _plain(value: Any) -> Any:
    # numpy scalars are not JSON-serialisable in study attributes.
    return value.item() if isinstance(value, np.generic) else value
