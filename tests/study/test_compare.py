"""A tiny comparison end to end: compare, then rebuild the leaderboards from storage alone."""

from __future__ import annotations

import re
import shutil

import optuna
import pytest
from helpers import FIXTURES

from harness.cli import main
from harness.errors import ConfigError
from harness.study import ledger
from harness.study.comparison import load_comparison

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name in ("tiny.toml", "tiny-comparison.toml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_compare_runs_the_matrix_and_the_leaderboard_rebuilds_identically(workdir, capsys):
    assert main(["compare", "tiny-comparison.toml", "--quiet"]) == 0
    board = workdir / "leaderboards" / "tiny.md"
    written = board.read_text()
    storage = "sqlite:///studies/tiny.db"
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    assert names == {f"tiny-{s}-s{n}" for s in ("random", "tpe", "grid") for n in (0, 1)} | {
        "tiny-grid-full"
    }
    grid = optuna.load_study(study_name="tiny-grid-full", storage=storage)
    assert len(grid.trials) == 4  # the whole grid, no more
    tuned = optuna.load_study(study_name="tiny-tpe-s1", storage=storage)
    assert tuned.user_attrs[ledger.HOLDOUT_TRIAL] == tuned.best_trial.number
    assert f"the exhaustive grid's best ({max(t.value for t in grid.trials):.4f})" in written
    for section in ("## efficiency", "## final", "## by_optimizer", "## baselines"):
        assert section in written

    # The ensembles with trees are fitted once, for the study the report shows.
    from harness.model.ensemble_pipeline import STACKING, TREES, VOTING
    from harness.results.loading import load_results

    results = load_results(load_comparison("tiny-comparison.toml"))
    best = results.best_study()
    with_rows = [
        s.study_name for s in (*results.studies, grid) if VOTING in s.user_attrs[ledger.HOLDOUT]
    ]
    assert with_rows == [best.study_name]
    assert {TREES, VOTING, STACKING} <= set(results.holdout())
    assert VOTING in written

    board.unlink()
    assert main(["leaderboard", "tiny-comparison.toml"]) == 0
    assert board.read_text() == written

    # Re-running skips finished studies: no new trial anywhere.
    assert main(["compare", "tiny-comparison.toml", "--quiet"]) == 0
    assert sum(len(optuna.load_study(study_name=n, storage=storage).trials) for n in names) == 22


def test_leaderboard_before_compare_says_what_to_run(workdir, capsys):
    assert main(["leaderboard", "tiny-comparison.toml"]) == 2
    assert "run `python -m harness compare tiny-comparison.toml` first" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\nstrategies = ['random']\nseeds = [0]\n", "missing required key 'trials'"),
        (
            "name = 'x'\nstrategies = ['annealing']\nseeds = [0]\ntrials = 2\ndataset = 'iris'\n",
            "unknown strategy 'annealing'",
        ),
        (
            "name = 'x'\nstrategies = ['random']\nseeds = [0]\ntrials = 2\n",
            "exactly one of 'dataset'",
        ),
        (
            "name = 'x'\nstrategies = ['random']\nseeds = [0]\ntrials = 'many'\ndataset = 'iris'\n",
            "trials must be of type int",
        ),
        (
            "name = 'x'\nstrategies = []\nseeds = [0]\ntrials = 2\ndataset = 'iris'\n",
            "must not be empty",
        ),
        ("name = 'x'\nbudget = 3\n", "unknown key(s) budget"),
        ("name = ", "not valid TOML"),
    ],
)
def test_a_malformed_comparison_names_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        load_comparison(path, strategies=["random", "tpe"])
    assert str(path) in str(error.value)


def test_studies_in_parallel_processes_store_what_one_process_stores(workdir):
    """``processes = 2`` changes the wall time only: every study's trials are the same."""
    text = (workdir / "tiny-comparison.toml").read_text()
    (workdir / "parallel.toml").write_text(
        text.replace('name = "tiny"', 'name = "tiny-parallel"') + "processes = 2\n"
    )
    assert load_comparison(workdir / "parallel.toml").processes == 2
    assert load_comparison(workdir / "tiny-comparison.toml").processes == 1
    assert main(["compare", "tiny-comparison.toml", "--quiet"]) == 0
    assert main(["compare", "parallel.toml", "--quiet"]) == 0

    def trials(name: str) -> dict[str, list]:
        storage = f"sqlite:///studies/{name}.db"
        return {
            s.study_name.removeprefix(name): [
                (t.params, t.value, t.state)
                for t in optuna.load_study(study_name=s.study_name, storage=storage).trials
            ]
            for s in optuna.get_all_study_summaries(storage)
        }

    assert trials("tiny-parallel") == trials("tiny")
    parallel = optuna.load_study(
        study_name="tiny-parallel-tpe-s1", storage="sqlite:///studies/tiny-parallel.db"
    )
    assert parallel.user_attrs[ledger.HOLDOUT_TRIAL] == parallel.best_trial.number


def test_the_storage_exists_before_any_process_of_a_comparison_starts(workdir, monkeypatch):
    """Processes creating a new SQLite file at once race on its schema: the parent makes it."""
    import concurrent.futures
    import sqlite3

    real = concurrent.futures.ProcessPoolExecutor
    pools = []

    def checked_pool(*args, **kwargs):
        with sqlite3.connect(workdir / "studies" / "tiny-parallel.db") as connection:
            tables = {row[0] for row in connection.execute("select name from sqlite_master")}
        assert {"studies", "alembic_version"} <= tables  # created before the pool
        pools.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", checked_pool)
    text = (workdir / "tiny-comparison.toml").read_text()
    (workdir / "parallel.toml").write_text(
        text.replace('name = "tiny"', 'name = "tiny-parallel"') + "processes = 2\n"
    )
    assert main(["compare", "parallel.toml", "--quiet"]) == 0
    assert pools  # the round-robin pool and the pool of the grid and pool studies


def test_compare_interleaves_its_studies_round_robin(workdir):
    comparison = load_comparison(workdir / "tiny-comparison.toml")
    assert comparison.interleave
    order = comparison.interleaved()
    assert order[: len(comparison.strategies)] == [
        (s, comparison.seeds[0]) for s in comparison.strategies
    ]
    assert sorted(order) == sorted(comparison.matrix())
    assert comparison.rounds() == list(range(1, comparison.trials + 1))
    text = (workdir / "tiny-comparison.toml").read_text()
    (workdir / "sequential.toml").write_text(text + "interleave = false\n")
    assert load_comparison(workdir / "sequential.toml").rounds() == [comparison.trials]

    assert main(["compare", "tiny-comparison.toml", "--quiet"]) == 0
    storage = "sqlite:///studies/tiny.db"
    starts = {}
    for name in comparison.study_names():
        trials = optuna.load_study(study_name=name, storage=storage).trials
        starts[name] = sorted(t.datetime_start for t in trials)
    # Round k ran trial k of every study before any study's trial k + 1.
    for k in range(comparison.trials - 1):
        assert max(s[k] for s in starts.values()) < min(s[k + 1] for s in starts.values())
