"""Helpers several test files share (imported as ``from helpers import ...``)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.search.space import SearchSpace, load_space, parse_space
from harness.study.loop import StudySpec

CHECKOUT = Path(__file__).resolve().parents[1]
"""The checkout the tests run from (read-only: tests write under their own temporary folder)."""
FIXTURES = Path(__file__).parent / "fixtures"
"""Spaces, comparison files and datasets the tests read."""
TINY = FIXTURES / "tiny.toml"
"""Four grid points (Adam or SGD, two learning rates), ten epochs: the study tests' space."""


def study_spec(tmp_path: Path, **overrides) -> StudySpec:
    """A study stored under ``tmp_path``; by default a random search of :data:`TINY` on iris,
    3 folds, 3 trials, seed 0. ``overrides`` replace any :class:`StudySpec` field."""
    settings = {
        "name": "iris-tiny",
        "storage": f"sqlite:///{tmp_path / 'studies.db'}",
        "strategy": "random",
        "seed": 0,
        "n_folds": 3,
        "n_trials": 3,
        **overrides,
    }
    if "dataset" not in settings:
        settings["dataset"] = load_dataset("iris")
    if "space" not in settings:
        settings["space"] = load_space(TINY)
    return StudySpec(**settings)


def sgd_or_adam_space(name: str, lr_grid: int = 4) -> SearchSpace:
    """A conditional space: the optimizer, a log-scale learning rate on ``lr_grid`` grid
    points, and a momentum searched only with SGD."""
    momentum = {"type": "float", "low": 0, "high": 0.9, "grid": [0, 0.9]}
    params = {
        "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "grid": lr_grid},
        "momentum": {**momentum, "when": {"optimizer": "sgd"}},
    }
    return parse_space({"params": params}, name)


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Train on one torch thread (as workers do), restoring the count afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_options(
    folder: Path, *options: str, storage: str | None = None, models: Path | None = None
) -> list[str]:
    """The words of a quiet ``harness run`` that writes only under ``folder``: the study in
    ``folder/h.db`` (or ``storage``), leaderboards in ``folder/boards``, models in
    ``folder/models`` (or ``models``); ``options`` follow, so they may override any of these."""
    return [
        "run",
        "--storage",
        storage or f"sqlite:///{folder / 'h.db'}",
        "--leaderboards",
        str(folder / "boards"),
        "--models",
        str(models or folder / "models"),
        "--quiet",
        *options,
    ]


def run_in(folder: Path, *options: str, **where) -> int:
    """Run :func:`run_options` in this process; return the exit code."""
    return main(run_options(folder, *options, **where))


def start_random_search(
    space: str | Path, storage: str, study: str, folder: Path, *options: str
) -> subprocess.Popen:
    """Start ``python -m harness run`` in a child process: a random search of ``space`` on
    iris, 3 folds, stored as ``study`` in ``storage``, writing under ``folder``."""
    command = [
        sys.executable,
        "-m",
        "harness",
        *run_options(folder, "--dataset", "iris", "--space", str(space), storage=storage),
        *("--strategy", "random", "--folds", "3", "--study", study, *options),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def random_search_trials(
    factor: str,
    level: Callable[[int], str],
    score: Callable[[str, float], float],
    *,
    seeds: int,
    trials: int,
    noise: float,
    rng_seed: int,
) -> pd.DataFrame:
    """Trials of ``seeds`` complete random-search runs of ``trials`` trials each, as
    :func:`harness.study.ledger.trials_frame` lays them out: the trial at position ``p`` takes
    ``factor = level(p)`` and a uniform ``lr`` in [0, 1], and scores
    ``score(level, lr)`` plus normal noise of scale ``noise``."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed in range(seeds):
        for position in range(1, trials + 1):
            value = level(position)
            lr = float(rng.uniform(0, 1))
            rows.append(
                {
                    "study": f"r-{seed}",
                    "strategy": "random",
                    "seed": seed,
                    "trial": position,
                    "number": position - 1,
                    "state": "COMPLETE",
                    "value": score(value, lr) + float(rng.normal(0, noise)),
                    f"param_{factor}": value,
                    "param_lr": lr,
                }
            )
    return pd.DataFrame(rows)


REPLAY_SPACE_TOML = """
description = "A discrete space for the replay tests: six grid points, five epochs."

[params.optimizer]
type = "categorical"
choices = ["adam", "sgd"]

[params.lr]
type = "categorical"
choices = [0.01, 0.1, 0.3]

[fixed]
hidden_layer_sizes = [8]
max_epochs = 5
batch_size = 32
"""


def iris_replay_setup(root: Path, db: str) -> tuple[SearchSpace, Path, str, dict]:
    """The replay tests' task: :data:`REPLAY_SPACE_TOML` written under ``root``, a SQLite
    storage ``root/db`` and the StudySpec settings every table study of it shares (iris,
    3 folds, task seed 0); returns ``(space, space_file, storage, common)``."""
    space_file = root / "discrete.toml"
    space_file.write_text(REPLAY_SPACE_TOML)
    space = load_space(space_file)
    storage = f"sqlite:///{root / db}"
    common = {"storage": storage, "dataset": load_dataset("iris"), "space": space, "n_folds": 3}
    common.update(task_seed=0, test_size=0.2)
    return space, space_file, storage, common


def iris_table(setup: dict, study: str = "grid", **kwargs):
    """A replay :class:`~harness.study.replay.TableTask` of ``study`` in the storage of
    :func:`iris_replay_setup` (``setup`` holds its ``storage`` and ``space``), as the tables
    were made (iris, f1_macro, 3 folds) unless ``kwargs`` say otherwise."""
    from harness.study.replay import TableTask

    asked = {"dataset": "iris", "metric": "f1_macro", "n_folds": 3} | kwargs
    return TableTask(f"{setup['storage']}#{study}", setup["space"], **asked)


def copy_of_table(
    setup: dict,
    name: str,
    *,
    study_attrs: dict | None = None,
    repeat_first: bool = False,
    edit: Callable[[list[dict | None]], None] | None = None,
) -> str:
    """Copy the ``grid`` table study of :func:`iris_replay_setup`'s storage to ``name`` and
    return its table reference (``storage#name``).

    ``study_attrs`` are set on the copy after the source's own; ``repeat_first`` appends a
    repeat of the first trial; ``edit`` may change each trial's user attributes in place
    (``None`` leaves the trial out) before the trials are added.
    """
    import optuna

    source = optuna.load_study(study_name="grid", storage=setup["storage"])
    copy = optuna.create_study(study_name=name, storage=setup["storage"], direction="maximize")
    for key, value in {**source.user_attrs, **(study_attrs or {})}.items():
        copy.set_user_attr(key, value)
    trials = [*source.trials, *source.trials[:1]] if repeat_first else list(source.trials)
    attrs: list[dict | None] = [dict(trial.user_attrs) for trial in trials]
    if edit is not None:
        edit(attrs)
    for trial, own in zip(trials, attrs, strict=True):
        if own is not None:
            copy.add_trial(
                optuna.trial.create_trial(
                    params=trial.params,
                    distributions=trial.distributions,
                    value=trial.value,
                    user_attrs=own,
                    state=trial.state,
                )
            )
    return f"{setup['storage']}#{name}"


TRIAL_SECONDS = 2.0
"""Seconds each trial of a :func:`make_frame` frame takes."""
SUGGEST_SECONDS = 0.5
"""Seconds each of its trials spent in the sampler."""


def make_frame(runs: dict[tuple[str, int], list], **params: dict[tuple[str, int], list]):
    """A trials frame: floats are complete values, "F" failed and "P" pruned trials.

    Trial k of every run ends at ``2 k`` seconds; ``params`` map a parameter
    name to per-run value lists.
    """
    rows = []
    for (strategy, seed), outcomes in runs.items():
        for position, outcome in enumerate(outcomes, start=1):
            state = {"F": "FAIL", "P": "PRUNED"}.get(outcome, "COMPLETE")
            row = {
                "study": f"{strategy}-{seed}",
                "strategy": strategy,
                "seed": seed,
                "trial": position,
                "number": position - 1,
                "state": state,
                "value": float(outcome) if state == "COMPLETE" else math.nan,
                "elapsed_seconds": TRIAL_SECONDS * position,
                "suggest_seconds": SUGGEST_SECONDS,
                "trial_seconds": TRIAL_SECONDS,
                "fail_reason": None if state == "COMPLETE" else "diverged",
            }
            for name, values in params.items():
                row[f"param_{name}"] = values[strategy, seed][position - 1]
            rows.append(row)
    return pd.DataFrame(rows)
