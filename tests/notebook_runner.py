"""Run a generated notebook's code cells in-process, as a reader would run them top to bottom."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
import torch

from harness import HEADLINE_METRICS
from harness.report.notebook import RETRAIN_TOLERANCE, code_cells
from harness.study.holdout import BASELINE, TUNED


def run_code_cells(
    text: str, folder: str | Path, *, retrain: bool = True
) -> tuple[dict[str, Any], str]:
    """Execute the notebook ``text`` from ``folder`` (where it lies: its storage path is
    relative to it); return its namespace and what it printed. ``retrain=False`` runs part 1
    only (the cells the report runs)."""
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with contextlib.chdir(folder), contextlib.redirect_stdout(printed):
            for number, source in enumerate(code_cells(text, retrain=retrain)):
                exec(compile(source, f"cell-{number}", "exec"), namespace)
    finally:
        torch.set_num_threads(threads)
    return namespace, printed.getvalue()


def assert_shows_stored_holdout(printed: str, holdout: dict[str, Any]) -> None:
    """Part 1's before/after table is the stored held-out scores, to the printed digits."""
    rows: dict[str, list[str]] = {}
    for line in printed.splitlines():  # part 1's table comes first; part 2's rows follow it
        if line.split():
            rows.setdefault(line.split()[0], line.split()[1:])
    for metric in HEADLINE_METRICS:
        before, after, change = map(float, rows[metric][:3])
        stored_before = holdout[BASELINE]["scores"][metric]
        stored_after = holdout[TUNED]["scores"][metric]
        # Each printed number is the stored one rounded to 4 decimals.
        assert before == pytest.approx(stored_before, abs=5e-5)
        assert after == pytest.approx(stored_after, abs=5e-5)
        assert change == pytest.approx(stored_after - stored_before, abs=5e-5)


def assert_retrains_within_tolerance(
    namespace: dict[str, Any], holdout: dict[str, Any], tolerance: float = RETRAIN_TOLERANCE
) -> None:
    """Part 2's retrained scores are the stored ones within ``tolerance`` (the notebook's own)."""
    keys = namespace["MODELS"]
    for name, scores in namespace["retrained"].items():
        for metric in HEADLINE_METRICS:
            stored = holdout[keys[name]]["scores"][metric]
            assert scores[metric] == pytest.approx(stored, abs=tolerance), (name, metric)
