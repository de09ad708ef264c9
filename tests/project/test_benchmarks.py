"""The benchmark scripts run, and each rewrites only its own section of BENCHMARKS.md."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import CHECKOUT

BENCHMARKS = CHECKOUT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from _common import write_section  # noqa: E402

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


def test_a_benchmark_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write_section("speed", "first", path)
    write_section("other", "kept", path)
    write_section("speed", "second", path)
    text = path.read_text()
    assert "second" in text and "first" not in text and "kept" in text
    assert text.index("second") < text.index("kept")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("estimator_speed.py", "| harness MLPClassifier |"),
        ("workers_speed.py", "| 2 |"),
        ("cv_trial_speed.py", "| teleconnect, batch 32 | harness batched |"),
        ("batch_regret.py", "| Hartmann-6 | random | 8 |"),
    ],
)
def test_quick_mode_runs_and_prints_its_table(script, expected):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert expected in result.stdout
