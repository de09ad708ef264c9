"""Batch proposals: q trials asked at once and cross-validated as one population.

With ``run --batch q`` (``batch = q`` in a comparison file) a worker asks the
strategy for q configurations before training any, each asked while the
earlier ones run, so the strategy sees them as running trials:

- ``tpe``: Optuna 5's ``TPESampler`` has ``constant_liar=True`` by default: a
  running trial counts as a bad one, so the next proposal moves away from it;
- ``gp``: Optuna's ``GPSampler`` treats running trials' points as pending
  (their predicted mean stands in for the unknown value);
- ``random``, ``qmc``: their draws do not depend on other trials;
  ``grid``: running points are not proposed again; ``cmaes``: proposals
  within one generation are independent draws;
- the rebuilding samplers (``bayesopt``, ``skopt*``) see finished trials only:
  within a batch they may propose the same point twice. That is the fallback:
  a repeated proposal inside a batch is answered once, from the first trial
  with those parameters (stored with ``duplicate_of``, as across the study).

The batch's new configurations are cross-validated together
(:func:`harness.study.evaluation.evaluate_population`: q configurations x K
folds as one network where they can share one), then each trial goes through
the same :class:`~harness.study.loop.TrialProcedure` as a sequential trial:
per-fold reports to the pruner, finish or fail, all through the ledger. Every
trial stores its batch (``ledger.BATCH``). Budgets stay exact: each trial of a
batch takes a budget slot, and a batch that finds fewer slots left than q is
that much smaller. Each running trial of a batch keeps a heartbeat, as a trial
run by :meth:`optuna.Study.optimize` does, so that a killed worker's batch is
failed by the next worker's stale-trial check.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages._heartbeat import get_heartbeat_thread
from optuna.trial import FrozenTrial, TrialState

from harness.search.strategies import search_exhausted
from harness.study import ledger
from harness.study.evaluation import POPULATION, Evaluation, Fold, evaluate_population
from harness.study.processes import INTERRUPTS

__all__ = ["Asked", "answer_known", "answer_repeats", "ask_batch", "run_batch", "tell_answer"]


@dataclass
class Asked:
    """One trial of a batch: the Optuna trial, its procedure and what happened to it.

    Attributes
    ----------
    trial : optuna.Trial
        The asked trial.
    procedure : TrialProcedure
        Its :class:`harness.study.loop.TrialProcedure`.
    config : dict or None
        The proposed configuration (None until proposed, or when proposing failed).
    state : TrialState or None
        How it ended, once told (None while it is open).
    value : float or None
        Its objective, once complete.
    same_as : int or None
        Position in the batch of an earlier batch-mate with the same parameters,
        which answers it.
    """

    trial: optuna.Trial
    procedure: Any
    config: dict[str, Any] | None = None
    state: TrialState | None = None
    value: float | None = None
    same_as: int | None = None


def ask_batch(
    study: optuna.Study,
    size: int,
    new_procedure: Callable[[optuna.Trial, float], Any],
    failed: type[Exception],
    *,
    budget_used: type[Exception] | tuple[()] = (),
    on_asked: Callable[[optuna.Trial], None] | None = None,
) -> list[Asked]:
    """Ask for up to ``size`` trials at once: each proposed while the earlier ones run.

    None of them is told here, so every proposal sees its batch-mates as running
    trials (see the module docstring for what each strategy makes of that). Asking
    stops early when a finite strategy has nothing left or the budget is used.

    Parameters
    ----------
    study : optuna.Study
    size : int
        Trials to ask for.
    new_procedure : callable
        ``new_procedure(trial, started)``: the trial's procedure, ``started`` the
        :func:`time.perf_counter` value before ``study.ask``.
    failed : exception type
        What ``procedure.propose()`` raises when a finite strategy has no point left;
        such a trial is marked failed (told by :func:`answer_known`).
    budget_used : exception type, optional
        What ``study.ask()`` raises when no budget slot is left.
    on_asked : callable, optional
        Called with each trial as soon as it is asked (heartbeats, worker record).

    Returns
    -------
    list of Asked
        In the order asked.
    """
    batch: list[Asked] = []
    for _ in range(size):
        if search_exhausted(study):
            break
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # a real batch keeps heartbeats (on_asked), as Study.optimize keeps them
                warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
                trial = study.ask()
        except budget_used:
            break
        if on_asked is not None:
            on_asked(trial)
        asked = Asked(trial, new_procedure(trial, started))
        batch.append(asked)
        try:
            asked.config = asked.procedure.propose()
        except failed:
            asked.state = TrialState.FAIL
    return batch


def answer_known(
    study: optuna.Study,
    batch: list[Asked],
    discrete: bool,
    failed: type[Exception],
    duplicate: Callable[[Asked], float | None],
) -> list[Asked]:
    """Tell what needs no training; return the trials of ``batch`` left to train.

    A trial whose proposal failed is told failed. A repeat of an earlier batch-mate
    is marked (``same_as``) and answered after it (:func:`answer_repeats`). On a
    discrete space a repeat of an earlier trial of the study is answered by
    ``duplicate(asked)`` (its value, or None when it is no repeat).
    """
    for position, asked in enumerate(batch):
        if asked.state is not None:
            study.tell(asked.trial, state=asked.state)
            continue
        same = [
            earlier
            for earlier in range(position)
            if batch[earlier].trial.params == asked.trial.params
            and batch[earlier].same_as is None
            and batch[earlier].state != TrialState.FAIL
        ]
        if same:
            asked.same_as = same[0]
        elif discrete:
            tell_answer(study, asked, lambda a=asked: duplicate(a), failed)
    return [a for a in batch if a.state is None and a.same_as is None]


def answer_repeats(
    study: optuna.Study,
    batch: list[Asked],
    failed: type[Exception],
    duplicate: Callable[[Asked], float | None],
) -> None:
    """Answer the repeats of batch-mates (``same_as``), once those are told."""
    for asked in batch:
        if asked.same_as is not None and asked.state is None:
            tell_answer(study, asked, lambda a=asked: duplicate(a), failed)


def run_batch(
    study: optuna.Study,
    spec: Any,
    folds: list[Fold],
    size: int,
    *,
    procedure: type,
    failed: type[Exception],
    budget_used: type[Exception],
    discrete: bool,
    owner: dict[str, Any] | None = None,
) -> list[FrozenTrial]:
    """Ask for up to ``size`` trials, cross-validate them together, and store each.

    Parameters
    ----------
    study : optuna.Study
        The study, with budget slots (see :func:`harness.study.loop.run_worker`).
    spec : StudySpec
        The study's settings.
    folds : list of (train, test)
        The folds every trial is evaluated on.
    size : int
        Trials to ask for; fewer when the budget or the grid runs out.
    procedure : type
        :class:`harness.study.loop.TrialProcedure` (passed in by the loop, which
        imports this module).
    failed, budget_used : exception types
        The loop's ``TrialFailed`` (a stored failure) and ``BudgetUsed`` (no slot left).
    discrete : bool
        Whether the space is discrete, so a repeat of an earlier trial is answered
        from it.
    owner : dict, optional
        The worker running the batch (:func:`harness.study.processes.worker_identity`),
        recorded with every trial so a killed worker's trials are reclaimed.

    Returns
    -------
    list of FrozenTrial
        The stored trials, in the order they were asked (empty when none was left).
    """
    with ExitStack() as beats:
        return _run(
            study, spec, folds, size, procedure, failed, budget_used, discrete, beats, owner
        )


def _run(study, spec, folds, size, procedure, failed, budget_used, discrete, beats, owner):
    by_folds = spec.prune_on == "folds" or spec.pruner == "none"

    def on_asked(trial: optuna.Trial) -> None:
        beats.enter_context(get_heartbeat_thread(trial._trial_id, study._storage))
        if owner is not None:
            ledger.record_worker(trial, owner)

    def new_procedure(trial: optuna.Trial, started: float):
        return procedure(trial, spec.space, spec.metric, len(folds), by_folds, started)

    batch = ask_batch(
        study, size, new_procedure, failed, budget_used=budget_used, on_asked=on_asked
    )
    if not batch:
        return []
    for position, asked in enumerate(batch):
        ledger.record_batch(asked.trial, batch[0].trial.number, position, len(batch))
    try:
        _evaluate(study, spec, folds, batch, discrete, by_folds, failed)
    except KeyboardInterrupt:
        for asked in batch:
            if asked.state is None:
                asked.procedure.record("interrupted by the user")
                study.tell(asked.trial, state=TrialState.FAIL)
        raise
    numbers = {asked.trial.number for asked in batch}
    return [t for t in study.get_trials(deepcopy=False) if t.number in numbers]


def _evaluate(study, spec, folds, batch, discrete, by_folds, failed) -> None:
    """Answer repeats, train the rest as one population, and tell every trial."""

    def duplicate(asked: Asked) -> float | None:
        return asked.procedure.answer_duplicate(study)

    training = answer_known(study, batch, discrete, failed, duplicate)
    deadline = None if spec.trial_timeout is None else time.monotonic() + spec.trial_timeout

    def on_epoch(epoch: int, values: dict[int, float]) -> dict[int, Exception]:
        with INTERRUPTS.held():  # these writes are not split by Ctrl-C
            for index, value in values.items():
                training[index].trial.report(value, epoch)
            return {
                index: optuna.TrialPruned(f"pruned at epoch {epoch + 1} (mean of the folds)")
                for index in values
                if _should_prune(study, training[index].trial, [training[i].trial for i in values])
            }

    for asked in training:
        ledger.record_training(asked.trial, POPULATION)
    with INTERRUPTS.allowed():  # Ctrl-C stops the training at once, never a storage write
        results = evaluate_population(
            [a.config for a in training],
            spec.dataset,
            folds,
            random_state=spec.task_seed,
            deadline=deadline,
            on_epoch=None if by_folds else on_epoch,
        )
    for asked, result in zip(training, results, strict=True):
        tell_answer(study, asked, lambda a=asked, r=result: _conclude(a, r, by_folds), failed)
    answer_repeats(study, batch, failed, duplicate)


class _WithBatchMates:
    """The study as a pruner sees it, with the batch-mates' epochs counted as finished trials.

    A percentile pruner (median) compares a trial at step ``e`` with the finished
    trials' values at ``e``; the batch-mates are still running, so they would not
    count. Here they do: a batch is pruned against itself and the history, like a
    rung of successive halving.
    """

    def __init__(self, study: optuna.Study, mates: list[FrozenTrial]) -> None:
        self._study = study
        self._mates = mates

    def get_trials(self, deepcopy: bool = True, states=None) -> list[FrozenTrial]:
        trials = self._study.get_trials(deepcopy=deepcopy, states=states)
        if states is None or TrialState.COMPLETE in states:
            trials = [*trials, *self._mates]
        return trials

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def _should_prune(study: optuna.Study, trial: optuna.Trial, batch: list[optuna.Trial]) -> bool:
    """The pruner's decision on ``trial`` at its last step, against history and batch-mates.

    Percentile pruners (median) see the other trials of the batch that reported this
    step as finished trials; the others (Hyperband's brackets) decide as for a lone trial.
    """
    if not isinstance(study.pruner, optuna.pruners.PercentilePruner):
        return trial.should_prune()
    storage = study._storage
    mates = []
    for other in batch:
        if other.number == trial.number:
            continue
        frozen = storage.get_trial(other._trial_id)
        frozen.state = TrialState.COMPLETE
        frozen.value = frozen.intermediate_values[frozen.last_step]
        mates.append(frozen)
    this = storage.get_trial(trial._trial_id)
    return study.pruner.prune(_WithBatchMates(study, mates), this)


def _conclude(asked: Asked, result: Evaluation | Exception, by_folds: bool) -> float:
    """Feed one trial's evaluation through its procedure; its value, or raise as it stopped."""
    procedure = asked.procedure
    if isinstance(result, optuna.TrialPruned):
        procedure.record(str(result))  # epoch pruning: the folds done so far are not recorded
        raise result
    if isinstance(result, Exception):  # as a sequential trial stores it
        procedure.fail(f"{type(result).__name__}: {result}".strip())
    if result.trainer != POPULATION:
        ledger.record_training(asked.trial, result.trainer)
    ledger.record_training(asked.trial, None, result.skipped_resampling())
    for index, fold in enumerate(result.folds):
        procedure.on_fold(index, fold)
    return procedure.finish()


def tell_answer(
    study: optuna.Study,
    asked: Asked,
    answer: Callable[[], float | None],
    failed: type[Exception],
) -> None:
    """Run ``answer()`` and tell the study how the trial ended (None: not answered yet).

    ``answer`` returns the trial's value or raises :class:`optuna.TrialPruned` or
    ``failed``; the trial is told complete, pruned or failed accordingly.
    """
    try:
        value = answer()
    except optuna.TrialPruned:
        asked.state = TrialState.PRUNED
    except failed:
        asked.state = TrialState.FAIL
    else:
        if value is None:
            return
        asked.state, asked.value = TrialState.COMPLETE, value
    study.tell(asked.trial, asked.value, state=asked.state)
