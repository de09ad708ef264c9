"""Pruners: what decides to stop a trial early, by name from one registry, beside the strategies.

A strategy proposes; a pruner decides whether a running trial continues. Each
pruner works on one level of intermediate values: ``"folds"`` (each fold's
score, so a hopeless trial stops after a few folds) or ``"epochs"`` (each
epoch's early-stopping accuracy, so it stops within its first epochs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import optuna

from harness.errors import ConfigError, choose

PRUNE_ON = ("folds", "epochs")
"""The levels a pruner can work on."""


@dataclass(frozen=True)
class Pruner:
    """A registered pruner.

    Attributes
    ----------
    name : str
        What ``--pruner`` and a comparison file's ``pruner`` key call it.
    description : str
        One line for listings.
    factory : callable
        ``factory(n_folds, epochs) -> optuna.pruners.BasePruner``; ``epochs`` is
        True when intermediate values are epochs rather than folds.
    levels : tuple of str
        The levels of :data:`PRUNE_ON` it can work on.
    """

    name: str
    description: str
    factory: Callable[[int, bool], optuna.pruners.BasePruner]
    levels: tuple[str, ...] = PRUNE_ON


def _median(n_folds: int, epochs: bool) -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5 if epochs else 1)


def _hyperband(n_folds: int, epochs: bool) -> optuna.pruners.BasePruner:
    if epochs:
        return optuna.pruners.HyperbandPruner(min_resource=5, max_resource="auto")
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)


PRUNERS: dict[str, Pruner] = {
    p.name: p
    for p in (
        Pruner("none", "never prune", lambda n_folds, epochs: optuna.pruners.NopPruner()),
        Pruner("median", "stop below the median of earlier trials at the same step", _median),
        Pruner(
            "wilcoxon",
            "stop when a paired Wilcoxon test over the folds says the trial is worse",
            lambda n_folds, epochs: optuna.pruners.WilcoxonPruner(
                p_threshold=0.1, n_startup_steps=2
            ),
            # Its paired test needs the same evaluation instances (folds) at every step.
            levels=("folds",),
        ),
        Pruner("hyperband", "successive halving over brackets of resources", _hyperband),
    )
}
"""Every pruner by name."""


def check_pruner(name: str, prune_on: str = "folds") -> Pruner:
    """Return the pruner called ``name`` after checking it can work on ``prune_on``.

    Raises
    ------
    ConfigError
        For an unknown name or level, or a pruner that cannot work on that level.
    """
    choose(prune_on, PRUNE_ON, "pruning level")
    pruner = choose(name, PRUNERS, "pruner")
    if prune_on not in pruner.levels:
        raise ConfigError(
            f"the {name} pruner compares {' and '.join(pruner.levels)}: "
            f"use --prune-on {pruner.levels[0]}"
        )
    return pruner


def make_pruner(name: str, n_folds: int, prune_on: str = "folds") -> optuna.pruners.BasePruner:
    """Return the pruner called ``name``, with its warm-up in folds or in epochs.

    Raises
    ------
    ConfigError
        See :func:`check_pruner`.
    """
    return check_pruner(name, prune_on).factory(n_folds, prune_on == "epochs")
