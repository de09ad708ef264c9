"""scikit-optimize's ``Optimizer`` wrapped as an Optuna sampler."""

from __future__ import annotations

import warnings

import numpy as np

from harness.search._rebuilding import CATEGORICAL, INTEGER, RebuildingSampler
from harness.search.space import SearchSpace


class SkoptSampler(RebuildingSampler):
    """Sequential model-based optimisation with scikit-optimize's ``Optimizer``.

    Expected improvement is used rather than skopt's default ``gp_hedge``: the
    portfolio weights of ``gp_hedge`` live in the optimiser and would be lost
    by rebuilding it at each trial.

    Parameters
    ----------
    space, seed, n_startup_trials
        See :class:`~harness.search._rebuilding.RebuildingSampler`.
    base_estimator : {"GP", "RF", "ET"}, optional
        The surrogate model: Gaussian process, random forest or extra trees.
        ("GBRT" and "dummy" fail with scikit-learn 1.9.)
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        n_startup_trials: int = 10,
        base_estimator: str = "GP",
    ) -> None:
        super().__init__(space, seed, n_startup_trials)
        self._base_estimator = base_estimator

    def _propose(self, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        dims = self._encoding.dims
        dimensions = [
            Categorical(dim.labels, name=dim.name)
            if dim.kind == CATEGORICAL
            else Integer(int(dim.low), int(dim.high), name=dim.name)
            if dim.kind == INTEGER
            else Real(dim.low, dim.high, name=dim.name)
            for dim in dims
        ]
        optimizer = Optimizer(
            dimensions,
            base_estimator=self._base_estimator,
            n_initial_points=0,
            acq_func="EI",
            random_state=seed,
        )
        with warnings.catch_warnings():
            # skopt warns when its model proposes a point it was told; the base class redraws.
            warnings.simplefilter("ignore", UserWarning)
            optimizer.tell(
                [[d.to_backend(v) for d, v in zip(dims, row, strict=True)] for row in x], list(-y)
            )
            suggestion = optimizer.ask()
        return np.array([dim.from_backend(v) for dim, v in zip(dims, suggestion, strict=True)])
