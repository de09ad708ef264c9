"""Specs validate themselves; a crashed worker is a runtime error, not a configuration error."""

from __future__ import annotations

import pytest

from harness.cli import main as cli
from harness.data.datasets import load_dataset
from harness.errors import ConfigError, HarnessError, SpaceError, StrategyError, WorkerError
from harness.search.space import load_space
from harness.study.checks import check_budget
from harness.study.loop import StudySpec


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trials": 0}, "--trials must be at least 1, got 0"),
        ({"folds": 1}, "--folds must be at least 2, got 1"),
        ({"workers": 0}, "--workers must be at least 1, got 0"),
        ({"test_size": 1.0}, "--test-size must be between 0 and 1, got 1.0"),
        ({"timeout": 0}, "--timeout must be positive, got 0"),
        ({"trial_timeout": -1}, "--trial-timeout must be positive, got -1"),
    ],
)
def test_check_budget_names_the_option(changes, message):
    values = {"trials": 5, "folds": 3, "test_size": 0.2, **changes}
    with pytest.raises(ConfigError, match=message):
        check_budget(**values)


def test_check_budget_names_a_file_key():
    with pytest.raises(ConfigError, match=r"^x.toml: folds must be at least 2"):
        check_budget(trials=1, folds=1, test_size=0.2, flag="", where="x.toml: ")


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"strategy": "annealing"}, StrategyError, "unknown strategy 'annealing'"),
        ({"metric": "speed"}, ConfigError, "unknown metric 'speed'"),
        ({"pruner": "patient"}, ConfigError, "unknown pruner 'patient'"),
        ({"pruner": "wilcoxon", "prune_on": "epochs"}, ConfigError, "use --prune-on folds"),
        ({"n_trials": 0}, ConfigError, "--trials must be at least 1"),
    ],
)
def test_a_study_spec_validates_itself(iris, tmp_path, changes, error, message):
    values = {
        "name": "s",
        "storage": f"sqlite:///{tmp_path}/s.db",
        "strategy": "random",
        "dataset": iris,
        "space": load_space("mlp-small"),
        **changes,
    }
    with pytest.raises(error, match=message):
        StudySpec(**values)
    assert not (tmp_path / "s.db").exists()  # nothing was stored


def test_grid_on_a_space_without_grid_values_is_refused(iris, tmp_path):
    path = tmp_path / "nogrid.toml"
    path.write_text('[params.lr]\ntype = "float"\nlow = 1e-4\nhigh = 1e-1\nlog = true\n')
    space = load_space(path)
    with pytest.raises(SpaceError, match="grid search needs grid values"):
        StudySpec(name="s", storage="sqlite://", strategy="grid", dataset=iris, space=space)


def test_a_worker_error_is_not_a_user_input_error():
    assert issubclass(WorkerError, RuntimeError)
    assert not issubclass(WorkerError, HarnessError)


def test_the_cli_prints_a_crashed_worker_on_one_line_with_status_1(monkeypatch, capsys):
    import harness.commands.strategies as command

    def crash(args):
        raise WorkerError("1 worker process(es) failed (exit codes [-9])")

    monkeypatch.setattr(command, "main", crash)
    assert cli(["strategies"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "harness strategies: error: 1 worker process(es) failed (exit codes [-9])"
