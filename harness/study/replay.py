"""Replay: strategies run on stored exhaustive grids or analytic functions, on a simulated clock.

A study that evaluated every point of a discrete space (per-fold scores of
every metric, fit and predict seconds) is a lookup table. Replaying a strategy
on it runs the same samplers, pruners, trial procedure
(:class:`harness.study.loop.TrialProcedure`) and ledger as a real study; only
where a trial's fold results come from changes: they are looked up, and their
stored fit and predict seconds are charged to a simulated clock. An analytic
task (:mod:`harness.data.analytic`) is the same with a function instead of a
table.

Simulated workers, asynchronous as in Syne Tune's simulator backend: with
``workers = W`` up to W trials are RUNNING at once in simulated time. A trial
is asked (``study.ask``) when a worker is free; its folds end at their
simulated times, in time order across all running trials, each reported to the
pruner when it ends; the trial that finishes first is told first. Samplers so
see the pending trials as running, as in a real run. With ``batch = q``
(:func:`simulate_batches`) proposals come instead in synchronous batches of q,
as ``run --batch q`` asks them, each batch taking its trials' seconds divided by
``batch_speedup``. The clock charges the
strategy's measured proposal time only when ``charge_proposals`` is set;
without it a replay depends only on the seeds, never on the machine's speed.

Several objectives (``objectives = ["f1_macro", "fit_seconds"]``, see
:mod:`harness.study.objectives`): every replayed trial tells the study the
metric's mean over the stored folds and each cost as the table stores it for
the configuration (``fit_seconds`` and ``predict_seconds`` summed over its
folds, ``n_params`` where its trials recorded it), in the directions of
:func:`harness.study.objectives.directions`; the study stores its Pareto front
as a run does. The simulated clock is unchanged: the table's stored seconds.

Studies are simulated in memory (:class:`optuna.storages.InMemoryStorage`), in
parallel processes, and written to the comparison's storage in one batch.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from harness._version import __version__
from harness.data.analytic import AnalyticTask
from harness.errors import ConfigError
from harness.search.pruners import check_pruner, make_pruner
from harness.search.space import CategoricalParam, SearchSpace
from harness.search.strategies import check_strategy, create_sampler, search_exhausted
from harness.study import ledger
from harness.study.batch import Asked, answer_known, answer_repeats, ask_batch, tell_answer
from harness.study.comparison import Comparison
from harness.study.evaluation import FoldResult
from harness.study.loop import (
    TrialFailed,
    TrialProcedure,
    discrete_problem,
    start_points,
)
from harness.study.objectives import (
    COSTS,
    check_multi_objective,
    directions,
    is_multi_objective,
    pareto_front,
)
from harness.study.storage import open_storage, redact_password

#: How a task that does not say how it was made is recorded.
UNKNOWN_PROVENANCE = {
    ledger.TABLE_TRAINER: ledger.UNRECORDED,
    ledger.TABLE_VERSION: ledger.UNRECORDED,
}
#: Separates a table's storage URL from its study name: ``sqlite:///a.db#study``.
TABLE_SEPARATOR = "#"
#: The objective of an analytic task: the function's value, negated so that
#: larger is better as for every harness score (regret = optimum - value).
ANALYTIC_METRIC = "neg_value"
#: The noiseless objective of an analytic task, stored next to the noisy one.
ANALYTIC_NOISELESS = "neg_value_noiseless"


@dataclass(frozen=True)
class Lookup:
    """What a replayed trial evaluates to.

    Attributes
    ----------
    folds : tuple of FoldResult
        Per-fold scores and seconds, in fold order.
    reason : str or None
        The stored failure reason, when the table's trial failed.
    source : str or None
        The table trial replayed, ``<study>#<number>``.
    n_params : int or None
        The network's weight count the table trial stored (tables made with
        ``n_params`` among their objectives), else None.
    """

    folds: tuple[FoldResult, ...]
    reason: str | None = None
    source: str | None = None
    n_params: int | None = None


def point_key(space: SearchSpace, values: Mapping[str, Any]) -> tuple:
    """The lookup key of a configuration: its active searched parameters, in space order."""
    return tuple(space.active(values).items())


class TableTask:
    """An exhaustive grid study of a discrete space, as a lookup table.

    Parameters
    ----------
    ref : str
        ``<storage URL>#<study name>``.
    space : SearchSpace
        The comparison's space; it must be fully discrete.
    dataset, metric : str
        What the table must have been made with.
    n_folds : int
        The folds it must have.

    Attributes
    ----------
    costs : frozenset of str
        The costs of :data:`harness.study.objectives.COSTS` that every complete
        trial of the table stores (see :meth:`check_objectives`).

    Raises
    ------
    ConfigError
        When the reference is malformed or names no study, the space is not
        fully discrete, the table was made with another dataset, space, metric
        or fold count, or it misses grid points; nothing is written.
    """

    def __init__(
        self, ref: str, space: SearchSpace, *, dataset: str, metric: str, n_folds: int
    ) -> None:
        problem = discrete_problem(space)
        if problem is not None:
            raise ConfigError(
                f"replay needs a fully discrete space: in {space.source}, {problem}; "
                "make every parameter categorical over its grid values (see search_spaces/"
                "mlp-small.toml)"
            )
        url, _, name = ref.rpartition(TABLE_SEPARATOR)
        if not url or not name:
            raise ConfigError(
                f"table {ref!r} is not '<storage URL>#<study name>'; e.g. "
                "'sqlite:///studies/teleconnect-small-tables.db#teleconnect-small-grid-full-t0'"
            )
        storage = open_storage(url, create=False)  # a table is only read
        stored = optuna.get_all_study_names(storage)
        if name not in stored:
            raise ConfigError(
                f"no table study {name!r} in {redact_password(url)}; stored: "
                f"{', '.join(sorted(stored)) or 'none'}"
            )
        study = optuna.load_study(study_name=name, storage=storage)
        attrs = study.user_attrs
        asked = {ledger.DATASET: dataset, ledger.SPACE: space.name, ledger.METRIC: metric}
        asked[ledger.N_FOLDS] = n_folds
        differing = [
            f"{k} {attrs.get(k)!r} (asked {v!r})" for k, v in asked.items() if attrs.get(k) != v
        ]
        if differing:
            raise ConfigError(
                f"table {ref!r} was made with another task: {', '.join(differing)}; "
                "name a table of the comparison's dataset, space, metric and folds, or "
                "change the comparison to match it"
            )
        self.ref = ref
        self.name = name
        self.metric = metric
        self.n_folds = n_folds
        self.dataset = dataset
        self.direction = study.directions[0]  # the metric's (a table may have costs too)
        self.task_seed = int(attrs[ledger.TASK_SEED])
        self.test_size = float(attrs[ledger.TEST_SIZE])
        self.rows = self._rows(study, space)
        missing = [p for p in space.grid() if point_key(space, p) not in self.rows]
        if missing:
            raise ConfigError(
                f"table {ref!r} misses {len(missing)} of {space.grid_size} grid points "
                f"(first: {missing[0]}); finish it with `python -m harness run --strategy grid` "
                "on the same task, or name a complete table"
            )
        complete = [np.mean(r.folds_metric) for r in self.rows.values() if r.reason is None]
        best = max if self.direction == optuna.study.StudyDirection.MAXIMIZE else min
        self.optimum = float(best(complete))
        trainers = sorted(
            {
                str(t.user_attrs.get(ledger.TRAINER, ledger.UNRECORDED))
                for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if ledger.DUPLICATE_OF not in t.user_attrs
            }
        )
        if len(trainers) > 1:
            raise ConfigError(
                f"table {ref!r} mixes trials of the {' and '.join(trainers)} trainers; rebuild "
                "it with one trainer (`python -m harness run --strategy grid` on a new study)"
            )
        complete_rows = [r for r in self.rows.values() if r.reason is None]
        self.costs = frozenset(
            name for name in COSTS if all(name in r.costs for r in complete_rows)
        )
        #: How the table was made: the trainer of its trials and the harness version.
        self.provenance = {
            ledger.TABLE_TRAINER: trainers[0] if trainers else ledger.UNRECORDED,
            ledger.TABLE_VERSION: str(attrs.get(ledger.HARNESS_VERSION, ledger.UNRECORDED)),
        }

    def _rows(self, study: optuna.Study, space: SearchSpace) -> dict[tuple, _Row]:
        rows: dict[tuple, _Row] = {}
        for trial in study.get_trials(deepcopy=False, states=ledger.FINISHED_STATES):
            if ledger.DUPLICATE_OF in trial.user_attrs and point_key(space, trial.params) in rows:
                continue  # a repeat trained nothing: the earlier trial's row holds the costs
            scores = trial.user_attrs.get(ledger.FOLD_SCORES, {})
            fit = trial.user_attrs.get(ledger.FIT_SECONDS, [])
            predict = trial.user_attrs.get(ledger.PREDICT_SECONDS, [])
            complete = trial.state == TrialState.COMPLETE
            if complete and len(scores.get(self.metric, [])) != self.n_folds:
                continue  # no usable row; a missing point is reported by the caller
            folds = (
                tuple(
                    FoldResult({m: s[i] for m, s in scores.items()}, fit[i], predict[i])
                    for i in range(min(len(fit), len(predict), *map(len, scores.values())))
                )
                if scores
                else ()
            )
            if trial.state == TrialState.PRUNED:
                continue
            reason = None if complete else trial.user_attrs.get(ledger.FAIL_REASON, "failed")
            rows[point_key(space, trial.params)] = _Row(
                folds,
                reason,
                f"{study.study_name}#{trial.number}",
                self.metric,
                _stored_costs(trial.user_attrs, self.n_folds),
                trial.user_attrs.get(ledger.N_PARAMS),
            )
        return rows

    def check_objectives(self, objectives: Sequence[str]) -> None:
        """Refuse costs among ``objectives`` that the table does not store for every trial.

        Raises
        ------
        ConfigError
            One line naming the first missing cost, what the table stores, and the fix.
        """
        missing = [name for name in objectives[1:] if name not in self.costs]
        if missing:
            stored = ", ".join(name for name in COSTS if name in self.costs) or "no cost"
            raise ConfigError(
                f"objective {missing[0]!r}: table {self.ref!r} does not store it for every "
                f"trial (it stores {stored}); drop {missing[0]!r} from objectives, or name a "
                f"table whose trials store it (a grid run with --objectives "
                f"{self.metric},{missing[0]})"
            )

    def lookup(self, config: Mapping[str, Any], space: SearchSpace, rng: np.random.Generator):
        """Return the stored folds of ``config`` (see :class:`Lookup`)."""
        row = self.rows[point_key(space, config)]
        return Lookup(row.folds, row.reason, row.source, row.n_params)


def _stored_costs(attrs: Mapping[str, Any], n_folds: int) -> frozenset[str]:
    """The costs a table trial stores: per-fold seconds for every fold, its weight count."""

    def per_fold(key: str) -> bool:
        values = attrs.get(key)
        return (
            isinstance(values, list)
            and len(values) == n_folds
            and all(isinstance(v, int | float) and np.isfinite(v) for v in values)
        )

    stored = {name for name in ("fit_seconds", "predict_seconds") if per_fold(name)}
    if isinstance(attrs.get(ledger.N_PARAMS), int):
        stored.add("n_params")
    return frozenset(stored)


@dataclass(frozen=True)
class _Row:
    folds: tuple[FoldResult, ...]
    reason: str | None
    source: str
    metric: str
    costs: frozenset[str] = frozenset()
    n_params: int | None = None

    @property
    def folds_metric(self) -> list[float]:
        return [f.scores[self.metric] for f in self.folds]


class FunctionTask:
    """An analytic function as a replay task: one "fold", its value negated, a fixed cost.

    Parameters
    ----------
    task : AnalyticTask
        The function and its known optimum.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to each evaluation; the
        noiseless value is stored as ``neg_value_noiseless``.
    cost_seconds : float, default=1.0
        Simulated seconds one evaluation costs, so the seconds axis counts
        evaluations per worker.
    """

    metric = ANALYTIC_METRIC
    n_folds = 1
    direction = optuna.study.StudyDirection.MAXIMIZE
    test_size = 0.0

    def __init__(self, task: AnalyticTask, noise: float = 0.0, cost_seconds: float = 1.0) -> None:
        self.task = task
        self.noise = noise
        self.cost_seconds = cost_seconds
        self.ref = f"analytic:{task.name}" + (f" (noise sd {noise:g})" if noise else "")
        self.dataset = task.name
        self.optimum = -task.optimum
        self.provenance = {ledger.TABLE_TRAINER: "analytic", ledger.TABLE_VERSION: __version__}

    def check_objectives(self, objectives: Sequence[str]) -> None:
        """Refuse several objectives: an analytic task has one, its function's value.

        Raises
        ------
        ConfigError
            One line saying why and the fix.
        """
        if is_multi_objective(objectives):
            raise ConfigError(
                f"the analytic task {self.task.name!r} has one objective, its function's value "
                "(it measures no fit seconds, predict seconds or weights): remove objectives, "
                "or replay stored tables (tables = [...])"
            )

    def lookup(self, config: Mapping[str, Any], space: SearchSpace, rng: np.random.Generator):
        """Evaluate the function at ``config`` (see :class:`Lookup`)."""
        value = self.task(config)
        noisy = self.task.noisy(config, self.noise, rng) if self.noise else value
        scores = {ANALYTIC_METRIC: -noisy, ANALYTIC_NOISELESS: -value}
        return Lookup((FoldResult(scores, self.cost_seconds, 0.0),))


@dataclass(frozen=True)
class ReplaySpec:
    """One replayed study.

    Parameters
    ----------
    name : str
        Study name.
    strategy : str
        Strategy name.
    space : SearchSpace
        The search space.
    task : TableTask or FunctionTask
        Where trials are looked up.
    seed : int
        The strategy's seed.
    task_seed : int
        The table's task seed (0 for analytic tasks).
    n_trials : int
        Budget: trials asked, all simulated workers together (exact).
    workers : int
        Simulated asynchronous workers.
    pruner : str
        A key of :data:`harness.search.pruners.PRUNERS`, on folds.
    charge_proposals : bool
        Whether the clock charges the measured proposal seconds (not deterministic).
    initial_design : int
        Shared first configurations (see :func:`harness.study.loop.initial_design`).
    batch : int
        Synchronous batches of this many proposals (:func:`simulate_batches`);
        1: trials asked one at a time by the simulated workers.
    batch_speedup : float
        With ``batch``: the clock divides a batch's stored seconds by it.
    objectives : tuple of str
        Several objectives: the task's metric, then costs the table stores
        (see :mod:`harness.study.objectives`); empty or one: the metric only.
    """

    name: str
    strategy: str
    space: SearchSpace
    task: Any
    seed: int = 0
    task_seed: int = 0
    n_trials: int = 30
    workers: int = 1
    pruner: str = "none"
    charge_proposals: bool = False
    initial_design: int = 0
    batch: int = 1
    batch_speedup: float = 1.0
    objectives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        strategy = check_strategy(self.strategy, self.space)
        check_degenerate(self.strategy, self.space)
        check_pruner(self.pruner, "folds")
        if self.multi_objective:
            self.task.check_objectives(self.objectives)
            if self.objectives[0] != self.task.metric:
                raise ConfigError(
                    f"replay {self.name!r}: the first objective {self.objectives[0]!r} is not "
                    f"the table's metric {self.task.metric!r}: give it first"
                )
            check_multi_objective(self.objectives, strategy, batch=self.batch, pruner=self.pruner)
        if self.n_trials < 1 or self.workers < 1 or self.batch < 1:
            raise ConfigError(
                f"replay {self.name!r}: trials, workers and batch must be at least 1, got "
                f"{self.n_trials}, {self.workers} and {self.batch}"
            )
        if self.batch > 1 and self.workers != 1:
            raise ConfigError(
                f"replay {self.name!r}: batches are simulated on one worker, got "
                f"{self.workers}: set workers = 1 or batch = 1"
            )
        if not 0 < self.batch_speedup < float("inf"):
            raise ConfigError(
                f"replay {self.name!r}: batch_speedup must be a finite number > 0, got "
                f"{self.batch_speedup!r}"
            )

    @property
    def multi_objective(self) -> bool:
        """Whether the replay tells several objectives."""
        return is_multi_objective(self.objectives)

    @property
    def directions(self) -> list[optuna.study.StudyDirection]:
        """The study's directions: the task's, then each cost's (minimised)."""
        if not self.multi_objective:
            return [self.task.direction]
        return [self.task.direction, *map(_direction, directions(self.objectives)[1:])]

    def identity(self) -> dict[str, Any]:
        """The study attributes that define it (the same keys as a real study's)."""
        return {
            ledger.STRATEGY: self.strategy,
            ledger.SEED: self.seed,
            ledger.TASK_SEED: self.task_seed,
            ledger.DATASET: self.task.dataset,
            ledger.SPACE: self.space.name,
            ledger.METRIC: self.task.metric,
            ledger.N_FOLDS: self.task.n_folds,
            ledger.TEST_SIZE: self.task.test_size,
            **({ledger.INITIAL_DESIGN: self.initial_design} if self.initial_design else {}),
            **({ledger.OBJECTIVES: list(self.objectives)} if self.multi_objective else {}),
        }

    def settings(self) -> dict[str, Any]:
        """The replay's own study attributes (see :func:`harness.study.ledger.record_replay`)."""
        return {
            ledger.MODE: "replay",
            ledger.TABLE: self.task.ref,
            **getattr(self.task, "provenance", UNKNOWN_PROVENANCE),
            ledger.WORKERS: self.workers,
            ledger.CHARGE_PROPOSALS: self.charge_proposals,
            ledger.OPTIMUM: self.task.optimum,
            **(
                {ledger.PROPOSAL_BATCH: self.batch, ledger.BATCH_SPEEDUP: self.batch_speedup}
                if self.batch > 1
                else {}
            ),
        }


def _direction(name: str) -> optuna.study.StudyDirection:
    return optuna.study.StudyDirection[name.upper()]


def check_degenerate(strategy: str, space: SearchSpace) -> None:
    """Refuse a strategy that becomes another one on ``space``.

    Optuna's CMA-ES models numeric parameters only and draws categorical ones
    from its independent (random) sampler: on an all-categorical space every
    CMA-ES trial is a random-search trial, so ranking it beside random search
    would rank random search against itself.

    Raises
    ------
    ConfigError
        One line naming the strategy, the space and the fix.
    """
    params = list(space.params.values())
    if strategy == "cmaes" and params and all(isinstance(p, CategoricalParam) for p in params):
        raise ConfigError(
            f"cmaes on the all-categorical space {space.name!r} is random search (CMA-ES models "
            "numeric parameters only): drop 'cmaes' from the strategies, or give the space "
            "numeric parameters"
        )


class _Attrs(dict):
    """Collects a simulated trial's user attributes (the ledger calls ``set_user_attr``)."""

    def set_user_attr(self, key: str, value: Any) -> None:
        self[key] = value


@dataclass
class _Running:
    procedure: TrialProcedure
    lookup: Lookup
    start: float
    next_fold: int = 0


@dataclass
class Simulated:
    """A replayed study, as plain data, with what it cost to simulate.

    Attributes
    ----------
    name : str
        Study name.
    directions : list of optuna.study.StudyDirection
        Its directions (one per objective).
    user_attrs : dict
        Study user attributes (identity and replay settings).
    trials : list of FrozenTrial
        Its trials, with their user attributes, in number order.
    wall_seconds : float
        Wall time of the whole simulation.
    proposal_seconds : float
        Of which the strategy spent proposing (``study.ask`` plus ``suggest``).
    """

    name: str
    directions: list[optuna.study.StudyDirection]
    user_attrs: dict[str, Any]
    trials: list[FrozenTrial]
    wall_seconds: float
    proposal_seconds: float

    @property
    def overhead_seconds(self) -> float:
        """Harness cost per trial: everything but the proposals (lookup, clock, loop, ledger)."""
        return (self.wall_seconds - self.proposal_seconds) / max(1, len(self.trials))

    @property
    def study(self) -> optuna.Study:
        """The replayed study in a fresh :class:`optuna.storages.InMemoryStorage`."""
        study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(),
            study_name=self.name,
            directions=self.directions,
        )
        for key, value in self.user_attrs.items():
            study.set_user_attr(key, value)
        study.add_trials(self.trials)
        return study


def _replay_procedure(
    spec: ReplaySpec, trial: optuna.Trial, started: float, attrs: dict[int, _Attrs]
) -> TrialProcedure:
    """The procedure of one replayed trial, its attributes kept in ``attrs`` by trial number."""
    attrs[trial.number] = _Attrs()
    return TrialProcedure(
        trial,
        spec.space,
        spec.task.metric,
        spec.task.n_folds,
        True,
        started,
        attrs[trial.number],
        objectives=spec.objectives or None,
    )


def _look_up(
    spec: ReplaySpec, procedure: TrialProcedure, config: Mapping[str, Any], rng: np.random.Generator
) -> Lookup:
    """Look ``config`` up; with ``n_params`` an objective, record its stored weight count on
    ``procedure``'s trial (as a run records it, repeats included)."""
    lookup = spec.task.lookup(config, spec.space, rng)
    if "n_params" in procedure.objectives and lookup.n_params is not None:
        procedure.n_params = lookup.n_params
        ledger.record_network_size(procedure.recorder, lookup.n_params)
    return lookup


def simulate(spec: ReplaySpec) -> Simulated:
    """Replay one study in memory; see the module docstring for the simulated clock.

    Parameters
    ----------
    spec : ReplaySpec

    Returns
    -------
    Simulated
    """
    began = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        storage=optuna.storages.InMemoryStorage(),
        study_name=spec.name,
        directions=spec.directions,
        sampler=create_sampler(spec.strategy, spec.space, spec.seed),
        pruner=make_pruner(spec.pruner, spec.task.n_folds, "folds"),
    )
    ledger.record_identity(study, spec.identity(), __version__)
    ledger.record_replay(study, spec.settings())
    for params, attrs in start_points(spec.space, spec.initial_design, spec.task_seed):
        study.enqueue_trial(params, user_attrs=attrs or None)
    rng = np.random.default_rng([spec.task_seed, spec.seed])
    events: list[tuple[float, int, _Running]] = []
    order = itertools.count()
    asked = 0
    proposing = 0.0
    attrs: dict[int, _Attrs] = {}
    discrete = discrete_problem(spec.space) is None

    def start(now: float) -> None:
        nonlocal asked, proposing
        started = time.perf_counter()
        trial = study.ask()
        asked += 1
        procedure = _replay_procedure(spec, trial, started, attrs)
        try:
            config = procedure.propose()
        except TrialFailed:  # a finite strategy ran out between the check and the ask
            proposing += time.perf_counter() - started
            study.tell(trial, state=TrialState.FAIL)
            return
        proposing += procedure.suggest_seconds
        # Several objectives: a repeat records the stored weight count too, as a run does.
        early = _look_up(spec, procedure, config, rng) if spec.multi_objective else None
        if discrete:
            procedure.charged = procedure.suggest_seconds  # its trial time: the proposal only
            end = now + (procedure.suggest_seconds if spec.charge_proposals else 0.0)
            try:
                answered = procedure.answer_duplicate(study, lambda t: attrs[t.number])
            except (TrialFailed, optuna.TrialPruned) as stopped:
                ledger.record_simulated_time(procedure.recorder, now, end)
                state = TrialState.FAIL if isinstance(stopped, TrialFailed) else TrialState.PRUNED
                study.tell(trial, state=state)
                return
            if answered is not None:
                ledger.record_simulated_time(procedure.recorder, now, end)
                study.tell(trial, answered)
                return
            procedure.charged = None
        lookup = early if early is not None else _look_up(spec, procedure, config, rng)
        at = now + (procedure.suggest_seconds if spec.charge_proposals else 0.0)
        running = _Running(procedure, lookup, at)
        heapq.heappush(events, (at + _seconds(lookup, 0), next(order), running))

    def fill(now: float) -> None:
        while len(events) < spec.workers and asked < spec.n_trials:
            if search_exhausted(study):
                return
            start(now)

    if spec.batch > 1:
        proposing = simulate_batches(spec, study, rng, attrs)
    else:
        fill(0.0)
    while events:
        now, _, running = heapq.heappop(events)
        if _step(running, now, spec, study):
            heapq.heappush(
                events, (now + _seconds(running.lookup, running.next_fold), next(order), running)
            )
        else:
            fill(now)
    if spec.multi_objective:
        ledger.record_pareto_front(study, [t.number for t in pareto_front(study)])
    trials = []
    for trial in study.get_trials(deepcopy=False):
        trial = copy.copy(trial)
        trial.user_attrs = {**trial.user_attrs, **attrs.get(trial.number, {})}
        trials.append(trial)
    return Simulated(
        spec.name,
        study.directions,
        dict(study.user_attrs),
        trials,
        time.perf_counter() - began,
        proposing,
    )


def simulate_batches(
    spec: ReplaySpec, study: optuna.Study, rng: np.random.Generator, attrs: dict[int, _Attrs]
) -> float:
    """Replay synchronous batches of ``spec.batch`` proposals until the budget is used.

    A batch is asked as ``run --batch`` asks it (:func:`harness.study.batch.ask_batch`:
    each proposal sees its batch-mates running), then answered as a real batch is
    (:func:`harness.study.batch.answer_known`, :func:`~harness.study.batch.answer_repeats`):
    a repeat of an earlier trial or batch-mate from its folds, at no cost; the others
    are looked up and their folds reported in order (the pruner may stop a trial; its
    batch trained it anyway). The batch takes the stored seconds of the trials it
    looked up divided by ``spec.batch_speedup`` (they trained as one population); all
    its trials start when it starts and end when it ends, and each is charged its own
    seconds over the speed-up. ``attrs`` collects the trials' user attributes.

    Returns
    -------
    float
        The seconds the strategy spent proposing.
    """
    discrete = discrete_problem(spec.space) is None
    now, asked, proposing = 0.0, 0, 0.0

    def new_procedure(trial: optuna.Trial, started: float) -> TrialProcedure:
        return _replay_procedure(spec, trial, started, attrs)

    def duplicate(asked: Asked) -> float | None:
        """A repeat, answered from the earlier trial: it costs its proposal only."""
        asked.procedure.charged = asked.procedure.suggest_seconds
        ledger.record_simulated_time(asked.procedure.recorder, start, end)
        if spec.multi_objective:  # its stored weight count, as a run records it
            _look_up(spec, asked.procedure, asked.config, rng)
        return asked.procedure.answer_duplicate(study, lambda t: attrs[t.number])

    while asked < spec.n_trials:
        batch = ask_batch(study, min(spec.batch, spec.n_trials - asked), new_procedure, TrialFailed)
        if not batch:
            break
        asked += len(batch)
        for position, one in enumerate(batch):
            ledger.record_batch(one.procedure.recorder, batch[0].trial.number, position, len(batch))
        seconds = [a.procedure.suggest_seconds for a in batch if a.config is not None]
        proposing += sum(seconds)
        start = end = now + (sum(seconds) if spec.charge_proposals else 0.0)
        training = answer_known(study, batch, discrete, TrialFailed, duplicate)
        lookups = [_look_up(spec, a.procedure, a.config, rng) for a in training]
        costs = [
            sum(_seconds(lookup, i) for i in range(len(lookup.folds))) / spec.batch_speedup
            for lookup in lookups
        ]
        end = start + sum(costs)
        for one, lookup, cost in zip(training, lookups, costs, strict=True):
            one.procedure.charged = one.procedure.suggest_seconds + cost
            ledger.record_simulated_time(one.procedure.recorder, start, end, lookup.source)
            tell_answer(
                study, one, lambda p=one.procedure, f=lookup: _replay_folds(p, f), TrialFailed
            )
        answer_repeats(study, batch, TrialFailed, duplicate)
        now = end
    return proposing


def _replay_folds(procedure: TrialProcedure, lookup: Lookup) -> float:
    """Report a looked-up trial's folds in order and finish it (or fail it, as stored)."""
    for index, fold in enumerate(lookup.folds):
        procedure.on_fold(index, fold)
    if lookup.reason is not None:
        procedure.fail(lookup.reason)
    return procedure.finish()


def _seconds(lookup: Lookup, index: int) -> float:
    if index >= len(lookup.folds):
        return 0.0
    fold = lookup.folds[index]
    return fold.fit_seconds + fold.predict_seconds


def _step(running: _Running, now: float, spec: ReplaySpec, study: optuna.Study) -> bool:
    """Process the event at ``now``: one fold ended. Return whether the trial goes on."""
    procedure, lookup = running.procedure, running.lookup
    trial = procedure.trial
    index = running.next_fold
    charged = procedure.suggest_seconds + sum(_seconds(lookup, i) for i in range(index + 1))
    procedure.charged = charged
    ledger.record_simulated_time(procedure.recorder, running.start, now, lookup.source)
    if index < len(lookup.folds):
        running.next_fold += 1
        try:
            procedure.on_fold(index, lookup.folds[index])
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
            return False
        if running.next_fold < len(lookup.folds):
            return True
    try:
        if lookup.reason is not None:
            procedure.fail(lookup.reason)
        value = procedure.finish()
    except TrialFailed:
        study.tell(trial, state=TrialState.FAIL)
        return False
    study.tell(trial, value)
    return False


def simulate_many(
    specs: Sequence[ReplaySpec],
    processes: int = 2,
    on_done: Callable[[Simulated], None] | None = None,
) -> list[Simulated]:
    """Simulate ``specs`` in ``processes`` parallel processes (1: in this one), in order."""
    if processes <= 1 or len(specs) <= 1:
        results = []
        for spec in specs:
            results.append(simulate(spec))
            if on_done is not None:
                on_done(results[-1])
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        results = []
        for result in pool.map(simulate, specs, chunksize=max(1, len(specs) // 32)):
            results.append(result)
            if on_done is not None:
                on_done(result)
    return results


def check_storage(url: str, specs: Sequence[ReplaySpec]) -> list[ReplaySpec]:
    """Return the specs whose study is not stored yet; refuse stored ones made otherwise.

    Raises
    ------
    ConfigError
        If a study of that name is stored with other settings; nothing is written.
    """
    storage = open_storage(url)
    stored = set(optuna.get_all_study_names(storage))
    todo = []
    for spec in specs:
        if spec.name not in stored:
            todo.append(spec)
            continue
        attrs = optuna.load_study(study_name=spec.name, storage=storage).user_attrs
        # A study of one objective stores none: compare the key whichever side lacks it.
        wanted = {ledger.OBJECTIVES: None, **spec.identity(), **spec.settings()}
        differing = [
            f"{k}: stored {attrs.get(k)!r}, asked {v!r}"
            for k, v in wanted.items()
            if attrs.get(k) != v
        ]
        if differing:
            raise ConfigError(
                f"study {spec.name!r} in {redact_password(url)} was made with other settings "
                f"({', '.join(differing)}); use another comparison name or storage"
            )
    return todo


def write_studies(url: str, studies: Sequence[Simulated]) -> None:
    """Write simulated studies into the storage at ``url``.

    A study is written only once it is fully simulated, so an interrupted
    replay leaves whole studies behind and a re-run simulates the rest. On a
    SQLite file the trials of a study go in as one bulk insert (creating them
    one by one through Optuna costs about 0.1 s a trial); other storages take
    them through :meth:`optuna.storages.BaseStorage.create_new_trial`.
    """
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(url)
    for stored in studies:
        study_id = storage.create_new_study(stored.directions, stored.name)
        if isinstance(storage, optuna.storages.RDBStorage) and url.startswith("sqlite:"):
            _bulk_insert(storage, study_id, stored.user_attrs, stored.trials)
        else:
            for key, value in stored.user_attrs.items():
                storage.set_study_user_attr(study_id, key, value)
            for trial in stored.trials:
                storage.create_new_trial(study_id, template_trial=trial)


def _bulk_insert(
    storage: optuna.storages.RDBStorage,
    study_id: int,
    study_attrs: Mapping[str, Any],
    trials: Sequence[FrozenTrial],
) -> None:
    """Insert a study's attributes and finished trials into Optuna's schema in one transaction."""
    import json

    import sqlalchemy
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models

    rows: dict[Any, list[dict[str, Any]]] = {
        model.__table__: []
        for model in (
            models.StudyUserAttributeModel,
            models.TrialModel,
            models.TrialParamModel,
            models.TrialValueModel,
            models.TrialUserAttributeModel,
            models.TrialSystemAttributeModel,
            models.TrialIntermediateValueModel,
        )
    }
    with storage.engine.begin() as connection:
        table = models.TrialModel.__table__
        first = connection.execute(sqlalchemy.select(sqlalchemy.func.max(table.c.trial_id)))
        next_id = (first.scalar() or 0) + 1
        rows[models.StudyUserAttributeModel.__table__].extend(
            {"study_id": study_id, "key": key, "value_json": json.dumps(value)}
            for key, value in study_attrs.items()
        )
        for number, trial in enumerate(sorted(trials, key=lambda t: t.number)):
            trial_id = next_id + number
            rows[table].append(
                {
                    "trial_id": trial_id,
                    "number": number,
                    "study_id": study_id,
                    "state": trial.state,
                    "datetime_start": trial.datetime_start,
                    "datetime_complete": trial.datetime_complete,
                }
            )
            for objective, one in enumerate(trial.values or ()):
                value, kind = models.TrialValueModel.value_to_stored_repr(one)
                rows[models.TrialValueModel.__table__].append(
                    {
                        "trial_id": trial_id,
                        "objective": objective,
                        "value": value,
                        "value_type": kind,
                    }
                )
            for name, param in trial.params.items():
                distribution = trial.distributions[name]
                rows[models.TrialParamModel.__table__].append(
                    {
                        "trial_id": trial_id,
                        "param_name": name,
                        "param_value": distribution.to_internal_repr(param),
                        "distribution_json": distribution_to_json(distribution),
                    }
                )
            for model, attrs in (
                (models.TrialUserAttributeModel, trial.user_attrs),
                (models.TrialSystemAttributeModel, trial.system_attrs),
            ):
                rows[model.__table__].extend(
                    {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                    for key, value in attrs.items()
                )
            for step, intermediate in trial.intermediate_values.items():
                value, kind = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(
                    intermediate
                )
                rows[models.TrialIntermediateValueModel.__table__].append(
                    {
                        "trial_id": trial_id,
                        "step": step,
                        "intermediate_value": value,
                        "intermediate_value_type": kind,
                    }
                )
        for target, values in rows.items():
            if values:
                connection.execute(target.insert(), values)


def comparison_specs(comparison: Comparison) -> list[ReplaySpec]:
    """Build (and check) one :class:`ReplaySpec` per (strategy, seed) of a replay comparison.

    Every table is loaded and checked first (discrete space, task, grid
    points), so bad input stops before any study is written.

    Raises
    ------
    ConfigError
        Naming the problem and the fix.
    """
    from harness.data.analytic import get_task

    where = f"{comparison.path}: "
    try:
        space = comparison.load_space()
        if comparison.task is not None:
            function = FunctionTask(get_task(comparison.task), comparison.noise)
            tasks = dict.fromkeys(comparison.seeds, function)
        else:
            loaded = {
                ref: TableTask(
                    ref,
                    space,
                    dataset=str(comparison.dataset),
                    metric=comparison.metric,
                    n_folds=comparison.folds,
                )
                for ref in dict.fromkeys(comparison.tables)
            }
            made = {}
            for ref, table in loaded.items():
                made.setdefault(tuple(table.provenance.values()), []).append(ref)
            if len(made) > 1:
                kinds = "; ".join(
                    f"{', '.join(refs)}: trainer {trainer}, harness {version}"
                    for (trainer, version), refs in made.items()
                )
                raise ConfigError(
                    f"the tables were made differently ({kinds}): a replay mixes no tables of "
                    "different trainers or harness versions; rebuild them the same way"
                )
            tasks = {seed: loaded[comparison.table_for(seed)] for seed in comparison.seeds}
        return [
            ReplaySpec(
                name=comparison.study_name(strategy, seed),
                strategy=strategy,
                space=space,
                task=tasks[seed],
                seed=seed,
                task_seed=getattr(tasks[seed], "task_seed", comparison.task_seed),
                n_trials=comparison.trials,
                workers=comparison.workers,
                pruner=comparison.pruner,
                charge_proposals=comparison.charge_proposals,
                initial_design=comparison.initial_design,
                batch=comparison.batch,
                batch_speedup=float(comparison.batch_speedup),
                objectives=comparison.objectives,
            )
            for strategy, seed in comparison.matrix()
        ]
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith(where) else where + message) from None


@dataclass(frozen=True)
class ReplaySummary:
    """What a replay comparison cost: studies, trials and seconds.

    Attributes
    ----------
    studies, trials : int
        Simulated now (studies already stored are skipped).
    wall_seconds : float
        Wall time of simulating and writing.
    proposal_seconds : float
        Sum over studies of the strategies' proposal time.
    simulate_seconds : float
        Sum over studies of their simulation time (proposals included).
    write_seconds : float
        Time writing to the storage.
    """

    studies: int
    trials: int
    wall_seconds: float
    proposal_seconds: float
    simulate_seconds: float
    write_seconds: float

    @property
    def overhead_ms(self) -> float:
        """Harness cost per simulated trial, proposals excluded, storage write included."""
        own = self.simulate_seconds - self.proposal_seconds + self.write_seconds
        return 1000 * own / max(1, self.trials)


def run_replay(
    comparison: Comparison, on_done: Callable[[Simulated], None] | None = None
) -> ReplaySummary:
    """Simulate every study of a replay comparison not stored yet, then store them in one batch.

    Raises
    ------
    ConfigError
        For bad input (see :func:`comparison_specs`) or a stored study made
        with other settings; stored studies are left untouched.
    """
    began = time.perf_counter()
    specs = check_storage(comparison.storage, comparison_specs(comparison))
    done = simulate_many(specs, comparison.processes, on_done)
    written = time.perf_counter()
    write_studies(comparison.storage, done)
    end = time.perf_counter()
    return ReplaySummary(
        studies=len(done),
        trials=sum(len(s.trials) for s in done),
        wall_seconds=end - began,
        proposal_seconds=sum(s.proposal_seconds for s in done),
        simulate_seconds=sum(s.wall_seconds for s in done),
        write_seconds=end - written,
    )
