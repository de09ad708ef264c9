"""Shared base of the samplers that wrap an ask/tell optimiser from another library.

Such optimisers keep their history in memory. To share Optuna's storage, resume
and parallel workers, :class:`RebuildingSampler` keeps no state between trials:
at every trial it rebuilds the optimiser from the study's finished trials and
asks it for one point. A subclass only says how to propose a point from a
history (:meth:`RebuildingSampler._propose`).

Translation, the same for every backend (:class:`Encoding`):

- the optimiser sees the flattened space (every parameter, conditions ignored);
  a trial without a value for an inactive parameter is told at a fixed imputed
  value (the middle of the range, the first choice), which is harmless because
  the objective does not depend on an inactive parameter;
- log-scaled parameters are optimised in log space; integers with a step as the
  index of the step; categoricals as labels (``repr`` of the choice);
- failed and pruned trials are told as bad points, with the worst value of the
  completed trials, so the model steers away from them; before any trial
  completes they are not told;
- a proposal whose active configuration some trial already evaluated (or is
  evaluating) is replaced by a random unseen point, so a failed configuration is
  never proposed again and no evaluation is spent twice (after 100 draws, when
  nearly every configuration of a small discrete space is taken, the proposal
  stands).

The first ``n_startup_trials`` points are drawn at random (log-uniform for log
parameters) by the same code for every backend. The work happens in
``sample_relative``, which Optuna calls at the first ``trial.suggest_*``, so the
study loop's timing of ``study.ask()`` plus ``space.suggest(trial)`` includes it.
The optimiser runs with one BLAS thread.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial, TrialState
from threadpoolctl import threadpool_limits

from harness.search._space_sampler import SpaceSampler
from harness.search.space import CategoricalParam, IntParam, Param, SearchSpace

REAL, INTEGER, CATEGORICAL = "real", "integer", "categorical"
MAX_REDRAWS = 100


@dataclass(frozen=True)
class Dimension:
    """One coordinate of the optimiser's space.

    Attributes
    ----------
    name : str
        The parameter's name.
    kind : str
        ``"real"``, ``"integer"`` (a step index) or ``"categorical"``.
    low, high : float
        Bounds of the coordinate (log bounds for log parameters, ``0`` and the
        last index for integers and categoricals).
    labels : tuple of str
        The categories' labels, for categoricals.
    """

    name: str
    kind: str
    low: float
    high: float
    labels: tuple[str, ...] = ()

    def to_backend(self, x: float) -> str | int | float:
        """Return coordinate ``x`` as a backend takes it: a label, an int or a float."""
        if self.kind == CATEGORICAL:
            return self.labels[round(x)]
        return round(x) if self.kind == INTEGER else float(x)

    def from_backend(self, value: str | float) -> float:
        """Return the coordinate of a backend's value (a label or a number)."""
        return float(self.labels.index(value)) if self.kind == CATEGORICAL else float(value)


def _dimension(param: Param) -> Dimension:
    if isinstance(param, CategoricalParam):
        labels = tuple(repr(choice) for choice in param.choices)
        return Dimension(param.name, CATEGORICAL, 0, len(labels) - 1, labels)
    if isinstance(param, IntParam) and not param.log:
        return Dimension(param.name, INTEGER, 0, (param.high - param.low) // param.step)
    if param.log:
        return Dimension(param.name, REAL, math.log(param.low), math.log(param.high))
    return Dimension(param.name, REAL, param.low, param.high)


class Encoding:
    """Maps parameter values to an optimiser's coordinates and back.

    Parameters
    ----------
    space : SearchSpace
        The space; parameters with a single possible value get no coordinate.
    """

    def __init__(self, space: SearchSpace) -> None:
        params = list(space.params.values())
        self.params = [p for p in params if not p.distribution().single()]
        self.dims = [_dimension(p) for p in self.params]
        self.constants = {
            p.name: p.choices[0] if isinstance(p, CategoricalParam) else p.low
            for p in params
            if p.distribution().single()
        }

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Return the coordinates of ``values``; missing or invalid values are imputed."""
        pairs = zip(self.params, self.dims, strict=True)
        return np.array([self._encode(p, d, values.get(p.name)) for p, d in pairs])

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Return the parameter values at coordinates ``x`` (every parameter)."""
        pairs = zip(self.params, self.dims, x, strict=True)
        decoded = {p.name: self._decode(p, d, float(v)) for p, d, v in pairs}
        return {**self.constants, **decoded}

    def random(self, rng: np.random.Generator) -> np.ndarray:
        """Draw uniform coordinates (log-uniform values for log parameters)."""
        return np.array(
            [
                rng.uniform(d.low, d.high) if d.kind == REAL else rng.integers(d.low, d.high + 1)
                for d in self.dims
            ],
            dtype=float,
        )

    @staticmethod
    def _encode(param: Param, dim: Dimension, value: Any) -> float:
        if value is None or (isinstance(param, CategoricalParam) and not param.contains(value)):
            middle = (dim.low + dim.high) / 2
            return {REAL: middle, INTEGER: float(round(middle)), CATEGORICAL: 0.0}[dim.kind]
        if isinstance(param, CategoricalParam):
            return float(param.choices.index(value))
        if dim.kind == INTEGER:
            return float(np.clip(round((value - param.low) / param.step), dim.low, dim.high))
        coordinate = math.log(value) if param.log and value > 0 else float(value)
        return float(np.clip(coordinate, dim.low, dim.high))

    @staticmethod
    def _decode(param: Param, dim: Dimension, x: float) -> Any:
        if isinstance(param, CategoricalParam):
            return param.choices[int(np.clip(round(x), dim.low, dim.high))]
        if dim.kind == INTEGER:
            return param.low + param.step * int(np.clip(round(x), dim.low, dim.high))
        value = math.exp(x) if param.log else x
        if isinstance(param, IntParam):
            return int(np.clip(round(value), param.low, param.high))
        return float(np.clip(value, param.low, param.high))


def _restrict(values: Mapping[str, Any], search_space: Mapping[str, Any]) -> dict[str, Any]:
    """Return the entries of ``values`` that the relative ``search_space`` holds."""
    return {name: value for name, value in values.items() if name in search_space}


@dataclass(frozen=True)
class History:
    """What the study's other trials tell a rebuilt optimiser.

    Attributes
    ----------
    x : ndarray of shape (n, d)
        Coordinates of the completed, failed and pruned trials.
    y : ndarray of shape (n,)
        Their values, oriented so that larger is better; failed and pruned
        trials get the worst completed value.
    seen : set
        The active configurations of every other trial that has values,
        running ones included.
    """

    x: np.ndarray
    y: np.ndarray
    seen: set[tuple]


class RebuildingSampler(SpaceSampler, abc.ABC):
    """An Optuna sampler that rebuilds a wrapped optimiser from the study at each trial.

    Parameters
    ----------
    space : SearchSpace
        The space the study's objective samples with ``space.suggest``.
    seed : int
        Seeds the random start and, mixed with the trial number, the optimiser,
        so the same seed and history give the same proposal.
    n_startup_trials : int, optional
        Random proposals before the optimiser is used.
    """

    def __init__(self, space: SearchSpace, seed: int, n_startup_trials: int = 10) -> None:
        super().__init__(space, seed)
        self._n_startup_trials = n_startup_trials
        self._encoding = Encoding(space)
        self._independent = RandomSampler(seed=seed)

    def reseed_rng(self) -> None:
        # Proposals are seeded by (seed, trial number), so only the inner sampler has a stream.
        self._independent.reseed_rng()

    @abc.abstractmethod
    def _propose(self, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        """Return the optimiser's next point (coordinates) given the history to maximise."""

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        self._raise_error_if_multi_objective(study)
        if not search_space:
            return {}
        if not self._encoding.dims:
            return _restrict(self._encoding.constants, search_space)
        history = self._history(study, trial)
        rng = np.random.default_rng([self._seed, trial.number])
        if len(history.y) < max(self._n_startup_trials, 1):
            x = self._encoding.random(rng)
        else:
            # BLAS threads only slow these small matrices down (6x measured on 2 busy cores).
            with threadpool_limits(limits=1):
                x = self._propose(history.x, history.y, int(rng.integers(2**31 - 1)))
        # Values fixed from outside (enqueue_trial) replace the proposal's; a parameter that is
        # neither proposed here nor fixed (PartialFixedSampler) makes the key unknown, so no redraw.
        fixed = trial.system_attrs.get("fixed_params", {})
        for _ in range(MAX_REDRAWS):
            proposed = _restrict(self._encoding.decode(x), search_space)
            if self._key({**proposed, **fixed}) not in history.seen:
                break
            x = self._encoding.random(rng)
        return _restrict(self._encoding.decode(x), search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        # Only parameters outside the space get here.
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def _key(self, values: Mapping[str, Any]) -> tuple:
        return tuple(sorted(self._space.active(values).items()))

    def _history(self, study: optuna.Study, trial: FrozenTrial) -> History:
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        others = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number]
        good, bad = [], []
        for other in others:
            if not other.params:
                continue  # a reference trial (the untuned baseline) proposes nothing
            if other.state == TrialState.COMPLETE and math.isfinite(other.value):
                good.append(other)
            elif other.state.is_finished():
                bad.append(other)
        values = [sign * t.value for t in good]
        told = []
        if values:
            told = good + bad
            values += [min(values)] * len(bad)
        x = np.array([self._encoding.encode(t.params) for t in told])
        x = x.reshape(len(told), len(self._encoding.dims))
        seen = {self._key(t.params) for t in others if t.params}
        return History(x, np.array(values, dtype=float), seen)
