"""bayesian-optimization (``bayes_opt``) wrapped as an Optuna sampler."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from harness.search._rebuilding import CATEGORICAL, INTEGER, Dimension, RebuildingSampler


def _bounds(dim: Dimension) -> Any:
    if dim.kind == CATEGORICAL:
        return list(dim.labels)
    if dim.kind == INTEGER:
        return (int(dim.low), int(dim.high), int)
    return (dim.low, dim.high)


def _unique_points(
    dims: list[Dimension], x: np.ndarray, y: np.ndarray
) -> list[tuple[dict[str, Any], float]]:
    """Return each distinct backend point once, with the mean of its targets.

    bayes_opt prints "Data point ... is not unique" for every repeated point it is
    told (``verbose=0`` does not silence it), and repeats are common: trials that
    differ only in inactive parameters, and failed trials, map to the same point.
    """
    targets: dict[tuple, list[float]] = {}
    for row, target in zip(x, y, strict=True):
        point = tuple(dim.to_backend(v) for dim, v in zip(dims, row, strict=True))
        targets.setdefault(point, []).append(float(target))
    return [
        ({dim.name: v for dim, v in zip(dims, point, strict=True)}, float(np.mean(values)))
        for point, values in targets.items()
    ]


class BayesOptSampler(RebuildingSampler):
    """Gaussian-process optimisation with bayesian-optimization's ``BayesianOptimization``.

    Its defaults: a Matern 5/2 GP, the upper-confidence-bound acquisition
    (kappa 2.576), maximised by random sampling and L-BFGS-B (or differential
    evolution when integer or categorical parameters are present).

    Parameters
    ----------
    space, seed, n_startup_trials
        See :class:`~harness.search._rebuilding.RebuildingSampler`.
    """

    def _propose(self, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        from bayes_opt import BayesianOptimization

        dims = self._encoding.dims
        with warnings.catch_warnings():
            # "Non-float parameters are experimental": integers and categoricals are used here.
            warnings.simplefilter("ignore", UserWarning)
            optimizer = BayesianOptimization(
                f=None,
                pbounds={dim.name: _bounds(dim) for dim in dims},
                random_state=seed,
                verbose=0,
                allow_duplicate_points=True,
            )
            for params, target in _unique_points(dims, x, y):
                optimizer.register(params=params, target=target)
            suggestion = optimizer.suggest()
        return np.array([dim.from_backend(suggestion[dim.name]) for dim in dims])
