"""The generated notebook: valid nbformat 4, and its code reproduces the stored held-out scores."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from notebook_runner import assert_reproduces_holdout, run_code_cells
from tiny_comparison import COMPARISON, build_tiny_report

from harness.results.loading import load_results, refitted_trial
from harness.study import ledger
from harness.study.comparison import load_comparison


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_tiny_report(tmp_path_factory)


@pytest.fixture
def text(root):
    return (root / "reports" / "tiny.ipynb").read_text(encoding="utf-8")


@pytest.fixture
def best(root, monkeypatch):
    monkeypatch.chdir(root)
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


def test_the_code_cells_reproduce_the_stored_held_out_scores(text, best):
    namespace, rows = run_code_cells(text)
    assert namespace["BEST"] == ledger.stored_config(refitted_trial(best))
    assert rows["iris:"] == ["120", "training", "rows,", "30", "held-out", "rows"]
    assert_reproduces_holdout(rows, best.user_attrs[ledger.HOLDOUT])


def test_it_saves_the_model_and_scores_new_rows(text):
    namespace, rows = run_code_cells(text)
    assert namespace["MODEL_PATH"].is_file()
    assert next(iter(namespace["scored"].columns)) == "predicted segment"
    assert len(namespace["scored"]) == 5
    assert rows["saved"] == [namespace["MODEL_PATH"].name]


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["teleconnect-small"])
def test_the_committed_notebook_runs_in_a_jupyter_kernel_from_reports(name, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "reports" / f"{name}.ipynb"
    committed = nbformat.read(path, as_version=4)
    document = nbformat.read(path, as_version=4)
    for cell in document.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # The kernel imports this checkout's harness.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(
        document, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "reports")}}, record_timing=False,
    )  # fmt: skip
    client.execute()

    def printed(nb):
        return [
            "".join(o.get("text", ""))
            for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if o.get("output_type") == "stream"
        ]  # fmt: skip

    # The committed outputs are what a kernel prints from reports/: the same text, cell by cell.
    assert printed(document) == printed(committed)
    assert any("f1_macro" in block for block in printed(document))
