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

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.study import ledger

TINY = str(Path(__file__).parent / "data" / "tiny.toml")
NAME = "iris-tiny-tpe-s0"


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """One tiny `run` on iris; its folder holds h.db, models/ and boards/."""
    root = tmp_path_factory.mktemp("run")
    code = main(
        [
            "run", "--dataset", "iris", "--space", TINY, "--trials", "2", "--folds", "3",
            "--storage", f"sqlite:///{root / 'h.db'}",
            "--leaderboards", str(root / "boards"),
            "--models", str(root / "models"),
            "--quiet",
        ]
    )  # fmt: skip
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
    code = main(["predict", "--model", str(ran / "models" / f"{NAME}.joblib"),
                 "--data", str(iris_csv), "--output", str(out)])  # fmt: skip
    assert code == 0
    assert "scored 12 rows" in capsys.readouterr().out
    scored = pd.read_csv(out)
    assert list(scored.columns) == ["predicted", "predicted_name", "proba_0", "proba_1", "proba_2"]
    model = joblib.load(ran / "models" / f"{NAME}.joblib")
    X = pd.read_csv(iris_csv)
    assert scored["predicted"].tolist() == model.predict(X).tolist()
    names = {0: "setosa", 1: "versicolor", 2: "virginica"}
    assert scored["predicted_name"].tolist() == [names[v] for v in scored["predicted"]]
    np.testing.assert_allclose(scored.filter(like="proba_").sum(axis=1), 1.0, atol=1e-5)


def test_predict_accepts_the_target_column_and_prints_without_output(ran, tmp_path, capsys):
    path = tmp_path / "labelled.csv"
    load_dataset("iris").X.head(3).assign(target=0).to_csv(path, index=False)
    code = main(["predict", "--model", str(ran / "models" / f"{NAME}-baseline.joblib"),
                 "--data", str(path)])  # fmt: skip
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
    code = main(["predict", "--model", str(ran / "models" / f"{NAME}.joblib"),
                 "--data", str(path), "--output", str(out)])  # fmt: skip
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
    code = main(["predict", "--model", str(ran / "models" / f"{NAME}.joblib"),
                 "--data", str(tmp_path / "none.csv")])  # fmt: skip
    assert code == 2
    assert "no such file" in capsys.readouterr().err
