"""The model's vocabulary, torch-free: what a configuration may say and what it means.

The search layer checks space files against these names and the report reads
the defaults from here, so neither imports torch. ``tests/model/test_vocabulary.py``
ties every name and default to :class:`harness.MLPClassifier` itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

TRAINING_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "optimizer": "adam",
        "lr": 1e-3,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 0.0,
        "lr_schedule": None,
        "batch_size": 32,
        "max_epochs": 100,
        "early_stopping": False,
        "patience": 10,
        "validation_fraction": 0.1,
        "class_weight": None,
        "loss": "cross_entropy",
        "focal_gamma": 2.0,
        "random_state": None,
        "device": "cpu",
    }
)
"""The training settings every torch classifier family shares, with the MLP's defaults (the
parameters :class:`harness.model.torch_base.TorchClassifierBase` holds); a family overrides
the defaults that differ, keeping the order."""

ESTIMATOR_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "hidden_layer_sizes": None,
        "neuron_pct": 0.5,
        "neuron_shrink": 0.5,
        "max_neurons": 128,
        "min_neurons": 8,
        "max_layers": 2,
        "activation": "relu",
        "dropout": 0.0,
        "batch_norm": False,
        **TRAINING_DEFAULTS,
    }
)
"""The searchable parameters of :class:`harness.MLPClassifier` with their defaults."""

SEARCHABLE_PARAMS: tuple[str, ...] = tuple(ESTIMATOR_DEFAULTS)
"""Parameters of :class:`harness.MLPClassifier` that a search space may set."""

NOT_SEARCHABLE: MappingProxyType[str, str] = MappingProxyType(
    {
        "resampler": "an object; a space picks it by name through 'imbalance'",
        "callbacks": "objects with handles (an Optuna trial); set by the study loop",
        "verbose": "console output, not a property of the model",
    }
)
"""Estimator parameters a space may not set, with the reason."""

IMBALANCE = "imbalance"
"""The pipeline parameter that picks how class imbalance is handled."""

RESAMPLER_NAMES: tuple[str, ...] = ("smote", "adasyn", "borderline_smote", "smote_enn")
"""Values of ``imbalance`` that resample the training rows (imbalanced-learn samplers)."""

IMBALANCE_STRATEGIES: tuple[str, ...] = ("none", "class_weight", *RESAMPLER_NAMES, "focal")
"""The values of ``imbalance`` that the pipeline builder understands."""

PARAM_NAMES: tuple[str, ...] = (*SEARCHABLE_PARAMS, IMBALANCE)
"""Every name a search space for the MLP pipeline may use."""

BASELINE_CONFIG: MappingProxyType[str, Any] = MappingProxyType(
    {
        "hidden_layer_sizes": (64, 64),
        "activation": "relu",
        "optimizer": "adam",
        "lr": 1e-3,
        IMBALANCE: "none",
    }
)
"""The unoptimized model the search starts from: 2 x 64 ReLU, Adam 1e-3, no imbalance handling."""


def model_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every :class:`~harness.MLPClassifier` parameter a configuration trains with.

    Parameters
    ----------
    config : mapping
        A configuration (searched and fixed values, plus ``imbalance``).

    Returns
    -------
    dict
        The estimator's defaults overridden by ``config``, with ``imbalance``.
    """
    settings = {**ESTIMATOR_DEFAULTS, **config}
    settings.setdefault(IMBALANCE, "none")
    return settings


def hidden_layers(config: Mapping[str, Any]) -> tuple[int, ...]:
    """Hidden layer widths of a configuration: explicit, or from the width/shrink rule."""
    settings = model_settings(config)
    if settings["hidden_layer_sizes"] is not None:
        return tuple(int(width) for width in settings["hidden_layer_sizes"])
    return layer_sizes(
        settings["neuron_pct"],
        settings["neuron_shrink"],
        settings["max_neurons"],
        settings["min_neurons"],
        settings["max_layers"],
    )


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _check_fraction(name: str, value: float) -> None:
    if not 0.01 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0.01, 1.0]; got {value!r}.")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")


def layer_sizes(
    neuron_pct: float,
    neuron_shrink: float,
    max_neurons: int,
    min_neurons: int,
    max_layers: int,
) -> tuple[int, ...]:
    """Hidden layer widths from the width/shrink sizing rule.

    The rule, exactly:

    1. The first hidden layer has ``max(1, round(neuron_pct * max_neurons))`` units.
       It is always kept, even when it is narrower than ``min_neurons``, so there is
       always at least one hidden layer.
    2. Each next layer has ``round(previous * neuron_shrink)`` units, where
       ``previous`` is the (already rounded) width of the layer before it.
    3. Layers are added while the next width is at least ``min_neurons`` and fewer
       than ``max_layers`` layers exist.

    ``round`` rounds half up (``round(2.5) == 3``), unlike Python's ``round``.

    Parameters
    ----------
    neuron_pct : float
        Width of the first layer as a fraction of ``max_neurons``, in [0.01, 1.0].
    neuron_shrink : float
        Factor from one layer's width to the next, in [0.01, 1.0].
    max_neurons : int
        Upper bound of any layer's width, >= 1.
    min_neurons : int
        A layer narrower than this ends the network (except the first layer), >= 1.
    max_layers : int
        Largest number of hidden layers, >= 1.

    Returns
    -------
    tuple of int
        The widths, first hidden layer first; never empty.

    Raises
    ------
    ValueError
        If an argument is outside its range.

    Examples
    --------
    >>> layer_sizes(0.5, 0.5, 128, 8, 3)
    (64, 32, 16)
    >>> layer_sizes(0.5, 0.5, 128, 20, 3)
    (64, 32)
    >>> layer_sizes(0.01, 1.0, 10, 8, 3)
    (1,)
    """
    _check_fraction("neuron_pct", neuron_pct)
    _check_fraction("neuron_shrink", neuron_shrink)
    for name, value in [
        ("max_neurons", max_neurons),
        ("min_neurons", min_neurons),
        ("max_layers", max_layers),
    ]:
        _check_positive_int(name, value)
    sizes = [max(1, _round_half_up(neuron_pct * max_neurons))]
    while len(sizes) < max_layers:
        width = _round_half_up(sizes[-1] * neuron_shrink)
        if width < min_neurons:
            break
        sizes.append(width)
    return tuple(sizes)
