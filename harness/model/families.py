"""Model families, torch-free: which estimator a configuration trains and what it may set.

A search space names its family (``family = "cnn"`` at the top of the file;
default ``"mlp"``); the space's parameters must be that family's. A
configuration of any family other than the default carries its family under
the :data:`FAMILY` key, so a stored configuration alone says what to rebuild:
:func:`harness.build_pipeline`, the held-out refit, duplicates and notebooks
all read it from there. MLP configurations carry no key, as before families
existed, so stored MLP studies read unchanged.

Each family names its estimator and its pipeline builder by import path, so
this registry (read by the search layer to check space files) never imports
torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import choose
from harness.model.cnn_vocabulary import (
    CNN_BASELINE,
    CNN_DEFAULTS,
    CNN_PARAM_NAMES,
    cnn_settings,
)
from harness.model.ensemble_vocabulary import (
    ENSEMBLE_BASELINE,
    ENSEMBLE_DEFAULTS,
    ENSEMBLE_PARAM_NAMES,
    NETWORK_PREFIX,
    UNBOUNDED_DEPTH,
)
from harness.model.lstm_vocabulary import LSTM_BASELINE, LSTM_DEFAULTS, LSTM_PARAMS
from harness.model.vocabulary import (
    BASELINE_CONFIG,
    ESTIMATOR_DEFAULTS,
    IMBALANCE,
    PARAM_NAMES,
    hidden_layers,
    model_settings,
)

FAMILY = "family"
"""The configuration key that names a non-default family."""

DEFAULT_FAMILY = "mlp"

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Family:
    """One model family.

    Parameters
    ----------
    name : str
        The name a space file gives as ``family``.
    description : str
        One line for listings.
    task : {"classification", "regression"}
        What the estimator predicts.
    estimator : str
        ``"module:Class"`` of its scikit-learn estimator.
    pipeline : str
        ``"module:function"`` building the unfitted pipeline of a configuration,
        called as ``function(config, dataset, y_fit, random_state)``.
    param_names : tuple of str
        The names a space of this family may search or fix.
    baseline : mapping
        The unoptimized configuration every study of the family is compared
        with (evaluated on the same folds, and refitted for the held-out rows).
    batched : bool
        Whether :mod:`harness.model.fold_trainer` can train its folds as one network.
    bounds : mapping, optional
        ``{name: (low, high)}``: the closed range a space's values of that
        parameter must stay in (None: unbounded on that side); the space loader
        refuses a range, choice or fixed value outside it.
    kinds : mapping, optional
        ``{name: kind}``: what a space's values of that parameter must be, one of
        :data:`KINDS` (see :func:`kinds_of`); the space loader refuses a value of
        another kind (``lr = "fast"``) before any trial. A name without a kind
        (a tuple of widths, a shape) is not checked.
    """

    name: str
    description: str
    task: str
    estimator: str
    pipeline: str
    param_names: tuple[str, ...]
    baseline: Mapping[str, Any]
    batched: bool = False
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)

    def configuration(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` as a configuration of this family (with its :data:`FAMILY` entry)."""
        params = without_family(params)
        return params if self.name == DEFAULT_FAMILY else {FAMILY: self.name, **params}

    def baseline_config(self) -> dict[str, Any]:
        """The family's unoptimized configuration, ready for :func:`harness.build_pipeline`."""
        return self.configuration(self.baseline)

    def estimator_class(self) -> type:
        """Import and return the estimator class."""
        return _load(self.estimator)

    def pipeline_builder(self) -> Callable[..., Any]:
        """Import and return the pipeline builder."""
        return _load(self.pipeline)


KINDS = {
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "text": "text",
}
"""The kinds of value a parameter takes, with how a message names them."""


def kind_of(value: Any) -> str:
    """The kind of a scalar value: ``"boolean"``, ``"integer"``, ``"number"`` or ``"text"``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "text"


def accepts(kind: str, value: Any) -> bool:
    """Whether ``value`` is of ``kind`` (an integer is also a number)."""
    found = kind_of(value)
    return found == kind or (kind == "number" and found == "integer")


def kinds_of(defaults: Mapping[str, Any], **more: str) -> dict[str, str]:
    """``{name: kind}`` from an estimator's defaults (None ones left out), plus ``more``."""
    kinds = {name: kind_of(value) for name, value in defaults.items() if value is not None}
    return {**kinds, **more}


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


SIZING = (
    "hidden_layer_sizes",
    "neuron_pct",
    "neuron_shrink",
    "max_neurons",
    "min_neurons",
    "max_layers",
)
"""The MLP parameters that together give its hidden layers (:func:`hidden_layers`)."""

# Defaults of None say nothing of the kind: these are named. class_weight may be a table.
_NETWORK_KINDS = {"lr_schedule": "text", "random_state": "integer", IMBALANCE: "text"}
MLP_KINDS = kinds_of(ESTIMATOR_DEFAULTS, **_NETWORK_KINDS)
"""What each MLP parameter takes, from :data:`ESTIMATOR_DEFAULTS` (tied to the estimator by
``tests/model/test_vocabulary.py``)."""

FAMILIES: dict[str, Family] = {
    "mlp": Family(
        name="mlp",
        description="multilayer perceptron on tabular rows (harness.MLPClassifier)",
        task="classification",
        estimator="harness.model.estimator:MLPClassifier",
        pipeline="harness.model.pipeline:mlp_pipeline",
        param_names=PARAM_NAMES,
        baseline=BASELINE_CONFIG,
        batched=True,
        kinds=MLP_KINDS,
    ),
    "cnn": Family(
        name="cnn",
        description="convolutional network on images (harness.CNNClassifier)",
        task="classification",
        estimator="harness.model.cnn:CNNClassifier",
        pipeline="harness.model.cnn_pipeline:cnn_pipeline",
        param_names=CNN_PARAM_NAMES,
        baseline=CNN_BASELINE,
        kinds=kinds_of(CNN_DEFAULTS, **_NETWORK_KINDS),
    ),
    "ensemble": Family(
        name="ensemble",
        description="the MLP with gradient-boosted trees, by soft voting or stacking "
        "(harness.NetworkTreeEnsemble)",
        task="classification",
        estimator="harness.model.ensemble:NetworkTreeEnsemble",
        pipeline="harness.model.ensemble_pipeline:ensemble_pipeline",
        param_names=ENSEMBLE_PARAM_NAMES,
        baseline=ENSEMBLE_BASELINE,
        bounds={
            "weight": (0.0, 1.0),
            "max_iter": (1, None),
            "max_depth": (1, None),
            "l2_regularization": (0.0, None),
            "stacking_folds": (2, None),
        },
        kinds={
            "method": "text",
            "weight": "number",
            "learning_rate": "number",
            "max_iter": "integer",
            "max_depth": "integer",
            "l2_regularization": "number",
            "stacking_folds": "integer",
            "meta_C": "number",
            **{NETWORK_PREFIX + name: kind for name, kind in MLP_KINDS.items()},
            IMBALANCE: "text",
        },
    ),
    "lstm": Family(
        name="lstm",
        description="LSTM forecaster on look-back windows of a time series (harness.LSTMRegressor)",
        task="regression",
        estimator="harness.model.lstm:LSTMRegressor",
        pipeline="harness.model.lstm_pipeline:lstm_pipeline",
        param_names=LSTM_PARAMS,
        baseline=LSTM_BASELINE,
        kinds=kinds_of(LSTM_BASELINE, weight_decay="number"),
    ),
}
"""Every model family, by name."""


def _relevant(settings: dict[str, Any]) -> dict[str, Any]:
    """A network's settings less those its other settings make it ignore."""
    if settings.get("optimizer") not in ("sgd", "rmsprop"):
        settings.pop("momentum", None)
    if settings.get("optimizer") != "sgd":
        settings.pop("nesterov", None)
    if not settings.get("early_stopping"):
        settings.pop("patience", None)
        settings.pop("validation_fraction", None)
    if settings.get("loss") != "focal" and settings.get(IMBALANCE) != "focal":
        settings.pop("focal_gamma", None)
    return settings


def _network_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """An MLP configuration's settings, its sizing parameters replaced by the layers they give."""
    settings = model_settings(config)
    layers = hidden_layers(config)
    for name in SIZING:
        settings.pop(name)
    return _relevant({**settings, "hidden_layers": layers})


def resolved_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a configuration trains: every setting of its family's estimator, defaults filled in.

    Two configurations with the same resolved settings train the same model:
    the MLP's width/shrink parameters are resolved to its hidden layers, and
    settings the others make irrelevant (momentum for Adam, patience without
    early stopping, the focal loss's gamma without it) are left out. The
    search layer finds a family's baseline in a space with it
    (:func:`harness.search.baseline.baseline_point`).

    Parameters
    ----------
    config : mapping
        A configuration of any family (with its ``family`` entry where not the MLP).
    """
    family = family_of(config)
    params = without_family(config)
    if family.name == "mlp":
        return _network_settings(params)
    if family.name == "cnn":
        settings = _relevant(cnn_settings(params))
        settings.pop("image_shape")  # the data's shape (None: inferred from it), not a choice
        return settings
    if family.name == "lstm":
        return {**LSTM_DEFAULTS, **params}
    own = {k: v for k, v in params.items() if not k.startswith(NETWORK_PREFIX)}
    network = {
        k.removeprefix(NETWORK_PREFIX): v for k, v in params.items() if k.startswith(NETWORK_PREFIX)
    }
    settings = {**ENSEMBLE_DEFAULTS, IMBALANCE: "none", **own}
    if settings["max_depth"] is not None and settings["max_depth"] >= UNBOUNDED_DEPTH:
        settings["max_depth"] = None  # as deep as 31 leaves can reach: no bound
    for name in ("stacking_folds", "meta_C") if settings["method"] == "voting" else ("weight",):
        settings.pop(name)
    network[IMBALANCE] = settings[IMBALANCE]
    resolved = _network_settings(network)
    resolved.pop(IMBALANCE)
    return {**settings, **{NETWORK_PREFIX + k: v for k, v in resolved.items()}}


def get_family(name: str) -> Family:
    """Return the family called ``name``.

    Raises
    ------
    ConfigError
        Naming the known families.
    """
    return choose(name, FAMILIES, "model family")


def family_of(config: Mapping[str, Any]) -> Family:
    """The family of a configuration: its :data:`FAMILY` entry, else the default."""
    return get_family(config.get(FAMILY, DEFAULT_FAMILY))


def without_family(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration's model parameters: everything but the :data:`FAMILY` entry."""
    return {key: value for key, value in config.items() if key != FAMILY}
