"""Storage: PostgreSQL drivers, trials of killed workers, Ctrl-C, worker identity."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

import optuna
import pytest
from helpers import study_spec
from optuna.trial import TrialState

from harness.errors import ConfigError
from harness.study import ledger, storage
from harness.study.loop import StudySpec, create_study, run_study
from harness.study.processes import process_alive, worker_identity
from harness.study.storage import open_storage


def hide_module(monkeypatch, name: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda module, *a: None if module == name else real(module)
    )


def test_the_readme_postgresql_form_needs_only_the_extra(monkeypatch):
    hide_module(monkeypatch, "psycopg")
    with pytest.raises(ConfigError) as raised:
        open_storage("postgresql://someone@localhost/db")
    message = str(raised.value)
    assert "psycopg (3)" in message and 'pip install -e ".[postgres]"' in message
    assert "\n" not in message


def test_a_psycopg2_url_without_psycopg2_suggests_the_form_that_works(monkeypatch):
    hide_module(monkeypatch, "psycopg2")
    with pytest.raises(ConfigError, match=r"use postgresql://USER@HOST/DB with pip install"):
        open_storage("postgresql+psycopg2://someone:secret@localhost/db")


def test_a_server_that_does_not_answer_gives_one_line_without_the_password():
    with pytest.raises(ConfigError) as raised:
        open_storage("postgresql://someone:secret@127.0.0.1:1/db")
    message = str(raised.value)
    assert "secret" not in message and "\n" not in message and "postgresql://" in message


def dead_worker() -> dict:
    """The identity of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = {"host": socket.gethostname(), "pid": child.pid, "started": None, "index": 7}
    child.wait()
    return identity


def test_a_worker_knows_whether_a_recorded_process_lives():
    assert process_alive(worker_identity(0)) is True
    assert process_alive(dead_worker()) is False
    assert process_alive({**worker_identity(0), "host": "another-host"}) is None
    reused = {**worker_identity(0), "pid": os.getppid(), "started": -1}  # an id, not its process
    assert process_alive(reused) is False


def strand_a_trial(spec: StudySpec, owner: dict | None) -> optuna.trial.FrozenTrial:
    """Leave one budget slot RUNNING, as a worker killed during its trial leaves it."""
    study = create_study(spec)
    trial = study.ask()  # pops a budget slot
    spec.space.suggest(trial)
    if owner is not None:
        ledger.record_worker(trial, owner)
    storage_ = study._storage
    if hasattr(storage_, "record_heartbeat"):
        storage_.record_heartbeat(trial._trial_id)
    return study._storage.get_trial(trial._trial_id)


ASKED_BY_HAND = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


@ASKED_BY_HAND
@pytest.mark.parametrize("owner", ["dead process", "silent host", "none"])
def test_a_killed_workers_trial_is_failed_with_its_reason_and_run_again(
    tmp_path, monkeypatch, owner
):
    monkeypatch.setattr(storage, "GRACE_SECONDS", 1)
    monkeypatch.setattr(storage, "HEARTBEAT_SECONDS", 1)
    monkeypatch.setattr("harness.study.recovery.GRACE_SECONDS", 1)
    monkeypatch.setattr("harness.study.recovery.UNOWNED_SECONDS", 1)
    identity = {
        "dead process": dead_worker(),
        "silent host": {"host": "elsewhere", "pid": 1, "started": None, "index": 3},
        "none": None,
    }[owner]
    spec = study_spec(tmp_path)
    stranded = strand_a_trial(spec, identity)
    time.sleep(2.5)  # past the grace period
    study = run_study(spec)
    trials = study.get_trials()
    lost = trials[stranded.number]
    assert lost.state == TrialState.FAIL
    assert "queued again" in lost.user_attrs[ledger.FAIL_REASON]
    retries = [t for t in trials if t.user_attrs.get(ledger.RETRY_OF) == stranded.number]
    assert len(retries) == 1 and retries[0].params == stranded.params
    assert retries[0].state == TrialState.COMPLETE
    # The budget counts the trials that ran, not the one lost with its worker.
    assert [t.state for t in trials].count(TrialState.COMPLETE) == spec.n_trials
    assert len(ledger.trial_rows(study)) == spec.n_trials  # the lost trial has no row
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    me = trials[-1].user_attrs[ledger.WORKER]
    assert me["pid"] == os.getpid() and me["host"] == socket.gethostname() and me["index"] == 0


@ASKED_BY_HAND
def test_a_live_workers_trial_is_left_running(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "GRACE_SECONDS", 1)
    monkeypatch.setattr(storage, "HEARTBEAT_SECONDS", 1)
    spec = study_spec(tmp_path, n_trials=2)
    stranded = strand_a_trial(spec, worker_identity(5))  # this process: alive
    time.sleep(2.5)  # its heartbeat is stale, as on a storage too busy to take it in time
    study = run_study(spec)
    assert study.get_trials()[stranded.number].state == TrialState.RUNNING
    assert not ledger.lost_numbers(study.get_trials())


def test_ctrl_c_during_a_storage_write_still_stores_the_reason(tmp_path, monkeypatch):
    """SIGINT arriving while the proposal is written waits for the write, then fails the trial
    with its reason: a FAIL without fail_reason was stored when the two were separated."""
    real = ledger.record_proposal

    def interrupted_write(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "record_proposal", interrupted_write)
    spec = study_spec(tmp_path)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        run_study(spec)
    study = optuna.load_study(study_name=spec.name, storage=spec.storage)
    (stopped,) = study.get_trials(states=(TrialState.FAIL,))
    assert stopped.user_attrs[ledger.FAIL_REASON] == "interrupted by the user"
    assert ledger.CONFIG in stopped.user_attrs  # the write it arrived in was finished
    assert not study.get_trials(states=(TrialState.RUNNING,))
    assert signal.getsignal(signal.SIGINT) is handler  # restored


def test_a_killed_workers_trial_is_run_again_on_a_journal_file(tmp_path):
    spec = study_spec(tmp_path, storage=str(tmp_path / "studies.journal"))
    stranded = strand_a_trial(spec, dead_worker())
    study = run_study(spec)
    trials = study.get_trials()
    assert trials[stranded.number].state == TrialState.FAIL
    assert ledger.lost_numbers(trials) == {stranded.number}
    assert [t.state for t in trials].count(TrialState.COMPLETE) == spec.n_trials


POP_AND_TELL = """
import sys, optuna
from harness.study.storage import open_storage
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.load_study(study_name="slots", storage=open_storage(sys.argv[1]))
refused = 0
while (trial_id := study._pop_waiting_trial_id()) is not None:
    try:
        study._storage.set_trial_state_values(trial_id, optuna.trial.TrialState.COMPLETE, [1.0])
    except Exception:  # another process took the same slot and finished it first
        refused += 1
print(refused)
"""


@pytest.mark.slow
def test_processes_never_take_the_same_budget_slot_on_sqlite(tmp_path):
    """Taking a waiting trial reads, then writes: on SQLite both must be one transaction.

    Without BEGIN IMMEDIATE, 4 processes took 19 of 300 slots twice here."""
    url = f"sqlite:///{tmp_path / 'slots.db'}"
    study = optuna.create_study(study_name="slots", storage=open_storage(url))
    for _ in range(200):
        study.enqueue_trial({}, skip_if_exists=False)
    command = [sys.executable, "-c", POP_AND_TELL, url]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    refused = [int(w.communicate(timeout=300)[0]) for w in workers]
    assert refused == [0, 0, 0, 0]
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 200


def test_loading_a_stored_study_names_the_stored_ones_and_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    optuna.create_study(study_name="kept", storage=url)
    assert storage.load_stored_study(url, "kept").study_name == "kept"
    with pytest.raises(ConfigError, match=r"no table study 'gone' in .*; stored: kept; copy it"):
        storage.load_stored_study(url, "gone", what="table study", fix="copy it")
    with pytest.raises(ConfigError):
        storage.load_stored_study(f"sqlite:///{tmp_path / 'typo.db'}", "kept")
    assert not (tmp_path / "typo.db").exists()
