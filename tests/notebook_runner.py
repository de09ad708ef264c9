"""Run a generated notebook's code cells in-process, as a reader would run them top to bottom."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
import torch

from harness import HEADLINE_METRICS
from harness.report.notebook import code_cells
from harness.study.holdout import BASELINE, TUNED


def run_code_cells(text: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Execute the notebook ``text``; return its namespace and its printed rows by first word."""
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(printed):
            for number, source in enumerate(code_cells(text)):
                exec(compile(source, f"cell-{number}", "exec"), namespace)
    finally:
        torch.set_num_threads(threads)
    rows = {line.split()[0]: line.split()[1:] for line in printed.getvalue().splitlines()}
    return namespace, rows


def assert_reproduces_holdout(rows: dict[str, list[str]], holdout: dict[str, Any]) -> None:
    """Check the printed before/after metrics against the stored held-out scores."""
    for metric in HEADLINE_METRICS:
        before, after, change = map(float, rows[metric])
        assert before == pytest.approx(holdout[BASELINE]["scores"][metric], abs=1e-4)
        assert after == pytest.approx(holdout[TUNED]["scores"][metric], abs=1e-4)
        assert change == pytest.approx(after - before, abs=2e-4)
