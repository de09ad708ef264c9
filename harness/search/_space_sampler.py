"""The base of the harness's own samplers: they propose whole points of one search space."""

from __future__ import annotations

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial

from harness.search.space import SearchSpace


class SpaceSampler(BaseSampler):
    """A seeded sampler whose relative search space is a :class:`SearchSpace`'s parameters.

    Parameters
    ----------
    space : SearchSpace
        The space the study's objective samples with ``space.suggest``.
    seed : int
        The sampler's seed.
    """

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self._space = space
        self._seed = seed

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        # A copy: wrappers such as PartialFixedSampler delete entries from what they get.
        return dict(self._space.distributions)
