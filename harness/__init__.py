"""hpo harness: tune a skorch MLP with many search strategies and compare them fairly.

The public face. Everything a user script or a generated notebook needs is a
name of this package, imported on first use (so ``python -m harness --help``
stays fast and nothing here imports torch until the estimator is used).
Generated notebooks and report text name only ``harness.<name>``; the modules
behind these names may move without changing a committed output.

Examples
--------
>>> import harness
>>> "MLPClassifier" in harness.__all__
True
"""

from __future__ import annotations

import importlib
from typing import Any

from harness._version import __version__ as __version__

# public name -> module that defines it, stages listed from the bottom of the data flow up
_EXPORTS: dict[str, str] = {
    # data
    "Dataset": "harness.data.datasets",
    "load_dataset": "harness.data.datasets",
    "load_csv": "harness.data.datasets",
    "list_datasets": "harness.data.datasets",
    "holdout_split": "harness.data.splits",
    "build_preprocessor": "harness.data.preprocessing",
    # model
    "MLPClassifier": "harness.model.estimator",
    "NetworkTreeEnsemble": "harness.model.ensemble",
    "LSTMRegressor": "harness.model.lstm",
    "MLPModule": "harness.model.network",
    "CNNClassifier": "harness.model.cnn",
    "FocalLoss": "harness.model.network",
    "layer_sizes": "harness.model.vocabulary",
    "BASELINE_CONFIG": "harness.model.vocabulary",
    "IMBALANCE_STRATEGIES": "harness.model.vocabulary",
    "build_pipeline": "harness.model.pipeline",
    # search
    "SearchSpace": "harness.search.space",
    "load_space": "harness.search.space",
    "available_spaces": "harness.search.space",
    "STRATEGIES": "harness.search.strategies",
    "create_sampler": "harness.search.strategies",
    "PRUNERS": "harness.search.pruners",
    "make_pruner": "harness.search.pruners",
    # study
    "METRICS": "harness.study.metrics",
    "HEADLINE_METRICS": "harness.study.metrics",
    "score_predictions": "harness.study.metrics",
    "score_regression": "harness.study.metrics",
    "make_folds": "harness.data.splits",
    "evaluate_config": "harness.study.evaluation",
    "Evaluation": "harness.study.evaluation",
    "StudySpec": "harness.study.loop",
    "run_study": "harness.study.loop",
    "refit_best": "harness.study.holdout",
    "Comparison": "harness.study.comparison",
    "load_comparison": "harness.study.comparison",
    "open_storage": "harness.study.storage",
    "trials_frame": "harness.study.ledger",
    # results
    "load_results": "harness.results.loading",
    "load_holdout": "harness.results.loading",
    # report
    "write_report": "harness.report.document",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
