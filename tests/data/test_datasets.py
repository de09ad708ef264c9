"""The dataset registry, loading, and every bad input the loader must reject."""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import replace

import numpy as np
import pytest
from helpers import CHECKOUT

from harness.data.datasets import (
    DATA_DIR_ENV,
    DATASETS,
    DEFAULT_DATASET,
    NEUTRAL,
    PROJECT_DATA_DIR,
    ChecksumWarning,
    Dataset,
    file_sha256,
    get_spec,
    is_available,
    list_datasets,
    load_csv,
    load_dataset,
    read_vocabularies,
    resolve_data_dir,
)
from harness.data.splits import check_class_counts
from harness.errors import ConfigError, DataError

# Shapes and class counts from /work/shared/data/SOURCES.md.
FILES = {
    "teleconnect": (1000, 11, {1: 266, 2: 217, 3: 281, 4: 236}),
    "wine-red": (1599, 11, {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}),
    "wine-white": (4898, 11, {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5}),
}
SERIES = {"sunspots": (309, 1)}
"""Time series files: rows and feature columns (the target's own values)."""
SHIPPED = {
    "sklearn-wine": (178, 13, 3),
    "iris": (150, 4, 3),
    "breast-cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
}


@pytest.fixture
def write_csv(tmp_path):
    """Write text to a CSV file in a temporary folder and return its path."""

    def write(text: str, name: str = "data.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def assert_one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- registry ------------------------------------------------------------------


def test_registry_lists_every_dataset_once():
    names = [spec.name for spec in list_datasets()]
    assert names == list(DATASETS)
    assert set(names) == {*FILES, *SHIPPED, *SERIES, "synthetic"}
    assert DEFAULT_DATASET == "teleconnect"  # the reference task, committed under data/
    assert all(DATASETS[name].shipped for name in (*SHIPPED, "synthetic"))
    assert not any(DATASETS[name].shipped for name in FILES)
    assert all(len(DATASETS[name].sha256) == 64 for name in FILES)


def test_every_classification_dataset_has_its_own_words():
    classifiers = [spec for spec in list_datasets() if spec.task == "classification"]
    assert {spec.name for spec in classifiers} == {*FILES, *SHIPPED, "synthetic"}
    for spec in classifiers:
        words = spec.vocabulary
        assert words is not None, spec.name
        assert all([words.row, words.rows, words.group, words.groups, words.use, words.act])
        assert words.section_heading and words.summary_heading
    # Only the reference task speaks of customers, segments and campaigns.
    teleconnect = DATASETS["teleconnect"].vocabulary
    assert (teleconnect.rows, teleconnect.groups) == ("customers", "segments")
    assert teleconnect.summary_heading == "For campaign planners"
    assert teleconnect.section_heading == "Segments and campaigns"
    for spec in classifiers:
        if spec.name != "teleconnect":
            text = " ".join(str(value) for value in vars(spec.vocabulary).values())
            assert not re.search(r"customer|segment|campaign", text), spec.name
    for colour in ("red", "white"):
        wine = DATASETS[f"wine-{colour}"].vocabulary
        assert (wine.rows, wine.groups) == ("wines", "quality grades")
    assert DATASETS["synthetic"].vocabulary == NEUTRAL
    assert (NEUTRAL.rows, NEUTRAL.groups, NEUTRAL.summary_heading) == (
        "rows",
        "classes",
        "In plain words",
    )


def test_a_dataset_carries_its_registered_words_and_a_csv_file_neutral_ones(write_csv):
    assert load_dataset("iris").vocabulary == DATASETS["iris"].vocabulary
    assert load_dataset("synthetic", n_samples=60).vocabulary == NEUTRAL
    # A file named like a registered dataset is still just a file: rows and classes.
    path = write_csv("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", name="teleconnect.csv")
    dataset = load_csv(path, "label")
    assert dataset.vocabulary == NEUTRAL
    assert dataset.take([0, 1]).vocabulary == NEUTRAL
    assert dataset.with_class_names("x=Ex").vocabulary == NEUTRAL


def test_the_words_file_takes_vocabulary_fields_and_text_only(tmp_path):
    good = tmp_path / "words.toml"
    good.write_text('[shop]\nrow = "order"\nrows = "orders"\n', encoding="utf-8")
    assert read_vocabularies(good)["shop"] == replace(NEUTRAL, row="order", rows="orders")
    for body, named in (
        ('[shop]\nrow = "order"\ncustomer = "buyer"\n', "customer"),
        ("[shop]\nrow = 3\n", "a value that is not text"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(ValueError, match=rf"\[shop\].*found {named}"):
            read_vocabularies(bad)


def test_registered_files_carry_their_words(data_dir):
    assert load_dataset("teleconnect", data_dir=data_dir).vocabulary.rows == "customers"
    assert load_dataset("wine-red", data_dir=data_dir).vocabulary.group == "quality grade"


def test_unknown_name_lists_the_choices():
    with pytest.raises(DataError) as error:
        load_dataset("teleconect")
    assert_one_line(error, "'teleconect'", "teleconnect", "--data PATH")


def test_options_for_a_dataset_that_takes_none():
    with pytest.raises(DataError, match="takes no options"):
        load_dataset("iris", n_samples=10)


# --- the files of SOURCES.md -------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_named_file_matches_sources(name, data_dir):
    rows, features, counts = FILES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChecksumWarning)
        dataset = load_dataset(name, data_dir=data_dir)
    assert dataset.X.shape == (rows, features)
    assert dataset.class_counts.to_dict() == counts
    assert dataset.n_classes == len(counts)
    assert dataset.imbalance_ratio == pytest.approx(max(counts.values()) / min(counts.values()))
    assert dataset.target not in dataset.X.columns
    assert file_sha256(dataset.source) == DATASETS[name].sha256


def test_teleconnect_column_roles(data_dir):
    dataset = load_dataset("teleconnect", data_dir=data_dir)
    assert dataset.target == "custcat"
    assert dataset.categorical == ("region",)
    assert "ed" in dataset.numeric and "retire" in dataset.numeric
    assert dataset.X["income"].dtype == np.float64
    assert dataset.X["retire"].dtype == np.float64


def test_wine_files_are_semicolon_separated_with_quoted_header(data_dir):
    dataset = load_dataset("wine-red", data_dir=data_dir)
    assert dataset.target == "quality"
    assert dataset.X.columns[0] == "fixed acidity"
    assert dataset.categorical == ()


def test_changed_file_warns_but_loads(data_dir, tmp_path):
    text = (data_dir / "teleconnect.csv").read_text()
    (tmp_path / "teleconnect.csv").write_text(text.replace("64.000", "64.0", 1))
    with pytest.warns(ChecksumWarning, match="sha256"):
        dataset = load_dataset("teleconnect", data_dir=tmp_path)
    assert dataset.n_samples == 1000


def test_data_dir_from_argument_then_env_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)  # no ./data here: the project's own data/ is used
    assert resolve_data_dir() == PROJECT_DATA_DIR
    (tmp_path / "data").mkdir()
    assert str(resolve_data_dir()) == "data"


def test_the_project_data_files_are_committed_with_their_published_checksums():
    for name in ("teleconnect", "wine-red", "wine-white", *SERIES):
        spec = get_spec(name)
        assert file_sha256(PROJECT_DATA_DIR / spec.file) == spec.sha256, name
        assert spec.sha256 in (PROJECT_DATA_DIR / "README.md").read_text(), name


def test_the_committed_files_are_the_shared_copies_where_those_exist():
    shared = CHECKOUT.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("no ../shared/data beside this checkout")
    for path in sorted(shared.glob("*.csv")):
        assert (PROJECT_DATA_DIR / path.name).read_bytes() == path.read_bytes(), path.name


def test_env_var_finds_the_files(monkeypatch, data_dir, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    assert load_dataset("wine-red").n_samples == 1599
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    shutil.copy(data_dir / "teleconnect.csv", tmp_path / "data")
    assert is_available("teleconnect") and not is_available("wine-red")
    assert load_dataset("teleconnect").n_samples == 1000


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError) as error:
        load_dataset("wine-white", data_dir=tmp_path)
    assert_one_line(
        error, "winequality-white.csv", str(tmp_path), "--data-dir", DATA_DIR_ENV, "README"
    )


# --- shipped and synthetic -----------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_dataset(name):
    dataset = load_dataset(name)
    assert (dataset.n_samples, dataset.n_features, dataset.n_classes) == SHIPPED[name]
    assert dataset.source.startswith("sklearn.datasets.load_")


def test_synthetic_is_configurable_and_seeded():
    options = {"n_samples": 400, "n_features": 6, "n_classes": 3, "weights": (8, 1.5, 0.5)}
    dataset = load_dataset("synthetic", random_state=3, **options)
    assert dataset.X.shape == (400, 6)
    assert dataset.class_counts.to_dict() == {0: 320, 1: 60, 2: 20}
    assert dataset.imbalance_ratio == pytest.approx(16.0)
    again = load_dataset("synthetic", random_state=3, **options)
    other = load_dataset("synthetic", random_state=4, **options)
    assert again.X.equals(dataset.X)
    assert not other.X.equals(dataset.X)
    assert "random_state=3" in dataset.source


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"rows": 10}, "unknown synthetic option"),
        ({"n_classes": 3, "weights": (0.5, 0.5)}, "need 3 positive values"),
        ({"n_features": 2, "n_classes": 5}, "cannot make the synthetic dataset"),
    ],
)
def test_synthetic_rejects_impossible_options(options, fragment):
    with pytest.raises(DataError) as error:
        load_dataset("synthetic", **options)
    assert_one_line(error, fragment)


def test_dataset_parts_must_fit():
    iris = load_dataset("iris")
    with pytest.raises(DataError, match="150 feature rows but 3 labels"):
        Dataset("bad", iris.X, iris.y.iloc[:3], "target")
    with pytest.raises(DataError, match="colour"):
        Dataset("bad", iris.X, iris.y, "target", categorical=("colour",))


def test_take_keeps_roles_and_index():
    dataset = load_dataset("iris")
    part = dataset.take([0, 50, 100])
    assert part.n_samples == 3 and part.n_classes == 3
    assert list(part.X.index) == [0, 50, 100]
    assert part.categorical == dataset.categorical and part.name == dataset.name


# --- CSV files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ("a,b,y\n1,2,0\n3,4,1\n", ","),
        ("a;b;y\n1,5;2;0\n3;4;1\n", ";"),
        ("a\tb\ty\n1\t2\t0\n3\t4\t1\n", "\t"),
    ],
)
def test_separator_is_detected(write_csv, text, sep):
    dataset = load_csv(write_csv(text), "y")
    assert list(dataset.X.columns) == ["a", "b"]
    assert dataset.name == "data"
    assert dataset.class_counts.to_dict() == {0: 1, 1: 1}


def test_low_cardinality_text_columns_are_categorical(write_csv):
    dataset = load_csv(write_csv("size,colour,y\n1,red,a\n2,blue,b\n3,red,a\n"), "y")
    assert dataset.categorical == ("colour",)
    assert dataset.numeric == ("size",)
    assert dataset.y.tolist() == ["a", "b", "a"]


def test_categorical_given_explicitly(write_csv):
    path = write_csv("region,x,y\n1,0.5,0\n2,0.1,1\n3,0.2,0\n")
    assert load_csv(path, "y", categorical=["region"]).categorical == ("region",)
    assert load_csv(path, "y").categorical == ()


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as error:
        load_csv(tmp_path / "nope.csv", "y")
    assert_one_line(error, "nope.csv", "--data")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "is empty"), ("\n\n", "is empty"), ("a,b,y\n", "no data rows")],
)
def test_empty_file(write_csv, text, fragment):
    with pytest.raises(DataError) as error:
        load_csv(write_csv(text), "y")
    assert_one_line(error, fragment)


def test_missing_target_lists_the_columns(write_csv):
    with pytest.raises(DataError) as error:
        load_csv(write_csv("a,b,label\n1,2,0\n3,4,1\n"), "y")
    assert_one_line(error, "'y'", "a, b, label", "--target")


def test_one_column_suggests_sep(write_csv):
    with pytest.raises(DataError) as error:
        load_csv(write_csv("a b y\n1 2 0\n3 4 1\n"), "y")
    assert_one_line(error, "only one column", "','", "detected", "--sep")


def test_wrong_given_separator(data_dir):
    with pytest.raises(DataError) as error:
        load_csv(data_dir / "winequality-red.csv", "quality", sep=",")
    assert_one_line(error, "only one column", "','", "given", "--sep")


def test_ragged_rows_and_long_separators(write_csv):
    path = write_csv("a,b,y\n1,2,0\n3,4,5,1\n")
    with pytest.raises(DataError) as error:
        load_csv(path, "y")
    assert_one_line(error, "cannot parse", "','")
    with pytest.raises(ConfigError, match="one character"):
        load_csv(path, "y", sep="::")


def test_duplicate_column_names_from_the_header(write_csv):
    with pytest.raises(DataError) as error:
        load_csv(write_csv("a,b,a,y\n1,2,3,0\n4,5,6,1\n"), "y")
    assert_one_line(error, "duplicate column names", "'a'")


def test_high_cardinality_text_column_cannot_be_encoded(write_csv):
    rows = "".join(f"{i},id{i},{i % 2}\n" for i in range(30))
    with pytest.raises(DataError) as error:
        load_csv(write_csv("x,customer,y\n" + rows), "y")
    assert_one_line(error, "'customer' (30 distinct values)", "--categorical")
    assert load_csv(write_csv("x,customer,y\n" + rows), "y", categorical=["customer"])


def test_explicit_categorical_must_cover_text_and_exist(write_csv):
    path = write_csv("x,colour,y\n1,red,0\n2,blue,1\n")
    with pytest.raises(DataError) as error:
        load_csv(path, "y", categorical=[])
    assert_one_line(error, "'colour'", "not numeric", "--categorical")
    with pytest.raises(DataError) as error:
        load_csv(path, "y", categorical=["color"])
    assert_one_line(error, "'color'", "x, colour")


def test_nan_and_inf_are_named_with_counts(write_csv):
    path = write_csv("a,b,c,y\n1,,inf,0\n2,,3,1\n,4,5,0\n")
    with pytest.raises(DataError) as error:
        load_csv(path, "y")
    assert_one_line(error, "a (1 NaN)", "b (2 NaN)", "c (1 inf)", "--impute")


@pytest.mark.parametrize("impute", ["median", "most_frequent"])
def test_impute_keeps_missing_values_for_the_folds(write_csv, impute):
    dataset = load_csv(write_csv("a,b,y\n1,-inf,0\n,2,1\n3,4,0\n"), "y", impute=impute)
    assert dataset.impute == impute
    assert dataset.X.isna().sum().to_dict() == {"a": 1, "b": 1}
    assert np.isfinite(dataset.X.to_numpy()[~dataset.X.isna().to_numpy()]).all()


def test_unknown_impute(write_csv):
    with pytest.raises(ConfigError, match="most_frequent"):
        load_csv(write_csv("a,y\n1,0\n2,1\n"), "y", impute="mean")


def test_target_with_missing_labels(write_csv):
    with pytest.raises(DataError) as error:
        load_csv(write_csv("a,y\n1,0\n2,\n3,1\n"), "y")
    assert_one_line(error, "1 missing value", "drop those rows")


def test_single_class_target(write_csv):
    with pytest.raises(DataError) as error:
        load_csv(write_csv("a,y\n1,5\n2,5\n"), "y")
    assert_one_line(error, "single class", "5")


# --- class counts versus folds -------------------------------------------------------


def test_check_class_counts_names_the_small_classes():
    y = np.array([0] * 10 + [1] * 4 + [2] * 3)
    check_class_counts(y, 3)
    with pytest.raises(DataError) as error:
        check_class_counts(y, 5)
    assert_one_line(error, "2 (3 rows)", "1 (4 rows)", "5 folds", "at most 3 folds")


def test_check_class_counts_single_row_class_and_fold_count():
    with pytest.raises(DataError) as error:
        check_class_counts(["a", "a", "b"], 2)
    assert_one_line(error, "b (1 row)", "merge or drop")
    assert "at most" not in str(error.value)
    with pytest.raises(ConfigError, match="at least 2"):
        check_class_counts([0, 1], 1)
