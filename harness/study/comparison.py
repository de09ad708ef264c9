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

Replay (see :mod:`harness.study.replay`): the same strategies, samplers, budget,
pruner and ledger, but each trial is looked up instead of trained, and its
stored seconds are charged to a simulated clock. Keys:

``mode = "replay"``
    Replay instead of training (default ``"train"``).
``tables = ["<storage URL>#<study>", ...]``
    Exhaustive grid studies of the comparison's space, dataset, metric and
    folds, one per task seed. Strategy seed ``s`` replays on table
    ``tables[s % len(tables)]`` (and takes that table's task seed), so with
    as many seeds as tables times k every table is used k times.
``task = "<name>"``
    Instead of ``tables`` and a dataset: an analytic function of
    :mod:`harness.data.analytic` (``quadratic``, ``branin``, ``hartmann6``,
    ``mixed``), minimised; the stored objective is its value negated
    (``neg_value``), so regret is ``optimum - value`` as for every score.
    ``space`` defaults to its file in ``search_spaces/analytic/`` (a stem
    there, or a ``.toml`` path beside the comparison file).
``noise = 0.0``
    Analytic tasks: standard deviation of Gaussian noise on each evaluation.
``workers = W``
    Simulated asynchronous workers: up to W trials running at once in
    simulated time (in replay no worker processes are started).
``charge_proposals = false``
    Whether the simulated clock also charges the strategies' measured
    proposal seconds; off, a replay depends only on its seeds.
``batch = q``
    Synchronous batches of q proposals, as ``run --batch q`` asks them (each
    proposal sees its batch-mates running; all are told after the batch), on
    one simulated worker.
``batch_speedup = 1.0``
    With ``batch``: how much faster a batch trains as one population than its
    trials one at a time (``benchmarks/population_speed.py`` measures it); a
    batch takes its trials' stored seconds divided by it.
``processes = 2``
    Processes that simulate studies in parallel.
``objectives = ["f1_macro", "fit_seconds"]``
    As in training mode: the metric, then costs the tables store for every
    trial (``fit_seconds`` and ``predict_seconds`` per fold; ``n_params`` only
    in tables made with it). Each replayed trial tells the study the stored
    value of every objective; the simulated clock still charges the stored
    seconds. Not with an analytic ``task`` (it has one objective).

Both modes:

``format_version = 1``
    The file format's version (:data:`FORMAT_VERSION`; a file without it is
    version 1). A harness refuses a newer one with one line naming the upgrade.

``interleave = true``
    Training mode: run the studies round-robin, one trial of every (seed,
    strategy) study per round, so every strategy trains at every hour of the
    run and sees the same machine load (the fair way to time them). ``false``
    runs each study to its end before the next. Without effect with a
    ``timeout`` (a time budget per study cannot be split into rounds). Each
    round resumes every study, and a resumed study seeds its strategy from
    (seed, worker, trials finished), so an interleaved comparison is
    reproducible round for round, not trial for trial the same as a
    ``false`` one.
``initial_design = N``
    The first N trials of every study evaluate the same N configurations,
    drawn from the space by a random sampler seeded with the task seed
    (counted against the budget), so no strategy's start-up draws decide the
    small-budget ranking. Not for grid search, which visits its own points.
``repeats = R``
    Repeated stratified K-fold: ``folds * R`` folds per trial (training mode).
``versus = ["other.toml", ...]``
    Comparison files of the same task (dataset, metric, folds, held-out split,
    task seed) with other spaces, e.g. another model family, paths relative to
    this file: the leaderboard's ``versus`` table puts their tuned and baseline
    models' held-out scores and parameter counts next to this one's, paired on
    the same held-out rows.

Example (``studies/replay-teleconnect-small.toml``)::

    name = "replay-teleconnect-small"
    mode = "replay"
    dataset = "teleconnect"
    space = "mlp-small"
    tables = ["sqlite:///studies/teleconnect-small-tables.db#teleconnect-small-grid-full-t0"]
    strategies = ["random", "tpe", "qmc", "grid"]
    seeds = [0, 1, 2]
    trials = 25
    workers = 4
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, StrategyError
from harness.search.pruners import check_pruner
from harness.search.strategies import STRATEGIES
from harness.study.checks import check_budget, check_format_version
from harness.study.ledger import study_name
from harness.study.metrics import DEFAULT_METRIC, get_metric

if TYPE_CHECKING:
    from harness.data.datasets import Dataset
    from harness.search.space import SearchSpace
    from harness.study.loop import StudySpec

EXHAUSTIVE = "grid-full"
REFERENCE_POOL = "reference-pool"
REFERENCE_POOL_STRATEGY = "tpe"
REFERENCE_POOL_SEED = 10_000
MODES = ("train", "replay")
FORMAT_VERSION = 1
"""The comparison file format's version this harness reads (files without one are version 1)."""


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
    time_column : str or None
        With ``data``: the file is a time series ordered by this column (see
        :func:`harness.load_csv`).
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
    reference_pool : int
        Where no exhaustive grid covers the space: the trials of one longer,
        independent study (``tpe``, seed :data:`REFERENCE_POOL_SEED`, the same task)
        that is run but not compared; its best score is the optimum, so no target
        comes from the runs being compared. 0: none.
    mode : str
        ``"train"`` or ``"replay"`` (see the module docstring).
    tables : tuple of str
        Replay: the lookup tables, ``<storage URL>#<study>``.
    task : str or None
        Replay: an analytic task instead of tables.
    noise : float
        Replay of an analytic task: noise standard deviation.
    charge_proposals : bool
        Replay: charge measured proposal seconds to the simulated clock.
    processes : int
        Studies run at once, each in its own process (replay default 2,
        training default 1). In training mode each of them still runs its
        own ``workers`` worker processes, so the machine needs
        ``processes * workers`` cores for the timings to be uncontended.
    initial_design : int
        Shared first configurations of every study (see the module docstring).
    repeats : int
        Repeats of the stratified K-fold.
    interleave : bool
        Run the studies round-robin, one trial each per round (see :meth:`rounds`).
    batch : int
        Trials each worker asks for at once and trains as one population
        (``run --batch``; see :mod:`harness.study.batch`); in a replay,
        synchronous batches of simulated proposals.
    batch_speedup : float
        Replay with ``batch``: the simulated clock divides a batch's stored
        seconds by it (the population's measured speed-up).
    versus : tuple of str
        Comparison files of the same task whose models the ``versus`` table shows.
    objectives : tuple of str
        Several objectives (``["f1_macro", "fit_seconds"]``): the metric, then costs
        (see :mod:`harness.study.objectives`); every strategy must search several.
        The studies compare by the hypervolume of their Pareto fronts. Empty: one.
        A replay looks every objective up in its tables (not with an analytic task).
    format_version : int
        The file's format version (see the module docstring).
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
    time_column: str | None = None
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
    mode: str = "train"
    tables: tuple[str, ...] = ()
    task: str | None = None
    noise: float = 0.0
    charge_proposals: bool = False
    processes: int = 2
    initial_design: int = 0
    repeats: int = 1
    batch: int = 1
    batch_speedup: float = 1.0
    reference_pool: int = 0
    interleave: bool = True
    versus: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    format_version: int = FORMAT_VERSION
    path: Path = field(default=Path("."), compare=False)

    @property
    def replay(self) -> bool:
        """Whether the comparison replays tables or an analytic task instead of training."""
        return self.mode == "replay"

    def table_for(self, seed: int) -> str:
        """The table strategy seed ``seed`` replays on: ``tables[seed % len(tables)]``."""
        return self.tables[seed % len(self.tables)]

    def study_name(self, strategy: str, seed: int) -> str:
        """Return the name of the study of ``strategy`` with ``seed``."""
        return study_name(self.name, strategy, seed)

    @property
    def reference_studies(self) -> tuple[str, ...]:
        """Names of the reference-pool studies (see ``reference_pool``), empty without one."""
        return (f"{self.name}-{REFERENCE_POOL}",) if self.reference_pool else ()

    @property
    def exhaustive_name(self) -> str:
        """Name of the exhaustive grid study."""
        return f"{self.name}-{EXHAUSTIVE}"

    def matrix(self) -> list[tuple[str, int]]:
        """Return every (strategy, seed) pair, strategies outermost."""
        return [(strategy, seed) for strategy in self.strategies for seed in self.seeds]

    def interleaved(self) -> list[tuple[str, int]]:
        """Every (strategy, seed) pair, seeds outermost: the order of one round-robin round."""
        return [(strategy, seed) for seed in self.seeds for strategy in self.strategies]

    def rounds(self) -> list[int]:
        """Cumulative trial budgets of the round-robin rounds ``compare`` runs the studies in.

        ``[T]`` (one round: each study to its end) when :attr:`interleave` is off
        or a ``timeout`` is set; else one round per trial (per ``workers``
        trials when several workers share a study), the first covering the
        shared initial design.
        """
        if not self.interleave or self.timeout is not None:
            return [self.trials]
        step = max(1, self.workers)
        budgets = {max(b, self.initial_design, 1) for b in range(step, self.trials, step)}
        return sorted(budgets | {self.trials})

    def study_names(self) -> list[str]:
        """Return the names of the (strategy, seed) studies, in :meth:`matrix` order."""
        return [self.study_name(strategy, seed) for strategy, seed in self.matrix()]

    def versus_paths(self) -> list[Path]:
        """The ``versus`` comparison files, relative to this file's folder."""
        return [self.path.parent / other for other in self.versus]

    def space_source(self) -> str | Path:
        """The space to load: a TOML path relative to this file if one is there, else the name."""
        beside = self.path.parent / self.space
        return beside if self.space.endswith(".toml") and beside.is_file() else self.space

    def load_space(self):
        """Load the comparison's space; an analytic task's from ``search_spaces/analytic/``."""
        from harness.search.space import load_space

        source = self.space_source()
        if self.task is None:
            return load_space(source)
        if not str(source).endswith(".toml"):
            source = _analytic_space(str(source))
        return load_space(source, allowed_names=None)

    def study_specs(self, train: Dataset, space: SearchSpace) -> list[StudySpec]:
        """The training studies of the comparison, in the order ``compare`` runs them.

        The compared (strategy, seed) studies in round-robin order
        (:meth:`interleaved`), then the exhaustive grid study and the
        reference-pool study where the file asks for them. Every study shares
        the task: ``train`` (the search rows), ``space``, metric, folds,
        held-out fraction and task seed. A replay's studies are
        :func:`harness.study.replay.comparison_specs`.
        """
        from harness.study.loop import StudySpec

        common = {
            "storage": self.storage,
            "dataset": train,
            "space": space,
            "metric": self.metric,
            "n_folds": self.folds,
            "timeout": self.timeout,
            "trial_timeout": self.trial_timeout,
            "pruner": self.pruner,
            "prune_on": self.prune_on,
            "test_size": self.test_size,
            "task_seed": self.task_seed,
            "repeats": self.repeats,
            "batch": self.batch,
            "objectives": self.objectives,
        }
        specs = [
            StudySpec(
                name=self.study_name(strategy, seed),
                strategy=strategy,
                seed=seed,
                n_trials=self.trials,
                initial_design=self.initial_design,
                **common,
            )
            for strategy, seed in self.interleaved()
        ]
        if self.exhaustive_grid:
            specs.append(
                StudySpec(
                    name=self.exhaustive_name,
                    strategy="grid",
                    seed=0,
                    n_trials=space.grid_size,
                    **common,
                )
            )
        specs += [
            StudySpec(
                name=name,
                strategy=REFERENCE_POOL_STRATEGY,
                seed=REFERENCE_POOL_SEED,
                n_trials=self.reference_pool,
                **common,
            )
            for name in self.reference_studies
        ]
        return specs

    def load_dataset(self, data_dir: str | Path | None = None):
        """Load the comparison's dataset (see :mod:`harness.data.datasets`)."""
        from harness.data.datasets import load_csv, load_dataset

        if self.data is not None:
            path = Path(self.data)
            if not path.is_absolute():
                path = self.path.parent / path
            return load_csv(
                path,
                self.target,
                sep=self.sep,
                categorical=self.categorical,
                time_column=self.time_column,
            )
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
    "time_column": (str,),
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
    "reference_pool": (int,),
    "mode": (str,),
    "tables": (list,),
    "task": (str,),
    "noise": (int, float),
    "charge_proposals": (bool,),
    "processes": (int,),
    "initial_design": (int,),
    "repeats": (int,),
    "interleave": (bool,),
    "batch": (int,),
    "batch_speedup": (int, float),
    "versus": (list,),
    "objectives": (list,),
    "format_version": (int,),
}


def _check(path: Path, values: dict[str, Any]) -> None:
    # First: a newer file may hold keys this harness does not know.
    check_format_version(values.get("format_version"), FORMAT_VERSION, str(path))
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
    if values.get("processes", 1) < 1:
        raise ConfigError(f"{path}: processes must be at least 1, got {values['processes']}")
    if values.get("repeats", 1) < 1 or not 0 <= values.get("initial_design", 0) <= values.get(
        "trials", 1
    ):
        raise ConfigError(f"{path}: repeats must be >= 1 and initial_design between 0 and trials")
    if values.get("initial_design") and "grid" in values.get("strategies", []):
        raise ConfigError(
            f"{path}: grid search visits its own points: drop 'grid' or initial_design"
        )
    if values.get("batch", 1) < 1:
        raise ConfigError(f"{path}: batch must be at least 1, got {values['batch']}")
    if values.get("mode") == "replay" and values.get("repeats", 1) != 1:
        raise ConfigError(f"{path}: a replay's folds are its tables': remove repeats")
    if values.get("mode", "train") not in MODES:
        raise ConfigError(f"{path}: mode must be one of {', '.join(MODES)}, got {values['mode']!r}")
    if values.get("mode") == "replay":
        _check_replay(path, values)
    elif set(values) & {"tables", "task", "noise", "charge_proposals", "batch_speedup"}:
        raise ConfigError(
            f"{path}: tables, task, noise, charge_proposals and batch_speedup are replay "
            'keys: add mode = "replay" or remove them'
        )
    if values.get("task") is not None:
        if "metric" in values or "folds" in values:
            raise ConfigError(
                f"{path}: an analytic task has its own objective: remove metric and folds"
            )
    elif (values.get("dataset") is None) == (values.get("data") is None):
        raise ConfigError(
            f"{path}: give exactly one of 'dataset' (a registered name) or 'data' (a CSV path)"
        )
    if values.get("data") is not None and values.get("target") is None:
        raise ConfigError(f"{path}: 'data' needs 'target', the label column")
    if not values["strategies"] or not values["seeds"]:
        raise ConfigError(f"{path}: 'strategies' and 'seeds' must not be empty")
    if len(set(values["strategies"])) != len(values["strategies"]):
        raise ConfigError(f"{path}: 'strategies' lists a strategy twice")
    if not all(isinstance(v, str) and v.endswith(".toml") for v in values.get("versus", [])):
        raise ConfigError(f"{path}: versus must list comparison files, e.g. ['digits-mlp.toml']")
    if values.get("reference_pool", 0) < 0:
        raise ConfigError(
            f"{path}: reference_pool must be 0 (none) or a number of trials, got "
            f"{values['reference_pool']}"
        )
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


def _check_replay(path: Path, values: dict[str, Any]) -> None:
    if (values.get("task") is None) == (not values.get("tables")):
        raise ConfigError(
            f"{path}: a replay needs exactly one of 'tables' (exhaustive grid studies, "
            "'<storage URL>#<study>') or 'task' (an analytic function)"
        )
    if values.get("task") is not None and (values.get("dataset") or values.get("data")):
        raise ConfigError(f"{path}: an analytic 'task' has no dataset: remove 'dataset'/'data'")
    if values.get("data") is not None:
        raise ConfigError(f"{path}: replay tables name a registered 'dataset', not a CSV 'data'")
    if not all(isinstance(t, str) for t in values.get("tables", [])):
        raise ConfigError(f"{path}: tables must be strings '<storage URL>#<study>'")
    if values.get("exhaustive_grid") or values.get("reference_pool"):
        raise ConfigError(
            f"{path}: a replay's optimum comes from its tables or task: remove exhaustive_grid "
            "and reference_pool"
        )
    noise = values.get("noise", 0.0)
    if noise and values.get("task") is None:
        raise ConfigError(f"{path}: noise applies to an analytic task only: remove it")
    if not noise >= 0:  # NaN fails too
        raise ConfigError(f"{path}: noise must be a standard deviation >= 0, got {noise!r}")
    if values.get("pruner", "none") != "none" and values.get("prune_on", "folds") != "folds":
        raise ConfigError(f'{path}: a replay prunes on stored folds: use prune_on = "folds"')
    if values.get("batch", 1) > 1 and values.get("workers", 1) != 1:
        raise ConfigError(
            f"{path}: a replay simulates batches on one worker: remove workers or batch"
        )
    speedup = values.get("batch_speedup", 1.0)
    if not 0 < speedup < float("inf"):  # NaN fails too
        raise ConfigError(f"{path}: batch_speedup must be a finite number > 0, got {speedup!r}")
    if speedup != 1.0 and values.get("batch", 1) == 1:
        raise ConfigError(f"{path}: batch_speedup applies to batches: add batch or remove it")


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
        if values.get("task") is None:
            get_metric(values.get("metric", DEFAULT_METRIC))
        check_pruner(values.get("pruner", "none"), values.get("prune_on", "folds"))
        if values.get("objectives"):
            values["metric"] = _checked_objectives(values)
    except (ConfigError, StrategyError) as error:
        raise ConfigError(f"{path}: {error}") from None
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    values.setdefault("storage", f"sqlite:///studies/{values['name']}.db")
    values.setdefault("processes", 2 if values.get("mode") == "replay" else 1)
    if values.get("task") is not None:
        from harness.data.analytic import get_task

        try:
            values.setdefault("space", get_task(values["task"]).space)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None
        # The stored objective of an analytic task: one evaluation ("fold"), value negated.
        values.update(metric="neg_value", folds=1, dataset=values["task"])
    return Comparison(**values, path=path)


def _checked_objectives(values: dict[str, Any]) -> str:
    """Check a comparison's ``objectives`` (several: every strategy must search them all;
    not with an analytic task); return the metric they start with. Whether a replay's
    tables store the costs is checked when they are loaded
    (:meth:`harness.study.replay.TableTask.check_objectives`)."""
    from harness.search.strategies import get_strategy
    from harness.study.objectives import check_multi_objective, parse_objectives

    objectives = parse_objectives(values["objectives"])
    if values.get("metric", objectives[0]) != objectives[0]:
        raise ConfigError(
            f"metric {values['metric']!r} is not the first objective {objectives[0]!r}: "
            "remove metric (the first objective is the metric)"
        )
    if len(objectives) > 1 and values.get("task"):
        raise ConfigError(
            f"the analytic task {values['task']!r} has one objective, its function's value (it "
            "measures no fit seconds, predict seconds or weights): remove objectives, or "
            "replay stored tables (tables = [...])"
        )
    for name in values["strategies"]:
        check_multi_objective(
            objectives,
            get_strategy(name),
            batch=values.get("batch", 1),
            pruner=values.get("pruner", "none"),
        )
    return objectives[0]


def _analytic_space(stem: str) -> Path:
    from harness.search.space import BUILTIN_SPACES

    path = BUILTIN_SPACES / "analytic" / f"{stem}.toml"
    if not path.is_file():
        raise ConfigError(f"no analytic space {stem!r} in {path.parent}; name a .toml file")
    return path
