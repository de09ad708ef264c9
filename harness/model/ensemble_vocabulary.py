"""The ensemble family's vocabulary, torch-free: its parameter names, defaults and baseline.

An ``ensemble`` configuration holds the ensemble's own parameters and its network's,
prefixed with :data:`NETWORK_PREFIX` (``network__lr``); the network's are the MLP's
(:mod:`harness.model.vocabulary`). ``tests/model/test_ensemble.py`` ties the names and
defaults to :class:`harness.NetworkTreeEnsemble`.
"""

from __future__ import annotations

from typing import Any

from harness.model.vocabulary import BASELINE_CONFIG, IMBALANCE, SEARCHABLE_PARAMS

NETWORK_PREFIX = "network__"
"""How the ``"ensemble"`` family names its network's parameters (``network__lr``)."""
ENSEMBLE_PARAMS = (
    "method",
    "weight",
    "learning_rate",
    "max_iter",
    "max_depth",
    "l2_regularization",
    "stacking_folds",
    "meta_C",
)
"""The ``"ensemble"`` family's own parameters (those of its estimator but the network,
the trees' ``class_weight`` (set by ``imbalance``), the callbacks and the seed)."""
ENSEMBLE_PARAM_NAMES = (
    *ENSEMBLE_PARAMS,
    *(NETWORK_PREFIX + name for name in SEARCHABLE_PARAMS),
    IMBALANCE,
)
"""Every name an ``ensemble`` space may search or fix."""
ENSEMBLE_DEFAULTS: dict[str, Any] = {
    "method": "voting",
    "weight": 0.5,
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_depth": None,
    "l2_regularization": 0.0,
    "stacking_folds": 5,
    "meta_C": 1.0,
}
"""The ``ensemble`` family's own parameters' defaults (:class:`harness.NetworkTreeEnsemble`'s)."""
ENSEMBLE_BASELINE: dict[str, Any] = {
    "method": "voting",
    "weight": 0.5,
    **{NETWORK_PREFIX + k: v for k, v in BASELINE_CONFIG.items() if k != IMBALANCE},
    IMBALANCE: BASELINE_CONFIG[IMBALANCE],
}
"""The unoptimized ensemble: the baseline MLP and default trees, by equal soft voting."""
DEFAULT_TREES: dict[str, Any] = {
    name: ENSEMBLE_DEFAULTS[name]
    for name in ("learning_rate", "max_iter", "max_depth", "l2_regularization")
}
"""The trees of the held-out comparison's ensemble rows: scikit-learn's defaults of
``HistGradientBoostingClassifier`` (31 leaves, 20 rows per leaf at least), with early
stopping off so that ``max_iter`` trees are always grown."""
UNBOUNDED_DEPTH = 30
"""A tree depth the ensemble's trees never reach: scikit-learn's gradient boosting grows at
most 31 leaves, so no leaf is deeper than 30; ``max_depth`` of 30 or more is its default None."""
