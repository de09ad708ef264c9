"""The generated notebook: valid nbformat 4, and its code reproduces the stored held-out scores."""

from __future__ import annotations

import json

import pytest
from notebook_runner import assert_reproduces_holdout, run_code_cells
from tiny_comparison import COMPARISON, build_tiny_report

from harness.report.tuned_model import best_study, refitted_trial
from harness.results.loading import load_results
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
    return best_study(load_results(load_comparison(COMPARISON)))


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
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_the_code_cells_reproduce_the_stored_held_out_scores(text, best):
    namespace, rows = run_code_cells(text)
    assert namespace["BEST"] == ledger.stored_config(refitted_trial(best))
    assert rows["iris:"] == ["120", "training", "rows,", "30", "held-out", "rows"]
    assert_reproduces_holdout(rows, best.user_attrs[ledger.HOLDOUT])
