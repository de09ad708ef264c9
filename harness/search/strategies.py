"""Search strategies: every one an Optuna sampler, created by name from one registry.

A strategy only proposes configurations. Because each one is an
:class:`optuna.samplers.BaseSampler`, all of them share the study loop, the
storage, resume and parallel workers. The samplers wrapping other libraries
(bayesian-optimization, scikit-optimize) rebuild their optimiser from the
study's trials at each proposal, inside ``study.ask()`` and ``space.suggest``.

Examples
--------
>>> from harness.search.space import load_space
>>> from harness.search.strategies import create_sampler
>>> sampler = create_sampler("tpe", load_space("mlp-small"), seed=0)
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.samplers import BaseSampler

from harness.errors import StrategyError, choose
from harness.search import _optuna
from harness.search._bayesopt import BayesOptSampler
from harness.search._grid_sampler import GridSearchSampler, SearchExhausted
from harness.search._rebuilding import RebuildingSampler
from harness.search._skopt import SkoptSampler
from harness.search.space import SearchSpace

__all__ = [
    "STRATEGIES",
    "BayesOptSampler",
    "GridSearchSampler",
    "RebuildingSampler",
    "SearchExhausted",
    "SkoptSampler",
    "Strategy",
    "check_strategy",
    "create_sampler",
    "get_strategy",
    "list_strategies",
    "search_exhausted",
]

DEFAULT_STARTUP_TRIALS = 10

Factory = Callable[[SearchSpace, int, int], BaseSampler]


@dataclass(frozen=True)
class Strategy:
    """A registered search strategy.

    Attributes
    ----------
    name : str
        The name used on the command line and in study definitions.
    library : str
        The Python distribution that implements the algorithm.
    description : str
        One line for listings.
    factory : callable
        ``factory(space, seed, n_startup_trials) -> BaseSampler``.
    needs_grid : bool
        Whether it can only search a space whose every parameter has grid values.
    multi_objective : bool
        Whether it can search several objectives at once (an Optuna study with
        ``directions=``): its sampler proposes from several values per trial, or
        from none (see ``run --objectives``).
    """

    name: str
    library: str
    description: str
    factory: Factory
    needs_grid: bool = False
    multi_objective: bool = False

    def version(self) -> str:
        """Return the installed version of :attr:`library`."""
        try:
            return importlib.metadata.version(self.library)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"


def _grid(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    return GridSearchSampler(space, seed)


def _bayesopt(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    return BayesOptSampler(space, seed, n_startup_trials)


def _skopt(estimator: str, space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    return SkoptSampler(space, seed, n_startup_trials, base_estimator=estimator)


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "grid",
            "hpo-harness",
            "every point of the space's grid once, conditions resolved, seeded order",
            _grid,
            needs_grid=True,
            multi_objective=True,
        ),
        Strategy(
            "random",
            "optuna",
            "uniform random search (log-uniform on log scales)",
            _optuna.random,
            multi_objective=True,
        ),
        Strategy(
            "tpe",
            "optuna",
            "multivariate tree-structured Parzen estimator, grouped by conditions",
            _optuna.tpe,
            multi_objective=True,
        ),
        Strategy(
            "nsga2",
            "optuna",
            "NSGA-II genetic algorithm (population of the start-up size); for several objectives",
            _optuna.nsga2,
            multi_objective=True,
        ),
        Strategy(
            "gp",
            "optuna",
            "Gaussian-process BO (logEI; logEHVI for several objectives); conditional "
            "parameters at random",
            _optuna.gp,
            multi_objective=True,
        ),
        Strategy(
            "cmaes",
            "optuna",
            "CMA-ES on numeric parameters; categorical and conditional ones at random",
            _optuna.cmaes,
        ),
        Strategy(
            "qmc",
            "optuna",
            "scrambled Sobol sequence over the first completed trial's parameters",
            _optuna.qmc,
            multi_objective=True,
        ),
        Strategy(
            "bayesopt",
            "bayesian-optimization",
            "GP with upper confidence bound, rebuilt from the study at each trial",
            _bayesopt,
        ),
        Strategy(
            "skopt",
            "scikit-optimize",
            "Gaussian-process Optimizer with expected improvement, rebuilt at each trial",
            functools.partial(_skopt, "GP"),
        ),
        Strategy(
            "skopt-rf",
            "scikit-optimize",
            "random-forest Optimizer with expected improvement, rebuilt at each trial",
            functools.partial(_skopt, "RF"),
        ),
        Strategy(
            "skopt-et",
            "scikit-optimize",
            "extra-trees Optimizer with expected improvement, rebuilt at each trial",
            functools.partial(_skopt, "ET"),
        ),
    )
}
"""Every strategy by name."""


def list_strategies() -> list[Strategy]:
    """Return the registered strategies in registry order."""
    return list(STRATEGIES.values())


def get_strategy(name: str) -> Strategy:
    """Return the strategy called ``name``.

    Raises
    ------
    StrategyError
        When no strategy has that name; the message lists the valid names.
    """
    return choose(name, STRATEGIES, "strategy", error=StrategyError)


def check_strategy(name: str, space: SearchSpace) -> Strategy:
    """Return the strategy called ``name`` after checking it can search ``space``.

    Raises
    ------
    StrategyError
        For an unknown name.
    SpaceError
        For a grid-only strategy on a space with parameters lacking grid values.
    """
    strategy = get_strategy(name)
    if strategy.needs_grid:
        space.grid_size  # noqa: B018 -- raises SpaceError naming the parameters without a grid
    return strategy


def create_sampler(
    name: str,
    space: SearchSpace,
    seed: int,
    *,
    n_startup_trials: int = DEFAULT_STARTUP_TRIALS,
) -> BaseSampler:
    """Create the sampler of strategy ``name`` for ``space``.

    Parameters
    ----------
    name : str
        A key of :data:`STRATEGIES`.
    space : SearchSpace
        The space the study's objective samples with ``space.suggest(trial)``.
    seed : int
        The same seed (and the same trial history) gives the same proposals.
    n_startup_trials : int, optional
        Random trials before a model-based strategy (tpe, gp, cmaes, bayesopt,
        skopt*) uses its model, and NSGA-II's population size; the others ignore it.

    Returns
    -------
    optuna.samplers.BaseSampler

    Raises
    ------
    StrategyError
        For an unknown name.
    SpaceError
        For ``grid`` on a space with parameters lacking grid values.
    """
    return get_strategy(name).factory(space, seed, n_startup_trials)


def search_exhausted(study: optuna.Study) -> bool:
    """Return whether the study's strategy has nothing left to propose.

    True only for grid search once every point is evaluated or being evaluated;
    a study loop checks it before asking for a trial.
    """
    sampler = study.sampler
    return isinstance(sampler, GridSearchSampler) and sampler.is_exhausted(study)
