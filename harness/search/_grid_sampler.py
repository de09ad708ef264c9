"""Grid search over a conditional space, safe with several workers on one storage.

Optuna's ``GridSampler`` needs a flat product of values; a conditional space's
grid is a union of products (``momentum`` only exists for ``sgd``). This sampler
hands out the points of :meth:`SearchSpace.grid_point` instead, one per trial,
in a random order fixed by the seed.

Claiming a point without duplicates: a worker picks a free point, writes it to
its trial's system attributes, then reads all trials again and keeps the point
only if no other trial claims it; otherwise it picks again. If two workers kept
the same point, each one's read would have preceded the other's write, which is
impossible, so no point is evaluated twice (a conflict makes both pick again).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from harness.errors import StrategyError
from harness.search._space_sampler import SpaceSampler
from harness.search.space import SearchSpace

GRID_POINT = "harness:grid_point"
"""Trial system attribute: the index of the grid point the trial evaluates (-1: none left)."""

GRID_SPACE = "harness:grid_space"
"""Trial system attribute: fingerprint of the grid, so a changed space starts afresh."""

NONE_LEFT = -1


class SearchExhausted(StrategyError):
    """Raised by ``space.suggest`` when a finite strategy has no point left for a trial.

    The study loop should tell the trial as failed with this message as its
    reason and stop. It only happens when several workers ask for the last
    points at the same time; otherwise :func:`harness.search.strategies.search_exhausted`
    says so before the trial is asked for.
    """


class GridSearchSampler(SpaceSampler):
    """Evaluate every point of a space's grid once, in a seeded random order.

    Parameters
    ----------
    space : SearchSpace
        A space whose parameters all have grid values.
    seed : int
        Fixes the order in which points are handed out.

    Notes
    -----
    The point is claimed in :meth:`before_trial` (inside ``study.ask()``) and
    its values are returned by :meth:`sample_relative`. Inside
    ``study.optimize`` the study stops by itself once every point is taken;
    other loops call :meth:`is_exhausted` before asking for a trial.
    """

    def __init__(self, space: SearchSpace, seed: int) -> None:
        super().__init__(space, seed)
        self._size = space.grid_size
        self._fingerprint = hashlib.sha256(repr(list(space.params.values())).encode()).hexdigest()

    def _taken(self, study: optuna.Study, trial: FrozenTrial | None = None) -> set[int]:
        """Grid points claimed by the study's trials other than ``trial``."""
        skip = None if trial is None else trial.number
        taken = set()
        for other in study.get_trials(deepcopy=False):
            attrs = other.system_attrs
            if other.number != skip and attrs.get(GRID_SPACE) == self._fingerprint:
                taken.add(attrs.get(GRID_POINT, NONE_LEFT))
        taken.discard(NONE_LEFT)
        return taken

    def _choose(self, taken: set[int], rng: np.random.Generator) -> int:
        if len(taken) >= self._size:
            return NONE_LEFT
        if len(taken) <= self._size // 2:
            while True:
                point = int(rng.integers(self._size))
                if point not in taken:
                    return point
        free = np.setdiff1d(np.arange(self._size), np.fromiter(taken, dtype=int))
        return int(rng.choice(free))

    def is_exhausted(self, study: optuna.Study) -> bool:
        """Return whether every grid point is evaluated or being evaluated in ``study``."""
        return len(self._taken(study)) >= self._size

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        attrs = trial.system_attrs
        # A retried trial keeps its point; an enqueued trial brings its own values (an empty
        # budget slot brings none, so it gets a point like any new trial).
        if GRID_POINT in attrs:
            return
        storage = study._storage
        if attrs.get("fixed_params"):
            # An enqueued grid point (the baseline every study starts from) claims its point,
            # so the grid still covers every point once within a budget of its size.
            point = self._space.grid_index(attrs["fixed_params"])
            if point is not None and point not in self._taken(study, trial):
                storage.set_trial_system_attr(trial._trial_id, GRID_SPACE, self._fingerprint)
                storage.set_trial_system_attr(trial._trial_id, GRID_POINT, point)
            return
        storage.set_trial_system_attr(trial._trial_id, GRID_SPACE, self._fingerprint)
        taken = self._taken(study, trial)
        for attempt in itertools.count():
            rng = np.random.default_rng([self._seed, trial.number, attempt])
            point = self._choose(taken, rng)
            storage.set_trial_system_attr(trial._trial_id, GRID_POINT, point)
            if point == NONE_LEFT:
                return
            taken = self._taken(study, trial)
            if point not in taken:
                return

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        # The trial object was read before `before_trial` stored the point.
        point = study._storage.get_trial_system_attrs(trial._trial_id).get(GRID_POINT)
        if point is None or not search_space:
            return {}
        if point == NONE_LEFT:
            raise SearchExhausted(
                f"grid search of space '{self._space.name}' is exhausted: all {self._size} "
                "points are evaluated or being evaluated"
            )
        values = self._space.grid_point(point)
        return {name: value for name, value in values.items() if name in search_space}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        param = self._space.params.get(param_name)
        if param is None or param.grid is None:
            raise StrategyError(
                f"grid search has no value for '{param_name}' in trial {trial.number}: it is not a "
                f"parameter of space '{self._space.name}', or the trial was enqueued without it"
            )
        if param_distribution != param.distribution():
            # An objective asking for another range than the space's: a grid value would lie
            # outside what was asked (x = 5.0 for [20, 30]); ask with the space's distribution.
            raise StrategyError(
                f"grid search cannot sample '{param_name}' from {param_distribution} in trial "
                f"{trial.number}: space '{self._space.name}' searches it as "
                f"{param.distribution()}; suggest it with the space's range "
                "(SearchSpace.suggest does)"
            )
        # A value fixed from outside (PartialFixedSampler) activated a parameter the grid point
        # lacks: one of its grid values, drawn with the seed so the trial is reproducible.
        digest = hashlib.sha256(param_name.encode()).digest()
        rng = np.random.default_rng([self._seed, trial.number, int.from_bytes(digest[:4], "big")])
        return param.grid[int(rng.integers(len(param.grid)))]

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # Study.stop() works only inside study.optimize; other loops ask is_exhausted().
        if self.is_exhausted(study):
            with contextlib.suppress(RuntimeError):
                study.stop()
