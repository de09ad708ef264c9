"""Configurations to pipelines, folds, and cross-validating one configuration."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.combine import SMOTEENN
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE

from harness.data.datasets import load_dataset
from harness.data.splits import make_folds
from harness.errors import ConfigError, DataError
from harness.model.pipeline import adasyn_target, build_pipeline, estimator_params
from harness.model.vocabulary import BASELINE_CONFIG, IMBALANCE_STRATEGIES
from harness.study.evaluation import evaluate_config
from harness.study.metrics import task_metrics

Y = np.array([0] * 40 + [1] * 7)


@pytest.mark.parametrize(
    ("imbalance", "expected"),
    [
        ("none", {}),
        ("class_weight", {"class_weight": "balanced"}),
        ("focal", {"loss": "focal"}),
    ],
)
def test_loss_based_imbalance_strategies_set_estimator_parameters(imbalance, expected):
    params = estimator_params({"imbalance": imbalance, "lr": 0.01}, Y, random_state=3)
    assert params == {"lr": 0.01, "random_state": 3, **expected}


@pytest.mark.parametrize(
    ("imbalance", "sampler"),
    [
        ("smote", SMOTE),
        ("adasyn", ADASYN),
        ("borderline_smote", BorderlineSMOTE),
        ("smote_enn", SMOTEENN),
    ],
)
def test_resampling_strategies_become_the_estimators_resampler(imbalance, sampler):
    resampler = estimator_params({"imbalance": imbalance}, Y, random_state=0)["resampler"]
    assert isinstance(resampler, sampler)


def test_smote_neighbours_shrink_to_the_rarest_class_the_resampler_sees():
    # 7 rows of class 1; early stopping keeps 10% back: floor(6.3) = 6 rows -> 5 neighbours.
    smote = estimator_params({"imbalance": "smote", "early_stopping": True}, Y, 0)["resampler"]
    assert smote.k_neighbors == 5
    few = np.array([0] * 40 + [1] * 3)
    assert estimator_params({"imbalance": "smote"}, few, 0)["resampler"].k_neighbors == 2


def test_a_class_too_small_for_smote_names_the_class_and_the_fix():
    with pytest.raises(DataError, match=r"class 1 has only 1 training row.*class_weight"):
        estimator_params({"imbalance": "smote"}, np.array([0] * 10 + [1]), 0)


def test_an_unknown_imbalance_strategy_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=", ".join(IMBALANCE_STRATEGIES)):
        estimator_params({"imbalance": "undersample"}, Y, 0)


def test_the_pipeline_one_hot_encodes_teleconnect_regions_and_learns(data_dir):
    tele = load_dataset("teleconnect", data_dir=data_dir)
    y = tele.y.to_numpy()
    model = build_pipeline({**BASELINE_CONFIG, "max_epochs": 20}, tele, y, random_state=0)
    model.fit(tele.X, y)
    encoded = model.named_steps["preprocess"].transform(tele.X.head())
    assert encoded.shape[1] == tele.n_features - 1 + 3  # region: three one-hot columns
    assert model.score(tele.X, y) > 0.4  # four balanced classes: chance is 0.28


def test_folds_depend_on_the_labels_and_seed_only():
    y = load_dataset("iris").y
    first, again = make_folds(y, 5, seed=1), make_folds(y, 5, seed=1)
    assert all((a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
    other = make_folds(y, 5, seed=2)
    assert any((a[1] != b[1]).any() for a, b in zip(first, other, strict=True))
    assert sorted(np.concatenate([test for _, test in first])) == list(range(len(y)))


def test_too_many_folds_for_a_class_is_a_data_error():
    with pytest.raises(DataError, match="fold"):
        make_folds(np.array([0] * 10 + [1] * 3), 5, seed=0)


def test_evaluate_config_scores_every_metric_on_every_fold():
    iris = load_dataset("iris")
    folds = make_folds(iris.y, 3, seed=0)
    config = {"hidden_layer_sizes": (16,), "max_epochs": 30, "imbalance": "smote"}
    evaluation = evaluate_config(config, iris, folds, random_state=0)
    scores = evaluation.fold_scores()
    assert set(scores) == set(task_metrics("classification"))
    assert all(len(v) == 3 for v in scores.values())
    assert evaluation.mean("accuracy") > 0.7


def test_adasyn_on_teleconnects_nearly_balanced_classes_generates_rows(data_dir):
    # Issue 13: every adasyn trial used to fail with "No samples will be generated ...";
    # issue 20: then it trained without resampling and was credited as ADASYN.
    dataset = load_dataset("teleconnect", data_dir)
    config = {**BASELINE_CONFIG, "imbalance": "adasyn", "max_epochs": 2}
    model = build_pipeline(config, dataset, dataset.y.to_numpy(), random_state=0)
    model.fit(dataset.X, dataset.y)
    assert model[-1].resampling_ == "applied: ADASYN"
    X = model[0].transform(dataset.X)
    _, labels = model[-1].resampler.fit_resample(X, dataset.y.to_numpy())
    assert len(labels) > len(dataset.y)


def test_adasyn_target_balances_small_classes_and_grows_nearly_balanced_ones():
    # Imbalanced: class 2 (under two thirds of the largest) balances to 100; class 1, close to
    # the largest, would ask for too few rows to generate any and is left as it is.
    assert adasyn_target(np.array([0] * 100 + [1] * 98 + [2] * 30)) == {2: 100}
    # Nearly balanced: every class but the largest asks for half of itself and one more.
    assert adasyn_target(np.array([0] * 100 + [1] * 98 + [2] * 90)) == {1: 148, 2: 136}


@pytest.mark.parametrize("imbalance", ["smote", "adasyn", "borderline_smote", "smote_enn"])
def test_a_resampler_refitted_on_fewer_rows_shrinks_its_neighbours(imbalance):
    # Sized for 7 rows of class 1 (5 neighbours), then fitted on rows with 4 of them (as a
    # stacking ensemble's inner folds do): 3 neighbours instead of a crash.
    from harness.model.estimator import MLPClassifier

    rng = np.random.default_rng(0)
    params = estimator_params({"imbalance": imbalance}, Y, random_state=0)
    model = MLPClassifier(max_epochs=2, hidden_layer_sizes=(4,), **params)
    X = rng.normal(size=(44, 3)).astype(np.float32)
    X[40:] += 3.0
    model.fit(X, np.array([0] * 40 + [1] * 4))
    assert model.resampling_.startswith(("applied", "skipped"))
    assert params["resampler"].get_params()  # the configured sampler itself is left unchanged
    smote = params["resampler"].smote if imbalance == "smote_enn" else params["resampler"]
    assert getattr(smote, "k_neighbors", getattr(smote, "n_neighbors", None)) == 5


def test_a_single_row_class_where_a_resampler_runs_is_a_clear_error():
    from harness.model.estimator import MLPClassifier

    params = estimator_params({"imbalance": "smote"}, Y, random_state=0)
    model = MLPClassifier(max_epochs=1, hidden_layer_sizes=(4,), **params)
    X = np.random.default_rng(0).normal(size=(41, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="class 1 has 1 training row where SMOTE resamples"):
        model.fit(X, np.array([0] * 40 + [1]))


def test_stacking_with_smote_fits_when_inner_folds_shrink_the_rarest_class():
    # wine-red's class 3 (8 training rows) left 5 in a stacking inner fold: "Expected
    # n_neighbors <= n_samples_fit, but n_neighbors = 6, n_samples_fit = 5".
    from harness.model.ensemble import NetworkTreeEnsemble
    from harness.model.estimator import MLPClassifier

    rng = np.random.default_rng(1)
    y = np.array([0] * 60 + [1] * 7)
    X = rng.normal(size=(len(y), 3)).astype(np.float32) + y[:, None] * 2.0
    network = MLPClassifier(
        max_epochs=2, hidden_layer_sizes=(4,), **estimator_params({"imbalance": "smote"}, y, 0)
    )
    model = NetworkTreeEnsemble(network, method="stacking", max_iter=5, random_state=0)
    model.fit(X, y)
    assert model.predict_proba(X).shape == (len(y), 2)
