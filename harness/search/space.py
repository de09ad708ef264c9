"""Search spaces: TOML files -> typed parameters -> Optuna distributions and grids.

A search space names the estimator parameters (plus ``imbalance``) to tune, their
types and ranges, conditions between them, the values grid search uses and the
values that stay fixed. ``search_spaces/README.md`` documents the file format;
:func:`load_space` reads a file and validates it completely, so that a mistake
is reported once, with the file and parameter it concerns, before any training.
"""

from __future__ import annotations

import abc
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from harness.errors import ConfigError, SpaceError
from harness.model.families import DEFAULT_FAMILY, FAMILY, KINDS, Family, accepts, get_family
from harness.model.vocabulary import IMBALANCE, IMBALANCE_STRATEGIES
from harness.search.grid import Grid

SPACES_DIR = "search_spaces"
BUILTIN_SPACES = Path(__file__).resolve().parent / "builtin_spaces"

Scalar = bool | int | float | str


class _FamilyNames:
    """The default ``allowed_names``: the parameters of the space's own model family."""

    def __repr__(self) -> str:
        return "FAMILY_NAMES"


FAMILY_NAMES = _FamilyNames()


def _text(value: Any) -> str:
    """Write a value as in the TOML file: ``1e-05``, ``true``."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, kw_only=True)
class Param(abc.ABC):
    """One searched parameter.

    Attributes
    ----------
    name : str
        Estimator parameter name, or ``imbalance``.
    grid : tuple or None
        The values grid search tries; ``None`` when the file gives none.
    when : dict
        ``{parent: allowed values}``: the parameter is active only when every
        parent is active and has one of its allowed values.
    description : str
        Free text from the file.
    """

    kind: ClassVar[str]
    name: str
    grid: tuple[Scalar, ...] | None = None
    when: Mapping[str, tuple[Scalar, ...]] = field(default_factory=dict)
    description: str = field(default="", repr=False, compare=False)

    def is_active(self, values: Mapping[str, Any]) -> bool:
        """Return whether the parameter is active given the values of its parents."""
        return all(
            parent in values and values[parent] in allowed for parent, allowed in self.when.items()
        )

    def condition_text(self) -> str:
        """Return the condition as ``parent = value`` text, ``""`` when unconditional."""
        return " and ".join(
            f"{parent} = {' | '.join(map(_text, allowed))}" for parent, allowed in self.when.items()
        )

    @abc.abstractmethod
    def distribution(self) -> BaseDistribution:
        """Return the Optuna distribution of the parameter."""

    @abc.abstractmethod
    def suggest(self, trial: optuna.Trial) -> Scalar:
        """Ask ``trial`` for a value of this parameter."""

    @abc.abstractmethod
    def range_text(self) -> str:
        """Return the range or the choices as short text."""

    @abc.abstractmethod
    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is a valid value of the parameter."""


@dataclass(frozen=True, kw_only=True)
class FloatParam(Param):
    """A real-valued parameter in ``[low, high]``, optionally searched on a log scale."""

    kind: ClassVar[str] = "float"
    low: float
    high: float
    log: bool = False

    def distribution(self) -> FloatDistribution:
        return FloatDistribution(self.low, self.high, log=self.log)

    def suggest(self, trial: optuna.Trial) -> float:
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def range_text(self) -> str:
        return f"[{_text(self.low)}, {_text(self.high)}]"

    def contains(self, value: Any) -> bool:
        return isinstance(value, float) and self.low <= value <= self.high


@dataclass(frozen=True, kw_only=True)
class IntParam(Param):
    """An integer parameter in ``[low, high]`` with a step, optionally on a log scale."""

    kind: ClassVar[str] = "int"
    low: int
    high: int
    step: int = 1
    log: bool = False

    def distribution(self) -> IntDistribution:
        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def suggest(self, trial: optuna.Trial) -> int:
        return trial.suggest_int(self.name, self.low, self.high, step=self.step, log=self.log)

    def range_text(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"[{self.low}, {self.high}]{step}"

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )


@dataclass(frozen=True, kw_only=True)
class CategoricalParam(Param):
    """A parameter taking one of a list of choices (strings, numbers or booleans)."""

    kind: ClassVar[str] = "categorical"
    choices: tuple[Scalar, ...]

    def distribution(self) -> CategoricalDistribution:
        return CategoricalDistribution(self.choices)

    def suggest(self, trial: optuna.Trial) -> Scalar:
        return trial.suggest_categorical(self.name, self.choices)

    def range_text(self) -> str:
        return "{" + ", ".join(map(_text, self.choices)) + "}"

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(c) and value == c for c in self.choices)


class SearchSpace:
    """A validated search space: searched parameters, conditions, grid and fixed values.

    Parameters
    ----------
    name : str
        Short name (the file stem for spaces read from files).
    params : sequence of Param
        The searched parameters. Conditions may refer only to categorical
        parameters of the same space, without cycles.
    fixed : mapping, optional
        Values passed unchanged with every configuration.
    description : str, optional
        Free text.
    source : str, optional
        Where the space came from (a file path), used in error messages.
    family : str, optional
        The model family (:mod:`harness.model.families`); configurations of a
        family other than the default carry it under the ``family`` key.

    Raises
    ------
    SpaceError
        When a condition names an unknown or non-categorical parameter, tests a
        value that is not a choice, forms a cycle, or a name is both searched
        and fixed.
    """

    def __init__(
        self,
        name: str,
        params: Sequence[Param],
        fixed: Mapping[str, Any] | None = None,
        *,
        description: str = "",
        source: str | None = None,
        family: str = DEFAULT_FAMILY,
    ) -> None:
        self.name = name
        self.description = description
        self.source = source or name
        self.family = family
        self.fixed = dict(fixed or {})
        if family != DEFAULT_FAMILY:
            # Carried by every configuration, so a stored one says what to rebuild.
            self.fixed = {FAMILY: family, **self.fixed}
        by_name = {p.name: p for p in params}
        if len(by_name) != len(params):
            raise SpaceError(f"{self.source}: a parameter name appears twice; keep one of them")
        both = sorted(by_name.keys() & self.fixed.keys())
        if both:
            raise SpaceError(
                f"{self.source}: parameter '{both[0]}' is both searched and fixed; keep one of them"
            )
        for param in params:
            self._check_condition(param, by_name)
        self.params: dict[str, Param] = {p.name: p for p in _topological(params, self.source)}

    def _check_condition(self, param: Param, by_name: Mapping[str, Param]) -> None:
        for parent, allowed in param.when.items():
            where = f"{self.source}: parameter '{param.name}': when"
            if parent not in by_name or parent == param.name:
                raise SpaceError(
                    f"{where} names unknown parameter '{parent}'; "
                    f"use one of the other searched parameters: {', '.join(by_name)}"
                )
            target = by_name[parent]
            if not isinstance(target, CategoricalParam):
                raise SpaceError(
                    f"{where} tests '{parent}', a {target.kind} parameter; "
                    "conditions may only test categorical parameters"
                )
            for value in allowed:
                if not target.contains(value):
                    raise SpaceError(
                        f"{where} tests {parent} = {value!r}, which is not one of its choices "
                        f"{target.range_text()}"
                    )

    def __repr__(self) -> str:
        return (
            f"SearchSpace({self.name!r}, family={self.family!r}, params={list(self.params)}, "
            f"fixed={self.fixed})"
        )

    @property
    def conditional(self) -> bool:
        """Whether some parameter is active only under a condition."""
        return any(p.when for p in self.params.values())

    @cached_property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The flattened space: every searched parameter's distribution, conditions ignored."""
        return {name: p.distribution() for name, p in self.params.items()}

    def active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the entries of ``values`` that are active parameters, in space order.

        Parameters
        ----------
        values : mapping
            Values of (a superset of) the searched parameters, e.g. a point of
            the flattened space.

        Returns
        -------
        dict
            The parameters present in ``values`` whose conditions hold.
        """
        active: dict[str, Any] = {}
        for name, param in self.params.items():
            if name in values and param.is_active(active):
                active[name] = values[name]
        return active

    def configuration(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return the full configuration: the fixed values and the active ``params``."""
        return {**self.fixed, **self.active(params)}

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Sample a configuration define-by-run, asking ``trial`` for active parameters only.

        Parameters
        ----------
        trial : optuna.Trial
            The trial whose sampler proposes the values.

        Returns
        -------
        dict
            The full configuration: fixed values and the suggested active parameters.
        """
        values: dict[str, Any] = {}
        for param in self.params.values():
            if param.is_active(values):
                values[param.name] = param.suggest(trial)
        return {**self.fixed, **values}

    @property
    def has_grid(self) -> bool:
        """Whether every parameter has grid values, so grid search can run."""
        return all(p.grid is not None for p in self.params.values())

    @cached_property
    def _grid(self) -> Grid:
        missing = [p.name for p in self.params.values() if p.grid is None]
        if missing:
            raise SpaceError(
                f"{self.source}: grid search needs grid values for {', '.join(missing)}; "
                "add grid = [values] or grid = N to those parameters"
            )
        return Grid(list(self.params.values()))

    @property
    def grid_size(self) -> int:
        """The number of grid points; inactive parameters are not multiplied in.

        Raises
        ------
        SpaceError
            When a numeric parameter has no grid values.
        """
        return self._grid.size

    def grid_point(self, index: int) -> dict[str, Any]:
        """Return grid point ``index`` (``0 <= index < grid_size``): its active parameters."""
        return self._grid.point(index)

    def grid_index(self, values: Mapping[str, Any]) -> int | None:
        """The index of the grid point equal to ``values`` (active searched values), or None."""
        return self._grid.index(values)

    def grid(self) -> list[dict[str, Any]]:
        """Return every grid point (active searched parameters only), without duplicates."""
        return list(self._grid)

    def describe(self) -> list[dict[str, str]]:
        """Return one row per parameter for display: type, range, log, condition, grid.

        Fixed values follow the searched parameters, with type ``fixed``.
        """
        rows = []
        for param in self.params.values():
            grid = "-" if param.grid is None else ", ".join(_text(v) for v in param.grid)
            rows.append(
                {
                    "parameter": param.name,
                    "type": param.kind,
                    "range": param.range_text(),
                    "log": "yes" if getattr(param, "log", False) else "",
                    "when": param.condition_text(),
                    "grid": grid,
                }
            )
        for name, value in self.fixed.items():
            rows.append(
                {
                    "parameter": name,
                    "type": "fixed",
                    "range": _text(value),
                    "log": "",
                    "when": "",
                    "grid": "",
                }
            )
        return rows


def _topological(params: Sequence[Param], source: str) -> list[Param]:
    """Order ``params`` as given, except that parents move before what they condition."""
    ordered: list[Param] = []
    pending = list(params)
    while pending:
        placed = {p.name for p in ordered}
        ready = next((p for p in pending if placed.issuperset(p.when)), None)
        if ready is None:
            names = ", ".join(p.name for p in pending)
            raise SpaceError(f"{source}: the conditions of {names} form a cycle; break the cycle")
        ordered.append(ready)
        pending.remove(ready)
    return ordered


class _Reader:
    """Validates the table of one space file, naming the file and parameter in errors."""

    TOP_KEYS = ("description", "family", "params", "fixed")
    COMMON_KEYS = ("type", "grid", "when", "description")
    TYPE_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "float": ("low", "high", "log"),
        "int": ("low", "high", "step", "log"),
        "categorical": ("choices",),
    }

    def __init__(self, source: str, allowed_names: Collection[str] | _FamilyNames | None) -> None:
        self.source = source
        self.allowed_names = allowed_names
        self.family: Family | None = None

    def fail(self, name: str, problem: str) -> SpaceError:
        return SpaceError(f"{self.source}: parameter '{name}': {problem}")

    def space(self, data: Mapping[str, Any], name: str) -> SearchSpace:
        for key in data:
            if key not in self.TOP_KEYS:
                raise SpaceError(
                    f"{self.source}: unknown key '{key}'; expected {', '.join(self.TOP_KEYS)}"
                )
        try:
            self.family = get_family(data.get("family", DEFAULT_FAMILY))
        except ConfigError as error:
            raise SpaceError(f"{self.source}: {error}") from None
        if isinstance(self.allowed_names, _FamilyNames):
            self.allowed_names = self.family.param_names
        tables = data.get("params")
        if not isinstance(tables, Mapping) or not tables:
            raise SpaceError(f"{self.source}: no [params.NAME] tables; add at least one parameter")
        fixed = data.get("fixed", {})
        if not isinstance(fixed, Mapping):
            raise SpaceError(f"{self.source}: [fixed] must be a table of name = value")
        for fixed_name, value in fixed.items():
            self.check_name(fixed_name)
            if isinstance(value, Scalar):
                self.check_kind(fixed_name, [value], "fixed value")
            self.check_bounds(fixed_name, [value], "fixed value")
        params = [self.param(param_name, table) for param_name, table in tables.items()]
        description = data.get("description", "")
        return SearchSpace(
            name,
            params,
            fixed,
            description=str(description),
            source=self.source,
            family=self.family.name,
        )

    def check_name(self, name: str) -> None:
        if self.allowed_names is not None and name not in self.allowed_names:
            family = self.family or get_family(DEFAULT_FAMILY)
            raise self.fail(
                name,
                f"unknown name; use a parameter of the {family.name!r} model family: "
                + ", ".join(self.allowed_names),
            )

    def param(self, name: str, table: Any) -> Param:
        self.check_name(name)
        if not isinstance(table, Mapping):
            raise self.fail(name, "must be a table: [params.NAME] with type = ...")
        kind = table.get("type")
        if kind not in self.TYPE_KEYS:
            raise self.fail(
                name, f"unknown type {kind!r}; use one of {', '.join(map(repr, self.TYPE_KEYS))}"
            )
        allowed = (*self.COMMON_KEYS, *self.TYPE_KEYS[kind])
        for key in table:
            if key not in allowed:
                raise self.fail(name, f"unknown key '{key}' for a {kind}; use {', '.join(allowed)}")
        common = {
            "name": name,
            "when": self.when(name, table.get("when", {})),
            "description": str(table.get("description", "")),
        }
        if kind == "categorical":
            param: Param = self.categorical(name, table, common)
        else:
            param = self.numeric(name, kind, table, common)
        if name == IMBALANCE and not (
            isinstance(param, CategoricalParam) and set(param.choices) <= set(IMBALANCE_STRATEGIES)
        ):
            raise self.fail(
                name, f"must be categorical with choices from {', '.join(IMBALANCE_STRATEGIES)}"
            )
        if isinstance(param, CategoricalParam):
            self.check_kind(name, param.choices, "choice")
            self.check_bounds(name, param.choices, "choice")
        else:
            self.check_numeric_kind(param)
            self.check_bounds(name, [param.low, param.high], "range end")
        return param

    def kind(self, name: str) -> str | None:
        """What the family's parameter ``name`` takes; None for other objectives' spaces."""
        if self.allowed_names is None or self.family is None:
            return None
        return self.family.kinds.get(name)

    def check_kind(self, name: str, values: Sequence[Any], what: str) -> None:
        """Refuse a choice or fixed value of another kind than the parameter takes.

        ``lr`` with choices ``["fast", "slow"]`` would load, then fail every trial.
        """
        kind = self.kind(name)
        if kind is None:
            return
        for value in values:
            if not accepts(kind, value):
                raise self.fail(
                    name,
                    f"{what} {value!r} is not {KINDS[kind]}, and {name} of the "
                    f"{self.family.name!r} model family takes {KINDS[kind]}; give "
                    f"{KINDS[kind]} there",
                )

    def check_numeric_kind(self, param: FloatParam | IntParam) -> None:
        """Refuse a float or int range for a parameter that takes another kind."""
        kind = self.kind(param.name)
        if kind is None or kind == "number" or (kind == "integer" and param.kind == "int"):
            return
        fix = 'type = "int"' if kind == "integer" else 'type = "categorical" with its choices'
        raise self.fail(
            param.name,
            f'type = "{param.kind}" gives numbers, but {param.name} of the '
            f"{self.family.name!r} model family takes {KINDS[kind]}; use {fix}",
        )

    def check_bounds(self, name: str, values: Sequence[Any], what: str) -> None:
        """Refuse a value outside the range the family allows for ``name`` (``Family.bounds``)."""
        bounds = self.family.bounds.get(name) if self.family else None
        if bounds is None:
            return
        low, high = bounds
        shown = "[{}, {}]".format(
            "-inf" if low is None else _text(low), "inf" if high is None else _text(high)
        )
        for value in values:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            below = number and low is not None and value < low
            if not number or below or (high is not None and value > high):
                raise self.fail(
                    name,
                    f"{what} {_text(value)} is outside {shown}, the range the "
                    f"{self.family.name!r} model family allows; keep it within {shown}",
                )

    def when(self, name: str, when: Any) -> dict[str, tuple[Scalar, ...]]:
        if not isinstance(when, Mapping):
            raise self.fail(name, 'when must be a table, e.g. when = { optimizer = "sgd" }')
        return {
            parent: tuple(allowed) if isinstance(allowed, list) else (allowed,)
            for parent, allowed in when.items()
        }

    def categorical(self, name: str, table: Mapping[str, Any], common: dict) -> CategoricalParam:
        choices = table.get("choices")
        if not isinstance(choices, list) or not choices:
            raise self.fail(name, "choices must be a non-empty list")
        for choice in choices:
            if not isinstance(choice, Scalar):
                raise self.fail(
                    name, f"choice {choice!r} is not a string, number or boolean; use scalars"
                )
        if len({(type(c), c) for c in choices}) != len(choices):
            raise self.fail(name, "choices repeat a value; list each choice once")
        param = CategoricalParam(choices=tuple(choices), **common)
        grid = table.get("grid", choices)
        if not isinstance(grid, list):
            raise self.fail(name, "grid of a categorical must be a list of its choices")
        return replace(param, grid=self.grid_list(param, grid))

    def numeric(
        self, name: str, kind: str, table: Mapping[str, Any], common: dict
    ) -> FloatParam | IntParam:
        is_int = kind == "int"
        bounds = {}
        for key in ("low", "high"):
            value = table.get(key)
            if isinstance(value, bool) or not isinstance(value, int if is_int else (int, float)):
                expected = "an integer" if is_int else "a number"
                raise self.fail(name, f"{key} must be {expected}, got {value!r}")
            bounds[key] = value if is_int else float(value)
        low, high = bounds["low"], bounds["high"]
        log = table.get("log", False)
        if not isinstance(log, bool):
            raise self.fail(name, f"log must be true or false, got {log!r}")
        if low > high:
            raise self.fail(name, f"low ({low}) > high ({high}); make low <= high")
        if log and low <= 0:
            raise self.fail(name, f"log = true needs low > 0, got low = {low}")
        if not is_int:
            param: FloatParam | IntParam = FloatParam(low=low, high=high, log=log, **common)
        else:
            step = table.get("step", 1)
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                raise self.fail(name, f"step must be a positive integer, got {step!r}")
            if log and step != 1:
                raise self.fail(name, "log = true needs step = 1")
            if (high - low) % step:
                raise self.fail(name, f"high - low ({high - low}) is not a multiple of step {step}")
            param = IntParam(low=low, high=high, step=step, log=log, **common)
        grid = table.get("grid")
        if grid is None:
            return param
        if isinstance(grid, int) and not isinstance(grid, bool):
            values = self.grid_points(param, grid)
        elif isinstance(grid, list):
            if not is_int:  # TOML writes 0 for 0.0
                grid = [float(v) if type(v) is int else v for v in grid]
            values = self.grid_list(param, grid)
        else:
            raise self.fail(name, "grid must be a list of values or a number of points")
        return replace(param, grid=values)

    def grid_list(self, param: Param, values: list[Any]) -> tuple[Scalar, ...]:
        if not values:
            raise self.fail(param.name, "grid is empty; give at least one value")
        for value in values:
            if not param.contains(value):
                raise self.fail(param.name, f"grid value {value!r} is not in {param.range_text()}")
        return tuple(dict.fromkeys(values))

    def grid_points(self, param: FloatParam | IntParam, n: int) -> tuple[Scalar, ...]:
        if n < 2:
            raise self.fail(param.name, f"grid = {n}: give at least 2 points, or a list")
        spacing = np.geomspace if param.log else np.linspace
        points = np.clip(spacing(param.low, param.high, n), param.low, param.high)
        if isinstance(param, FloatParam):
            return tuple(dict.fromkeys(float(v) for v in points))
        steps = np.round((points - param.low) / param.step).astype(int)
        return tuple(dict.fromkeys(int(param.low + k * param.step) for k in steps))


def parse_space(
    data: Mapping[str, Any],
    name: str,
    *,
    source: str | None = None,
    allowed_names: Collection[str] | _FamilyNames | None = FAMILY_NAMES,
) -> SearchSpace:
    """Build a :class:`SearchSpace` from the table of a space file.

    Parameters
    ----------
    data : mapping
        The parsed TOML document (``description``, ``params``, ``fixed``).
    name : str
        The space's name.
    source : str, optional
        Where ``data`` came from, for error messages; defaults to ``name``.
    allowed_names : collection of str or None, optional
        The parameter names the space may use. By default those of the
        space's model family (its ``family`` key, default the MLP); ``None``
        accepts any name (for spaces of other objectives, such as the analytic
        test functions).

    Returns
    -------
    SearchSpace
        The validated space: its parameters, conditions and fixed settings.

    Raises
    ------
    SpaceError
        Naming the source, the parameter and the problem.
    """
    return _Reader(source or name, allowed_names).space(data, name)


def available_spaces() -> dict[str, Path]:
    """Return the space files by name: ``./search_spaces`` first, then the project's own.

    Returns
    -------
    dict
        ``{name: path}``, sorted by name; a name in the working directory hides
        the project's file of the same name.
    """
    found: dict[str, Path] = {}
    for folder in (Path.cwd() / SPACES_DIR, BUILTIN_SPACES):
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path.resolve())
    return dict(sorted(found.items()))


ANALYTIC = "analytic"
"""Folder of the analytic test functions' spaces, and the prefix of their names."""


def analytic_spaces() -> dict[str, Path]:
    """Return the analytic tasks' space files by name, ``analytic/<task>``, sorted.

    They search the test functions of :mod:`harness.data.analytic` (a replay
    comparison's ``task``); no model is trained, so their names are free.
    """
    folder = BUILTIN_SPACES / ANALYTIC
    return {f"{ANALYTIC}/{path.stem}": path.resolve() for path in sorted(folder.glob("*.toml"))}


def load_space(
    name_or_path: str | Path, *, allowed_names: Collection[str] | _FamilyNames | None = FAMILY_NAMES
) -> SearchSpace:
    """Read and validate a search space.

    Parameters
    ----------
    name_or_path : str or Path
        A path to a ``.toml`` file, or the name of a space in ``./search_spaces``
        or in the project's ``search_spaces`` folder.
    allowed_names : collection of str or None, optional
        See :func:`parse_space`.

    Returns
    -------
    SearchSpace
        As :func:`parse_space` builds it, named after the file's stem.

    Raises
    ------
    SpaceError
        When the space is unknown (the message lists the available ones) or the
        file is malformed.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        spaces = available_spaces()
        if str(name_or_path) not in spaces:
            listed = ", ".join(spaces) or "none"
            raise SpaceError(
                f"unknown search space '{name_or_path}'; available: {listed} "
                f"(or give the path of a .toml file)"
            )
        path = spaces[str(name_or_path)]
    if not path.is_file():
        raise SpaceError(f"{path}: no such search-space file; check the path")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SpaceError(f"{path}: invalid TOML: {error}; fix the syntax") from None
    return parse_space(data, path.stem, source=str(path), allowed_names=allowed_names)
