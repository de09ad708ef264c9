"""Analytic test functions with known optima: tasks that cost nothing to evaluate.

They let the search strategies be studied on their own, with many seeds, in
seconds: the 2-D quadratic, Branin, Hartmann-6 and a mixed categorical and
continuous function. Each is minimised; its search space is the TOML file
``search_spaces/analytic/<name>.toml`` (a folder of its own: its parameters
are not the model's, so ``harness spaces`` does not list them). Pure numpy, no model is trained.

Examples
--------
>>> from harness.data.analytic import get_task
>>> round(get_task("branin")({"x1": 3.14159265, "x2": 2.275}), 6)
0.397887
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import choose

_HARTMANN_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_HARTMANN_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def quadratic(x: float, y: float) -> float:
    """``(x - 2)^2 + (y + 1)^2 / 2``: minimum 0 at (2, -1)."""
    return (x - 2.0) ** 2 + 0.5 * (y + 1.0) ** 2


def branin(x1: float, x2: float) -> float:
    """The Branin-Hoo function on [-5, 10] x [0, 15]: minimum 0.397887 at three points."""
    b = 5.1 / (4 * np.pi**2)
    c = 5 / np.pi
    t = 1 / (8 * np.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10)


def hartmann6(x: np.ndarray) -> float:
    """The 6-D Hartmann function on [0, 1]^6: minimum -3.32237."""
    inner = np.sum(_HARTMANN_A * (np.asarray(x, dtype=float) - _HARTMANN_P) ** 2, axis=1)
    return float(-np.sum(_HARTMANN_ALPHA * np.exp(-inner)))


_MIXED_SHIFT = {"a": 0.0, "b": 0.5, "c": 1.5}


def mixed(kind: str, x: float, y: float) -> float:
    """A categorical choice shifting a 2-D bowl: minimum 0 at kind ``a``, x = 1, y = -2."""
    return (x - 1.0) ** 2 + (y + 2.0) ** 2 + _MIXED_SHIFT[kind]


def _quadratic(p: Mapping[str, Any]) -> float:
    return quadratic(p["x"], p["y"])


def _branin(p: Mapping[str, Any]) -> float:
    return branin(p["x1"], p["x2"])


def _hartmann6(p: Mapping[str, Any]) -> float:
    return hartmann6(np.array([p[f"x{i}"] for i in range(1, 7)]))


def _mixed(p: Mapping[str, Any]) -> float:
    return mixed(p["kind"], p["x"], p["y"])


@dataclass(frozen=True)
class AnalyticTask:
    """A function to minimise, its known optimum and its search space.

    Parameters
    ----------
    name : str
        The task's name (``task = "<name>"`` in a comparison file).
    function : callable
        ``function(params) -> float`` on a mapping of parameter values.
    optimum : float
        The known minimum.
    space : str
        The stem of its space file in ``search_spaces/analytic/``.
    description : str
        One line for listings.
    """

    name: str
    function: Callable[[Mapping[str, Any]], float]
    optimum: float
    space: str
    description: str

    def __call__(self, params: Mapping[str, Any]) -> float:
        """Return the function's value at ``params``."""
        return float(self.function(params))

    def noisy(self, params: Mapping[str, Any], noise: float, rng: np.random.Generator) -> float:
        """Return the value plus Gaussian noise of standard deviation ``noise``."""
        value = self(params)
        return value + float(rng.normal(0.0, noise)) if noise > 0 else value


TASKS: dict[str, AnalyticTask] = {
    t.name: t
    for t in (
        AnalyticTask(
            "quadratic",
            _quadratic,
            0.0,
            "quadratic",
            "2-D quadratic bowl, minimum 0 at (2, -1)",
        ),
        AnalyticTask(
            "branin",
            _branin,
            0.397887,
            "branin",
            "Branin-Hoo on [-5, 10] x [0, 15], minimum 0.397887 (three minimisers)",
        ),
        AnalyticTask(
            "hartmann6",
            _hartmann6,
            -3.32237,
            "hartmann6",
            "Hartmann-6 on [0, 1]^6, minimum -3.32237",
        ),
        AnalyticTask(
            "mixed",
            _mixed,
            0.0,
            "mixed",
            "categorical kind in {a, b, c} shifting a 2-D bowl, minimum 0 at (a, 1, -2)",
        ),
    )
}
"""Every analytic task by name."""


def get_task(name: str) -> AnalyticTask:
    """Return the analytic task called ``name``.

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the known ones.
    """
    return choose(name, TASKS, "analytic task")
