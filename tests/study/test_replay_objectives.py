"""Replay of several objectives on stored grids (issue 24.1): stored costs, fronts, refusals.

What is checked: a two-objective replay comparison (nsga2, tpe, random) tells every
trial the metric and the fit seconds its table stores for the configuration, stores
its Pareto front, writes a leaderboard with a hypervolume per seed that
``harness leaderboard`` rebuilds byte for byte, and replays to the same stored values
with the same seeds; ``n_params`` replays from a table whose trials stored it; a
strategy of one objective, an analytic task and a cost the table does not store are
refused with one line, exit 2, nothing written. Single-objective replay is
tests/study/test_replay.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import CHECKOUT, copy_of_table, iris_replay_setup, iris_table

from harness.cli import main
from harness.errors import ConfigError, StrategyError
from harness.search.space import load_space
from harness.search.strategies import STRATEGIES, get_strategy
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.loop import StudySpec, run_study
from harness.study.objectives import check_multi_objective
from harness.study.replay import FunctionTask, ReplaySpec, run_replay, simulate

ANALYTIC_SPACES = CHECKOUT / "search_spaces" / "analytic"
SINGLE = [name for name, s in STRATEGIES.items() if not s.multi_objective]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two real exhaustive grids on iris, 3 folds: one of f1_macro alone (its trials store
    fit and predict seconds per fold), one of f1_macro, fit_seconds and n_params."""
    root = tmp_path_factory.mktemp("tables")
    space, space_file, storage, common = iris_replay_setup(root, "tables.db")
    common.update(strategy="grid", seed=0, n_trials=6)
    run_study(StudySpec(name="grid", **common))
    run_study(
        StudySpec(name="grid-np", objectives=("f1_macro", "fit_seconds", "n_params"), **common)
    )
    return {"root": root, "space": space, "space_file": space_file, "storage": storage}


def _write(
    root: Path, name: str, tables: dict, body: str, table: str = "grid", file: str = ""
) -> Path:
    """A replay comparison ``name`` of ``table``, in ``<file or name>.toml`` and ``.db``."""
    path = root / f"{file or name}.toml"
    path.write_text(
        f'name = "{name}"\nmode = "replay"\nstorage = "sqlite:///{root}/{file or name}.db"\n'
        f'dataset = "iris"\nspace = "{tables["space_file"]}"\nfolds = 3\n'
        f'tables = ["{tables["storage"]}#{table}"]\nprocesses = 1\n' + body
    )
    return path


def _table_rows(tables: dict, name: str = "grid") -> dict[tuple, optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=tables["storage"])
    return {tuple(sorted(t.params.items())): t for t in study.trials}


def _stored(storage: str) -> dict[str, list]:
    """Every study's trials as (number, state, params, values), by study name."""
    return {
        name: [
            (t.number, t.state.name, t.params, t.values)
            for t in optuna.load_study(study_name=name, storage=storage).trials
        ]
        for name in sorted(optuna.get_all_study_names(storage))
    }


def _non_dominated(study: optuna.Study) -> set[int]:
    signs = np.array([1.0 if d.name == "MAXIMIZE" else -1.0 for d in study.directions])
    values = {t.number: np.asarray(t.values) * signs for t in study.trials if t.values}
    return {
        a
        for a, va in values.items()
        if not any(np.all(vb >= va) and np.any(vb > va) for b, vb in values.items() if b != a)
    }


TWO = (
    'objectives = ["f1_macro", "fit_seconds"]\nstrategies = ["nsga2", "tpe", "random"]\n'
    "seeds = [0, 1]\ntrials = 5\nworkers = 2\n"
)


@pytest.mark.slow
def test_a_two_objective_replay_stores_the_tables_values_and_rebuilds(tables, tmp_path, capsys):
    path = _write(tmp_path, "mo", tables, TWO)
    boards = tmp_path / "boards"
    assert main(["compare", str(path), "--quiet", "--leaderboards", str(boards)]) == 0
    storage = f"sqlite:///{tmp_path}/mo.db"
    rows = _table_rows(tables)
    studies = sorted(optuna.get_all_study_names(storage))
    assert len(studies) == 6
    for name in studies:
        study = optuna.load_study(study_name=name, storage=storage)
        assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
        assert study.user_attrs[ledger.OBJECTIVES] == ["f1_macro", "fit_seconds"]
        assert len(study.trials) == 5
        for trial in study.trials:
            stored = rows[tuple(sorted(trial.params.items()))]
            scores = stored.user_attrs[ledger.FOLD_SCORES]["f1_macro"]
            # the table's metric and the fit seconds it stores for the configuration
            assert trial.values == [
                float(np.mean(scores)),
                float(np.sum(stored.user_attrs[ledger.FIT_SECONDS])),
            ]
            assert trial.values[0] == stored.value
        assert sorted(study.user_attrs[ledger.PARETO_FRONT]) == sorted(_non_dominated(study))
    # the leaderboard of a two-objective comparison: hypervolume per seed, its statistics
    written = {p.name: p.read_bytes() for p in boards.iterdir()}
    board = written["mo.md"].decode()
    for section in ("## pareto", "## hypervolume", "## hv_final", "## hv_ranking"):
        assert section in board
    hv = pd.read_csv(boards / "mo-hypervolume.csv")
    assert sorted(zip(hv["strategy"], hv["seed"], strict=True)) == [
        (s, n) for s in ("nsga2", "random", "tpe") for n in (0, 1)
    ]
    assert hv["hypervolume"].between(0, 1).all() and (hv["complete_trials"] == 5).all()
    assert set(pd.read_csv(boards / "mo-hv_final.csv")["strategy"]) == {"nsga2", "tpe", "random"}
    # every number rebuilds from storage, byte for byte
    again = tmp_path / "again"
    assert main(["leaderboard", str(path), "--leaderboards", str(again)]) == 0
    assert {p.name: p.read_bytes() for p in again.iterdir()} == written
    # the same seeds replay to the same stored values
    run_replay(load_comparison(_write(tmp_path, "mo", tables, TWO, file="twin")))
    assert _stored(f"sqlite:///{tmp_path}/twin.db") == _stored(storage)
    capsys.readouterr()


def test_n_params_replays_from_a_table_whose_trials_stored_it(tables):
    objectives = ("f1_macro", "fit_seconds", "n_params")
    table = iris_table(tables, "grid-np")
    assert table.costs == {"fit_seconds", "predict_seconds", "n_params"}
    spec = ReplaySpec(
        name="np",
        strategy="nsga2",
        space=tables["space"],
        task=table,
        seed=0,
        n_trials=6,
        objectives=objectives,
    )
    study = simulate(spec).study
    rows = _table_rows(tables, "grid-np")
    for trial in study.trials:
        stored = rows[tuple(sorted(trial.params.items()))]
        assert trial.values == stored.values  # the table's own three objective values
        assert trial.user_attrs[ledger.N_PARAMS] == stored.user_attrs[ledger.N_PARAMS]


# --- refusals: one line, exit 2, nothing written ---------------------------------------------


def _refused(path: Path, tmp_path: Path, tables: dict, capsys) -> str:
    table_db = Path(tables["storage"].removeprefix("sqlite:///"))
    before, files = table_db.read_bytes(), set(tmp_path.rglob("*"))
    code = main(["compare", str(path), "--quiet", "--leaderboards", str(tmp_path / "boards")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert set(tmp_path.rglob("*")) == files and table_db.read_bytes() == before
    return err[0]


@pytest.mark.parametrize("strategy", SINGLE)
def test_a_strategy_of_one_objective_is_refused_as_in_a_live_comparison(
    tables, tmp_path, capsys, strategy
):
    body = TWO.replace('["nsga2", "tpe", "random"]', f'["random", "{strategy}"]')
    line = _refused(_write(tmp_path, "bad", tables, body), tmp_path, tables, capsys)
    with pytest.raises(StrategyError) as live:
        check_multi_objective(("f1_macro", "fit_seconds"), get_strategy(strategy))
    assert line.endswith(f"bad.toml: {live.value}")
    # a live two-objective comparison of the same strategies says the same
    trained = tmp_path / "live" / "bad.toml"
    trained.parent.mkdir()
    trained.write_text(
        f'name = "bad"\ndataset = "iris"\nspace = "{tables["space_file"]}"\nfolds = 3\n' + body
    )
    with pytest.raises(ConfigError) as refused:
        load_comparison(trained)
    assert str(refused.value).endswith(f"bad.toml: {live.value}")


def test_an_analytic_task_keeps_one_objective(tmp_path, capsys, tables):
    path = tmp_path / "bra.toml"
    path.write_text(
        f'name = "bra"\nmode = "replay"\nstorage = "sqlite:///{tmp_path}/bra.db"\n'
        'task = "branin"\nobjectives = ["f1_macro", "fit_seconds"]\nstrategies = ["random"]\n'
        "seeds = [0]\ntrials = 4\n"
    )
    line = _refused(path, tmp_path, tables, capsys)
    assert "the analytic task 'branin' has one objective, its function's value" in line
    assert "remove objectives" in line
    # and the replay of a function, built directly, says the same
    from harness.data.analytic import get_task

    task = get_task("branin")
    space = load_space(ANALYTIC_SPACES / f"{task.space}.toml", allowed_names=None)
    with pytest.raises(ConfigError, match="the analytic task 'branin' has one objective"):
        ReplaySpec(
            name="b",
            strategy="random",
            space=space,
            task=FunctionTask(task),
            objectives=("neg_value", "fit_seconds"),
        )


def _copy_of_grid(tables: dict, name: str, edit: Callable[[list[dict | None]], None]) -> None:
    """Once a session: a copy ``name`` of the f1_macro grid whose trials' user attributes
    (with a repeat of the first trial appended) ``edit`` changes in place first."""
    if name not in optuna.get_all_study_names(tables["storage"]):
        copy_of_table(tables, name, repeat_first=True, edit=edit)


def _doctored(tables: dict, name: str, drop: str) -> None:
    """A copy of the f1_macro grid whose last trial lost its stored ``drop`` seconds."""

    def edit(attrs: list[dict | None]) -> None:
        attrs[-2].pop(drop)
        attrs[-1] = None  # no repeat

    _copy_of_grid(tables, name, edit)


# A trial without fit seconds has no usable folds (numpy warns computing the table's optimum).
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
@pytest.mark.parametrize(
    ("objectives", "table", "message"),
    [
        (
            '["f1_macro", "n_params"]',
            "grid",
            "objective 'n_params': table '{ref}' does not store it for every trial (it stores "
            "fit_seconds, predict_seconds); drop 'n_params' from objectives, or name a table",
        ),
        (
            '["f1_macro", "fit_seconds"]',
            "grid-nofit",
            "objective 'fit_seconds': table '{ref}' does not store it for every trial (it "
            "stores predict_seconds); drop 'fit_seconds' from objectives",
        ),
    ],
)
def test_a_cost_the_table_does_not_store_is_refused(
    tables, tmp_path, capsys, objectives, table, message
):
    _doctored(tables, "grid-nofit", ledger.FIT_SECONDS)
    body = f'objectives = {objectives}\nstrategies = ["random"]\nseeds = [0]\ntrials = 3\n'
    line = _refused(_write(tmp_path, "bad", tables, body, table), tmp_path, tables, capsys)
    assert message.format(ref=f"{tables['storage']}#{table}") in line


def test_a_stored_replay_of_other_objectives_is_refused(tables, tmp_path):
    one = 'strategies = ["random"]\nseeds = [0]\ntrials = 3\n'
    two = 'objectives = ["f1_macro", "fit_seconds"]\n' + one
    run_replay(load_comparison(_write(tmp_path, "same", tables, one)))
    db = tmp_path / "same.db"
    alone = optuna.load_study(study_name="same-random-s0", storage=f"sqlite:///{db}")
    assert ledger.OBJECTIVES not in alone.user_attrs and len(alone.directions) == 1
    before = db.read_bytes()
    with pytest.raises(ConfigError, match="other settings"):
        run_replay(load_comparison(_write(tmp_path, "same", tables, two)))
    other = tmp_path / "other"
    other.mkdir()
    run_replay(load_comparison(_write(other, "same", tables, two)))
    with pytest.raises(ConfigError, match="other settings"):
        run_replay(load_comparison(_write(other, "same", tables, one)))
    assert db.read_bytes() == before


def test_a_repeat_in_a_table_does_not_replace_the_trial_that_trained(tables):
    """A table's repeated configuration trained nothing (zero seconds): its costs are the
    first trial's."""
    source = optuna.load_study(study_name="grid", storage=tables["storage"])

    def edit(attrs: list[dict | None]) -> None:  # the repeat, last, trained nothing
        attrs[-1].update({ledger.DUPLICATE_OF: 0, ledger.FIT_SECONDS: [0.0, 0.0, 0.0]})

    _copy_of_grid(tables, "grid-repeat", edit)
    table = iris_table(tables, "grid-repeat")
    config = source.trials[0].user_attrs[ledger.CONFIG]
    lookup = table.lookup(config, tables["space"], np.random.default_rng(0))
    assert lookup.source == "grid-repeat#0"
    assert [f.fit_seconds for f in lookup.folds] == source.trials[0].user_attrs[ledger.FIT_SECONDS]
