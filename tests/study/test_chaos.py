"""Chaos: worker processes killed with SIGKILL during a study, on SQLite and on PostgreSQL.

Checks the storage guarantee the README states: after the kills and a resume, the
budget is exact, no trial is left running or waiting, no configuration completed
twice, and every completed trial's value is the one its configuration gives.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from helpers import FIXTURES, start_random_search
from optuna.trial import TrialState
from postgres import postgres_server

from harness.data.datasets import load_dataset
from harness.data.splits import holdout_split, make_folds
from harness.study import ledger
from harness.study.evaluation import evaluate_config
from harness.study.processes import process_alive

SPACE = str(FIXTURES / "chaos.toml")
BUDGET, NAME = 24, "chaos"
#: Complete trials before each kill: early, so that most of the budget is left to run
#: after the last kill and the poller cannot miss the window on a fast machine.
KILL_AFTER = (2, 5, 8)

pytestmark = pytest.mark.slow


def start(url: str, root: Path) -> subprocess.Popen:
    return start_random_search(SPACE, url, NAME, root, "--trials", str(BUDGET), "--workers", "3")


def trials_now(url: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name=NAME, storage=url).get_trials()
    except KeyError:  # not created yet
        return []


def kill_a_worker_when(url: str, process: subprocess.Popen, complete: int, rng) -> int | None:
    """Once ``complete`` trials are complete, SIGKILL a random worker running a trial."""
    deadline = time.monotonic() + 600  # a loaded machine may take minutes per trial batch
    while time.monotonic() < deadline and process.poll() is None:
        trials = trials_now(url)
        done = sum(t.state == TrialState.COMPLETE for t in trials)
        owners = {
            t.user_attrs[ledger.WORKER]["pid"]
            for t in trials
            if t.state == TrialState.RUNNING and ledger.WORKER in t.user_attrs
        }
        live = sorted(pid for pid in owners if process_alive(worker(pid)))
        if done >= complete and live:
            victim = rng.choice(live)
            os.kill(victim, signal.SIGKILL)
            return victim
        time.sleep(0.05)
    return None


def worker(pid: int) -> dict:
    import socket

    return {"host": socket.gethostname(), "pid": pid, "started": None}


def chaos(url: str, root: Path) -> dict[int, float]:
    """Run the study, killing a worker at each of KILL_AFTER; return the values seen then."""
    rng = random.Random(0)
    process = start(url, root)
    seen: dict[int, float] = {}
    for kill, complete in enumerate(KILL_AFTER):
        victim = kill_a_worker_when(url, process, complete, rng)
        if victim is None:  # timed out, or the run ended before the kill
            process.kill()
            states = [t.state.name for t in trials_now(url)]
            pytest.fail(
                f"no worker to kill before kill {kill + 1} (run exit {process.returncode}, "
                f"trials {states}): {process.communicate()[1]}"
            )
        seen.update({t.number: t.value for t in trials_now(url) if t.state == TrialState.COMPLETE})
        if victim == process.pid:  # the parent: its children end with it; resume
            process.wait(timeout=60)
            process.communicate()
            process = start(url, root)
    out, err = process.communicate(timeout=600)
    if process.returncode != 0:  # the last kill took the parent as it finished: resume once more
        process = start(url, root)
        out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert "0 running, 0 waiting" in out
    return seen


def check(url: str, seen: dict[int, float]) -> None:
    trials = optuna.load_study(study_name=NAME, storage=url).get_trials()
    lost = ledger.lost_numbers(trials)
    assert lost, "no running trial was killed"
    counted = [t for t in trials if t.number not in lost]
    assert len(counted) == BUDGET  # exact: the lost trials were queued again
    assert all(t.state in ledger.FINISHED_STATES for t in trials)  # nothing running or waiting
    complete = [t for t in counted if t.state == TrialState.COMPLETE]
    configs = [tuple(sorted(t.params.items())) for t in complete]
    assert len(set(configs)) == len(configs)  # no configuration completed twice
    for number in lost:  # each lost trial's configuration ran once more, in its place
        (retry,) = [t for t in trials if t.user_attrs.get(ledger.RETRY_OF) == number]
        assert retry.params == trials[number].params
        assert "queued again" in trials[number].user_attrs[ledger.FAIL_REASON]
    assert all(trials[number].value == value for number, value in seen.items())
    train, _ = holdout_split(load_dataset("iris"), test_size=0.2, seed=0)
    folds = make_folds(train, 3, 0)
    for trial in complete:  # the value its configuration gives, kills or not
        again = evaluate_config(ledger.stored_config(trial), train, folds, random_state=0)
        assert np.isclose(again.mean("f1_macro"), trial.value, rtol=0, atol=1e-9), trial.number


@pytest.mark.usefixtures("one_torch_thread")
def test_killed_workers_on_sqlite_lose_nothing_and_the_budget_is_exact(tmp_path):
    url = f"sqlite:///{tmp_path / 'chaos.db'}"
    check(url, chaos(url, tmp_path))


@pytest.mark.usefixtures("one_torch_thread")
def test_killed_workers_on_postgresql_lose_nothing_and_the_budget_is_exact(tmp_path):
    with postgres_server() as url:
        check(url, chaos(url, tmp_path))
