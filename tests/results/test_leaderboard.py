"""Leaderboard tables and their Markdown/CSV files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_frame

from harness.errors import ConfigError
from harness.results import efficiency, leaderboard


@pytest.fixture
def comparison() -> pd.DataFrame:
    """Three strategies, three seeds, four trials; "fast" reaches 1.0 at trial 3."""
    runs = {
        ("random", 0): [0.5, 0.6, 0.7, 0.8],
        ("random", 1): [0.6, 0.6, 0.7, 0.7],
        ("random", 2): [0.4, 0.7, 0.7, 0.9],
    }
    runs |= {("fast", s): [0.5, 0.6, 1.0, "F"] for s in range(3)}
    runs |= {("slow", s): [0.3, "P", 0.4, 0.5] for s in range(3)}
    optimizers = ["adam", "sgd", "rmsprop", "adamw"]
    return make_frame(
        runs,
        optimizer=dict.fromkeys(runs, optimizers),
        imbalance={run: ["none", "smote", "none", "weights"] for run in runs},
    )


def test_efficiency_table_ranks_strategies(comparison):
    table = leaderboard.efficiency_table(comparison, optimum=1.0, n_boot=200)
    assert table["strategy"].tolist() == ["fast", "random", "slow"]
    assert table["rank"].tolist() == [1, 2, 3]
    fast = table.iloc[0]
    # Every run proposes the same configurations in every position, so the shared start-up
    # covers the whole budget and the AUC falls back to all trials.
    assert fast["from_trial"] == 1
    assert fast["auc_nr"] == pytest.approx(0.5)
    assert fast["success"] == 1.0
    assert fast["final_rank"] == 1.0
    assert (fast["ttt_trials"], fast["ttt_seconds"]) == (3.0, 6.0)
    slow = table.set_index("strategy").loc["slow"]
    assert slow["ttt_censored"] and math.isnan(slow["ttt_seconds"])  # a bound, not a value
    assert fast["overhead"] == pytest.approx(0.25)
    assert (fast["seeds"], fast["trials"]) == (3, 12)
    # The optimum of the compared runs themselves: no target, so no success or time to it.
    circular = leaderboard.efficiency_table(comparison, n_boot=50)
    assert circular["success"].isna().all() and circular["ttt_trials"].isna().all()
    assert not circular["ttt_censored"].any()


def test_efficiency_ties_on_infinite_regret_are_broken_by_plain_regret():
    runs = {("random", s): [1.0, 1.0] for s in range(2)}
    runs |= {("slow", s): [0.5, 1.0] for s in range(2)}
    runs |= {("slower", s): [0.2, 0.9] for s in range(2)}
    table = leaderboard.efficiency_table(make_frame(runs), n_boot=50)
    assert table["strategy"].tolist() == ["random", "slow", "slower"]
    assert math.isinf(table["auc_nr"].iloc[2])


def test_equal_keys_share_a_rank():
    runs = {(name, s): [0.5, 0.9] for name in ("random", "a") for s in range(2)}
    table = leaderboard.final_score_table(make_frame(runs), n_boot=50)
    assert table["rank"].tolist() == [1, 1]


def test_final_score_table(comparison):
    table = leaderboard.final_score_table(comparison, n_boot=200)
    assert table["strategy"].tolist() == ["fast", "random", "slow"]
    assert table["mean"].tolist() == pytest.approx([1.0, 0.8, 0.5])
    # Three paired seeds cannot reach p < 0.05: no p-value is claimed.
    assert table["wilcoxon_p"].isna().all()
    assert table["pairs"].tolist() == [3, 3, 3]
    assert table["fail_rate"].tolist() == pytest.approx([0.25, 0.0, 0.0])
    # All three "fast" seeds end at 1.0: no zero-width interval is shown as evidence.
    assert table["interval"].iloc[0] == "n/a (all seeds equal)"
    assert table["prune_rate"].tolist() == pytest.approx([0.0, 0.0, 0.25])


def test_markdown_numbers_are_formatted_by_column():
    table = pd.DataFrame(
        {
            "strategy": ["a|b", "c"],
            "seeds": [5, 1],
            "ttt_seconds": [12.345, 0.04],
            "wilcoxon_p": [0.012345, np.nan],
            "mean": [0.123456, 0.5],
            "fail_rate": [0.125, 0.0],
            "auc_nr": [np.inf, 0.25],
            "ttt_censored": [True, False],
            "param_lr": [0.00123456, 0.1],
        }
    )
    text = leaderboard.render_markdown({"t": table}, "demo", ["Two rows."])
    lines = text.splitlines()
    assert lines[:5] == ["# demo", "", "Two rows.", "", "## t"]
    assert lines[6].startswith("Columns: `strategy`: search strategy; `seeds`:")
    first = [cell.strip() for cell in lines[10].strip("|").split(" | ")]
    assert first == ["a\\|b", "5", "12.3", "0.0123", "0.1235", "12.5%", "inf", "yes", "0.001235"]
    second = [cell.strip() for cell in lines[11].strip("|").split(" | ")]
    assert second[3] == "n/a" and second[7] == "no"
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_leaderboard_tables_skip_missing_parameters(comparison):
    baselines = pd.DataFrame({"accuracy": [0.5, 0.7]}, index=["majority", "logreg"])
    tables = leaderboard.leaderboard_tables(
        comparison,
        params=("optimizer", "dropout"),
        test_scores={"fast-0": 0.9},
        baselines=baselines,
        n_boot=50,
    )
    # The optimum is a compared run's: targets near it are reached by construction, so none.
    assert list(tables) == [
        "startup",
        "efficiency",
        "timing",
        "final",
        "ranking",
        "pairwise",
        "power",
        "curves",
        "by_optimizer",
        "generalization",
        "baselines",
    ]
    independent = leaderboard.leaderboard_tables(comparison, optimum=1.0, n_boot=50)
    assert {"targets", "ecdf"} <= set(independent)


def test_curve_table_samples_each_strategy_at_the_budget_checkpoints(comparison):
    table = leaderboard.curve_table(comparison, n_boot=50)
    last = int(comparison["trial"].max())
    expected = sorted({max(1, math.ceil(f * last)) for f in leaderboard.CHECKPOINTS})
    for _, rows in table.groupby("strategy"):
        assert rows["trial"].tolist() == expected
        assert rows["median"].is_monotonic_increasing  # an incumbent never gets worse
    finals = efficiency.final_incumbents(comparison).groupby(level="strategy").median()
    at_budget = table[table["trial"] == last].set_index("strategy")["median"]
    pd.testing.assert_series_equal(at_budget.sort_index(), finals.sort_index(), check_names=False)


def test_written_files_are_reproducible_and_csv_round_trips(comparison, tmp_path):
    tables = leaderboard.leaderboard_tables(comparison, n_boot=100)
    tables["study"] = leaderboard.study_leaderboard(comparison[comparison["study"] == "fast-0"])
    notes = ["Reference comparison: 3 strategies x 3 seeds x 4 trials."]
    figures = leaderboard.leaderboard_figures(comparison)
    paths = leaderboard.write_leaderboard(tables, tmp_path / "one", "ref", notes, figures)
    names = ["ref.md", *(f"ref-{key}.csv" for key in tables), "ref-ranking.png"]
    assert [p.name for p in paths] == names
    rebuilt = leaderboard.leaderboard_tables(comparison, n_boot=100)
    rebuilt["study"] = leaderboard.study_leaderboard(comparison[comparison["study"] == "fast-0"])
    figures = leaderboard.leaderboard_figures(comparison)
    again = leaderboard.write_leaderboard(rebuilt, tmp_path / "two", "ref", notes, figures)
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes()
    for key, path in zip(tables, paths[1:-1], strict=True):
        read = pd.read_csv(path)
        pd.testing.assert_frame_equal(read, tables[key])
    markdown = paths[0].read_text()
    assert "## by_imbalance" in markdown and "| fast " in markdown


def test_file_names_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="file name"):
        leaderboard.write_leaderboard({"a/b": pd.DataFrame()}, tmp_path, "ok")
    with pytest.raises(ConfigError, match="file name"):
        leaderboard.write_leaderboard({}, tmp_path, "../escape")


def test_study_leaderboard_top_k_with_ties_and_fold_std():
    frame = make_frame({("tpe", 0): [0.7, "F", 0.9, 0.7, 0.8]}, lr={("tpe", 0): [1, 2, 3, 4, 5]})
    frame["std_accuracy"] = [0.01, np.nan, 0.02, 0.03, 0.04]
    top = leaderboard.study_leaderboard(frame, k=4)
    assert top["number"].tolist() == [2, 4, 0, 3]
    assert top["rank"].tolist() == [1, 2, 3, 3]
    assert top.columns.tolist() == [
        "rank",
        "number",
        "value",
        "std_accuracy",
        "trial_seconds",
        "param_lr",
    ]
    assert top["std_accuracy"].tolist() == [0.02, 0.04, 0.01, 0.03]
    two = pd.concat([frame, frame.assign(study="other")])
    with pytest.raises(ConfigError, match="one study"):
        leaderboard.study_leaderboard(two)


def test_baselines_table_names_and_orders_rows():
    baselines = pd.DataFrame(
        {"accuracy": [0.5, 0.7], "test_f1": [0.3, 0.6], "note": ["x", "y"]},
        index=["majority", "logreg"],
    )
    table = leaderboard.baselines_table(baselines)
    assert table.columns.tolist() == ["baseline", "test_accuracy", "test_f1", "note"]
    assert table["baseline"].tolist() == ["logreg", "majority"]
    with pytest.raises(ConfigError, match="numeric"):
        leaderboard.baselines_table(pd.DataFrame({"baseline": ["a"], "note": ["x"]}))
