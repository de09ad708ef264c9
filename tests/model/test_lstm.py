"""harness.LSTMRegressor: the estimator contract, how windows use only the past, the family,
and every search strategy on a tiny LSTM space."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import study_spec
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from harness.data.datasets import Dataset
from harness.data.splits import holdout_split, make_folds
from harness.errors import DataError
from harness.model.families import FAMILY, get_family
from harness.model.lstm import LSTMRegressor
from harness.model.lstm_vocabulary import LSTM_BASELINE, LSTM_PARAMS
from harness.search.space import parse_space
from harness.search.strategies import STRATEGIES
from harness.study import ledger
from harness.study.evaluation import evaluate_config
from harness.study.guards import TrialGuard, TrialStopped
from harness.study.loop import run_study

# Windows are built from consecutive rows, so a prediction depends on the rows before it:
# that is the model, and these checks assume the opposite.
EXPECTED_FAILURES = {
    "check_methods_sample_order_invariance": "a row is predicted from the rows before it",
    "check_methods_subset_invariance": "a row is predicted from the rows before it",
    "check_regressors_train": "the check's rows are independent draws, not a series: no past "
    "window predicts the next row (and 3 epochs train little)",
}


def sine(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * np.arange(n) / 11) + 0.1 * rng.normal(size=n)


def small(**params) -> LSTMRegressor:
    return LSTMRegressor(
        **{"window": 4, "hidden_size": 8, "max_epochs": 5, "random_state": 0, **params}
    )


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_sklearn_checks_pass_except_the_declared_ones():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            LSTMRegressor(window=2, hidden_size=4, max_epochs=3, random_state=0),
            expected_failed_checks=EXPECTED_FAILURES,
            on_fail=None,
            on_skip=None,
        )
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    expected = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert failed == set()
    assert expected == set(EXPECTED_FAILURES)
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_the_family_searches_the_estimators_parameters_and_its_baseline_is_the_defaults():
    params = LSTMRegressor().get_params()
    assert set(LSTM_PARAMS) == set(params) - {"random_state", "callbacks", "device", "verbose"}
    assert {name: params[name] for name in LSTM_BASELINE} == LSTM_BASELINE
    family = get_family("lstm")
    assert family.task == "regression" and family.estimator_class() is LSTMRegressor
    assert not family.batched


def test_fit_learns_from_windows_inside_X_and_predict_returns_one_value_per_row():
    y = sine()
    X = y.reshape(-1, 1)
    model = small(window=11, hidden_size=16, lr=0.01, max_epochs=40).fit(X[:100], y[:100])
    predicted = model.predict(X[100:])
    assert predicted.shape == (20,) and np.isfinite(predicted).all()
    assert (model.context_ == X[89:100].astype(np.float32)).all()
    # the end of the training rows is the context: the same as passing it
    assert predicted == pytest.approx(model.predict(X[100:], context=X[89:100]))
    rmse = np.sqrt(np.mean((predicted - y[100:]) ** 2))
    naive = np.sqrt(np.mean((y[99:-1] - y[100:]) ** 2))
    assert rmse < naive


def test_the_first_window_targets_are_never_learnt_and_no_prediction_sees_its_own_row():
    y = sine()
    X = y.reshape(-1, 1)
    a = small().fit(X[:100], y[:100])
    # 100 rows, window 4: 96 windows, each learning the target of the row after it
    assert sum(b["train_batch_size"] for b in a.net_.history[-1, "batches"]) == 96
    # the rows from a forecast step on never change it
    future = X[100:].copy()
    future[10:] = 50.0
    assert a.predict(X[100:])[:11] == pytest.approx(a.predict(future)[:11])
    assert a.predict(X[100:])[11] != pytest.approx(a.predict(future)[11])


def test_a_window_longer_than_the_series_is_one_line():
    with pytest.raises(DataError) as error:
        small(window=30).fit(np.zeros((30, 1)), np.zeros(30))
    message = str(error.value)
    assert "\n" not in message and "window=30 is longer than the series" in message
    with pytest.raises(ValueError, match="context has 2 rows"):
        small().fit(np.zeros((10, 1)), np.arange(10.0)).predict(np.zeros((3, 1)), np.zeros((2, 1)))


def test_callbacks_are_a_parameter_the_trial_guard_stops():
    model = small(callbacks=[TrialGuard(deadline=time.monotonic() - 1)])
    with pytest.raises(TrialStopped, match="time limit"):
        model.fit(np.zeros((20, 1)), np.arange(20.0))
    assert clone(model).callbacks is not model.callbacks


def series_dataset(n: int = 60) -> Dataset:
    y = sine(n)
    frame = pd.DataFrame({"t": np.arange(n), "value": y})
    return Dataset.from_frame(frame, "value", name="sine", source="test", time_column="t")


TINY = {
    "family": "lstm",
    "params": {
        "window": {"type": "categorical", "choices": [3, 4]},
        "hidden_size": {"type": "categorical", "choices": [4, 8]},
    },
    "fixed": {"max_epochs": 2, "batch_size": 16},
}


def test_a_family_trial_is_cross_validated_forward_in_time():
    dataset = series_dataset()
    folds = make_folds(dataset, 3, 0)
    config = parse_space(TINY, "tiny").configuration({"window": 3, "hidden_size": 4})
    evaluation = evaluate_config(config, dataset, folds)
    assert evaluation.trainer == "sequential" and len(evaluation.folds) == 3
    assert set(evaluation.folds[0].scores) == {"neg_rmse", "neg_mae", "neg_mse", "r2"}
    assert all(np.isfinite(f.scores["neg_rmse"]) for f in evaluation.folds)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_runs_a_trial_on_a_tiny_lstm_space(strategy, tmp_path):
    train, _ = holdout_split(series_dataset(100), 0.2)  # 80 rows: the baseline window fits
    space = parse_space(TINY, "tiny")
    settings = {"name": f"tiny-{strategy}", "strategy": strategy, "dataset": train}
    spec = study_spec(tmp_path, **settings, space=space, metric="neg_rmse", n_trials=1)
    study = run_study(spec)
    [trial] = study.trials
    assert trial.state.name == "COMPLETE", trial.user_attrs.get(ledger.FAIL_REASON)
    assert ledger.stored_config(trial)[FAMILY] == "lstm"
    assert trial.value < 0  # the negated RMSE
    assert len(study.user_attrs[ledger.BASELINE_CV]["neg_rmse"]) == 3


def test_the_sunspots_space_fits_the_first_forward_fold():
    from harness.data.datasets import load_dataset
    from harness.search.space import load_space

    space = load_space("lstm-sunspots")
    assert space.family == "lstm" and space.grid_size == 432
    train, _ = holdout_split(load_dataset("sunspots"), 0.2)
    first_fold_rows = len(make_folds(train, 5, 0)[0][0])
    assert max(space.params["window"].choices) < first_fold_rows == 42
