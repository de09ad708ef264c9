"""Model families: a space names one, its parameters are checked against it, and a stored
configuration alone rebuilds the family's pipeline (search, baseline, held-out refit)."""

from __future__ import annotations

import optuna
import pytest
from helpers import study_spec
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from harness.data.datasets import load_dataset
from harness.data.preprocessing import build_preprocessor, holdout_split
from harness.data.splits import make_folds
from harness.errors import ConfigError, SpaceError
from harness.model import families
from harness.model.families import FAMILY, Family, family_of, get_family
from harness.model.pipeline import build_pipeline
from harness.search.space import parse_space
from harness.study import ledger
from harness.study.evaluation import chosen_trainer, evaluate_config
from harness.study.holdout import BASELINE, TUNED, refit_best
from harness.study.loop import baseline_cv, run_study


def logreg_pipeline(config, dataset, y_fit, random_state=0) -> Pipeline:
    """A test family without torch and without skorch callbacks."""
    model = LogisticRegression(C=config.get("C", 1.0), max_iter=500)
    return Pipeline([("preprocess", build_preprocessor(dataset)), ("model", model)])


LOGREG = Family(
    name="logreg",
    description="logistic regression (test family)",
    task="classification",
    estimator="sklearn.linear_model:LogisticRegression",
    pipeline="test_families:logreg_pipeline",
    param_names=("C",),
    baseline={"C": 1.0},
)

SPACE = {
    "family": "logreg",
    "params": {"C": {"type": "categorical", "choices": [0.01, 1.0, 100.0]}},
}


@pytest.fixture
def logreg(monkeypatch):
    monkeypatch.setitem(families.FAMILIES, "logreg", LOGREG)
    return LOGREG


def test_the_default_family_is_the_mlp_and_its_configurations_carry_no_family_key():
    space = parse_space({"params": {"lr": {"type": "categorical", "choices": [0.01]}}}, "s")
    assert space.family == "mlp"
    assert FAMILY not in space.configuration({"lr": 0.01})
    assert family_of({"lr": 0.01}).name == "mlp"
    assert get_family("mlp").batched


def test_an_unknown_family_names_the_file_and_the_known_families():
    with pytest.raises(
        SpaceError, match=r"f\.toml: unknown model family 'cnnn'; choose one of: mlp"
    ):
        parse_space({"family": "cnnn", **{"params": SPACE["params"]}}, "f", source="f.toml")
    with pytest.raises(ConfigError, match="unknown model family 7"):
        get_family(7)


def test_a_parameter_of_another_family_is_refused(logreg):
    text = {"family": "logreg", "params": {"lr": {"type": "float", "low": 0.1, "high": 1.0}}}
    with pytest.raises(SpaceError, match="'lr': unknown name; use a parameter of the 'logreg'"):
        parse_space(text, "f", source="f.toml")
    with pytest.raises(SpaceError, match="'C': unknown name; use a parameter of the 'mlp'"):
        parse_space({"params": SPACE["params"]}, "f", source="f.toml")


def test_a_family_configuration_builds_its_own_pipeline_and_trains_sequentially(logreg):
    space = parse_space(SPACE, "logreg-space")
    config = space.configuration({"C": 100.0})
    assert config == {FAMILY: "logreg", "C": 100.0}
    iris = load_dataset("iris")
    model = build_pipeline(config, iris, iris.y.to_numpy())
    assert isinstance(model[-1], LogisticRegression) and model[-1].C == 100.0
    assert chosen_trainer(config, fold_callbacks=False) == "sequential"
    with pytest.raises(ConfigError, match="batched trainer trains MLPs only"):
        chosen_trainer(config, fold_callbacks=False, trainer="batched")
    folds = make_folds(iris.y, 3, seed=0)
    evaluation = evaluate_config(config, iris, folds)
    assert evaluation.trainer == "sequential" and len(evaluation.folds) == 3
    assert 0.8 < evaluation.mean("accuracy") <= 1.0
    with pytest.raises(ConfigError, match="no epochs to prune on"):
        evaluate_config(config, iris, folds, fold_callbacks=lambda index: [object()])


def test_a_study_of_a_family_stores_its_configurations_baseline_and_refit(logreg, tmp_path):
    train, test = holdout_split(load_dataset("iris"), 0.2, 0)
    space = parse_space(SPACE, "logreg-space")
    spec = study_spec(tmp_path, name="logreg-grid", strategy="grid", dataset=train, space=space)
    study = run_study(spec)
    configs = [ledger.stored_config(t) for t in study.trials]
    assert sorted(c["C"] for c in configs) == [0.01, 1.0, 100.0]
    assert all(c[FAMILY] == "logreg" for c in configs)
    # The baseline in CV is the family's own baseline on the same folds.
    expected = evaluate_config({FAMILY: "logreg", "C": 1.0}, train, make_folds(train.y, 3, 0))
    assert baseline_cv(spec)["accuracy"] == pytest.approx(expected.fold_scores()["accuracy"])
    refit = refit_best(study, train, test, 0, importance=False)
    assert isinstance(refit.tuned[-1], LogisticRegression)
    assert isinstance(refit.baseline_model[-1], LogisticRegression)
    assert refit.baseline_model[-1].C == 1.0
    assert set(refit.results) >= {TUNED, BASELINE}
    stored = optuna.load_study(study_name="logreg-grid", storage=spec.storage)
    assert stored.user_attrs[ledger.HOLDOUT_TRIAL] == study.best_trial.number
    assert 0.8 < refit.results[TUNED]["scores"]["accuracy"] <= 1.0
