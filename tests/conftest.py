"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
PROJECT_DATA = CHECKOUT / "data"
# The machine's temp folder, read before any fixture points tempfile at a test's own folder: the
# throw-away PostgreSQL server (tests/postgres.py) runs as the postgres user, who cannot enter
# root's 0700 pytest folders, so its folder (removed afterwards) goes here.
os.environ.setdefault("HARNESS_TEST_MACHINE_TEMP", tempfile.gettempdir())

OUTPUT_FOLDERS = ("reports", "drawio", "leaderboards", "studies", "data", "search_spaces")
"""Where the harness writes by default (relative to the current folder) or keeps committed
files: no test may add or change a file there."""


@pytest.fixture(scope="session", autouse=True)
def _system_temp_in_the_session_folder(tmp_path_factory):
    """The system temp folder (``tempfile.gettempdir()``, ``TMPDIR`` for subprocesses such as
    a notebook's kernel) is a folder of this session's, so nothing a session fixture or a
    notebook saves there (the tuned model's ``MODEL_PATH``) lands in the machine's ``/tmp``."""
    temp = tmp_path_factory.mktemp("system-temp")
    with pytest.MonkeyPatch.context() as patch:
        _system_temp_at(patch, temp)
        yield temp


@pytest.fixture(autouse=True)
def _in_its_own_folder(tmp_path, monkeypatch):
    """Every test runs from its own temporary folder, so a default output path (reports/,
    drawio/, studies/harness.db, leaderboards/) can never land in the checkout, and its
    system temp folder is one of its own too."""
    monkeypatch.chdir(tmp_path)
    temp = tmp_path / "system-temp"
    temp.mkdir()
    _system_temp_at(monkeypatch, temp)


def _system_temp_at(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point this process's ``tempfile`` and its subprocesses' ``TMPDIR`` at ``folder``."""
    patch.setenv("TMPDIR", str(folder))
    patch.setattr(tempfile, "tempdir", str(folder))


def _changed_files() -> set[str]:
    """Untracked or modified files under :data:`OUTPUT_FOLDERS`, as git sees them."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", *OUTPUT_FOLDERS],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: nothing to compare
        return set()
    return {line[3:] for line in out.splitlines()}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _changed_files()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # One pytest worker per core (scripts/test.sh): a second torch thread each would only
        # make the workers fight over the cores.
        import torch

        torch.set_num_threads(1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote into the checkout's output or data folders."""
    written = sorted(_changed_files() - session.config.stash.get(_BEFORE, set()))
    if written:
        session.config.get_terminal_writer().line(
            "tests wrote into the checkout (each test must write under its tmp_path only): "
            + ", ".join(written),
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str]]()


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
    from helpers import single_torch_thread

    with single_torch_thread():
        yield


@pytest.fixture(scope="session")
def tiny_report(tmp_path_factory) -> Path:
    """The folder of the tiny comparison with its storage, report, diagrams and notebook
    (see :func:`tiny_comparison.build_tiny_report`): built once a session."""
    from tiny_comparison import build_tiny_report

    return build_tiny_report(tmp_path_factory)


@pytest.fixture(scope="session")
def wine():
    """scikit-learn's wine data (178 rows, 13 features, 3 classes): the trainer tests' task."""
    from harness.data.datasets import load_dataset

    return load_dataset("sklearn-wine")


@pytest.fixture(scope="session")
def wine_folds(wine):
    """Three stratified folds of :func:`wine`, seed 0."""
    from harness.data.splits import make_folds

    return make_folds(wine.y, 3, seed=0)
