"""One module per file format: each writes and reads its format, with a version, and refuses a
malformed or newer file with one line naming the file and the fix.

Run settings (harness.study.run_settings), model cards (harness.study.model_card) and
comparison files (harness.study.comparison); the data source inside the run settings is
harness.data.sources.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import helpers
import optuna
import pytest
from helpers import CHECKOUT
from sklearn.dummy import DummyClassifier

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.data.schema import FeatureSchema
from harness.data.sources import DataSource, data_checksums
from harness.data.splits import holdout_split
from harness.errors import ConfigError, DataError
from harness.study import ledger, model_card, run_settings
from harness.study.comparison import load_comparison
from harness.study.loop import StudySpec
from harness.study.run_settings import RunSettings

TINY = str(helpers.TINY)
STUDIES = CHECKOUT / "studies"

# What `harness run` stored before the format had a version (commit 45a5429): such studies
# must still be joined by workers.
UNVERSIONED = {
    "source": {"kind": "dataset", "name": "iris"},
    "class_names": {},
    "space": {"name": "tiny", "toml": Path(TINY).read_text(encoding="utf-8")},
    "strategy": "tpe",
    "seed": 0,
    "n_trials": 2,
    "timeout": None,
    "trial_timeout": None,
    "pruner": "none",
    "prune_on": "folds",
    "metric": "f1_macro",
    "n_folds": 3,
    "test_size": 0.2,
    "train_rows_sha256": None,
}


def tpe_spec(tmp_path, **changes) -> StudySpec:
    train, _ = holdout_split(load_dataset("iris"), 0.2, 0)
    values = {"name": "iris-tiny-tpe-s0", "strategy": "tpe", "dataset": train, "n_trials": 2}
    return helpers.study_spec(tmp_path, **{**values, **changes})


# --- run settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        DataSource.registered("iris"),
        DataSource.csv("flowers.csv", "species", sep=";", categorical=["colour"], impute="median"),
        DataSource.csv("series.csv", "value", time_column="month"),
        DataSource.synthetic({"n_samples": 50, "weights": (0.8, 0.2)}),
    ],
)
def test_run_settings_read_back_what_they_wrote(tmp_path, source):
    objectives = ("f1_macro", "n_params")
    spec = tpe_spec(tmp_path, trial_timeout=30.0, objectives=objectives)
    settings = RunSettings.from_spec(spec, source, {0: "setosa"})
    stored = settings.to_json()
    assert stored["format_version"] == run_settings.FORMAT_VERSION
    assert RunSettings.from_json(stored) == settings
    assert settings.objectives == objectives and settings.class_names == {"0": "setosa"}
    assert stored["objectives"] == ["f1_macro", "n_params"]
    assert settings.train_rows_sha256 == data_checksums(spec.dataset)["train_rows_sha256"]


def test_run_settings_stored_before_versions_still_rebuild_the_study(tmp_path):
    settings = RunSettings.from_json(UNVERSIONED)
    assert settings.batch == 1 and settings.source == DataSource.registered("iris")
    assert settings.objectives == ()
    train = settings.search_rows("old")
    spec = settings.study_spec("old", f"sqlite:///{tmp_path / 'h.db'}", train)
    assert (spec.n_trials, spec.n_folds, spec.space.name, spec.batch) == (2, 3, "tiny", 1)
    assert spec.dataset.n_samples == 120


def test_a_worker_rebuilds_every_setting_the_run_stored(tmp_path):
    spec = tpe_spec(tmp_path, batch=3, timeout=50.0, trial_timeout=30.0, pruner="median", n_folds=4)
    settings = RunSettings.from_spec(spec, DataSource.registered("iris"), {})
    rebuilt = settings.study_spec(spec.name, spec.storage, settings.search_rows(spec.name))
    shared = {f.name for f in fields(RunSettings)} & {f.name for f in fields(StudySpec) if f.init}
    assert shared == set(run_settings._spec_fields()) and len(shared) == 12
    for name in shared:
        assert getattr(settings, name) == getattr(rebuilt, name) == getattr(spec, name), name
    assert rebuilt.identity == spec.identity
    # A worker's own --timeout replaces the run's.
    mine = settings.study_spec(spec.name, spec.storage, rebuilt.dataset, timeout=5.0)
    assert (mine.timeout, mine.trial_timeout) == (5.0, 30.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "format version 2 is newer than this harness reads"),
        ({"format_version": "one"}, "format version must be a whole number"),
        ({"n_trials": None}, "n_trials must be int"),
        ({"seed": True}, "seed must be int"),
        ({"objectives": ["f1_macro", 3]}, "objectives must be metric and cost names"),
        ({"space": "tiny"}, "space must be"),
        ({"source": {"kind": "ftp"}}, "source: not a data source"),
        ({"source": {"kind": "csv", "target": "y"}}, "a csv source needs path"),
    ],
)
def test_malformed_or_newer_run_settings_give_one_line_naming_the_record(change, message):
    with pytest.raises(ConfigError, match=r"^run settings") as raised:
        RunSettings.from_json({**UNVERSIONED, **change})
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_missing_run_settings_fields_are_named():
    values = {k: v for k, v in UNVERSIONED.items() if k != "metric"}
    with pytest.raises(ConfigError, match="metric is missing"):
        RunSettings.from_json(values)


def test_recorded_settings_read_back_and_a_csv_source_is_also_the_reports_data_source(tmp_path):
    study = optuna.create_study()
    csv = DataSource.csv(tmp_path / "f.csv", "species", sep=";", categorical=["colour"])
    settings = RunSettings.from_spec(tpe_spec(tmp_path), csv, {})
    settings.record(study)
    assert RunSettings.read(study) == settings
    assert study.user_attrs[ledger.DATA_SOURCE] == {
        "path": str(tmp_path / "f.csv"),
        "target": "species",
        "sep": ";",
        "categorical": ["colour"],
    }
    registered = optuna.create_study()
    RunSettings.from_spec(tpe_spec(tmp_path), DataSource.registered("iris"), {}).record(registered)
    assert ledger.DATA_SOURCE not in registered.user_attrs


def test_a_worker_of_a_study_with_newer_settings_stops_with_one_line(tmp_path, capsys):
    spec = tpe_spec(tmp_path)
    study = optuna.create_study(study_name=spec.name, storage=spec.storage)
    stored = RunSettings.from_spec(spec, DataSource.registered("iris"), {}).to_json()
    ledger.record_run_settings(study, {**stored, "format_version": 99})
    code = main(["worker", "--storage", spec.storage, "--study", spec.name, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"run settings of study {spec.name!r}" in err and "upgrade the harness" in err
    assert study.trials == []


def test_a_csv_source_loads_from_the_path_given_on_this_host(tmp_path):
    iris = load_dataset("iris")
    path = tmp_path / "flowers.csv"
    iris.X.assign(species=iris.y).to_csv(path, index=False)
    source = DataSource.csv(tmp_path / "gone.csv", "species", categorical=[])
    with pytest.raises(DataError, match="is not on this host"):
        source.load()
    assert source.load(path).n_samples == 150
    with pytest.raises(ConfigError, match="--data only applies"):
        DataSource.registered("iris").load(path)


# --- model cards --------------------------------------------------------------------------


def _saved_model(tmp_path, card_format: str | None = model_card.MODEL_FORMAT) -> Path:
    iris = load_dataset("iris")
    model = DummyClassifier().fit(iris.X, iris.y)
    card = {"format": card_format, "schema": FeatureSchema.of(iris).to_json()}
    return model_card.save_model(model, tmp_path / "m.joblib", card)


def test_a_saved_model_loads_with_its_card_and_schema(tmp_path):
    path = _saved_model(tmp_path)
    assert path.with_suffix(".json").is_file()
    model, card, schema = model_card.load_model(path)
    assert card["format"] == "harness-model/1"
    assert schema == FeatureSchema.of(load_dataset("iris"))
    assert hasattr(model, "classes_")


@pytest.mark.parametrize(
    ("card_format", "error", "message"),
    [
        ("harness-model/2", ConfigError, "harness-model/2): format version 2 is newer"),
        ("other/1", DataError, "is not a harness model (it has no harness-model/1 card)"),
        (None, DataError, "is not a harness model"),
    ],
)
def test_a_newer_or_foreign_card_is_refused_naming_the_file(tmp_path, card_format, error, message):
    path = _saved_model(tmp_path, card_format)
    with pytest.raises(error) as raised:
        model_card.load_model(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_predict_with_a_newer_model_file_stops_with_one_line_and_writes_nothing(tmp_path, capsys):
    path = _saved_model(tmp_path, "harness-model/7")
    rows = tmp_path / "rows.csv"
    load_dataset("iris").X.head(3).to_csv(rows, index=False)
    out = tmp_path / "scored.csv"
    code = main(["predict", "--model", str(path), "--data", str(rows), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "upgrade the harness" in err and not out.exists()


def test_a_card_with_a_malformed_schema_is_refused_with_one_line(tmp_path):
    iris = load_dataset("iris")
    model = DummyClassifier().fit(iris.X, iris.y)
    path = model_card.save_model(model, tmp_path / "m.joblib", {"format": "harness-model/1"})
    with pytest.raises(DataError, match="schema is malformed") as raised:
        model_card.load_model(path)
    assert "\n" not in str(raised.value)


# --- comparison files ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(STUDIES.glob("*.toml")), ids=lambda p: p.name)
def test_every_committed_comparison_file_loads_as_format_version_1(path):
    assert load_comparison(path).format_version == 1


def test_a_newer_comparison_file_is_refused_before_its_keys_are_checked(tmp_path):
    path = tmp_path / "next.toml"
    path.write_text('format_version = 2\nname = "x"\nobjectives = ["f1_macro"]\n')
    with pytest.raises(ConfigError, match="format version 2 is newer") as raised:
        load_comparison(path)
    assert str(path) in str(raised.value)


def test_the_live_studies_of_a_comparison_come_from_its_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ndataset = "iris"\nspace = "' + TINY + '"\nstrategies = ["random", "tpe"]\n'
        "seeds = [0, 1]\ntrials = 4\nfolds = 3\nexhaustive_grid = true\n"
    )
    comparison = load_comparison(path)
    train, _ = holdout_split(comparison.load_dataset(), comparison.test_size, 0)
    specs = comparison.study_specs(train, comparison.load_space())
    assert [(s.strategy, s.seed) for s in specs] == [*comparison.interleaved(), ("grid", 0)]
    assert specs[-1].name == "c-grid-full" and specs[-1].n_trials == 4
    assert {s.n_folds for s in specs} == {3} and {s.storage for s in specs} == {comparison.storage}
