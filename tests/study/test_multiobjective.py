"""Several objectives (issue 24.1): a metric against costs, the Pareto front, hypervolume.

What is checked: the objectives a run accepts and refuses; every strategy that
searches several objectives runs a two-objective study whose stored front is
exactly the non-dominated set, with the exact budget and a working resume; every
other strategy (and a batch, a pruner) refuses with one line and writes nothing;
the hypervolume on hand-checked fronts; a small two-objective comparison gives a
hypervolume per seed and the statistics tables.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import FIXTURES, run_in

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.errors import ConfigError, StrategyError
from harness.results import pareto
from harness.results.leaderboard import pareto_figures, pareto_tables
from harness.search.space import load_space
from harness.search.strategies import STRATEGIES
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.loop import StudySpec, run_study
from harness.study.objectives import (
    best_trial,
    check_multi_objective,
    directions,
    objective_values,
    pareto_front,
    parse_objectives,
)

TINY = FIXTURES / "tiny.toml"
MULTI = [name for name, s in STRATEGIES.items() if s.multi_objective]
SINGLE = [name for name, s in STRATEGIES.items() if not s.multi_objective]
#: iris: 4 inputs, 3 classes; tiny.toml: one hidden layer of 8 units.
TINY_IRIS_WEIGHTS = 4 * 8 + 8 + 8 * 3 + 3


def make_spec(tmp_path: Path, **overrides) -> StudySpec:
    settings = {
        "name": "iris-tiny-mo",
        "storage": f"sqlite:///{tmp_path / 'studies.db'}",
        "strategy": "random",
        "dataset": load_dataset("iris"),
        "space": load_space(TINY),
        "seed": 0,
        "n_folds": 3,
        "n_trials": 5,
        "objectives": ("f1_macro", "fit_seconds"),
    }
    settings.update(overrides)
    return StudySpec(**settings)


def non_dominated(study: optuna.Study) -> set[int]:
    """The front by brute force (the test's own dominance, independent of Optuna's)."""
    signs = np.array(
        [1.0 if d == optuna.study.StudyDirection.MAXIMIZE else -1.0 for d in study.directions]
    )
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    values = {t.number: np.asarray(t.values) * signs for t in complete}
    return {
        a
        for a, va in values.items()
        if not any(np.all(vb >= va) and np.any(vb > va) for b, vb in values.items() if b != a)
    }


# --- objectives: parsing, directions, values -------------------------------------------------


def test_objectives_are_a_metric_then_costs_with_fixed_directions():
    assert parse_objectives("f1_macro, fit_seconds,n_params", "classification") == (
        "f1_macro",
        "fit_seconds",
        "n_params",
    )
    assert directions(("f1_macro", "fit_seconds", "predict_seconds", "n_params")) == [
        "maximize",
        "minimize",
        "minimize",
        "minimize",
    ]
    assert directions(("log_loss", "fit_seconds")) == ["minimize", "minimize"]
    values = objective_values(
        ("accuracy", "fit_seconds", "predict_seconds", "n_params"),
        {"accuracy": [0.5, 1.0]},
        [1.0, 2.0],
        [0.25, 0.25],
        67,
    )
    assert values == [0.75, 3.0, 0.5, 67.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fit_seconds,f1_macro", "the first objective must be a metric"),
        ("f1_macro,accuracy", "objectives after the first must be costs"),
        ("f1_macro,fit_seconds,fit_seconds", "given twice"),
        ("f1_macro,,fit_seconds", "name no objective"),
        ("neg_rmse,fit_seconds", "scores regression"),
        ("speed,fit_seconds", "unknown metric 'speed'"),
    ],
)
def test_bad_objectives_name_the_problem(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_objectives(text, "classification")


def test_n_params_is_refused_for_a_family_it_is_not_counted_for():
    with pytest.raises(ConfigError, match="n_params is counted for the mlp family's network"):
        check_multi_objective(("f1_macro", "n_params"), STRATEGIES["random"], family="cnn")
    check_multi_objective(("f1_macro", "fit_seconds"), STRATEGIES["random"], family="cnn")


# --- hypervolume -----------------------------------------------------------------------------


def test_hypervolume_of_a_hand_checked_front():
    # Strips left to right: 0.3 x 0.4 + 0.3 x 0.7 + 0.2 x 0.9 = 0.12 + 0.21 + 0.18.
    front = np.array([[0.2, 0.6], [0.5, 0.3], [0.8, 0.1]])
    assert pareto.hypervolume(front, [1.0, 1.0]) == pytest.approx(0.51)
    # A dominated point and a point on the reference's boundary add nothing.
    more = np.vstack([front, [[0.6, 0.7], [1.0, 0.0]]])
    assert pareto.hypervolume(more, [1.0, 1.0]) == pytest.approx(0.51)
    assert pareto.hypervolume(np.array([[0.5, 0.5, 0.5]]), [1.0, 1.0, 1.0]) == pytest.approx(0.125)
    assert pareto.hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0


def _frame(rows):
    frame = pd.DataFrame(
        rows,
        columns=[
            "study",
            "strategy",
            "seed",
            "number",
            "objective_f1_macro",
            "objective_fit_seconds",
        ],
    )
    return frame.assign(state="COMPLETE", trial=frame["number"] + 1, pareto=True)


def test_hypervolume_is_on_the_comparisons_scale_with_the_worst_value_as_reference():
    frame = _frame(
        [
            ("a", "random", 0, 0, 0.9, 4.0),  # best f1, slowest: on the worst fit_seconds -> adds 0
            ("a", "random", 0, 1, 0.5, 1.0),  # worst f1 -> adds 0
            ("b", "tpe", 0, 0, 0.8, 2.0),  # normalised (0.25, 1/3): dominates 0.75 x 2/3 = 0.5
        ]
    )
    points, scale = pareto.normalised(frame, ("f1_macro", "fit_seconds"))
    assert scale.to_dict("list") == {
        "objective": ["f1_macro", "fit_seconds"],
        "direction": ["maximize", "minimize"],
        "best": [0.9, 1.0],
        "worst": [0.5, 4.0],
    }
    np.testing.assert_allclose(points[["f1_macro", "fit_seconds"]], [[0, 1], [1, 0], [0.25, 1 / 3]])
    table = pareto.hypervolume_table(frame, ("f1_macro", "fit_seconds"))
    assert table["hypervolume"].tolist() == pytest.approx([0.0, 0.5])
    # A budget of one trial keeps only each study's first trial (and the scale follows it).
    first = pareto.hypervolume_table(frame, ("f1_macro", "fit_seconds"), budget=1)
    assert first["complete_trials"].tolist() == [1, 1]


def test_the_pooled_front_is_the_non_dominated_trials_of_all_studies():
    frame = _frame(
        [
            ("a", "random", 0, 0, 0.9, 4.0),
            ("a", "random", 0, 1, 0.7, 3.0),  # beaten by b#0 on both
            ("b", "tpe", 0, 0, 0.8, 2.0),
            ("b", "tpe", 0, 1, 0.8, 2.0),  # equal to b#0: both kept, neither beats the other
        ]
    )
    front = pareto.front_table(frame, ("f1_macro", "fit_seconds"), pooled=True)
    assert list(zip(front["strategy"], front["number"], strict=True)) == [
        ("random", 0),
        ("tpe", 0),
        ("tpe", 1),
    ]


# --- studies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", MULTI)
def test_every_supporting_strategy_runs_two_objectives_with_the_exact_front(tmp_path, strategy):
    study = run_study(make_spec(tmp_path, strategy=strategy, n_trials=5))
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == (4 if strategy == "grid" else 5)  # the grid has 4 points
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.user_attrs[ledger.OBJECTIVES] == ["f1_macro", "fit_seconds"]
    front = {t.number for t in pareto_front(study)}
    assert front == non_dominated(study) == set(study.user_attrs[ledger.PARETO_FRONT])
    for trial in trials:
        if trial.state == optuna.trial.TrialState.COMPLETE:
            folds = trial.user_attrs[ledger.FOLD_SCORES]["f1_macro"]
            assert trial.values[0] == pytest.approx(np.mean(folds))
            assert trial.values[1] == pytest.approx(sum(trial.user_attrs[ledger.FIT_SECONDS]))
    best = best_trial(study)
    assert best.number in front and best.values[0] == max(t.values[0] for t in pareto_front(study))


def test_n_params_is_counted_from_the_configuration_and_resume_keeps_the_budget(tmp_path):
    spec = make_spec(tmp_path, strategy="nsga2", n_trials=4, objectives=("f1_macro", "n_params"))
    study = run_study(spec)
    assert len(study.trials) == 4
    for trial in study.trials:
        assert trial.user_attrs[ledger.N_PARAMS] == TINY_IRIS_WEIGHTS == trial.values[1]
    # Every trial has the same network: the front is the trials with the best F1.
    best = max(t.values[0] for t in study.trials)
    assert {t.number for t in pareto_front(study)} == {
        t.number for t in study.trials if t.values[0] == best
    }
    resumed = run_study(
        make_spec(tmp_path, strategy="nsga2", n_trials=6, objectives=("f1_macro", "n_params"))
    )
    assert len(resumed.trials) == 6
    assert [t.number for t in resumed.trials[:4]] == [0, 1, 2, 3]
    assert set(resumed.user_attrs[ledger.PARETO_FRONT]) == non_dominated(resumed)
    rows = ledger.trial_rows(resumed)
    assert [r["pareto"] for r in rows] == [r["number"] in non_dominated(resumed) for r in rows]
    assert all(r["objective_n_params"] == TINY_IRIS_WEIGHTS for r in rows)


def test_nsga2_with_one_objective_is_a_plain_study(tmp_path):
    study = run_study(make_spec(tmp_path, strategy="nsga2", n_trials=3, objectives=()))
    assert len(study.directions) == 1 and ledger.OBJECTIVES not in study.user_attrs
    assert best_trial(study).number == study.best_trial.number


def test_resuming_with_other_objectives_is_refused(tmp_path):
    run_study(make_spec(tmp_path, n_trials=2))
    for objectives in ((), ("f1_macro", "predict_seconds")):
        with pytest.raises(ConfigError, match="objectives: stored"):
            run_study(make_spec(tmp_path, n_trials=2, objectives=objectives))


@pytest.mark.parametrize("strategy", SINGLE)
def test_a_strategy_of_one_objective_is_refused_before_anything_is_stored(tmp_path, strategy):
    with pytest.raises(StrategyError, match=f"strategy '{strategy}' cannot search 2 objectives"):
        make_spec(tmp_path, strategy=strategy)
    assert not (tmp_path / "studies.db").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch": 2}, "--batch 2 does not run with several objectives"),
        ({"pruner": "median"}, "Optuna cannot prune a multi-objective study"),
        ({"metric": "accuracy"}, "is not the metric"),
    ],
)
def test_batch_pruning_and_a_second_metric_are_refused(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_spec(tmp_path, **overrides)


# --- the command line: refusals write nothing (tests/commands/test_hostile_inputs.py's style) ---


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _run(tmp_path: Path, *options: str) -> int:
    return run_in(
        tmp_path / "out",
        *("--dataset", "iris", "--space", str(TINY), "--trials", "2", "--folds", "2", *options),
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        *(
            (
                ("--strategy", name, "--objectives", "f1_macro,fit_seconds"),
                f"strategy '{name}' cannot search 2 objectives: use one of",
            )
            for name in SINGLE
        ),
        (("--objectives", "f1_macro,fit_seconds", "--batch", "2"), "leave --batch at 1"),
        (("--objectives", "f1_macro,fit_seconds", "--pruner", "median"), "use --pruner none"),
        (("--objectives", "f1_macro,accuracy"), "choose from fit_seconds, predict_seconds"),
        (("--objectives", "fit_seconds"), "the first objective must be a metric"),
        (("--objectives", "f1_macro,fit_seconds", "--metric", "accuracy"), "name two metrics"),
        (("--objectives", ""), "name no objective"),
    ],
)
def test_run_refuses_what_cannot_search_several_objectives(tmp_path, capsys, options, message):
    before = _files(tmp_path)
    code = _run(tmp_path, *options)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert message in err
    assert _files(tmp_path) == before


def test_strategies_lists_which_search_several_objectives(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "objectives" in out.splitlines()[0]
    line = next(row for row in out.splitlines() if row.startswith("nsga2 "))
    assert "several" in line and "NSGA-II" in line


@pytest.mark.slow
def test_run_prints_and_stores_the_front_and_its_leaderboard(tmp_path, capsys):
    code = _run(
        tmp_path,
        "--strategy",
        "nsga2",
        "--trials",
        "5",
        "--folds",
        "3",
        "--objectives",
        "f1_macro,fit_seconds,n_params",
    )
    out = capsys.readouterr().out
    assert code == 0
    study = optuna.load_study(
        study_name="iris-tiny-nsga2-s0", storage=f"sqlite:///{tmp_path / 'out' / 'h.db'}"
    )
    front = sorted(study.user_attrs[ledger.PARETO_FRONT])
    assert front == sorted(non_dominated(study))
    assert f"Pareto front (f1_macro max, fit_seconds min, n_params min): {len(front)} of 5" in out
    settings = ledger.run_settings(study)
    assert settings["objectives"] == ["f1_macro", "fit_seconds", "n_params"]
    refitted = study.user_attrs[ledger.HOLDOUT_TRIAL]
    assert refitted == best_trial(study).number and refitted in front
    boards = tmp_path / "out" / "boards"
    table = pd.read_csv(boards / "iris-tiny-nsga2-s0-pareto_front.csv")
    assert sorted(table["number"]) == front
    assert (boards / "iris-tiny-nsga2-s0-pareto_front.png").stat().st_size > 0
    assert "## pareto_front" in (boards / "iris-tiny-nsga2-s0.md").read_text()
    # A worker on another host rebuilds the spec with its objectives (the stored identity
    # would refuse one without them) and stops at the used budget.
    storage = f"sqlite:///{tmp_path / 'out' / 'h.db'}"
    assert main(["worker", "--storage", storage, "--study", study.study_name, "--quiet"]) == 0
    assert "budget 5; study now has 5 complete" in capsys.readouterr().out


# --- comparisons -----------------------------------------------------------------------------


def _comparison(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mo.toml"
    path.write_text(
        'name = "mo"\ndataset = "iris"\nspace = "tiny.toml"\nseeds = [0, 1, 2]\ntrials = 3\n'
        'folds = 3\nobjectives = ["f1_macro", "fit_seconds"]\n' + text
    )
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('strategies = ["random", "cmaes"]\n', "strategy 'cmaes' cannot search 2 objectives"),
        ('strategies = ["random"]\nmetric = "accuracy"\n', "is not the first objective"),
        ('strategies = ["random"]\nbatch = 2\n', "leave --batch at 1"),
        ('strategies = ["random"]\npruner = "median"\n', "use --pruner none"),
        (
            'strategies = ["random", "skopt"]\nmode = "replay"\ntables = ["sqlite:///t.db#g"]\n',
            "strategy 'skopt' cannot search 2 objectives",
        ),
    ],
)
def test_a_comparison_of_several_objectives_refuses_what_cannot_run(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_comparison(_comparison(tmp_path, text))


def test_a_two_objective_comparison_has_a_hypervolume_per_seed_and_its_statistics(tmp_path):
    comparison = load_comparison(_comparison(tmp_path, 'strategies = ["random", "nsga2"]\n'))
    assert comparison.objectives == ("f1_macro", "fit_seconds")
    assert comparison.metric == "f1_macro"
    studies = [
        run_study(
            make_spec(
                tmp_path,
                name=comparison.study_name(strategy, seed),
                strategy=strategy,
                seed=seed,
                task_seed=0,
                n_trials=3,
            )
        )
        for strategy, seed in comparison.matrix()
    ]
    frame = ledger.trials_frame(studies)
    tables = pareto_tables(frame, comparison.objectives, budget=comparison.trials)
    hv = tables["hypervolume"]
    assert len(hv) == 6 and hv[["strategy", "seed"]].values.tolist() == [
        [s, n] for s in ("nsga2", "random") for n in (0, 1, 2)
    ]
    assert hv["hypervolume"].between(0, 1).all()
    # Each study's hypervolume is that of its own front, on the comparison's scale.
    points, _ = pareto.normalised(frame, comparison.objectives)
    for row in hv.itertuples():
        mine = points[points["study"] == row.study][list(comparison.objectives)].to_numpy()
        assert row.hypervolume == pytest.approx(pareto.hypervolume(mine, [1.0, 1.0]))
    final = tables["hv_final"]
    assert set(final["strategy"]) == {"random", "nsga2"} and (final["seeds"] == 3).all()
    assert {"mean_hv", "interval", "iqm_hv", "holm_p"} <= set(final.columns)
    assert set(tables["hv_ranking"]["strategy"]) == {"random", "nsga2"}
    assert len(tables["hv_pairwise"]) == 1 and len(tables["hv_power"]) == 1
    assert set(tables["pareto"]["number"]) <= set(frame["number"])
    assert set(pareto_figures(frame, comparison.objectives)) == {"pareto", "hv_ranking"}


@pytest.mark.slow
def test_compare_and_leaderboard_of_two_objectives_rebuild_identically(tmp_path, monkeypatch):
    shutil.copy(TINY, tmp_path / "tiny.toml")
    _comparison(tmp_path, 'strategies = ["random", "nsga2"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "mo.toml", "--quiet"]) == 0
    board = tmp_path / "leaderboards" / "mo.md"
    written = board.read_text()
    for section in ("## pareto", "## hypervolume", "## hv_final", "## hv_ranking"):
        assert section in written
    figure = (tmp_path / "leaderboards" / "mo-pareto.png").read_bytes()
    board.unlink()
    assert main(["leaderboard", "mo.toml"]) == 0
    assert board.read_text() == written
    assert (tmp_path / "leaderboards" / "mo-pareto.png").read_bytes() == figure


def test_a_repeated_configuration_keeps_the_costs_of_the_trial_that_trained_it(tmp_path):
    # Two grid points only: random search repeats them, and a repeat trains nothing.
    space = tmp_path / "two.toml"
    space.write_text(
        TINY.read_text()
        .replace(
            "low = 1e-3\nhigh = 1e-1\nlog = true\ngrid = [1e-2, 1e-1]",
            'type = "categorical"\nchoices = [0.01]',
        )
        .replace('[params.lr]\ntype = "float"\n', "[params.lr]\n")
    )
    study = run_study(make_spec(tmp_path, space=load_space(space), n_trials=6))
    repeats = [t for t in study.trials if ledger.DUPLICATE_OF in t.user_attrs]
    assert repeats
    for trial in repeats:
        earlier = study.trials[trial.user_attrs[ledger.DUPLICATE_OF]]
        assert trial.values == earlier.values and trial.values[1] > 0
        assert sum(trial.user_attrs[ledger.FIT_SECONDS]) == 0  # nothing was trained
