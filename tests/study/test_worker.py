"""`harness worker` joins a study that `run` made, rebuilding its specification from the storage."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from helpers import FIXTURES
from optuna.trial import TrialState
from postgres import postgres_server

from harness.cli import main
from harness.study import ledger

TINY = str(FIXTURES / "tiny.toml")


def run_command(storage: str, root: Path, *options: str) -> list[str]:
    return [
        "run",
        "--space",
        TINY,
        "--folds",
        "3",
        "--storage",
        storage,
        "--leaderboards",
        str(root / "boards"),
        "--models",
        str(root / "models"),
        "--quiet",
        *options,
    ]


def finished_numbers(study: optuna.Study) -> list[int]:
    return sorted(t.number for t in study.get_trials(states=ledger.FINISHED_STATES))


def test_a_worker_rebuilds_the_spec_and_stops_at_a_used_budget(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(run_command(storage, tmp_path, "--dataset", "iris", "--trials", "2")) == 0
    capsys.readouterr()
    code = main(["worker", "--storage", storage, "--study", "iris-tiny-tpe-s0", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "budget 2; study now has 2 complete" in out
    study = optuna.load_study(study_name="iris-tiny-tpe-s0", storage=storage)
    assert finished_numbers(study) == [0, 1]


def test_a_worker_of_a_csv_study_runs_on_this_hosts_copy_of_the_file(tmp_path, capsys):
    from harness.data.datasets import load_dataset

    frame = load_dataset("iris").X.assign(species=load_dataset("iris").y)
    original = tmp_path / "flowers.csv"
    frame.to_csv(original, index=False)
    storage = f"sqlite:///{tmp_path / 'h.db'}"
    options = ("--data", str(original), "--target", "species", "--trials", "1")
    assert main(run_command(storage, tmp_path, *options)) == 0
    study = optuna.load_study(study_name="flowers-tiny-tpe-s0", storage=storage)
    settings = ledger.run_settings(study)
    assert settings["source"]["kind"] == "csv" and settings["source"]["target"] == "species"
    # Another host: the file lives elsewhere; raise the budget to see the worker train.
    moved = tmp_path / "elsewhere" / "flowers.csv"
    moved.parent.mkdir()
    original.rename(moved)
    base = ["worker", "--storage", storage, "--study", "flowers-tiny-tpe-s0", "--quiet"]
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "is not on this host" in err and "--data" in err
    ledger.record_run_settings(study, {**settings, "n_trials": 2})
    assert main([*base, "--data", str(moved), "--index", "3"]) == 0
    assert finished_numbers(study) == [0, 1]
    # Other rows in the file: refused, nothing trained.
    frame.iloc[::-1].to_csv(moved, index=False)
    ledger.record_run_settings(study, {**settings, "n_trials": 3})
    assert main([*base, "--data", str(moved)]) == 2
    assert "differs from the rows" in capsys.readouterr().err
    assert finished_numbers(study) == [0, 1]


@pytest.mark.parametrize("case", ["missing", "no settings"])
def test_a_study_the_worker_cannot_join_gives_one_line_and_exit_2(tmp_path, capsys, case):
    storage = f"sqlite:///{tmp_path / 'h.db'}"
    optuna.create_study(study_name="bare", storage=storage)
    name = "bare" if case == "no settings" else "nope"
    code = main(["worker", "--storage", storage, "--study", name, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert ("stores no run settings" if case == "no settings" else "no study 'nope'") in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert optuna.load_study(study_name="bare", storage=storage).trials == []


@pytest.mark.slow
def test_two_independent_workers_join_a_run_on_postgresql(tmp_path):
    budget, name = 12, "shared"
    with postgres_server() as url:
        creator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness",
                *run_command(
                    url,
                    tmp_path,
                    "--dataset",
                    "iris",
                    "--trials",
                    str(budget),
                    "--strategy",
                    "random",
                    "--study",
                    name,
                ),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if ledger.run_settings(optuna.load_study(study_name=name, storage=url)):
                    break
            except KeyError:
                pass
            time.sleep(0.5)
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "harness",
                    "worker",
                    "--storage",
                    url,
                    "--study",
                    name,
                    "--index",
                    str(index),
                    "--quiet",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in (1, 2)
        ]
        outputs = [process.communicate(timeout=300) for process in (creator, *workers)]
        codes = [process.returncode for process in (creator, *workers)]
        assert codes == [0, 0, 0], outputs
        study = optuna.load_study(study_name=name, storage=url)
        trials = study.get_trials()
        # Every trial finished and stored once: none lost (left running) or duplicated.
        assert all(t.state in ledger.FINISHED_STATES for t in trials)
        assert sorted(t.number for t in trials) == list(range(len(trials)))
        assert all(t.state == TrialState.COMPLETE for t in trials)
        assert all(ledger.CONFIG in t.user_attrs for t in trials)
        # Budget slots are enqueued once and popped atomically: exactly the budget, never more.
        assert len(trials) == budget
        assert "worker 1 on study 'shared'" in outputs[1][0]
        assert "worker 2 on study 'shared'" in outputs[2][0]


@pytest.mark.slow
def test_killing_the_parent_ends_its_worker_processes(tmp_path):
    """``run --workers 2`` killed with SIGKILL: the child worker ends too, training nothing more."""
    import signal

    from harness.study.processes import process_alive

    storage, name = f"sqlite:///{tmp_path / 'h.db'}", "orphans"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            *run_command(
                storage,
                tmp_path,
                "--dataset",
                "iris",
                "--trials",
                "500",
                "--strategy",
                "random",
                "--study",
                name,
                "--workers",
                "2",
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = None
    deadline = time.monotonic() + 600  # a loaded machine may take minutes to start both
    while child is None and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.3)
        try:
            trials = optuna.load_study(study_name=name, storage=storage).get_trials()
        except KeyError:
            continue
        owners = [t.user_attrs.get(ledger.WORKER) for t in trials]
        child = next((o for o in owners if o and o["index"] == 1), None)
    parent.send_signal(signal.SIGKILL)
    _, err = parent.communicate()
    assert child is not None, err
    assert child["pid"] != parent.pid
    deadline = time.monotonic() + 15
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process_alive(child) is False  # no orphan trains on
    study = optuna.load_study(study_name=name, storage=storage)
    finished = len(study.get_trials(states=ledger.FINISHED_STATES))
    time.sleep(2)
    assert len(study.get_trials(states=ledger.FINISHED_STATES)) == finished
