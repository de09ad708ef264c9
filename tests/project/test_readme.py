"""The README's Python example runs as written, and its reference results are the outputs'."""

from __future__ import annotations

import re

from helpers import CHECKOUT

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
    by tests/project/test_reference_outputs.py) and BENCHMARKS.md."""
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


def _unsupported(section: str, outputs: str) -> list[str]:
    """What ``section`` quotes that no line of ``outputs`` prints: intervals, measured figures
    (to the printed digits) and figure-with-interval pairs (both on one line of one output)."""
    printed = _numbers(outputs)
    lines = outputs.splitlines()
    intervals = [i for i in dict.fromkeys(INTERVAL.findall(section)) if i not in outputs]
    figures = MEASURED.findall(INTERVAL.sub(" ", section))
    lone = [f for f in dict.fromkeys(figures) if f.lstrip("+-") not in printed]
    pairs = [
        f"{figure} {interval}"
        for figure, interval in dict.fromkeys(ESTIMATE.findall(section))
        if not any(interval in line and figure.lstrip("+-") in _numbers(line) for line in lines)
    ]
    return intervals + lone + pairs


def test_every_result_in_the_readme_is_printed_by_a_committed_output():
    """The README restates results (the reference comparisons, the benchmarks): each interval
    and each measured figure is copied from an output that its storage rebuilds, or from
    BENCHMARKS.md, to the printed digits. Code blocks are examples, not results."""
    text = re.sub(r"```.*?```", " ", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    section = _section(text, "Reference results")
    # The patterns still find the results (a reformatted README must not pass vacuously).
    assert len(INTERVAL.findall(section)) >= 10 and len(ESTIMATE.findall(section)) >= 10
    assert len(MEASURED.findall(INTERVAL.sub(" ", section))) >= 40
    assert _unsupported(text, _committed_outputs()) == []


def test_the_readme_check_catches_what_no_output_prints():
    outputs = "| gp | 0.3920 | [0.3883, 0.3957] |\n| replay | 0.3921 | [0.3800, 0.4000] |"
    assert _unsupported("GP has 0.3920 [0.3883, 0.3957], p = 0.0781", outputs) == ["0.0781"]
    assert _unsupported("GP has 0.3920 [0.3883, 0.3957]", outputs) == []
    # Each number is printed, but never together: the pair is not supported.
    assert _unsupported("GP has 0.3921 [0.3883, 0.3957]", outputs) == ["0.3921 [0.3883, 0.3957]"]
    # A rounded or extended figure is not the printed one.
    assert _unsupported("GP has 0.39207 and 0.392", outputs) == ["0.39207", "0.392"]
    assert _unsupported("GP has [0.3883, 0.3958]", outputs) == ["[0.3883, 0.3958]"]
