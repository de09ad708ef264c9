"""Time series: validated loading, forward-chaining folds, the chronological held-out split,
scaling fitted on the past only, regression metrics, the reference forecasts and bad input
through the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import FIXTURES, run_options, single_torch_thread
from sklearn.metrics import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

from harness.cli import main
from harness.data.datasets import load_csv, load_dataset
from harness.data.splits import forward_folds, holdout_split, make_folds
from harness.errors import ConfigError, DataError
from harness.model.forecasters import LastValueForecaster, WindowedRegressor
from harness.model.pipeline import build_pipeline
from harness.study.holdout import NAIVE, regression_baselines
from harness.study.metrics import (
    METRICS,
    compute_metric,
    default_metric,
    get_metric,
    headline_metrics,
    score_regression,
    task_metrics,
)


def series_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A noisy 11-step cycle with an extra feature column, rows shuffled out of time order."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frame = pd.DataFrame(
        {
            "day": pd.date_range("2001-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "price": 10 + np.sin(2 * np.pi * t / 11) + 0.1 * rng.normal(size=n),
            "volume": rng.uniform(1, 2, size=n),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture
def series_csv(tmp_path):
    def write(frame: pd.DataFrame | None = None, name: str = "series.csv"):
        path = tmp_path / name
        (series_frame() if frame is None else frame).to_csv(path, index=False)
        return path

    return write


def one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- loading -----------------------------------------------------------------------------


def test_a_series_is_sorted_by_time_and_keeps_the_target_as_its_own_past(series_csv):
    dataset = load_csv(series_csv(), "price", time_column="day")
    assert dataset.task == "regression" and dataset.time_column == "day"
    assert dataset.time.is_monotonic_increasing and dataset.time.is_unique
    assert list(dataset.X.columns) == ["price", "volume"]
    assert (dataset.X["price"].to_numpy() == dataset.y.to_numpy()).all()
    assert dataset.time.iloc[0] == pd.Timestamp("2001-01-01")


def test_sunspots_is_registered_as_a_yearly_series():
    dataset = load_dataset("sunspots")
    assert dataset.task == "regression" and dataset.n_samples == 309
    assert dataset.time.iloc[0] == 1700 and dataset.time.iloc[-1] == 2008
    assert np.all(np.diff(dataset.time.to_numpy()) == 1)


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda f: f, ("no time column 'when'", "--time-column")),
        (lambda f: f.assign(when=["not a date"] + ["2001-01-02"] * (len(f) - 1)), ("not times",)),
        (lambda f: f.assign(when="2001-01-01"), ("repeats", "one row per time")),
        (
            lambda f: f.assign(when=f["day"], price=[np.nan, *f["price"][1:]]),
            ("missing value", "price"),
        ),
        (lambda f: f.assign(when=f["day"]).head(10), ("10 rows", "at least 20")),
        (lambda f: f.assign(when=f["day"], price="x"), ("not numeric",)),
    ],
)
def test_bad_series_files_name_the_problem_in_one_line(series_csv, change, fragments):
    frame = change(series_frame())
    if "when" in frame.columns:
        frame = frame.drop(columns="day")
    with pytest.raises(DataError) as error:
        load_csv(series_csv(frame), "price", time_column="when")
    one_line(error, *fragments)


# --- folds and the held-out split ----------------------------------------------------------


def test_forward_folds_train_only_on_the_past_and_expand():
    dataset = load_csv_frame(series_frame(60))
    folds = make_folds(dataset, 5, seed=123)
    assert len(folds) == 5
    sizes = [len(train) for train, _ in folds]
    assert sizes == sorted(sizes) and len(set(sizes)) == 5  # an expanding window
    for train, test in folds:
        assert (train == np.arange(len(train))).all()  # every row before the fold
        assert train.max() < test.min()  # never a row after a validated one
        assert (np.diff(test) == 1).all()
    # no seed: the folds are fixed by time order
    assert all((a[1] == b[1]).all() for a, b in zip(folds, make_folds(dataset, 5, 7), strict=True))
    with pytest.raises(ConfigError, match="use repeats = 1"):
        make_folds(dataset, 5, 0, repeats=2)
    with pytest.raises(ConfigError, match="use fewer folds"):
        forward_folds(10, 5)


def test_the_held_out_split_is_the_last_20_percent_never_shuffled():
    dataset = load_csv_frame(series_frame(61))
    train, test = holdout_split(dataset, 0.2, seed=5)
    assert (train.n_samples, test.n_samples) == (48, 13)
    assert train.time.max() < test.time.min()
    assert (test.y.to_numpy() == dataset.y.to_numpy()[-13:]).all()
    assert holdout_split(dataset, 0.2, seed=6)[1].y.equals(test.y)


def test_scaling_is_fitted_on_the_past_rows_of_a_fold_only():
    dataset = load_csv_frame(series_frame(60))
    train, _ = make_folds(dataset, 3, 0)[0]
    config = {"family": "lstm", "window": 3, "hidden_size": 4, "max_epochs": 1}
    model = build_pipeline(config, dataset, dataset.y.to_numpy()[train])
    model.fit(dataset.X.iloc[train], dataset.y.iloc[train])
    scaler = model[0].named_transformers_["numeric"]["scale"]
    assert scaler.mean_ == pytest.approx(dataset.X.iloc[train].mean().to_numpy())
    assert model[-1].y_mean_ == pytest.approx(dataset.y.iloc[train].mean())


def load_csv_frame(frame: pd.DataFrame):
    from harness.data.datasets import Dataset

    return Dataset.from_frame(frame, "price", name="series", source="test", time_column="day")


# --- metrics -------------------------------------------------------------------------------


def test_regression_metrics_equal_sklearns_and_are_greater_is_better():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.5, size=50)
    scores = score_regression(y, pred)
    assert (
        set(scores) == set(task_metrics("regression")) == {"neg_rmse", "neg_mae", "neg_mse", "r2"}
    )
    assert scores["neg_mse"] == pytest.approx(-mean_squared_error(y, pred))
    assert scores["neg_rmse"] == pytest.approx(-root_mean_squared_error(y, pred))
    assert scores["neg_mae"] == pytest.approx(-mean_absolute_error(y, pred))
    assert scores["r2"] == pytest.approx(r2_score(y, pred))
    assert all(METRICS[name].greater_is_better for name in scores)
    better = score_regression(y, y + (pred - y) / 2)
    assert all(better[name] > scores[name] for name in scores)
    assert compute_metric("neg_rmse", y, pred, None, None) == scores["neg_rmse"]
    assert default_metric("regression") == "neg_rmse" and "neg_rmse" in headline_metrics(
        "regression"
    )


def test_a_metric_of_the_other_task_is_refused():
    with pytest.raises(ConfigError, match=r"scores classification.*neg_rmse"):
        get_metric("f1_macro", "regression")
    with pytest.raises(ConfigError, match="scores regression"):
        get_metric("r2", "classification")


# --- reference forecasts -------------------------------------------------------------------


def test_the_naive_forecast_is_the_previous_value():
    X = pd.DataFrame({"price": [1.0, 2.0, 3.0, 4.0, 5.0]})
    model = LastValueForecaster("price").fit(X.iloc[:3], None)
    assert model.predict(X.iloc[3:]).tolist() == [3.0, 4.0]


def test_the_linear_autoregression_recovers_an_ar2_process():
    rng = np.random.default_rng(0)
    y = np.zeros(400)
    for t in range(2, 400):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal(scale=1.0)
    X = y.reshape(-1, 1)
    model = WindowedRegressor(window=2).fit(X[:300], y[:300])
    coefficients = model.estimator_.coef_  # the window's columns: t-2, then t-1
    assert coefficients == pytest.approx([-0.3, 0.6], abs=0.05)
    residual = y[300:] - model.predict(X[300:])
    assert residual.std() == pytest.approx(1.0, rel=0.2)


def test_regression_baselines_are_the_family_baseline_naive_and_linear_ar():
    train, test = holdout_split(load_csv_frame(series_frame(80)), 0.2)
    models = regression_baselines(train, 0, "lstm")
    assert list(models)[1:] == [NAIVE, "linear autoregression (window 12)"]
    fitted = models["linear autoregression (window 12)"].fit(train.X, train.y)
    rmse = -score_regression(test.y, fitted.predict(test.X))["neg_rmse"]
    naive = models[NAIVE].fit(train.X, train.y).predict(test.X)
    assert naive[0] == train.y.iloc[-1] and (naive[1:] == test.y.to_numpy()[:-1]).all()
    assert rmse < -score_regression(test.y, naive)["neg_rmse"]


# --- the command line ----------------------------------------------------------------------


def run_args(path, tmp_path, *extra):
    source = ("--data", str(path), "--target", "price")
    return run_options(tmp_path, *source, "--space", "lstm-sunspots", "--trials", "1", *extra)


def test_a_missing_time_column_exits_2_with_one_line(series_csv, tmp_path, capsys):
    assert main(run_args(series_csv(), tmp_path, "--time-column", "date")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no time column 'date'" in err and "--time-column" in err


def test_a_window_longer_than_the_first_fold_exits_2_with_one_line(series_csv, tmp_path, capsys):
    # 40 rows: 32 searched, 2 forward folds, the first trains on 12 rows: the baseline's
    # 12-step window leaves nothing to learn from.
    path = series_csv(series_frame(40))
    assert main(run_args(path, tmp_path, "--time-column", "day", "--folds", "2")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "window=12 is longer than the series" in err


def test_a_classification_metric_on_a_series_exits_2(series_csv, tmp_path, capsys):
    args = run_args(series_csv(), tmp_path, "--time-column", "day", "--metric", "f1_macro")
    assert main(args) == 2
    assert "use one of neg_rmse" in capsys.readouterr().err


def test_an_lstm_space_on_a_classification_dataset_exits_2(tmp_path, capsys):
    args = run_options(tmp_path, "--dataset", "iris", "--space", "lstm-sunspots", "--trials", "1")
    assert main(args) == 2
    assert "'lstm' family (regression)" in capsys.readouterr().err


# --- a regression comparison end to end: compare, leaderboard, report -----------------------

TINY_SPACE = (FIXTURES / "tiny-lstm.toml").read_text()


@pytest.mark.slow
def test_a_regression_comparison_compares_ranks_and_reports(tmp_path, monkeypatch, capsys):
    import contextlib

    series_frame(100).to_csv(tmp_path / "series.csv", index=False)
    (tmp_path / "tiny-lstm.toml").write_text(TINY_SPACE)
    (tmp_path / "c.toml").write_text(
        'name = "sine"\ndata = "series.csv"\ntarget = "price"\ntime_column = "day"\n'
        'space = "tiny-lstm.toml"\nmetric = "neg_rmse"\nfolds = 3\n'
        'strategies = ["random", "tpe"]\nseeds = [0, 1]\ntrials = 2\n'
    )
    with single_torch_thread(), contextlib.chdir(tmp_path):
        (tmp_path / "studies").mkdir()
        assert main(["compare", "c.toml", "--quiet"]) == 0
        assert main(["leaderboard", "c.toml"]) == 0
        assert main(["report", "c.toml"]) == 0
    board = (tmp_path / "leaderboards" / "sine.md").read_text()
    assert "3 forward-chaining folds" in board and "moving blocks" in board
    holdout = pd.read_csv(tmp_path / "leaderboards" / "sine-holdout.csv")
    assert set(holdout["metric"]) == {"neg_rmse", "neg_mae", "neg_mse", "r2"}
    assert holdout["ci_low"].notna().all() and holdout["mcnemar_p"].isna().all()
    assert {NAIVE, "linear autoregression (window 12)"} <= set(holdout["model"])
    report = (tmp_path / "reports" / "sine.md").read_text()
    for heading in ("## The data", "## The original model", "## Results", "## Figures"):
        assert heading in report
    for absent in ("## Segments and campaigns", "## Diagrams", "### Per class", "Targeting"):
        assert absent not in report
    assert "Classification-only parts are left out" in report
    assert "moving-block bootstrap" in report and "tuned LSTM" in report
    figures = {p.name for p in (tmp_path / "reports" / "figures").glob("*.png")}
    assert {"sine-forecast.png", "sine-residuals.png", "sine-learning-curve.png"} <= figures
    assert not {"sine-confusion.png", "sine-calibration.png"} & figures
    assert "notebook: none" in capsys.readouterr().out


def test_run_on_a_series_csv_finishes_and_predict_cannot_forecast_its_extra_column(
    tmp_path, capsys
):

    path = tmp_path / "series.csv"
    series_frame(100).to_csv(path, index=False)
    (tmp_path / "tiny-lstm.toml").write_text(TINY_SPACE)
    args = run_args(path, tmp_path, "--time-column", "day", "--folds", "3")
    args[args.index("lstm-sunspots")] = str(tmp_path / "tiny-lstm.toml")
    with single_torch_thread():
        assert main(args) == 0
    out = capsys.readouterr().out
    assert "CV neg_rmse" in out and NAIVE in out and "r2" in out
    assert "tuned LSTM" in out and "tuned MLP" not in out and "forecast: joblib.load" in out
    [model] = (tmp_path / "models").glob("*-tpe-s0.joblib")
    # The model also reads 'volume', whose future no row holds: it cannot run past the file.
    assert (
        main(["predict", "--model", str(model), "--data", str(path), "--time-column", "day"]) == 2
    )
    assert "also uses volume besides the target's own past" in capsys.readouterr().err


# --- the block bootstrap of held-out forecasts ----------------------------------------------


def test_block_resamples_are_runs_of_consecutive_rows_and_block_1_is_unchanged():
    from harness.results import statistics

    rng = np.random.default_rng(3)
    picks = statistics.resampled_rows(rng, 10, 50, 4)
    assert picks.shape == (50, 10)
    assert (np.diff(picks[:, :4], axis=1) == 1).all()  # the first block is consecutive
    assert statistics.block_length(62) == 4 and statistics.block_length(1) == 1
    iid = statistics.resampled_rows(np.random.default_rng(3), 10, 50, 1)
    assert (iid == np.random.default_rng(3).integers(0, 10, size=(50, 10))).all()


def test_the_block_bootstrap_widens_intervals_of_autocorrelated_errors():
    from harness.results import statistics

    rng = np.random.default_rng(0)
    errors = np.zeros(200)
    for t in range(1, 200):  # errors that persist from one step to the next
        errors[t] = 0.9 * errors[t - 1] + rng.normal()
    truth = np.zeros(200)

    def mean_error(y, pred):
        return float(np.mean(pred - y))

    iid = statistics.bootstrap_metric_interval(truth, errors, mean_error, seed=0)
    block = statistics.bootstrap_metric_interval(truth, errors, mean_error, seed=0, block=12)
    assert block.sd > 1.5 * iid.sd
    assert block.method.startswith("block-percentile")
