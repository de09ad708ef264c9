"""Optuna's own samplers, configured for the harness's search spaces."""

from __future__ import annotations

import warnings

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler

from harness.search.space import SearchSpace


def random(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """Uniform random search (log-uniform for log parameters)."""
    return optuna.samplers.RandomSampler(seed=seed)


def tpe(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """Multivariate TPE; with ``group`` decomposition when the space has conditions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=n_startup_trials,
            multivariate=True,
            group=space.conditional,
        )


def nsga2(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """NSGA-II with a population of ``n_startup_trials`` (at least 2).

    Its first generation is random; each next one is bred from the best of the
    trials so far by non-dominated sorting and crowding distance, so it needs a
    budget of several generations. With one objective it is a plain genetic
    algorithm (non-dominated sorting reduces to ranking by the value).
    """
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(2, n_startup_trials))


def gp(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """Optuna's GP sampler; conditional parameters are sampled at random."""
    return optuna.samplers.GPSampler(
        seed=seed,
        n_startup_trials=n_startup_trials,
        independent_sampler=optuna.samplers.RandomSampler(seed=seed),
        warn_independent_sampling=False,
    )


def cmaes(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """CMA-ES on the numeric parameters; categorical and conditional ones at random.

    ``n_startup_trials`` is not used: CMA-ES starts from the centre of the space
    and learns nothing from random trials, so Optuna's default of one is kept.
    """
    return optuna.samplers.CmaEsSampler(
        seed=seed,
        independent_sampler=optuna.samplers.RandomSampler(seed=seed),
        warn_independent_sampling=False,
    )


def qmc(space: SearchSpace, seed: int, n_startup_trials: int) -> BaseSampler:
    """A scrambled Sobol sequence over the parameters of the first completed trial."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return optuna.samplers.QMCSampler(
            qmc_type="sobol",
            scramble=True,
            seed=seed,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed),
            warn_independent_sampling=False,
        )
