"""Comparisons: strategies x seeds on one task, defined in a TOML file under ``studies/``.

A comparison fixes the task (dataset, space, metric, folds, held-out split and
model initialisation through ``task_seed``) and varies only the strategy and
its seed, so every study optimises the same deterministic objective and the
exhaustive grid's best score is the true optimum of that objective.

Example (``studies/teleconnect-small.toml``)::

    name = "teleconnect-small"
    dataset = "teleconnect"
    space = "mlp-small"
    strategies = ["grid", "random", "tpe", "gp", "bayesopt", "skopt"]
    seeds = [0, 1, 2, 3, 4]
    trials = 40
    exhaustive_grid = true     # one extra grid study over the whole space: the optimum
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.search.pruners import check_pruner
from harness.search.strategies import STRATEGIES
from harness.study.checks import check_budget
from harness.study.ledger import study_name
from harness.study.metrics import DEFAULT_METRIC, get_metric

EXHAUSTIVE = "grid-full"


@dataclass(frozen=True)
class Comparison:
    """A comparison definition; see the module docstring for the file format.

    Parameters
    ----------
    name : str
        Prefix of the study names and base name of the leaderboard files.
    dataset : str or None
        A registered dataset name (``python -m harness datasets``).
    data, target, sep, categorical
        A CSV file instead of ``dataset``: path, target column, separator and
        categorical columns.
    space : str
        Search space name or TOML path.
    strategies : tuple of str
        Strategies to compare; ``random`` is the reference of normalized regret.
    seeds : tuple of int
        Strategy seeds; every strategy runs once per seed.
    trials : int
        Trial budget of each study.
    timeout, trial_timeout : float or None
        Seconds per study run and per trial.
    metric : str
        Objective metric.
    folds : int
        Cross-validation folds.
    test_size : float
        Held-out fraction for the final test.
    task_seed : int
        Seeds the folds, the held-out split and the models (the same for all studies).
    workers : int
        Worker processes per study.
    pruner : str
        Pruner (see :data:`harness.study.loop.PRUNERS`).
    prune_on : str
        ``"folds"`` or ``"epochs"`` (see :class:`harness.study.loop.StudySpec`).
    storage : str
        Storage URL; default ``sqlite:///studies/<name>.db``.
    exhaustive_grid : bool
        Also run one grid study over the whole space, whose best score is the
        optimum for the efficiency metrics.
    path : Path
        The file it was read from.
    """

    name: str
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    trials: int
    dataset: str | None = None
    data: str | None = None
    target: str | None = None
    sep: str | None = None
    categorical: tuple[str, ...] | None = None
    space: str = "mlp"
    timeout: float | None = None
    trial_timeout: float | None = None
    metric: str = "f1_macro"
    folds: int = 5
    test_size: float = 0.2
    task_seed: int = 0
    workers: int = 1
    pruner: str = "none"
    prune_on: str = "folds"
    storage: str = ""
    exhaustive_grid: bool = False
    path: Path = field(default=Path("."), compare=False)

    def study_name(self, strategy: str, seed: int) -> str:
        """Return the name of the study of ``strategy`` with ``seed``."""
        return study_name(self.name, strategy, seed)

    @property
    def exhaustive_name(self) -> str:
        """Name of the exhaustive grid study."""
        return f"{self.name}-{EXHAUSTIVE}"

    def matrix(self) -> list[tuple[str, int]]:
        """Return every (strategy, seed) pair, strategies outermost."""
        return [(strategy, seed) for strategy in self.strategies for seed in self.seeds]

    def study_names(self) -> list[str]:
        """Return the names of the (strategy, seed) studies, in :meth:`matrix` order."""
        return [self.study_name(strategy, seed) for strategy, seed in self.matrix()]

    def space_source(self) -> str | Path:
        """The space to load: a TOML path relative to this file if one is there, else the name."""
        beside = self.path.parent / self.space
        return beside if self.space.endswith(".toml") and beside.is_file() else self.space

    def load_dataset(self, data_dir: str | Path | None = None):
        """Load the comparison's dataset (see :mod:`harness.data.datasets`)."""
        from harness.data.datasets import load_csv, load_dataset

        if self.data is not None:
            path = Path(self.data)
            if not path.is_absolute():
                path = self.path.parent / path
            return load_csv(path, self.target, sep=self.sep, categorical=self.categorical)
        return load_dataset(self.dataset, data_dir=data_dir)


_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "strategies": (list,),
    "seeds": (list,),
    "trials": (int,),
    "dataset": (str,),
    "data": (str,),
    "target": (str,),
    "sep": (str,),
    "categorical": (list,),
    "space": (str,),
    "timeout": (int, float),
    "trial_timeout": (int, float),
    "metric": (str,),
    "folds": (int,),
    "test_size": (float,),
    "task_seed": (int,),
    "workers": (int,),
    "pruner": (str,),
    "prune_on": (str,),
    "storage": (str,),
    "exhaustive_grid": (bool,),
}


def _check(path: Path, values: dict[str, Any]) -> None:
    known = {f.name for f in fields(Comparison)} - {"path"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for key in ("name", "strategies", "seeds", "trials"):
        if key not in values:
            raise ConfigError(f"{path}: missing required key {key!r}")
    for key, value in values.items():
        types = _TYPES[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{path}: {key} must be of type {expected}, got {value!r}")
    if (values.get("dataset") is None) == (values.get("data") is None):
        raise ConfigError(
            f"{path}: give exactly one of 'dataset' (a registered name) or 'data' (a CSV path)"
        )
    if values.get("data") is not None and values.get("target") is None:
        raise ConfigError(f"{path}: 'data' needs 'target', the label column")
    if not values["strategies"] or not values["seeds"]:
        raise ConfigError(f"{path}: 'strategies' and 'seeds' must not be empty")
    if len(set(values["strategies"])) != len(values["strategies"]):
        raise ConfigError(f"{path}: 'strategies' lists a strategy twice")
    check_budget(
        trials=values["trials"],
        folds=values.get("folds", 5),
        test_size=values.get("test_size", 0.2),
        timeout=values.get("timeout"),
        trial_timeout=values.get("trial_timeout"),
        workers=values.get("workers", 1),
        flag="",
        where=f"{path}: ",
    )


def load_comparison(path: str | Path, strategies: Sequence[str] | None = None) -> Comparison:
    """Read and validate a comparison file: keys, types, budget, strategies, metric, pruner.

    Parameters
    ----------
    path : str or Path
        The TOML file.
    strategies : sequence of str, optional
        Names every strategy must be one of; default: the strategy registry's.

    Raises
    ------
    ConfigError
        Naming the file, the key and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no comparison file {path}: see studies/*.toml for examples")
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    _check(path, values)
    known = list(STRATEGIES) if strategies is None else list(strategies)
    unknown = [s for s in values["strategies"] if s not in known]
    if unknown:
        raise ConfigError(
            f"{path}: unknown strategy {unknown[0]!r}; choose from: {', '.join(known)}"
        )
    try:
        get_metric(values.get("metric", DEFAULT_METRIC))
        check_pruner(values.get("pruner", "none"), values.get("prune_on", "folds"))
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    values.setdefault("storage", f"sqlite:///studies/{values['name']}.db")
    return Comparison(**values, path=path)
