"""Trials whose worker is gone: fail them with the reason and queue their configuration again.

A worker killed mid-trial (``kill -9``, a lost host, an orphan ended with its
parent) leaves its trial RUNNING, and a RUNNING trial holds a budget slot. Every
process that creates, resumes or works on a study calls
:func:`reclaim_lost_trials` first and between its trials. A trial is lost when

- its worker's process no longer exists on this host (each trial records its
  worker's host, process id and start time: see :mod:`harness.study.processes`),
- its heartbeat is older than the grace period (an RDB storage; the trial's
  worker may be on any host), or
- it records no worker and started more than :data:`UNOWNED_SECONDS` ago (its
  worker was killed between taking the trial and recording itself).

A worker on this host whose process lives is never judged lost, whatever its
heartbeat: a storage busy with many workers can delay a heartbeat past the grace
period (seen with 16 workers on one SQLite file).

A lost trial is stored FAIL with the reason (written before the state, so no
interruption separates them) and a new waiting trial with the same parameters
and ``retry_of`` takes its place; the lost trial no longer counts against the
budget (see :func:`harness.study.ledger.lost_numbers`). Marking it failed is
atomic in every storage, so when several processes find the same lost trial,
exactly one queues it again.
"""

from __future__ import annotations

import datetime
import warnings

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

from harness.study import ledger
from harness.study.processes import describe_worker, process_alive
from harness.study.storage import GRACE_SECONDS


def _heartbeat_stale(study: optuna.Study) -> set[int]:
    """Ids of the study's RUNNING trials whose heartbeat is older than the grace period."""
    storage = study._storage
    if not isinstance(storage, BaseHeartbeat) or not is_heartbeat_enabled(storage):
        return set()
    # The query Optuna's own fail_stale_trials runs, without its failing (it stores no reason).
    return set(storage._get_stale_trial_ids(study._study_id))


#: A trial that records no worker is lost after this many seconds: its worker records itself
#: right after taking the trial, but on a storage busy with many workers that can take a while.
UNOWNED_SECONDS = 5 * GRACE_SECONDS


def why_lost(trial: FrozenTrial, stale: set[int], now: datetime.datetime) -> str | None:
    """Why ``trial`` (RUNNING) has no live worker, or None while it may still be running.

    A worker on this host is judged by its process alone: while it lives, a
    heartbeat delayed by a busy storage does not make its trial lost.
    """
    owner = trial.user_attrs.get(ledger.WORKER)
    who = describe_worker(owner)
    alive = None if owner is None else process_alive(owner)
    if alive is not None:
        return None if alive else f"{who} ended before the trial finished"
    if trial._trial_id in stale:
        return f"{who} sent no heartbeat for {GRACE_SECONDS} s"
    started = trial.datetime_start
    if owner is None and started is not None and (now - started).total_seconds() > UNOWNED_SECONDS:
        return f"its worker stopped within {UNOWNED_SECONDS} s of taking the trial"
    return None


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue ``trial``'s parameters again as a new waiting trial that names it in ``retry_of``."""
    study.enqueue_trial(
        dict(trial.params), user_attrs={ledger.RETRY_OF: trial.number}, skip_if_exists=False
    )


def reclaim_lost_trials(study: optuna.Study) -> list[int]:
    """Fail every RUNNING trial of ``study`` whose worker is gone and queue it again.

    Returns the numbers of the trials this call reclaimed (another process may
    reclaim some of them at the same moment: each is reclaimed once).
    """
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        stale = _heartbeat_stale(study)
    now = datetime.datetime.now()
    storage = study._storage
    reclaimed = []
    for trial in running:
        reason = why_lost(trial, stale, now)
        if reason is None:
            continue
        try:
            # The reason first: a FAIL is never stored without it.
            storage.set_trial_user_attr(
                trial._trial_id, ledger.FAIL_REASON, f"{reason}; its configuration was queued again"
            )
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:  # it finished, or another process reclaimed it
            continue
        requeue(study, trial)
        reclaimed.append(trial.number)
    return reclaimed
