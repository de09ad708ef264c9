"""The ensemble family's pipeline, and the held-out comparison's ensemble rows.

:func:`ensemble_pipeline` builds an ``"ensemble"`` configuration's pipeline;
:func:`ensemble_models` gives the held-out comparison its "network + gradient boosting"
rows for a tuned MLP configuration. Both preprocess as the MLP does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.model.ensemble import NetworkTreeEnsemble
from harness.model.ensemble_vocabulary import DEFAULT_TREES, NETWORK_PREFIX
from harness.model.estimator import MLPClassifier
from harness.model.families import without_family
from harness.model.pipeline import estimator_params
from harness.model.vocabulary import IMBALANCE

__all__ = ["STACKING", "TREES", "VOTING", "ensemble_models", "ensemble_pipeline"]

TREES = "gradient boosting"
VOTING = "tuned MLP + gradient boosting (soft voting)"
STACKING = "tuned MLP + gradient boosting (stacking)"
"""Names of the held-out comparison's rows (:func:`ensemble_models`)."""


def ensemble_pipeline(
    config: Mapping[str, Any], dataset: Dataset, y_fit: np.ndarray, random_state: int = 0
) -> Pipeline:
    """The ``"ensemble"`` family's pipeline: preprocessing, then :class:`NetworkTreeEnsemble`.

    ``network__<name>`` entries are the network's :class:`~harness.MLPClassifier`
    parameters, the others the ensemble's. ``imbalance`` is handled as for the
    MLP (:func:`harness.model.pipeline.estimator_params`) by the network;
    ``"class_weight"`` also weights the trees' classes, while resampling and the
    focal loss apply to the network only (the trees train on the real rows).
    A resampler is sized on the rows the ensemble is fitted on; with stacking
    the network also trains on ``(stacking_folds - 1) / stacking_folds`` of them.

    Parameters are those of :func:`harness.build_pipeline`; ``config`` has no family entry.
    """
    config = without_family(config)
    imbalance = config.get(IMBALANCE, "none")
    network_config = {
        name.removeprefix(NETWORK_PREFIX): value
        for name, value in config.items()
        if name.startswith(NETWORK_PREFIX)
    }
    own = {k: v for k, v in config.items() if not k.startswith(NETWORK_PREFIX) and k != IMBALANCE}
    network = MLPClassifier(
        **estimator_params({**network_config, IMBALANCE: imbalance}, y_fit, random_state)
    )
    own.setdefault("class_weight", "balanced" if imbalance == "class_weight" else None)
    own.setdefault("random_state", random_state)
    model = NetworkTreeEnsemble(network=network, **own)
    return Pipeline([("preprocess", build_preprocessor(dataset)), ("model", model)])


def ensemble_models(config: Mapping[str, Any], train: Dataset, seed: int) -> dict[str, Pipeline]:
    """The held-out comparison's rows: an MLP configuration with default gradient boosting.

    Every pipeline preprocesses as the MLP's does. The network is the
    configuration's, with its imbalance handling and seeded as the tuned MLP
    is (:func:`harness.model.pipeline.mlp_pipeline` with ``seed``), so it is the
    same model; the trees have :data:`DEFAULT_TREES` and ``random_state=seed``,
    without class weights, and are the same in all three rows.

    Parameters
    ----------
    config : mapping
        An MLP configuration (the tuned one).
    train : Dataset
        The rows the models will be fitted on.
    seed : int
        The task seed.

    Returns
    -------
    dict
        Unfitted pipelines: :data:`VOTING` (soft voting, equal weights),
        :data:`STACKING` (logistic regression on 5-fold out-of-fold
        probabilities) and :data:`TREES` (the trees alone).
    """
    y_fit = train.y.to_numpy()

    def pipeline(model: Any) -> Pipeline:
        return Pipeline([("preprocess", build_preprocessor(train)), ("model", model)])

    def ensemble(method: str) -> Pipeline:
        network = MLPClassifier(**estimator_params(without_family(config), y_fit, seed))
        return pipeline(
            NetworkTreeEnsemble(network, method=method, random_state=seed, **DEFAULT_TREES)
        )

    trees = HistGradientBoostingClassifier(**DEFAULT_TREES, early_stopping=False, random_state=seed)
    return {VOTING: ensemble("voting"), STACKING: ensemble("stacking"), TREES: pipeline(trees)}
