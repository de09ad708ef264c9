"""One study: create or resume it, then run trials with any strategy through one loop.

Every strategy is an Optuna sampler, so the loop below (budget, timing,
pruning, failures, resume, several workers) is the same for all of them; that
is what makes their comparison fair.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from harness._version import __version__
from harness.data.datasets import Dataset
from harness.errors import ConfigError, WorkerError
from harness.model.families import get_family
from harness.search.baseline import baseline_point
from harness.search.pruners import check_pruner, make_pruner
from harness.search.space import CategoricalParam, IntParam, SearchSpace
from harness.search.strategies import (
    SearchExhausted,
    check_strategy,
    create_sampler,
    get_strategy,
    search_exhausted,
)
from harness.study import ledger
from harness.study.batch import run_batch
from harness.study.checks import check_budget
from harness.study.evaluation import (
    Evaluation,
    Fold,
    FoldResult,
    chosen_trainer,
    evaluate_config,
    make_folds,
)
from harness.study.guards import EpochPruning
from harness.study.metrics import get_metric
from harness.study.objectives import (
    check_multi_objective,
    directions,
    is_multi_objective,
    network_size,
    objective_values,
    pareto_front,
    parse_objectives,
    preprocessed_width,
)
from harness.study.processes import INTERRUPTS, end_with_parent, worker_identity
from harness.study.recovery import reclaim_lost_trials, requeue
from harness.study.storage import open_storage

ACTIVE_STATES = (*ledger.FINISHED_STATES, TrialState.RUNNING)


def discrete_problem(space: SearchSpace) -> str | None:
    """Return why ``space`` is not fully discrete (a strategy may propose any of infinitely
    many values), or None when every parameter takes finitely many values."""
    for param in space.params.values():
        if isinstance(param, CategoricalParam):
            continue
        if isinstance(param, IntParam) and param.grid is not None:
            every = set(range(int(param.low), int(param.high) + 1, int(param.step or 1)))
            if every <= set(param.grid):
                continue
        return (
            f"parameter {param.name!r} is {param.kind}, not categorical, so a strategy can "
            "propose values no table holds"
        )
    return None


AttrsOf = Callable[[FrozenTrial], dict[str, Any]]


def _own_attrs(trial: FrozenTrial) -> dict[str, Any]:
    return trial.user_attrs


def find_duplicate(
    study: optuna.Study, params: dict[str, Any], attrs_of: AttrsOf = _own_attrs
) -> FrozenTrial | None:
    """The first finished, not itself repeated, trial of ``study`` that evaluated ``params``.

    A trial whose worker was lost (queued again) evaluated nothing: it is skipped.
    """
    trials = study.get_trials(deepcopy=False)
    lost = {attrs_of(t)[ledger.RETRY_OF] for t in trials if ledger.RETRY_OF in attrs_of(t)}
    for other in trials:
        if other.state not in ledger.FINISHED_STATES or other.number in lost:
            continue
        if other.params == params and ledger.DUPLICATE_OF not in attrs_of(other):
            return other
    return None


@dataclass(frozen=True)
class StudySpec:
    """Everything that defines one study; stored with it and checked on resume.

    Parameters
    ----------
    name : str
        Study name in the storage.
    storage : str
        Storage URL (see :func:`harness.study.storage.open_storage`).
    strategy : str
        Strategy name (see ``python -m harness strategies``).
    dataset : Dataset
        The search data: the training part, the held-out test rows removed.
    space : SearchSpace
        The search space.
    seed : int
        Seeds the strategy.
    metric : str
        Objective metric (see :data:`harness.study.metrics.METRICS`).
    n_folds : int
        Number of stratified folds.
    n_trials : int
        Budget: trials finished (or running) in the study, all workers together.
    timeout : float or None
        Seconds for this invocation; None for no limit.
    trial_timeout : float or None
        Seconds one trial may train before it is stopped and marked failed.
    pruner : str
        A key of :data:`harness.search.pruners.PRUNERS`.
    prune_on : str
        ``"folds"``: each fold's score is an intermediate value, so a hopeless
        trial stops after a few folds. ``"epochs"``: each epoch's accuracy on
        the first fold's early-stopping split (real training rows) is one, so it
        stops within the first fold; the configuration must use early stopping.
    test_size : float
        Fraction held out for the final test (recorded with the study).
    task_seed : int or None
        Seeds what defines the task: the folds, the held-out split and the
        models' initialisation. None means ``seed``. A comparison fixes it, so
        that every strategy and seed optimises the same deterministic objective.
    repeats : int
        Repeated stratified K-fold: ``n_folds * repeats`` folds per trial (see
        :func:`harness.study.evaluation.make_folds`); stored only when not 1.
    initial_design : int
        The first ``initial_design`` trials evaluate configurations drawn from
        the space by a random sampler seeded with the task seed, the same in
        every study of a comparison (enqueued when the study is created;
        counted against the budget); stored only when not 0.
    batch : int
        Trials a worker asks for at once and trains as one population (see
        :mod:`harness.study.batch`); 1 is one trial at a time. Not part of the
        study's identity: how trials are run, like the number of workers.
    objectives : tuple of str
        The study's objectives (see :mod:`harness.study.objectives`): empty or
        ``(metric,)`` for one; several make a multi-objective study whose first
        objective is ``metric`` and whose others are costs, each minimised.
        Stored (part of the identity) only when several.
    """

    name: str
    storage: str
    strategy: str
    dataset: Dataset
    space: SearchSpace
    seed: int = 0
    metric: str = "f1_macro"
    n_folds: int = 5
    n_trials: int = 30
    timeout: float | None = None
    trial_timeout: float | None = None
    pruner: str = "none"
    prune_on: str = "folds"
    test_size: float = 0.2
    task_seed: int | None = None
    repeats: int = 1
    initial_design: int = 0
    batch: int = 1
    objectives: tuple[str, ...] = ()
    identity: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        check_budget(
            trials=self.n_trials,
            folds=self.n_folds,
            test_size=self.test_size,
            timeout=self.timeout,
            trial_timeout=self.trial_timeout,
        )
        get_metric(self.metric, self.dataset.task)
        family = get_family(self.space.family)
        if family.task != self.dataset.task:
            raise ConfigError(
                f"space {self.space.name!r} tunes the {family.name!r} family ({family.task}), "
                f"but dataset {self.dataset.name!r} is a {self.dataset.task} task: use a "
                f"{self.dataset.task} space (see `harness spaces`)"
            )
        check_pruner(self.pruner, self.prune_on)
        strategy = check_strategy(self.strategy, self.space)
        objectives = parse_objectives(self.objectives or (self.metric,), self.dataset.task)
        if objectives[0] != self.metric:
            raise ConfigError(
                f"the first objective {objectives[0]!r} is not the metric {self.metric!r}: "
                "give the metric as the first objective"
            )
        object.__setattr__(self, "objectives", objectives)
        check_multi_objective(
            objectives, strategy, batch=self.batch, pruner=self.pruner, family=family.name
        )
        if self.batch < 1:
            raise ConfigError(f"batch must be at least 1 (trials asked at once), got {self.batch}")
        if self.repeats < 1 or not 0 <= self.initial_design <= self.n_trials:
            raise ConfigError(
                f"repeats must be >= 1 and initial_design between 0 and the budget "
                f"({self.n_trials}), got {self.repeats} and {self.initial_design}"
            )
        if self.task_seed is None:
            object.__setattr__(self, "task_seed", self.seed)
        object.__setattr__(
            self,
            "identity",
            {
                ledger.STRATEGY: self.strategy,
                ledger.SEED: self.seed,
                ledger.TASK_SEED: self.task_seed,
                ledger.DATASET: self.dataset.name,
                ledger.SPACE: self.space.name,
                ledger.METRIC: self.metric,
                ledger.N_FOLDS: self.n_folds,
                ledger.TEST_SIZE: self.test_size,
                # Only when set, so that studies stored before these keys existed still match.
                **({ledger.REPEATS: self.repeats} if self.repeats != 1 else {}),
                **({ledger.INITIAL_DESIGN: self.initial_design} if self.initial_design else {}),
                **({ledger.OBJECTIVES: list(objectives)} if self.multi_objective else {}),
            },
        )

    @functools.cached_property
    def input_width(self) -> int:
        """Columns of the search rows after preprocessing: the network's input width
        (computed once, for ``n_params``)."""
        return preprocessed_width(self.dataset)

    @property
    def multi_objective(self) -> bool:
        """Whether the study has several objectives."""
        return is_multi_objective(self.objectives)

    @property
    def folds_per_trial(self) -> int:
        """Folds one trial evaluates: ``n_folds * repeats``."""
        return self.n_folds * self.repeats


def create_study(spec: StudySpec) -> optuna.Study:
    """Create the study, or load it when it exists with the same definition.

    Raises
    ------
    ConfigError
        If a study of that name exists with another definition (dataset,
        strategy, seed, ...); the stored study is left untouched.
    DataError
        If a class has fewer rows than the folds: checked before anything is stored.
    """
    make_folds(spec.dataset, spec.n_folds, spec.task_seed, spec.repeats)  # fails before storing
    storage = open_storage(spec.storage)
    study = optuna.create_study(
        storage=storage,
        study_name=spec.name,
        directions=directions(spec.objectives),
        load_if_exists=True,
    )
    # A study of one objective stores none: compare the key whichever side lacks it.
    stored = {key: study.user_attrs.get(key) for key in (*spec.identity, ledger.OBJECTIVES)}
    if any(value is not None for value in stored.values()):
        asked = {**spec.identity, ledger.OBJECTIVES: spec.identity.get(ledger.OBJECTIVES)}
        differing = {k: (stored[k], v) for k, v in asked.items() if stored[k] != v}
        if differing:
            listed = ", ".join(f"{k}: stored {a!r}, asked {b!r}" for k, (a, b) in differing.items())
            raise ConfigError(
                f"study {spec.name!r} in {spec.storage} was made with other settings ({listed}); "
                "use another --study name or the stored settings"
            )
    else:
        ledger.record_identity(study, spec.identity, __version__)
        points = start_points(spec.space, spec.initial_design, spec.task_seed)
        for params, attrs in points[: spec.n_trials]:
            study.enqueue_trial(params, user_attrs=attrs or None)
    if ledger.BASELINE_CV not in study.user_attrs:
        ledger.record_baseline_cv(study, baseline_cv(spec))
    # Grid search stops at the grid's end: no slot beyond it (an enqueued baseline point claims
    # its grid point; one off the grid needs a slot of its own).
    grid = spec.n_trials
    if get_strategy(spec.strategy).needs_grid:
        point = baseline_point(spec.space)
        grid = spec.space.grid_size + (point is not None and spec.space.grid_index(point) is None)
    reclaim_lost_trials(study)  # trials of killed workers: failed and queued again
    _fill_budget(study, min(spec.n_trials, grid))
    return study


_BASELINES: dict[tuple, dict[str, list[float]]] = {}


def baseline_cv(spec: StudySpec) -> dict[str, list[float]]:
    """The family's unoptimized baseline's per-fold scores on the spec's folds (once per task).

    Every study of a comparison shares the task (data, folds, task seed), so the
    result is cached in the process: a comparison evaluates it once.
    """
    family = get_family(spec.space.family)
    key = (
        family.name,
        spec.dataset.name,
        len(spec.dataset.y),
        spec.n_folds,
        spec.task_seed,
        spec.repeats,
    )
    if key not in _BASELINES:
        folds = make_folds(spec.dataset, spec.n_folds, spec.task_seed, spec.repeats)
        evaluation = evaluate_config(
            family.baseline_config(), spec.dataset, folds, random_state=spec.task_seed
        )
        _BASELINES[key] = evaluation.fold_scores()
    return _BASELINES[key]


def _held(study: optuna.Study, states: tuple[TrialState, ...]) -> int:
    """How many trials of ``study`` are in ``states``, not counting trials lost with a worker."""
    trials = study.get_trials(deepcopy=False)
    lost = ledger.lost_numbers(trials)
    return sum(1 for t in trials if t.state in states and t.number not in lost)


def _fill_budget(study: optuna.Study, n_trials: int) -> None:
    """Enqueue empty trials until the study holds ``n_trials`` trials: the budget's slots.

    Workers only ever pop a waiting slot (see :func:`_slots_only`), and popping is
    atomic in every storage, so however many workers share the study it never holds
    more trials than its budget. A slot has no fixed values: the strategy proposes
    all of them. Run by the one process that creates or resumes the study, before
    any worker starts. A trial lost with its worker (see
    :mod:`harness.study.recovery`) holds no slot: the trial queued in its place does.
    """
    held = _held(study, (*ACTIVE_STATES, TrialState.WAITING))
    for _ in range(n_trials - held):
        study.enqueue_trial({}, skip_if_exists=False)


class BudgetUsed(Exception):
    """No budget slot is left: the worker stops instead of creating a trial."""


def _slots_only(study: optuna.Study) -> optuna.Study:
    """Make ``study.ask()`` take a waiting budget slot or raise :class:`BudgetUsed`.

    Optuna's ``ask`` pops a waiting trial atomically and otherwise creates a new
    one; between a worker's check of the budget and its ``ask``, another worker
    may take the last slot, so creating would overshoot the budget.
    """
    pop = study._pop_waiting_trial_id

    def pop_or_stop() -> int:
        trial_id = pop()
        if trial_id is None:
            raise BudgetUsed
        return trial_id

    study._pop_waiting_trial_id = pop_or_stop  # type: ignore[method-assign]
    return study


def initial_design(space: SearchSpace, n: int, task_seed: int) -> list[dict[str, Any]]:
    """Return ``n`` configurations' searched parameters, drawn at random with ``task_seed``.

    Every study of a comparison enqueues the same ones, so the strategies
    start from one explicit initial design instead of their own start-up draws.
    """
    if n == 0:
        return []
    draw = optuna.create_study(
        storage=optuna.storages.InMemoryStorage(),
        sampler=optuna.samplers.RandomSampler(seed=task_seed),
    )
    points = []
    for _ in range(n):
        trial = draw.ask()
        space.suggest(trial)
        points.append(dict(trial.params))
        draw.tell(trial, 0.0)
    return points


def start_points(
    space: SearchSpace, n: int, task_seed: int
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The trials every study of a task is created with: ``(params, user_attrs)`` pairs.

    First the family's baseline configuration where the space holds it
    (:func:`harness.search.baseline.baseline_point`), marked ``baseline_point``
    in the ledger, so the tuned CV score is never below the baseline's on the
    same folds; then the ``n`` shared :func:`initial_design` points. Every
    strategy gets the same ones, counted against the budget.
    """
    baseline = baseline_point(space)
    points = [] if baseline is None else [(baseline, {ledger.BASELINE_POINT: True})]
    return points + [(params, {}) for params in initial_design(space, n, task_seed)]


def load_study(spec: StudySpec, worker: int = 0) -> optuna.Study:
    """Load an existing study with this worker's sampler and the spec's pruner.

    A fresh study's worker ``w`` seeds its sampler with ``seed + w``. A worker
    that resumes a study with finished trials seeds it from ``(seed, w, number
    of finished trials)`` instead: a seeded random stream restarted on resume
    would propose its first draws again (random, QMC and every start-up phase),
    so a resumed budget would repeat the trials it already has.
    """
    study = optuna.load_study(
        study_name=spec.name,
        storage=open_storage(spec.storage, on_stale=requeue),
        sampler=create_sampler(spec.strategy, spec.space, spec.seed + worker),
        pruner=make_pruner(spec.pruner, spec.folds_per_trial, spec.prune_on),
    )
    finished = len(study.get_trials(deepcopy=False, states=ledger.FINISHED_STATES))
    if finished:
        state = np.random.SeedSequence([spec.seed, worker, finished]).generate_state(1)[0]
        study.sampler = create_sampler(spec.strategy, spec.space, int(state))
    return study


def _budget_left(study: optuna.Study, n_trials: int) -> bool:
    """Whether the study holds fewer trials than ``n_trials`` (a smaller budget on resume wins).

    Trials lost with their worker do not count: their configurations run again.
    """
    return _held(study, ACTIVE_STATES) < n_trials


class TrialFailed(Exception):
    """Raised inside the objective so that Optuna stores the trial as failed and goes on."""


class TrialProcedure:
    """What happens to one asked trial, the same in a real study and in a replay.

    The strategy proposes (:meth:`propose`), each fold's result is reported in
    order (:meth:`on_fold`: the pruner may stop the trial there), and the
    trial is finished (:meth:`finish`) or failed (:meth:`fail`); every step
    writes through the ledger. Only where fold results come from differs:
    :func:`evaluate_config` trains them, a replay looks them up.

    Parameters
    ----------
    trial : optuna.Trial
        The asked trial.
    space : SearchSpace
        Proposes the configuration through ``trial``.
    metric : str
        The objective metric (a key of each fold's scores).
    n_folds : int
        Folds per trial.
    by_folds : bool
        Whether each fold's score is an intermediate value the pruner sees.
    started : float
        :func:`time.perf_counter` value when proposing began (before ``study.ask``).
    recorder : object, optional
        Where the ledger writes the trial's user attributes (anything with
        ``set_user_attr``); default ``trial``. A replay collects them aside and
        stores them with the finished trial, so that Optuna does not copy them
        at every report and tell of a simulation.
    cpu_started : float, optional
        :func:`time.process_time` value when proposing began; default now.
    objectives : sequence of str, optional
        The study's objectives; default ``(metric,)``. With several, :meth:`finish`
        returns their values (see :func:`harness.study.objectives.objective_values`)
        and no fold is reported (Optuna cannot prune a multi-objective study).
    """

    def __init__(
        self,
        trial: optuna.Trial,
        space: SearchSpace,
        metric: str,
        n_folds: int,
        by_folds: bool,
        started: float,
        recorder: Any = None,
        cpu_started: float | None = None,
        objectives: tuple[str, ...] | None = None,
    ) -> None:
        self.trial = trial
        self.objectives = objectives or (metric,)
        #: The network's weight count, when ``n_params`` is an objective (set before finishing).
        self.n_params: int | None = None
        self.recorder = trial if recorder is None else recorder
        self.space = space
        self.metric = metric
        self.n_folds = n_folds
        self.by_folds = by_folds and not is_multi_objective(self.objectives)
        self.started = started
        self.cpu_started = time.process_time() if cpu_started is None else cpu_started
        self.done = Evaluation()
        self.suggest_seconds = float("nan")
        #: Seconds to store as the trial's time instead of the wall time since
        #: ``started`` (a replay stores its simulated seconds).
        self.charged: float | None = None

    def propose(self) -> dict[str, Any]:
        """Ask the strategy for the configuration and store it with its proposal time.

        Raises
        ------
        TrialFailed
            When a finite strategy has no point left (stored as the reason).
        """
        try:
            config = self.space.suggest(self.trial)
        except SearchExhausted as exhausted:  # another worker took the last grid point
            self.fail(str(exhausted))
        self.suggest_seconds = time.perf_counter() - self.started
        ledger.record_proposal(self.recorder, config, self.suggest_seconds)
        return config

    def answer_duplicate(self, study: optuna.Study, attrs_of: AttrsOf = _own_attrs) -> float | None:
        """Answer a repeated proposal from the stored trial instead of evaluating it again.

        Returns None when ``self.trial``'s parameters were not evaluated before.
        ``attrs_of(trial)`` gives a stored trial's user attributes (a replay
        keeps them aside until the end).
        Otherwise the trial stores the earlier trial's folds and timings, the
        key ``duplicate_of`` (the earlier trial's number) and zero fit and
        predict seconds (nothing was trained), and returns its value.

        Raises
        ------
        TrialFailed, optuna.TrialPruned
            When the earlier trial failed or was pruned: this one ends the same way.
        """
        previous = find_duplicate(study, self.trial.params, attrs_of)
        if previous is None:
            return None
        attrs = attrs_of(previous)
        ledger.record_duplicate(self.recorder, previous.number)
        scores = attrs.get(ledger.FOLD_SCORES, {})
        for index in range(min(map(len, scores.values()), default=0)):
            fold = {metric: values[index] for metric, values in scores.items()}
            self.done.folds.append(FoldResult(fold, 0.0, 0.0))
        if previous.state == TrialState.PRUNED:
            self.record(f"duplicate of pruned trial {previous.number}")
            raise optuna.TrialPruned(f"duplicate of pruned trial {previous.number}")
        if previous.state == TrialState.FAIL:
            reason = attrs.get(ledger.FAIL_REASON, "failed")
            self.fail(f"duplicate of failed trial {previous.number}: {reason}")
        # Nothing was trained, but the configuration's costs are the earlier trial's.
        return self.finish(previous.values if is_multi_objective(self.objectives) else None)

    def on_fold(self, index: int, result: FoldResult) -> None:
        """Keep fold ``index``'s result; report it and prune when the pruner says so.

        Raises
        ------
        optuna.TrialPruned
            When the pruner stops the trial after this fold (recorded first).
        """
        self.done.folds.append(result)
        if self.by_folds:
            self.trial.report(result.scores[self.metric], index)
            if index + 1 < self.n_folds and self.trial.should_prune():
                message = f"pruned after {index + 1} of {self.n_folds} folds"
                self.record(message)
                raise optuna.TrialPruned(message)

    def fail(self, reason: str) -> None:
        """Record the trial as stopped for ``reason`` and raise :class:`TrialFailed`."""
        self.record(reason)
        raise TrialFailed(reason)

    def finish(self, values: list[float] | None = None) -> float | list[float]:
        """Record the finished trial and return its objective (the mean over folds).

        With several objectives, return their values: ``values`` where given (a
        duplicate answered from an earlier trial), else computed from the folds,
        their timings and :attr:`n_params`.

        Raises
        ------
        TrialFailed
            When the objective is not finite on some fold.
        """
        value = self.done.mean(self.metric)
        if not np.isfinite(value):
            self.fail(f"{self.metric} is not finite on some fold")
        self.record(None)
        if not is_multi_objective(self.objectives):
            return value
        if values is None:
            values = objective_values(
                self.objectives,
                self.done.fold_scores(),
                [r.fit_seconds for r in self.done.folds],
                [r.predict_seconds for r in self.done.folds],
                self.n_params,
            )
        return list(values)

    def record(self, reason: str | None) -> None:
        """Store the folds done so far, their timings and ``reason`` (None: finished).

        A measured trial also stores its process CPU time and the machine's
        load; a replayed one (``charged``) stores neither.
        """
        measured = self.charged is None
        ledger.record_evaluation(
            self.recorder,
            self.done.fold_scores(),
            [r.fit_seconds for r in self.done.folds],
            [r.predict_seconds for r in self.done.folds],
            time.perf_counter() - self.started if measured else self.charged,
            reason,
            cpu_seconds=time.process_time() - self.cpu_started if measured else None,
            load_average=os.getloadavg()[0] if measured else None,
        )


def run_one_trial(
    study: optuna.Study,
    spec: StudySpec,
    folds: list[Fold],
    owner: dict[str, Any] | None = None,
) -> optuna.trial.FrozenTrial:
    """Ask the strategy for one configuration, cross-validate it and store the result.

    A failure (an exception, a diverged loss, the trial time limit, a NaN
    objective) is stored as a failed trial with its reason; a pruned trial
    keeps the folds it finished. Only :class:`KeyboardInterrupt` propagates,
    after the trial is stored as failed with its reason (under
    :data:`~harness.study.processes.INTERRUPTS`, Ctrl-C stops the training at
    once but waits for a storage write to end). The trial records ``owner``
    (default: this process as worker 0) and runs through
    :meth:`optuna.Study.optimize`, whose heartbeat lets another worker fail it
    if this process is killed.
    """
    # Optuna cannot report (or prune) a multi-objective trial's intermediate values.
    by_folds = spec.prune_on == "folds" or spec.pruner == "none" or spec.multi_objective
    discrete = discrete_problem(spec.space) is None
    asked, asked_cpu = time.perf_counter(), time.process_time()
    numbers: list[int] = []
    owner = worker_identity(0) if owner is None else owner

    def objective(trial: optuna.Trial) -> float:
        numbers.append(trial.number)
        ledger.record_worker(trial, owner)
        procedure = TrialProcedure(
            trial,
            spec.space,
            spec.metric,
            len(folds),
            by_folds,
            asked,
            cpu_started=asked_cpu,
            objectives=spec.objectives,
        )
        config = procedure.propose()
        if "n_params" in spec.objectives:  # the network of the configuration that runs
            classes = int(spec.dataset.y.nunique())
            procedure.n_params = network_size(config, spec.input_width, classes)
            ledger.record_network_size(trial, procedure.n_params)
        if discrete:  # no configuration is trained twice in a study
            answered = procedure.answer_duplicate(study)
            if answered is not None:
                return answered

        def on_epoch(epoch: int, valid_acc: float) -> None:
            # Epoch-level pruning on the mean over folds of their early-stopping accuracy.
            with INTERRUPTS.held():  # these writes are not split by Ctrl-C
                trial.report(valid_acc, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {epoch + 1} (mean of the folds)")

        def fold_callbacks(index: int) -> list:
            return [EpochPruning(trial)] if not by_folds and index == 0 else []

        epochs = None if by_folds else on_epoch

        def on_fold(index: int, result: FoldResult) -> None:
            with INTERRUPTS.held():
                procedure.on_fold(index, result)

        deadline = None if spec.trial_timeout is None else time.monotonic() + spec.trial_timeout
        trainer = chosen_trainer(config, fold_callbacks=False)
        sequential = trainer == "sequential"  # only then can epoch pruning be a skorch callback
        ledger.record_training(trial, trainer)
        try:
            with INTERRUPTS.allowed():  # Ctrl-C stops the training at once
                done = evaluate_config(
                    config,
                    spec.dataset,
                    folds,
                    random_state=spec.task_seed,
                    deadline=deadline,
                    on_fold=on_fold,
                    fold_callbacks=fold_callbacks if sequential else None,
                    on_epoch=epochs,
                )
            ledger.record_training(trial, None, done.skipped_resampling())
        except optuna.TrialPruned as pruned:
            if not procedure.by_folds:  # epoch pruning: the folds done so far are not recorded
                procedure.record(str(pruned))
            raise
        except KeyboardInterrupt:
            procedure.record("interrupted by the user")
            raise
        except Exception as error:  # every other failure is stored, and the study goes on
            procedure.fail(f"{type(error).__name__}: {error}".strip())
        return procedure.finish()

    study.optimize(objective, n_trials=1, catch=(TrialFailed,), gc_after_trial=False)
    return next(t for t in study.get_trials(deepcopy=False) if t.number == numbers[0])


def run_worker(
    spec: StudySpec,
    worker: int = 0,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
) -> None:
    """Run trials on the stored study until its budget, the timeout or the grid is used up.

    Parameters
    ----------
    spec : StudySpec
        The study (it must exist: see :func:`create_study`).
    worker : int, default=0
        Worker index; worker ``i`` seeds its strategy with ``seed + i``.
    on_trial : callable, optional
        Called after each trial with the study and the finished trial.

    The trials run through :func:`run_slots`.
    """
    import torch

    torch.set_num_threads(1)
    # Failures are stored with their reasons and shown by the progress line and the summary;
    # Optuna's per-trial log lines (with tracebacks) would only repeat them.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = load_study(spec, worker)
    folds = make_folds(spec.dataset, spec.n_folds, spec.task_seed, spec.repeats)
    stop_at = None if spec.timeout is None else time.monotonic() + spec.timeout
    owner = worker_identity(worker)
    if spec.batch > 1:
        kit = {"procedure": TrialProcedure, "failed": TrialFailed, "budget_used": BudgetUsed}
        discrete = discrete_problem(spec.space) is None

        def run_trials(slotted: optuna.Study) -> list[optuna.trial.FrozenTrial]:
            return run_batch(
                slotted, spec, folds, spec.batch, discrete=discrete, owner=owner, **kit
            )
    else:

        def run_trials(slotted: optuna.Study) -> list[optuna.trial.FrozenTrial]:
            return [run_one_trial(slotted, spec, folds, owner)]

    run_slots(study, spec.n_trials, run_trials, stop_at=stop_at, on_trial=on_trial)


def run_slots(
    study: optuna.Study,
    n_trials: int,
    run_trials: Callable[[optuna.Study], list[optuna.trial.FrozenTrial]],
    stop_at: float | None = None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
) -> None:
    """The loop of every worker: run trials until the budget, ``stop_at`` or the grid is used up.

    Parameters
    ----------
    study : optuna.Study
        A study whose budget slots are enqueued (see :func:`create_study`).
    n_trials : int
        The budget (a smaller one than the slots on resume wins).
    run_trials : callable
        Runs one trial, or one batch of trials (``run --batch``), on the study it is
        given (whose ``ask`` only takes a waiting slot) and returns them finished
        (empty: no slot was left).
    stop_at : float, optional
        A :func:`time.monotonic` value after which no trial starts.
    on_trial : callable, optional
        Called after each trial with the study and the finished trial.

    Before each trial, trials whose worker is gone are failed and queued again
    (see :mod:`harness.study.recovery`), so a killed worker's trial never holds
    the budget. Ctrl-C (SIGINT) stops the running trial, stored as failed with
    its reason, and raises :class:`KeyboardInterrupt`.
    """
    study = _slots_only(study)
    with INTERRUPTS.deferred():
        while True:
            INTERRUPTS.raise_pending()
            reclaim_lost_trials(study)
            if not _budget_left(study, n_trials) or search_exhausted(study):
                break
            if stop_at is not None and time.monotonic() >= stop_at:
                break
            try:
                done = run_trials(study)
            except BudgetUsed:
                break
            if not done:
                break
            for finished in done:
                if on_trial is not None:
                    on_trial(study, finished)


def _worker_process(spec: StudySpec, worker: int) -> None:
    """A child worker of :func:`run_study`: ends with its parent; Ctrl-C ends it quietly."""
    end_with_parent()
    try:
        run_worker(spec, worker)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def run_study(
    spec: StudySpec,
    workers: int = 1,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
) -> optuna.Study:
    """Create or resume the study and run it with ``workers`` processes.

    With one worker the trials run in this process (``on_trial`` sees each
    one). With more, worker 0 runs here and the others in child processes,
    each with one torch thread, all sharing the storage.
    """
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    import torch

    # One torch thread, as every worker trains with: the baseline in CV that
    # create_study evaluates runs here, before worker 0 would set it.
    torch.set_num_threads(1)
    study = create_study(spec)  # creates the storage's schema before any child opens it
    context = multiprocessing.get_context("spawn")
    helpers = workers - 1 if _budget_left(study, spec.n_trials) else 0
    children = [
        context.Process(target=_worker_process, args=(spec, index), daemon=True)
        for index in range(1, helpers + 1)
    ]
    for child in children:
        child.start()
    try:
        run_worker(spec, 0, on_trial)
    except BaseException:
        for child in children:  # Ctrl-C here: the children store their trials as interrupted
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGINT)
        raise
    finally:
        for child in children:
            child.join()
    killed = [c for c in children if c.exitcode is not None and c.exitcode < 0]
    if killed:  # their trials were queued again: finish them here
        run_worker(spec, 0, on_trial)
    failed = [c.exitcode for c in children if c.exitcode not in (0, None) and c not in killed]
    if failed:
        raise WorkerError(
            f"{len(failed)} worker process(es) failed (exit codes {failed}); "
            "the finished trials are stored: re-run the command to resume"
        )
    if spec.multi_objective:
        ledger.record_pareto_front(study, [t.number for t in pareto_front(study)])
    return study
