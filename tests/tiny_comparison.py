"""The tiny iris comparison with its report, built once per test session for the report tests.

Running the comparison trains a few dozen small models (about 20 s); the
report, drawio and notebook tests all read the same storage and outputs.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, single_torch_thread

from harness.cli import main

COMPARISON = "tiny-comparison.toml"


def build_tiny_report(factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding the tiny comparison, its storage, report, diagrams and notebook.

    The first call of a session runs ``compare`` and ``report`` there; later
    calls find the report and return the same folder.
    """
    root = factory.getbasetemp() / "tiny-report"
    if (root / "reports" / "tiny.md").is_file():
        return root
    root.mkdir(exist_ok=True)
    for name in ("tiny.toml", COMPARISON):
        shutil.copy(FIXTURES / name, root / name)
    with single_torch_thread(), contextlib.chdir(root):
        assert main(["compare", COMPARISON, "--quiet"]) == 0
        assert main(["report", COMPARISON]) == 0
    return root
