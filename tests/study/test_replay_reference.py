"""The committed reference replays: files, tables and leaderboards; a smaller one rebuilds.

The reference replay storages (tens of MB) are not committed; their leaderboards are, and the
tables they are rebuilt from are (``studies/teleconnect-small-tables.db``: the exhaustive
``mlp-small`` grids of task seeds 0, 1 and 2). This rebuilds a smaller replay of the same files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import CHECKOUT

from harness.results.loading import load_results, write_comparison_leaderboard
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.replay import comparison_specs, run_replay

FILES = sorted((CHECKOUT / "studies").glob("replay-*.toml"))


def test_every_reference_replay_has_a_committed_leaderboard() -> None:
    assert len(FILES) >= 12
    for path in FILES:
        assert (CHECKOUT / "leaderboards" / f"{path.stem}.md").is_file(), path.stem


@pytest.mark.parametrize(
    "stem", ["replay-teleconnect-small-b25-w4", "replay-branin-b50-w1", "replay-hartmann6-b25-w4"]
)
def test_a_smaller_replay_rebuilds(stem: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(CHECKOUT)  # the table URLs are relative to the project root
    comparison = load_comparison(CHECKOUT / "studies" / f"{stem}.toml")
    small = dataclasses.replace(
        comparison,
        strategies=("random", "tpe", "grid"),
        seeds=(0, 1, 2),
        storage=f"sqlite:///{tmp_path / 'small.db'}",
        processes=1,
    )
    specs = comparison_specs(small)
    if comparison.tables:  # seed s on table s % 3: three task seeds, three optima
        assert [spec.task_seed for spec in specs[:3]] == [0, 1, 2]
    summary = run_replay(small)
    assert summary.trials == 9 * comparison.trials
    results = load_results(small)
    assert all(len(study.trials) == comparison.trials for study in results.studies)
    for study, spec in zip(results.studies, specs, strict=True):
        assert study.user_attrs[ledger.OPTIMUM] == spec.task.optimum
        assert study.best_value <= spec.task.optimum + 1e-12
    assert write_comparison_leaderboard(results, tmp_path).is_file()
