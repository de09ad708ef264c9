"""`python -m harness datasets` and the shared data options, bad inputs included."""

from __future__ import annotations

import argparse

import pytest

from harness.cli import main
from harness.commands._data_options import add_data_arguments, dataset_from_args, parse_synthetic
from harness.data.datasets import DATA_DIR_ENV, DATASETS, DEFAULT_DATASET
from harness.errors import ConfigError


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["datasets", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_listing_shows_every_dataset(capsys, monkeypatch, data_dir):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    status, out, _ = run(capsys)
    assert status == 0
    for name in DATASETS:
        assert name in out
    teleconnect = next(line for line in out.splitlines() if line.startswith("teleconnect"))
    assert teleconnect.split()[1:7] == ["(default)", "1000", "11", "4", "1.3", "yes"]
    white = next(line for line in out.splitlines() if line.startswith("wine-white"))
    assert white.split()[1:6] == ["4898", "11", "7", "439.6", "yes"]
    assert f"{DEFAULT_DATASET} (default)" in out
    assert f"from {DATA_DIR_ENV}" in out


def test_listing_marks_missing_files(capsys, tmp_path):
    status, out, _ = run(capsys, "--data-dir", str(tmp_path))
    assert status == 0
    wine = next(line for line in out.splitlines() if line.startswith("wine-red"))
    assert wine.split()[1:6] == ["-", "-", "-", "-", "no"]
    assert "not available: put teleconnect.csv" in out


def test_details_of_teleconnect(capsys, data_dir):
    status, out, _ = run(capsys, "teleconnect", "--data-dir", str(data_dir))
    assert status == 0
    region = next(line for line in out.splitlines() if line.startswith("region"))
    assert "categorical (one-hot)" in region
    assert "features: 11 (10 numeric, 1 categorical)" in out
    class_rows = [line.split(maxsplit=1) for line in out.splitlines()[-4:]]
    assert [row[0] for row in class_rows] == ["1", "2", "3", "4"]
    assert [" ".join(row[1].split()[:-2]) for row in class_rows] == [
        "Basic",
        "E-Service",
        "Plus",
        "Total service",
    ]
    assert class_rows[2][1].split() == ["Plus", "281", "28.1%"]


def test_class_names_can_be_given_to_any_dataset(capsys, tmp_path):
    status, out, _ = run(capsys, "--synthetic", "rows=90,classes=3", "--class-names", "0=low,2=hi")
    assert status == 0
    class_rows = [line.split() for line in out.splitlines()[-3:]]
    assert [row[:2] for row in class_rows] == [["0", "low"], ["1", "1"], ["2", "hi"]]
    path = tmp_path / "labelled.csv"
    path.write_text("a,b,kind\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20)))
    status, out, _ = run(capsys, "--data", str(path), "--target", "kind", "--class-names", "x=X")
    assert status == 0
    assert [line.split()[:2] for line in out.splitlines()[-2:]] == [["x", "X"], ["y", "y"]]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("9=nine", "class names for ['9']: not labels of 'target' (labels: 0, 1)"),
        ("0", "class names: cannot use '0'; write LABEL=NAME pairs"),
        ("0=a,0=b", "each label once"),
    ],
)
def test_bad_class_names_give_one_line_and_exit_2(capsys, names, message):
    status, _, err = run(capsys, "--synthetic", "rows=40", "--class-names", names)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_details_of_synthetic_and_csv(capsys, tmp_path):
    status, out, _ = run(capsys, "--synthetic", "rows=200,classes=3,weights=6/3/1,seed=2")
    assert status == 0
    assert "rows: 200, features: 20" in out and "random_state=2" in out
    path = tmp_path / "pets.csv"
    path.write_text("legs;kind;y\n4;dog;a\n2;bird;b\n4;cat;a\n")
    status, out, _ = run(capsys, "--data", str(path), "--target", "y")
    assert status == 0
    assert "features: 2 (1 numeric, 1 categorical)" in out


BAD_CSV = {
    "empty.csv": ("", ["is empty"]),
    "spaces.csv": ("a b y\n1 2 0\n", ["only one column", "--sep"]),
    "dupes.csv": ("a,a,y\n1,2,0\n3,4,1\n", ["duplicate column names"]),
    "nan.csv": ("a,b,y\n1,,0\n2,3,1\n", ["b (1 NaN)", "--impute"]),
    "one.csv": ("a,y\n1,0\n2,0\n", ["single class"]),
    "ids.csv": ("a,y\n" + "".join(f"id{i},{i % 2}\n" for i in range(25)), ["25 distinct"]),
}


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    assert status == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("harness datasets: error: ")
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("file", BAD_CSV)
def test_bad_csv_is_one_line_and_exit_2(capsys, tmp_path, file):
    text, fragments = BAD_CSV[file]
    path = tmp_path / file
    path.write_text(text)
    status, _, err = run(capsys, "--data", str(path), "--target", "y")
    assert_one_line_error(status, err, *fragments)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--data", "nowhere.csv", "--target", "y"], ["nowhere.csv"]),
        (["--data", "{wine}", "--target", "colour"], ["'colour'", "quality"]),
        (["--data", "{wine}", "--target", "quality", "--sep", ","], ["only one column"]),
        (["--data", "{wine}"], ["--data needs --target"]),
        (["--target", "y"], ["--target only appl"]),
        (["teleconnect", "--data-dir", "{empty}"], ["teleconnect.csv", DATA_DIR_ENV]),
        (["no-such-set"], ["unknown dataset", "sklearn-wine"]),
        (["--synthetic", "rows=ten"], ["rows='ten'"]),
        (["--synthetic", "size=10"], ["'size=10'", "rows"]),
        (["--synthetic", "classes=3,weights=1/1"], ["3 positive values"]),
    ],
)
def test_bad_options_are_one_line_and_exit_2(capsys, tmp_path, data_dir, argv, fragments):
    paths = {"wine": data_dir / "winequality-red.csv", "empty": tmp_path}
    status, _, err = run(capsys, *(arg.format(**paths) for arg in argv))
    assert_one_line_error(status, err, *fragments)


def test_name_and_data_are_exclusive(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["datasets", "iris", "--data", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_parse_synthetic():
    assert parse_synthetic("") == {}
    assert parse_synthetic("rows=5000,features=20,classes=3,weights=0.8/0.15/0.05,seed=1") == {
        "n_samples": 5000,
        "n_features": 20,
        "n_classes": 3,
        "weights": (0.8, 0.15, 0.05),
        "random_state": 1,
    }
    assert parse_synthetic("informative=4, separation=0.5") == {
        "n_informative": 4,
        "class_sep": 0.5,
    }
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_synthetic("rows")


def test_dataset_option_defaults_to_the_embedded_dataset(data_dir):
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    assert dataset_from_args(parser.parse_args([])).name == DEFAULT_DATASET
    args = parser.parse_args(["--dataset", "wine-red", "--data-dir", str(data_dir)])
    assert dataset_from_args(args).n_samples == 1599


@pytest.mark.parametrize("sep", ["tab", "\\t", "\t"])
def test_csv_options_reach_the_loader(tmp_path, sep):
    path = tmp_path / "coded.tsv"
    path.write_text("region\tx\ty\n1\t0.5\ta\n2\t0.7\tb\n")
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    argv = ["--data", str(path), "--target", "y", "--sep", sep, "--categorical", "region"]
    dataset = dataset_from_args(parser.parse_args(argv))
    assert dataset.categorical == ("region",) and dataset.numeric == ("x",)
