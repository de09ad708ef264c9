"""`run` saves the tuned and the baseline model with cards and held-out details; `predict` scores
new rows with them and rejects rows and files that do not fit, with one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import FIXTURES, run_in, single_torch_thread

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.study import ledger

TINY = str(FIXTURES / "tiny.toml")
NAME = "iris-tiny-tpe-s0"


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """One tiny `run` on iris; its folder holds h.db, models/ and boards/."""
    root = tmp_path_factory.mktemp("run")
    code = run_in(root, "--dataset", "iris", "--space", TINY, "--trials", "2", "--folds", "3")
    assert code == 0
    return root


@pytest.fixture(scope="module")
def study(ran) -> optuna.Study:
    return optuna.load_study(study_name=NAME, storage=f"sqlite:///{ran / 'h.db'}")


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "new.csv"
    load_dataset("iris").X.head(12).to_csv(path, index=False)
    return path


@pytest.mark.slow
def _predict(ran: Path, data: Path, *options: str) -> int:
    return main(
        [
            "predict",
            "--model",
            str(ran / "models" / f"{NAME}.joblib"),
            "--data",
            str(data),
            *options,
        ]
    )


def test_run_saves_the_tuned_and_the_baseline_model_each_with_a_card(ran, study):
    iris = load_dataset("iris")
    for stem, which in ((NAME, "tuned MLP"), (f"{NAME}-baseline", "baseline MLP")):
        model = joblib.load(ran / "models" / f"{stem}.joblib")
        assert set(model.predict(iris.X)) <= set(iris.y)
        card = json.loads((ran / "models" / f"{stem}.json").read_text())
        assert card["model"] == which and card["format"] == "harness-model/1"
        assert card["schema"]["columns"] == list(iris.X.columns)
        assert card["schema"]["class_names"] == {"0": "setosa", "1": "versicolor", "2": "virginica"}
        holdout = study.user_attrs[ledger.HOLDOUT][which]["scores"]
        assert card["holdout"]["scores"] == holdout
        assert {"torch", "sklearn", "harness", "python"} <= set(card["versions"])
        assert len(card["data"]["train_rows_sha256"]) == 64
        assert "pickle" in card["warning"]
    tuned = json.loads((ran / "models" / f"{NAME}.json").read_text())
    best = study.best_trial
    assert tuned["cv"]["trial"] == best.number
    assert tuned["cv"]["mean"] == pytest.approx(best.value)
    assert tuned["config"] == best.user_attrs[ledger.CONFIG]
    assert json.loads((ran / "models" / f"{NAME}-baseline.json").read_text())["cv"] is None


def test_the_held_out_details_are_stored_for_the_report(study):
    attrs = study.user_attrs
    rows = attrs[ledger.HOLDOUT_ROWS]
    n_test = rows["n_test"]
    assert n_test == 30 and len(rows["true"]) == len(rows["index"]) == n_test
    iris = load_dataset("iris")
    assert rows["true"] == iris.y.loc[rows["index"]].tolist()
    for name, result in attrs[ledger.HOLDOUT].items():
        assert len(result["predicted"]) == n_test, name
        proba = np.asarray(result["proba"])
        assert proba.shape == (n_test, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        predicted = np.asarray(result["labels"])[proba.argmax(axis=1)]
        assert predicted.tolist() == result["predicted"]
        accuracy = np.mean(np.asarray(result["predicted"]) == np.asarray(rows["true"]))
        assert accuracy == pytest.approx(result["scores"]["accuracy"])
        assert result["train_rows"] == 120
    importance = attrs[ledger.FEATURE_IMPORTANCE]
    assert importance["n_repeats"] >= 10 and importance["n_rows"] == n_test
    assert importance["metric"] == "f1_macro"
    assert set(importance["features"]) == set(iris.X.columns)
    means = [f["mean"] for f in importance["features"].values()]
    assert means == sorted(means, reverse=True)
    assert all(f["std"] >= 0 for f in importance["features"].values())


def test_run_stores_the_settings_a_worker_needs(study):
    settings = ledger.run_settings(study)
    assert settings["source"] == {"kind": "dataset", "name": "iris"}
    assert settings["n_trials"] == 2 and settings["n_folds"] == 3
    assert "[params.optimizer]" in settings["space"]["toml"]


def test_predict_writes_labels_names_and_probabilities(ran, iris_csv, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    code = _predict(ran, iris_csv, "--output", str(out))
    assert code == 0
    assert "scored 12 rows" in capsys.readouterr().out
    scored = pd.read_csv(out)
    assert list(scored.columns) == [
        "predicted",
        "predicted_name",
        "proba_setosa",
        "proba_versicolor",
        "proba_virginica",
    ]
    model = joblib.load(ran / "models" / f"{NAME}.joblib")
    X = pd.read_csv(iris_csv)
    assert scored["predicted"].tolist() == model.predict(X).tolist()
    names = {0: "setosa", 1: "versicolor", 2: "virginica"}
    assert scored["predicted_name"].tolist() == [names[v] for v in scored["predicted"]]
    np.testing.assert_allclose(scored.filter(like="proba_").sum(axis=1), 1.0, atol=1e-5)


def test_predict_accepts_the_target_column_and_prints_without_output(ran, tmp_path, capsys):
    path = tmp_path / "labelled.csv"
    load_dataset("iris").X.head(3).assign(target=0).to_csv(path, index=False)
    code = main(
        ["predict", "--model", str(ran / "models" / f"{NAME}-baseline.joblib"), "--data", str(path)]
    )
    assert code == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4  # header and 3 rows


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="petal width (cm)"), "lacks the column(s) petal width (cm)"),
        (lambda f: f.assign(colour="blue"), "has column(s) colour that the model was not"),
        (lambda f: f.assign(**{"sepal length (cm)": "long"}), "numeric column(s) hold text"),
        (lambda f: f.assign(**{"sepal width (cm)": np.nan}), "missing or infinite values"),
    ],
)
def test_rows_that_do_not_fit_give_one_line_and_exit_2(ran, tmp_path, capsys, change, message):
    path = _write(tmp_path, change(load_dataset("iris").X.head(5)))
    out = tmp_path / "scored.csv"
    code = _predict(ran, path, "--output", str(out))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a pickle at all", "is not a harness model (joblib cannot load it"),
        (None, "is not a harness model (it has no harness-model/1 card)"),
        ("missing", "no such model file"),
    ],
)
def test_a_file_that_is_not_a_harness_model_stops_with_one_line(
    tmp_path, iris_csv, capsys, content, message
):
    path = tmp_path / "model.joblib"
    if content is None:
        joblib.dump({"weights": [1, 2, 3]}, path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    code = main(["predict", "--model", str(path), "--data", str(iris_csv)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_missing_data_file_stops_with_one_line(ran, tmp_path, capsys):
    code = _predict(ran, tmp_path / "none.csv")
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_id_and_keep_columns_are_carried_through_not_fed_to_the_model(ran, tmp_path, capsys):
    iris = load_dataset("iris").X.head(6)
    path = tmp_path / "customers.csv"
    iris.assign(customer=[f"c{i}" for i in range(6)], region=list("abcabc")).to_csv(
        path, index=False
    )
    out = tmp_path / "scored.csv"
    assert (
        _predict(
            ran,
            path,
            "--id",
            "customer",
            "--keep",
            "region,sepal length (cm)",
            "--output",
            str(out),
        )
        == 0
    )
    scored = pd.read_csv(out)
    assert list(scored.columns[:4]) == ["customer", "region", "sepal length (cm)", "predicted"]
    assert scored["customer"].tolist() == [f"c{i}" for i in range(6)]
    assert scored["region"].tolist() == list("abcabc")
    assert scored["sepal length (cm)"].tolist() == iris["sepal length (cm)"].tolist()
    model = joblib.load(ran / "models" / f"{NAME}.joblib")
    assert scored["predicted"].tolist() == model.predict(iris).tolist()
    capsys.readouterr()
    assert _predict(ran, path) == 2  # without --id the identifier is an unknown column
    assert "has column(s) customer, region that the model was not" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--id", "client"], "has no column(s) client to copy (--id/--keep)"),
        (["--keep", "petal width (cm),colour"], "has no column(s) colour to copy"),
        (["--keep", "predicted"], "have the name of an output column"),
        (["--horizon", "3"], "--horizon and --time-column apply to time series models"),
    ],
)
def test_bad_copy_options_give_one_line_and_exit_2(ran, tmp_path, capsys, options, message):
    rows = load_dataset("iris").X.head(3)
    if "predicted" in options:  # an input column named like an output column
        rows = rows.assign(predicted=1)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    assert _predict(ran, path, *options, "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_probability_columns_fall_back_to_labels_where_names_repeat():
    from harness.commands.predict import proba_columns
    from harness.data.schema import FeatureSchema

    named = FeatureSchema(("a",), (), "y", (1, 2, 3), {1: "Basic", 2: "E-Service"})
    assert proba_columns(named, [1, 2, 3]) == ["proba_Basic", "proba_E-Service", "proba_3"]
    twice = FeatureSchema(("a",), (), "y", (1, 2), {1: "same", 2: "same"})
    assert proba_columns(twice, [1, 2]) == ["proba_1", "proba_2"]


@pytest.mark.parametrize("where", ["parent is a file", "a folder"])
def test_an_output_path_that_cannot_be_a_file_gives_one_line_and_writes_nothing(
    ran, iris_csv, tmp_path, capsys, where
):
    (tmp_path / "taken").write_text("a file")
    (tmp_path / "folder").mkdir()
    out = tmp_path / "taken" / "scored.csv" if where == "parent is a file" else tmp_path / "folder"
    before = sorted(tmp_path.rglob("*"))
    assert _predict(ran, iris_csv, "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (
        ("is a file, not a folder" in err)
        if where == "parent is a file"
        else ("is a folder" in err)
    )
    assert sorted(tmp_path.rglob("*")) == before


TINY_LSTM = (FIXTURES / "tiny-lstm.toml").read_text()


@pytest.fixture(scope="module")
def series_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny LSTM study on a 100-day sine series (day, price); its model and its data file."""

    root = tmp_path_factory.mktemp("series")
    days = pd.date_range("2001-01-01", periods=100, freq="D")
    t = np.arange(100)
    data = root / "series.csv"
    pd.DataFrame(
        {"day": days.strftime("%Y-%m-%d"), "price": 10 + np.sin(2 * np.pi * t / 11)}
    ).to_csv(data, index=False)
    (root / "tiny-lstm.toml").write_text(TINY_LSTM)
    with single_torch_thread():
        code = run_in(
            root,
            *("--data", str(data), "--target", "price", "--time-column", "day"),
            *("--space", str(root / "tiny-lstm.toml"), "--trials", "1", "--folds", "3"),
        )
    assert code == 0
    [model] = (root / "models").glob("*-tpe-s0.joblib")
    return model, data


def test_a_time_series_model_forecasts_the_next_steps_after_the_files_last_rows(
    series_model, tmp_path
):
    model_path, data = series_model
    out = tmp_path / "forecast.csv"
    code = main(
        [
            "predict",
            "--model",
            str(model_path),
            "--data",
            str(data),
            "--time-column",
            "day",
            "--horizon",
            "3",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["step", "day", "forecast"]
    assert forecast["step"].tolist() == [1, 2, 3]
    assert forecast["day"].tolist() == ["2001-04-11", "2001-04-12", "2001-04-13"]
    # Step 1 is the model's own one-step forecast from the last window; step 2 feeds step 1 back.
    model = joblib.load(model_path)
    frame = pd.read_csv(data)[["price"]]
    window = len(model[-1].context_)
    rows = model[:-1].transform(frame.tail(window))
    first = model[-1].predict(rows[-1:], context=rows)[0]
    assert forecast["forecast"][0] == pytest.approx(first, abs=1e-6)
    grown = pd.concat([frame, pd.DataFrame({"price": [first]})], ignore_index=True)
    rows = model[:-1].transform(grown.tail(window))
    assert forecast["forecast"][1] == pytest.approx(
        model[-1].predict(rows[-1:], context=rows)[0], abs=1e-6
    )


def test_a_forecast_without_a_time_column_reads_the_rows_in_file_order(series_model, capsys):
    model_path, data = series_model
    frame = pd.read_csv(data)
    rows = data.with_name("prices.csv")
    frame[["price"]].to_csv(rows, index=False)
    assert main(["predict", "--model", str(model_path), "--data", str(rows)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[0] == "step,forecast" and len(printed) == 2  # --horizon defaults to 1


@pytest.mark.parametrize(
    ("options", "rows", "message"),
    [
        (["--horizon", "0"], None, "--horizon must be at least 1"),
        (["--id", "day"], None, "--id and --keep copy input rows"),
        ([], 4, "forecasts from its last 6 rows (its window)"),
    ],
)
def test_bad_forecast_requests_give_one_line_and_exit_2(
    series_model, capsys, options, rows, message
):
    model_path, data = series_model
    frame = pd.read_csv(data)[["price"]]
    path = data.with_name(f"few-{rows}.csv")
    (frame if rows is None else frame.tail(rows)).to_csv(path, index=False)
    assert main(["predict", "--model", str(model_path), "--data", str(path), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
