"""The report of one stored study: `report --study NAME --storage URL`."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import optuna
import pytest
from helpers import FIXTURES, single_torch_thread
from notebook_runner import (
    assert_retrains_within_tolerance,
    assert_shows_stored_holdout,
    run_code_cells,
)

from harness.cli import main
from harness.data.datasets import load_dataset
from harness.report.context import NOT_COMPARATIVE
from harness.report.document import section_titles
from harness.report.drawio import DIAGRAMS, validate_drawio
from harness.study import ledger

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow

STUDY = "iris-tiny-tpe-s0"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A folder holding one three-trial study, its storage and its report."""
    root = tmp_path_factory.mktemp("study-report")
    storage = f"sqlite:///{root / 'h.db'}"
    run = [
        "run",
        "--dataset",
        "iris",
        "--space",
        str(FIXTURES / "tiny.toml"),
        "--trials",
        "3",
        "--folds",
        "3",
        "--storage",
        storage,
        "--leaderboards",
        "leaderboards",
        "--models",
        "models",
        "--quiet",
    ]
    with single_torch_thread(), contextlib.chdir(root):
        assert main(run) == 0
        assert main(["report", "--study", STUDY, "--storage", storage]) == 0
    return root


@pytest.fixture
def storage(root):
    return f"sqlite:///{root / 'h.db'}"


@pytest.fixture
def text(root):
    return (root / "reports" / f"{STUDY}.md").read_text(encoding="utf-8")


@pytest.fixture
def study(storage):
    return optuna.load_study(study_name=STUDY, storage=storage)


def test_every_section_is_there_and_comparisons_are_left_out(text, storage):
    titles = section_titles(load_dataset("iris").vocabulary)
    assert re.findall(r"^## (.+)$", text, flags=re.MULTILINE) == list(titles)
    assert f"`python -m harness report --study {STUDY} --storage {storage}`" in text
    assert "(3 finished trials in 1 study)" in text
    for sub in ("Before and after on the held-out test split", "Best trials", "Per class"):
        assert f"\n### {sub}\n" in text
    for sub in ("Search efficiency", "Final scores", "Pairwise tests"):
        assert f"\n### {sub}\n" not in text
    assert text.count(NOT_COMPARATIVE) == 2  # in the results and in the recommendations
    assert re.search(r"\bnan\b|over 1 seeds|\b1 tuned studies\b", text) is None


def test_figures_exist_without_time_to_target(root, text):
    referenced = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", text)
    assert [Path(link).stem.removeprefix(f"{STUDY}-") for link in referenced] == [
        "incumbents-trials",
        "incumbents-seconds",
        "importance",
        "contour",
        "confusion",
        "learning-curve",
        "calibration",
    ]
    for link in referenced:
        assert (root / "reports" / link).is_file(), link


def test_diagrams_are_valid_and_named(root, text):
    for name in DIAGRAMS:
        link = f"../drawio/{STUDY}-{name}.drawio"
        assert f"[{link}]({link})" in text
        assert validate_drawio((root / "reports" / link).read_text(encoding="utf-8")) == []


def test_the_notebook_reproduces_the_stored_held_out_scores(root, study):
    text = (root / "reports" / f"{STUDY}.ipynb").read_text(encoding="utf-8")
    namespace, printed = run_code_cells(text, root / "reports")
    assert_shows_stored_holdout(printed, study.user_attrs[ledger.HOLDOUT])
    assert_retrains_within_tolerance(namespace, study.user_attrs[ledger.HOLDOUT], 1e-4)


def test_rebuilding_gives_identical_bytes(root, storage, monkeypatch):
    monkeypatch.chdir(root)
    outputs = [root / "reports", root / "drawio"]
    before = {p: p.read_bytes() for folder in outputs for p in folder.rglob("*") if p.is_file()}
    for folder in outputs:
        shutil.rmtree(folder)
    assert main(["report", "--study", STUDY, "--storage", storage]) == 0
    after = {p: p.read_bytes() for folder in outputs for p in folder.rglob("*") if p.is_file()}
    assert after.keys() == before.keys()
    assert [p for p in before if before[p] != after[p]] == []
    assert len(before) == 1 + 1 + 7 + 3 + 3  # report, notebook, figures, diagrams, their SVGs


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report"], "give either a comparison file"),
        (
            ["report", "studies/x.toml", "--study", STUDY, "--storage", "sqlite://"],
            "not both or neither",
        ),
        (["report", "--study", STUDY], "--study and --storage go together"),
        (["report", "studies/x.toml", "--storage", "sqlite://"], "go together"),
    ],
)
def test_a_report_needs_exactly_one_source(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_study_lists_the_stored_ones(root, storage, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert main(["report", "--study", "nope", "--storage", storage]) == 2
    assert f"no study 'nope' in {storage}; stored: {STUDY}" in capsys.readouterr().err


def test_a_study_on_unregistered_data_is_refused(root, storage, monkeypatch, capsys):
    monkeypatch.chdir(root)
    optuna.copy_study(
        from_study_name=STUDY, from_storage=storage, to_storage=storage, to_study_name="csv-study"
    )
    try:
        optuna.load_study(study_name="csv-study", storage=storage).set_user_attr(
            ledger.DATASET, "my-file"
        )
        assert main(["report", "--study", "csv-study", "--storage", storage]) == 2
        assert "'my-file', not a registered dataset or a CSV file" in capsys.readouterr().err
    finally:
        optuna.delete_study(study_name="csv-study", storage=storage)


def test_a_study_of_a_csv_file_is_reported_from_the_source_it_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = load_dataset("iris").X.assign(label=load_dataset("iris").y.map(str) + "-kind")
    frame.to_csv(tmp_path / "flowers.csv", sep=";", index=False)
    storage = f"sqlite:///{tmp_path / 'csv.db'}"
    run = [
        "run",
        "--data",
        "flowers.csv",
        "--target",
        "label",
        "--sep",
        ";",
        "--space",
        str(FIXTURES / "tiny.toml"),
        "--trials",
        "2",
        "--folds",
        "3",
        "--storage",
        storage,
        "--quiet",
    ]
    assert main(run) == 0
    study = optuna.load_study(study_name="flowers-tiny-tpe-s0", storage=storage)
    assert study.user_attrs[ledger.DATA_SOURCE] == {
        "path": str(tmp_path / "flowers.csv"),
        "target": "label",
        "sep": ";",
        "categorical": [],
    }
    assert main(["report", "--study", "flowers-tiny-tpe-s0", "--storage", storage]) == 0
    assert (
        "`flowers`: 150 rows, 4 features"
        in (tmp_path / "reports" / "flowers-tiny-tpe-s0.md").read_text()
    )
