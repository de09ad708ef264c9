"""From a configuration to a pipeline: preprocessing -> MLPClassifier (with its resampler).

A configuration is a flat ``dict`` of estimator parameters plus one
``imbalance`` entry, as a search space proposes it. The resampler is not an
imbalanced-learn step before the estimator but the estimator's own
``resampler`` parameter: the estimator takes its early-stopping validation
split from the real rows first and resamples only the rest, so no synthetic
row is ever used to validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from imblearn.combine import SMOTEENN
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.errors import DataError, choose
from harness.model.estimator import MLPClassifier
from harness.model.families import family_of, without_family
from harness.model.vocabulary import (
    ESTIMATOR_DEFAULTS,
    IMBALANCE,
    IMBALANCE_STRATEGIES,
    RESAMPLER_NAMES,
)

RESAMPLERS = {
    "smote": SMOTE,
    "adasyn": ADASYN,
    "borderline_smote": BorderlineSMOTE,
    "smote_enn": SMOTEENN,
}
"""The imbalanced-learn sampler class of each name in :data:`RESAMPLER_NAMES`."""
assert tuple(RESAMPLERS) == RESAMPLER_NAMES
MAX_NEIGHBORS = 5


def smallest_resampled_class(y: np.ndarray, validation_fraction: float) -> tuple[Any, int]:
    """Return the rarest class of ``y`` and how many of its rows a resampler sees.

    The estimator removes a stratified validation split before resampling; the
    count is rounded down so the estimate never exceeds the real one.
    """
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    rarest = int(np.argmin(counts))
    kept = int(np.floor(counts[rarest] * (1.0 - validation_fraction)))
    return labels[rarest].item(), kept


def make_resampler(name: str, y_fit: np.ndarray, validation_fraction: float, random_state: int):
    """Build the imbalanced-learn sampler for ``name``, sized to the rows it will see.

    SMOTE-family samplers interpolate between a row and its ``k`` nearest
    neighbours of the same class, so ``k`` is ``min(5, n_min - 1)`` where
    ``n_min`` is the rarest class's count in the resampled rows.

    Raises
    ------
    DataError
        If the rarest class has fewer than two rows there.
    """
    label, count = smallest_resampled_class(y_fit, validation_fraction)
    neighbors = min(MAX_NEIGHBORS, count - 1)
    if neighbors < 1:
        raise DataError(
            f"class {label} has only {count} training row(s) in a fold, too few for {name} "
            "(it needs at least 2): use imbalance 'class_weight' or 'focal', fewer folds, "
            "or merge that class with a neighbouring one"
        )
    if name == "smote_enn":
        return SMOTEENN(
            smote=SMOTE(k_neighbors=neighbors, random_state=random_state), random_state=random_state
        )
    if name == "adasyn":
        return ADASYN(
            sampling_strategy=adasyn_target, n_neighbors=neighbors, random_state=random_state
        )
    return RESAMPLERS[name](k_neighbors=neighbors, random_state=random_state)


def adasyn_target(y: np.ndarray) -> dict[Any, int]:
    """ADASYN's sampling target: the classes to grow and their sizes, always generating rows.

    ADASYN spreads the rows a class asks for over its members by their share of
    other-class neighbours and rounds each member's count; a class asking for few
    rows relative to its size rounds to none everywhere, and imbalanced-learn then
    raises "No samples will be generated" for the whole call. A class of ``n`` rows
    asking for more than ``n / 2`` always generates some (its hardest member's
    share is at least ``1 / n``). So:

    - every class under two thirds of the largest class is grown to the largest
      class's size (ADASYN's usual "balance", which then asks for more than half
      of itself); classes closer to the largest are left as they are;
    - where no class is that small (nearly balanced data, such as teleconnect),
      every class but the largest grows by ``n // 2 + 1`` rows, so ADASYN still
      adds synthetic rows in the hard regions instead of silently doing nothing.

    Parameters
    ----------
    y : ndarray
        The labels of the rows the sampler sees.

    Returns
    -------
    dict
        ``{class: number of rows after resampling}`` for the classes to grow.
    """
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    largest = int(np.argmax(counts))
    most = int(counts[largest])
    small = {
        label: most for label, count in zip(labels, counts, strict=True) if 3 * count < 2 * most
    }
    if small:
        return small
    return {
        label: int(count) + int(count) // 2 + 1
        for index, (label, count) in enumerate(zip(labels, counts, strict=True))
        if index != largest
    }


def estimator_params(
    config: Mapping[str, Any], y_fit: np.ndarray, random_state: int
) -> dict[str, Any]:
    """Translate a configuration into :class:`~harness.MLPClassifier` parameters.

    Parameters
    ----------
    config : mapping
        Estimator parameters plus ``imbalance`` (one of :data:`IMBALANCE_STRATEGIES`).
    y_fit : ndarray
        The labels the estimator will be fitted on (sizes the resampler).
    random_state : int
        Seed for the estimator and the resampler.
    """
    params = dict(config)
    imbalance = params.pop(IMBALANCE, "none")
    params.setdefault("random_state", random_state)
    if imbalance == "class_weight":
        params["class_weight"] = "balanced"
    elif imbalance == "focal":
        params["loss"] = "focal"
    elif imbalance in RESAMPLERS:
        fraction = params.get("validation_fraction", ESTIMATOR_DEFAULTS["validation_fraction"])
        held_out = fraction if params.get("early_stopping", False) else 0.0
        params["resampler"] = make_resampler(imbalance, y_fit, held_out, random_state)
    else:
        choose(imbalance, IMBALANCE_STRATEGIES, "imbalance strategy")
    return params


def build_pipeline(
    config: Mapping[str, Any], dataset: Dataset, y_fit: np.ndarray, random_state: int = 0
) -> Pipeline:
    """Return an unfitted ``preprocess -> model`` pipeline for ``config``.

    The configuration's model family (:func:`harness.model.families.family_of`)
    picks the builder; the MLP's is :func:`mlp_pipeline`.

    Parameters
    ----------
    config : mapping
        A configuration as proposed by a search space.
    dataset : Dataset
        Supplies the numeric and categorical columns to preprocess.
    y_fit : ndarray
        The labels (or targets) of the rows the pipeline will be fitted on.
    random_state : int, default=0
        Seed for the estimator and the resampler.
    """
    builder = family_of(config).pipeline_builder()
    return builder(without_family(config), dataset, y_fit, random_state)


def mlp_pipeline(
    config: Mapping[str, Any], dataset: Dataset, y_fit: np.ndarray, random_state: int = 0
) -> Pipeline:
    """The MLP family's pipeline: preprocessing, then :class:`~harness.MLPClassifier`.

    Parameters are those of :func:`build_pipeline`; ``config`` has no family entry.
    """
    model = MLPClassifier(**estimator_params(config, y_fit, random_state))
    return Pipeline([("preprocess", build_preprocessor(dataset)), ("model", model)])
