"""A non-editable install finds its built-in search spaces from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CHECKOUT

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project installed (not editable) into a folder of its own, dependencies excluded."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(CHECKOUT),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _harness(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("HARNESS_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_package_is_the_one_imported(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    out = subprocess.run(
        [sys.executable, "-c", "import harness; print(harness.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()).is_relative_to(installed)


def test_spaces_lists_the_built_in_spaces_outside_the_checkout(installed, tmp_path):
    result = _harness(installed, tmp_path, "spaces")
    assert result.returncode == 0, result.stderr
    assert "mlp-small" in result.stdout
    assert any(line.split()[0] == "mlp" for line in result.stdout.splitlines()[2:])
    assert str(installed) in result.stdout  # read from the installed copy


def test_run_uses_a_built_in_space_outside_the_checkout(installed, tmp_path):
    result = _harness(
        installed,
        tmp_path,
        "run",
        "--dataset",
        "iris",
        "--space",
        "mlp-small",
        "--trials",
        "1",
        "--folds",
        "2",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "best trial" in result.stdout
    assert (tmp_path / "studies" / "harness.db").is_file()


def test_the_installed_package_carries_every_built_in_space(installed):
    """Every file under search_spaces/, the analytic ones in their subfolder too."""
    shipped = {
        path.relative_to(CHECKOUT / "search_spaces").as_posix()
        for path in (CHECKOUT / "search_spaces").rglob("*.toml")
    }
    spaces = installed / "harness" / "search" / "builtin_spaces"
    installed_spaces = {path.relative_to(spaces).as_posix() for path in spaces.rglob("*.toml")}
    assert any(name.startswith("analytic/") for name in shipped)
    assert installed_spaces == shipped


def test_the_installed_package_carries_the_datasets_words(installed):
    """Every package data file a module reads at import, not only the spaces."""
    words = Path("harness", "data", "vocabularies.toml")
    assert (installed / words).read_bytes() == (CHECKOUT / words).read_bytes()
