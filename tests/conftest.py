"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The directory holding teleconnect.csv and the wine files.

    CI exports ``HARNESS_DATA_DIR`` (``.ci/run``); a checkout with ``../shared``
    beside it works without it. A missing directory fails loudly: these tests
    must not be skipped silently.
    """
    path = Path(os.environ.get("HARNESS_DATA_DIR", SHARED_DATA))
    if not (path / "teleconnect.csv").is_file():
        pytest.fail(f"no teleconnect.csv in {path}: set HARNESS_DATA_DIR to the shared data folder")
    return path
