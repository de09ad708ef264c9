"""The network with gradient-boosted trees: the estimator's contract, what voting and stacking
compute, the "ensemble" family through a study, and the ensemble rows of the held-out comparison."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import replace

import numpy as np
import optuna
import pytest
from imblearn.over_sampling import SMOTE
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.estimator_checks import check_estimator

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.data.splits import holdout_split
from harness.errors import SpaceError
from harness.model import families
from harness.model.ensemble import NetworkTreeEnsemble
from harness.model.ensemble_pipeline import STACKING, TREES, VOTING, ensemble_models
from harness.model.ensemble_vocabulary import (
    DEFAULT_TREES,
    ENSEMBLE_BASELINE,
    ENSEMBLE_DEFAULTS,
    ENSEMBLE_PARAMS,
)
from harness.model.estimator import MLPClassifier
from harness.model.families import FAMILY, get_family
from harness.model.pipeline import build_pipeline
from harness.results.generalization import holdout_table
from harness.results.leaderboard import baselines_table
from harness.search.space import load_space, parse_space
from harness.study import ledger, loop
from harness.study.holdout import BASELINE, MAJORITY, TUNED, refit_best, with_trees
from harness.study.loop import StudySpec, run_study

X, Y = load_iris(return_X_y=True)
NETWORK = MLPClassifier(max_epochs=5, random_state=0)
TREES_PARAMS = {"learning_rate": 0.1, "max_iter": 10, "max_depth": 3, "l2_regularization": 0.0}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trees() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**TREES_PARAMS, early_stopping=False, random_state=0)


def _ensemble(**params) -> NetworkTreeEnsemble:
    return NetworkTreeEnsemble(clone(NETWORK), **TREES_PARAMS, random_state=0, **params)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["voting", pytest.param("stacking", marks=pytest.mark.slow)])
def test_every_sklearn_estimator_check_passes(method):
    """No check is declared as an expected failure (stacking: about 100 fits, 20 s)."""
    tiny = NetworkTreeEnsemble(
        MLPClassifier(max_epochs=1, batch_size=64), method=method, max_iter=5, stacking_folds=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(tiny, on_fail=None, on_skip=None)
    counted = [r for r in results if r["check_name"] != "check_array_api_input"]
    assert {r["check_name"]: r["exception"] for r in counted if r["status"] != "passed"} == {}
    assert Counter(r["status"] for r in counted) == {"passed": 55}


def test_the_vocabulary_is_the_estimators_parameters_and_defaults():
    params = NetworkTreeEnsemble().get_params(deep=False)
    assert set(ENSEMBLE_PARAMS) == set(params) - {
        "network",
        "class_weight",
        "callbacks",
        "random_state",
    }
    assert {name: params[name] for name in ENSEMBLE_PARAMS} == ENSEMBLE_DEFAULTS
    baseline = get_family("ensemble").baseline_config()
    assert {k: v for k, v in baseline.items() if k != FAMILY} == ENSEMBLE_BASELINE
    assert all(ENSEMBLE_DEFAULTS[name] == value for name, value in DEFAULT_TREES.items())


def test_voting_is_the_weighted_average_and_its_ends_are_the_members_exactly():
    network = clone(NETWORK).fit(X, Y).predict_proba(X)
    trees = _trees().fit(X, Y).predict_proba(X)
    assert not np.allclose(network, trees)
    only_trees = _ensemble(weight=0.0).fit(X, Y)
    assert only_trees.network_ is None  # a member of weight 0 is not fitted
    assert np.array_equal(only_trees.predict_proba(X), trees)
    only_network = _ensemble(weight=1.0).fit(X, Y)
    assert only_network.trees_ is None
    assert np.array_equal(only_network.predict_proba(X), network)
    mixed = _ensemble(weight=0.3).fit(X, Y)
    np.testing.assert_allclose(mixed.predict_proba(X), 0.3 * network + 0.7 * trees, atol=1e-12)
    np.testing.assert_allclose(mixed.network_.predict_proba(X), network)
    assert mixed.n_iter_ == mixed.trees_.n_iter_ == TREES_PARAMS["max_iter"]


def test_stacking_learns_from_out_of_fold_probabilities():
    stacked = _ensemble(method="stacking", stacking_folds=3, meta_C=0.5).fit(X, Y)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    out_of_fold = np.hstack(
        [
            cross_val_predict(clone(model), X, Y, cv=folds, method="predict_proba")
            for model in (NETWORK, _trees())
        ]
    )
    meta = stacked.ensemble_.final_estimator_
    expected = LogisticRegression(C=0.5, max_iter=1000).fit(out_of_fold, Y)
    np.testing.assert_allclose(meta.coef_, expected.coef_, rtol=1e-4, atol=1e-6)
    # In-sample probabilities (trees nearly certain on their own rows) give another meta-model.
    in_sample = np.hstack([clone(m).fit(X, Y).predict_proba(X) for m in (NETWORK, _trees())])
    leaky = LogisticRegression(C=0.5, max_iter=1000).fit(in_sample, Y)
    assert not np.allclose(meta.coef_, leaky.coef_, rtol=0.05)
    # The members used for prediction are refitted on every row.
    np.testing.assert_allclose(stacked.trees_.predict_proba(X), _trees().fit(X, Y).predict_proba(X))


def test_nested_network_parameters_and_bad_parameters():
    model = _ensemble().set_params(network__lr=0.05, weight=0.8)
    assert model.network.lr == 0.05 and model.get_params()["network__lr"] == 0.05
    assert clone(model).network.lr == 0.05 and model.weight == 0.8
    for bad, match in [
        ({"weight": 1.5}, r"weight must be a number in \[0, 1\]; got 1.5"),
        ({"method": "bagging"}, "method must be one of"),
        ({"stacking_folds": 1}, "stacking_folds must be an integer >= 2"),
    ]:
        with pytest.raises(ValueError, match=match):
            _ensemble(**bad).fit(X, Y)


def test_the_family_pipeline_routes_network_parameters_and_imbalance():
    iris = load_dataset("iris")
    y = iris.y.to_numpy()
    config = {
        FAMILY: "ensemble",
        "weight": 0.25,
        "max_depth": 3,
        "network__lr": 0.02,
        "network__max_epochs": 4,
        "imbalance": "class_weight",
    }
    model = build_pipeline(config, iris, y, random_state=7)[-1]
    assert isinstance(model, NetworkTreeEnsemble)
    assert (model.weight, model.max_depth, model.random_state) == (0.25, 3, 7)
    assert (model.network.lr, model.network.max_epochs) == (0.02, 4)
    assert model.class_weight == "balanced" == model.network.class_weight
    smote = build_pipeline({**config, "imbalance": "smote"}, iris, y)[-1]
    assert isinstance(smote.network.resampler, SMOTE) and smote.class_weight is None
    family = get_family("ensemble")
    assert set(family.param_names) - {"imbalance"} <= set(
        NetworkTreeEnsemble(MLPClassifier()).get_params()
    )
    baseline = build_pipeline(family.baseline_config(), iris, y)[-1]
    assert baseline.network.hidden_layer_sizes == (64, 64) and baseline.method == "voting"


def test_the_teleconnect_space_is_an_ensemble_space():
    space = load_space("ensemble-teleconnect")
    assert space.family == "ensemble"
    assert {"weight", "learning_rate", "max_depth"} <= set(space.params)
    assert space.has_grid


@pytest.fixture
def cheap_baselines(monkeypatch):
    """Baselines of a few epochs (the real ones train 100), cached apart from other tests."""
    monkeypatch.setattr(loop, "_BASELINES", {})
    for name, cheap in [
        ("mlp", {"max_epochs": 5}),
        ("ensemble", {"network__max_epochs": 3, "max_iter": 10}),
    ]:
        family = families.FAMILIES[name]
        baseline = replace(family, baseline={**family.baseline, **cheap})
        monkeypatch.setitem(families.FAMILIES, name, baseline)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"fixed": {"stacking_folds": 1}}, "'stacking_folds': fixed value 1 is outside [2, inf]"),
        ({"params": {"weight": {"type": "categorical", "choices": [0.5, -1]}}}, "choice -1"),
        ({"params": {"max_depth": {"type": "int", "low": 0, "high": 3}}}, "range end 0"),
    ],
)
def test_the_family_bounds_choices_and_fixed_values_too(table, problem):
    data = {"family": "ensemble", "params": {"max_iter": {"type": "int", "low": 5, "high": 9}}}
    data = {**data, **table, "params": {**data["params"], **table.get("params", {})}}
    with pytest.raises(SpaceError, match=re.escape(problem)):
        parse_space(data, "bad", source="bad.toml")


def _iris_spec(tmp_path, space: dict, name: str) -> tuple[StudySpec, object, object]:
    train, test = holdout_split(load_dataset("iris"), 0.2, 0)
    spec = StudySpec(
        name=name,
        storage=f"sqlite:///{tmp_path / 'studies.db'}",
        strategy="random",
        dataset=train,
        space=parse_space(space, name),
        seed=0,
        n_folds=3,
        n_trials=2,
    )
    return spec, train, test


def test_an_ensemble_study_runs_end_to_end_without_the_mlp_rows(tmp_path, cheap_baselines):
    space = {
        "family": "ensemble",
        "params": {
            "weight": {"type": "float", "low": 0.0, "high": 1.0},
            "max_depth": {"type": "int", "low": 2, "high": 4},
        },
        "fixed": {"network__max_epochs": 3, "max_iter": 10},
    }
    spec, train, test = _iris_spec(tmp_path, space, "ensemble-random")
    study = run_study(spec)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 2
    assert all(ledger.stored_config(t)[FAMILY] == "ensemble" for t in complete)
    assert 0.5 < study.best_value <= 1.0
    refit = refit_best(study, train, test, 0, importance=False)
    assert isinstance(refit.tuned[-1], NetworkTreeEnsemble)
    assert isinstance(refit.baseline_model[-1], NetworkTreeEnsemble)
    assert refit.baseline_model[-1].method == "voting"
    assert not {VOTING, STACKING, TREES} & set(refit.results)  # only an MLP study gets them


def test_an_mlp_study_gets_the_ensemble_rows_with_intervals_and_paired_tests(
    tmp_path, cheap_baselines
):
    space = {"params": {"lr": {"type": "categorical", "choices": [0.01, 0.1]}}}
    space["fixed"] = {"max_epochs": 5}
    spec, train, test = _iris_spec(tmp_path, space, "mlp-random")
    study = run_study(spec)
    refit = refit_best(study, train, test, 0, importance=False)
    names = list(refit.results)
    assert names[0] == TUNED and {BASELINE, MAJORITY} <= set(names)
    assert names[-3:] == [VOTING, STACKING, TREES]
    assert set(refit.baselines).isdisjoint({VOTING, STACKING, TREES})
    stored = ledger.stored_holdout(optuna.load_study(study_name="mlp-random", storage=spec.storage))
    assert list(stored) == names
    table = holdout_table(stored, TUNED, ("accuracy", "log_loss"))
    rows = table[table["model"].isin([VOTING, STACKING, TREES])]
    assert len(rows) == 6 and rows["rows"].eq(len(test.y)).all()
    assert rows[["ci_low", "ci_high", "tuned_minus", "paired_p", "mcnemar_p"]].notna().all().all()
    references = baselines_table(ledger.holdout_frame(stored))  # the report's reference table
    assert {VOTING, STACKING, TREES} <= set(references["baseline"])
    # The rows' networks are the tuned configuration, seeded like the tuned MLP.
    config = ledger.stored_config(study.best_trial)
    voting = ensemble_models(config, train, 0)[VOTING][-1]
    assert voting.network.get_params() == refit.tuned[-1].get_params()
    assert {k: getattr(voting, k) for k in DEFAULT_TREES} == DEFAULT_TREES
    capped = with_trees(config, train, 0, reference_rows=50)
    assert list(capped) == [f"{name} (50-row subsample)" for name in (VOTING, STACKING, TREES)]
    assert all(model.subsample_rows_ == 50 for model in capped.values())


def test_a_voting_weight_outside_its_range_is_one_line_and_exit_status_2(tmp_path, capsys):
    bad = tmp_path / "bad-weight.toml"
    bad.write_text(
        'family = "ensemble"\n[params.weight]\ntype = "float"\nlow = 0.5\nhigh = 1.5\n',
        encoding="utf-8",
    )
    storage = f"sqlite:///{tmp_path / 's.db'}"
    for argv in (
        ["spaces", str(bad)],
        ["run", "--dataset", "iris", "--space", str(bad), "--trials", "2", "--storage", storage],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "parameter 'weight': range end 1.5 is outside [0, 1]" in err
        assert "keep it within [0, 1]" in err
    assert not (tmp_path / "s.db").exists()  # refused before any study was created


@pytest.mark.slow
def test_the_report_of_an_ensemble_study_draws_no_learning_curve_it_has_no_history_for(
    tmp_path, cheap_baselines
):
    # It once failed with KeyError: 'epoch': an ensemble's held-out entry has no epochs.
    from harness.cli import main

    space = {
        "family": "ensemble",
        "params": {"weight": {"type": "float", "low": 0.0, "high": 1.0}},
        "fixed": {"network__max_epochs": 3, "max_iter": 10},
    }
    spec, train, test = _iris_spec(tmp_path, space, "ensemble-report")
    refit_best(run_study(spec), train, test, 0, importance=False)
    out = tmp_path / "reports"
    code = main(
        [
            "report",
            "--study",
            "ensemble-report",
            "--storage",
            spec.storage,
            "--out",
            str(out),
            "--drawio",
            str(tmp_path / "drawio"),
        ]
    )
    assert code == 0
    figures = {path.name for path in (out / "figures").glob("*.png")}
    assert "ensemble-report-confusion.png" in figures
    assert "ensemble-report-learning-curve.png" not in figures
    text = (out / "ensemble-report.md").read_text(encoding="utf-8")
    assert "shows the held-out confusion matrices of these two fits" in text
