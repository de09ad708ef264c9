"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's ``data/`` folder, where teleconnect.csv and the wine files are committed.

    A missing file fails loudly: these tests must not be skipped silently.
    """
    if not (PROJECT_DATA / "teleconnect.csv").is_file():
        pytest.fail(f"no teleconnect.csv in {PROJECT_DATA}: the data files belong in the checkout")
    return PROJECT_DATA


@pytest.fixture
def one_torch_thread():
    """Train on one torch thread (as workers do), restoring the count afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
