"""The README's Python example runs as written, and its reference results are the outputs'."""

from __future__ import annotations

import re
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
README = CHECKOUT / "README.md"

INTERVAL = re.compile(r"\[[-+]?\d+\.\d+, [-+]?\d+\.\d+\]")
ESTIMATE = re.compile(r"([-+]?\d+\.\d+) (\[[-+]?\d+\.\d+, [-+]?\d+\.\d+\])")
"""A figure with its interval: both must come from one line of one output."""
MEASURED = re.compile(r"(?<![\w.\[-])[-+]?\d+\.\d{2,}(?![\d,\]])")
"""A number with two or more decimals outside an interval: a measured figure, not a count."""


def test_the_estimator_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    search = namespace["search"]
    assert search.score(namespace["X"], namespace["y"]) > 0.9  # wine: three separable cultivars


def _section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _committed_outputs() -> str:
    """Every committed leaderboard and report (rebuilt byte for byte from the committed storage
    by tests/test_reference_outputs.py) and BENCHMARKS.md."""
    files = [
        *sorted((CHECKOUT / "leaderboards").glob("*.md")),
        *sorted((CHECKOUT / "leaderboards").glob("*.csv")),
        *sorted((CHECKOUT / "reports").glob("*.md")),
        CHECKOUT / "BENCHMARKS.md",
    ]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def _numbers(text: str) -> set[str]:
    """Every decimal number the text prints, whole (0.3920 is not a part of 0.39207), unsigned."""
    return set(re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", text))


def test_every_reference_result_in_the_readme_is_printed_by_a_committed_output():
    """The README restates the reference results: each interval and each measured figure is
    copied from an output that its storage rebuilds, to the printed digits."""
    section = _section(README.read_text(encoding="utf-8"), "Reference results")
    outputs = _committed_outputs()
    intervals = INTERVAL.findall(section)
    figures = MEASURED.findall(INTERVAL.sub(" ", section))
    assert len(intervals) >= 10 and len(figures) >= 40  # the pattern still finds the results
    assert [i for i in dict.fromkeys(intervals) if i not in outputs] == []
    printed = _numbers(outputs)
    assert [f for f in dict.fromkeys(figures) if f.lstrip("+-") not in printed] == []
    lines = outputs.splitlines()
    estimates = ESTIMATE.findall(section)
    assert len(estimates) >= 10
    unsupported = [
        f"{figure} {interval}"
        for figure, interval in dict.fromkeys(estimates)
        if not any(interval in line and figure.lstrip("+-") in _numbers(line) for line in lines)
    ]
    assert unsupported == []


def test_the_readme_check_catches_a_figure_no_output_prints():
    outputs = _committed_outputs()
    assert "0.3920" in _numbers(outputs)  # the figure the README quotes, to the printed digits
    assert "0.39207" not in _numbers(outputs) and "[0.3883, 0.3958]" not in outputs
    lines = outputs.splitlines()
    # 0.3921 is printed (by a replay table) and so is [0.3883, 0.3957], but never together.
    assert "0.3921" in _numbers(outputs) and "[0.3883, 0.3957]" in outputs
    assert not any("[0.3883, 0.3957]" in line and "0.3921" in _numbers(line) for line in lines)
    section = "GP has 0.39207 [0.3883, 0.3958]"
    assert MEASURED.findall(INTERVAL.sub(" ", section)) == ["0.39207"]
    assert INTERVAL.findall(section) == ["[0.3883, 0.3958]"]
