"""The generated notebook: valid nbformat 4, and its code reproduces the stored held-out scores."""

from __future__ import annotations

import json
import os

import pytest
from helpers import CHECKOUT
from notebook_runner import (
    assert_retrains_within_tolerance,
    assert_shows_stored_holdout,
    run_code_cells,
)
from tiny_comparison import COMPARISON

from harness import HEADLINE_METRICS
from harness.report.notebook import RETRAIN_TOLERANCE
from harness.results.loading import load_results, refitted_trial
from harness.study import ledger
from harness.study.comparison import load_comparison

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


@pytest.fixture
def text(tiny_report):
    return (tiny_report / "reports" / "tiny.ipynb").read_text(encoding="utf-8")


@pytest.fixture
def best(tiny_report, monkeypatch):
    monkeypatch.chdir(tiny_report)
    return load_results(load_comparison(COMPARISON)).best_study()


def test_the_notebook_is_nbformat_4(text):
    document = json.loads(text)
    assert (document["nbformat"], document["nbformat_minor"]) == (4, 5)
    assert document["metadata"]["kernelspec"]["language"] == "python"
    ids = [cell["id"] for cell in document["cells"]]
    assert len(set(ids)) == len(ids)
    assert document["cells"][0]["cell_type"] == "markdown"
    for cell in document["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        assert isinstance(cell["metadata"], dict)
        assert all(isinstance(line, str) for line in cell["source"])
        if cell["cell_type"] == "code":  # executed in a kernel when the report was built
            assert all(output["output_type"] != "error" for output in cell["outputs"])
    assert "## Setup" in "".join(document["cells"][1]["source"])


def test_part_one_shows_the_stored_held_out_results_without_training(text, best, tiny_report):
    namespace, printed = run_code_cells(text, tiny_report / "reports", retrain=False)
    assert namespace["BEST"] == ledger.stored_config(refitted_trial(best))
    assert "models" not in namespace and "train" not in namespace  # nothing was fitted
    assert_shows_stored_holdout(printed, best.user_attrs[ledger.HOLDOUT])
    segments = namespace["per_species"]  # iris's words: flowers and species
    assert segments["rows"].sum() == 30 and (segments["found_after"] <= segments["rows"]).all()


def test_part_two_retrains_both_models_to_the_stored_scores(text, best, tiny_report):
    namespace, printed = run_code_cells(text, tiny_report / "reports")
    assert "iris: 120 training rows, 30 held-out rows" in printed
    # Retrained on the machine that ran the study: the same numbers, not only within tolerance.
    assert_retrains_within_tolerance(namespace, best.user_attrs[ledger.HOLDOUT], 1e-4)


def test_only_the_retraining_cells_are_left_without_outputs(text):
    cells = [c for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
    retrain = ["retrain" in c["metadata"].get("tags", []) for c in cells]
    assert retrain == [False] * 5 + [True] * 4
    assert all(
        c["outputs"] == [] and c["execution_count"] is None
        for c, tagged in zip(cells, retrain, strict=True)
        if tagged
    )
    assert all(
        c["outputs"]
        for c, tagged in zip(cells, retrain, strict=True)
        if not tagged and "print(" in "".join(c["source"])
    )


def test_it_saves_the_model_and_scores_new_rows(text, tiny_report, tmp_path):
    namespace, printed = run_code_cells(text, tiny_report / "reports")
    assert namespace["MODEL_PATH"].is_file()
    assert namespace["MODEL_PATH"].is_relative_to(tmp_path)  # the test's temp folder, not /tmp
    assert next(iter(namespace["scored"].columns)) == "predicted species"
    assert len(namespace["scored"]) == 5
    assert f"saved {namespace['MODEL_PATH'].name}" in printed


@pytest.mark.slow
@pytest.mark.parametrize("name", ["teleconnect-small"])
def test_the_committed_notebook_runs_in_a_jupyter_kernel_from_reports(name, monkeypatch):
    """Part 1's committed outputs are what a kernel prints from reports/ (exactly: they come
    from the storage); part 2 retrains within the notebook's stated tolerance on any machine."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = CHECKOUT / "reports" / f"{name}.ipynb"
    committed = nbformat.read(path, as_version=4)
    document = nbformat.read(path, as_version=4)
    for cell in document.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # The kernel imports this checkout's harness.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(CHECKOUT), os.environ.get("PYTHONPATH", "")])
    )
    client = nbclient.NotebookClient(
        document,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(CHECKOUT / "reports")}},
        record_timing=False,
    )
    client.execute()

    def printed(nb, retrain):
        return [
            "".join(o.get("text", ""))
            for c in nb.cells
            if c.cell_type == "code" and ("retrain" in c.metadata.get("tags", [])) == retrain
            for o in c.outputs
            if o.get("name") == "stdout"
        ]

    assert printed(document, False) == printed(committed, False)
    assert any("f1_macro" in block for block in printed(document, False))
    assert printed(committed, True) == []  # part 2 is not committed with outputs
    rows = [line.split() for block in printed(document, True) for line in block.splitlines()]
    changes = [float(row[-1]) for row in rows if row and row[0] in HEADLINE_METRICS]
    assert len(changes) == 2 * len(HEADLINE_METRICS)
    assert max(abs(change) for change in changes) <= RETRAIN_TOLERANCE
