"""`python -m harness run` as a user types it: outputs, resume, and clear errors."""

from __future__ import annotations

import joblib
import optuna
import pytest
from helpers import FIXTURES, run_in

from harness.data.datasets import load_dataset
from harness.study import ledger

TINY = str(FIXTURES / "tiny.toml")
FAILING = str(FIXTURES / "failing.toml")


@pytest.mark.slow
def test_run_stores_the_study_saves_the_model_and_writes_the_leaderboard(tmp_path, capsys):
    code = run_in(tmp_path, "--dataset", "iris", "--space", TINY, "--trials", "3", "--folds", "3")
    out = capsys.readouterr().out
    assert code == 0
    name = "iris-tiny-tpe-s0"
    assert "tuned MLP" in out and "baseline MLP" in out and "logistic regression" in out
    assert f"optuna-dashboard sqlite:///{tmp_path / 'h.db'}" in out
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'h.db'}")
    holdout = study.user_attrs[ledger.HOLDOUT]
    assert set(holdout) >= {"tuned MLP", "baseline MLP", "majority class", "random forest"}
    iris = load_dataset("iris")
    model = joblib.load(tmp_path / "models" / f"{name}.joblib")
    assert set(model.predict(iris.X)) <= set(iris.y)
    board = (tmp_path / "boards" / f"{name}.md").read_text()
    assert "3 trials (3 complete)" in board
    assert (tmp_path / "boards" / f"{name}-held-out-test.csv").is_file()


def test_when_every_trial_fails_the_command_says_why_and_exits_non_zero(tmp_path, capsys):
    code = run_in(
        tmp_path, "--dataset", "iris", "--space", FAILING, "--trials", "2", "--folds", "3"
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "all 2 trials" in err and "activation" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--strategy", "annealing"], "unknown strategy 'annealing'; choose one of: grid"),
        (["--space", "nowhere"], "nowhere"),
        (["--metric", "speed"], "unknown metric 'speed'"),
        (["--pruner", "patient"], "unknown pruner 'patient'"),
        (["--trials", "0"], "--trials must be at least 1"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--test-size", "1.5"], "--test-size must be between 0 and 1"),
        (["--dataset", "nope"], "nope"),
        (["--storage", "mysql://nobody@127.0.0.1:1/none"], "cannot open storage"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, options, message):
    code = run_in(tmp_path, "--dataset", "iris", "--space", TINY, *options)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_postgresql_without_its_driver_names_the_extra(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )  # the README's postgresql:// form uses psycopg 3 (SQLAlchemy 2.1)
    storage = "postgresql://someone:secret@127.0.0.1:1/none"
    code = run_in(tmp_path, "--dataset", "iris", "--space", TINY, storage=storage)
    err = capsys.readouterr().err
    assert code == 2
    assert 'pip install -e ".[postgres]"' in err and "psycopg (3)" in err
    assert "secret" not in err and len(err.strip().splitlines()) == 1


def test_the_defaults_are_the_reference_task(tmp_path):
    from harness.cli import build_parser

    args = build_parser().parse_args(["run"])
    assert (args.dataset, args.space, args.trials, args.folds) == (
        "teleconnect",
        "mlp-small",
        20,
        5,
    )
