"""Tables that hold: shared start-up, independent targets, timing, small-n stats, held-out rows.

Each test fails on the behaviour the tables had before (issue 13): start-up trials
shared silently, a circular optimum, censored medians printed as point values,
percentile intervals at n = 5, zero-width intervals shown as evidence, no power
statement, held-out numbers without uncertainty.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_frame

from harness.results import (
    design,
    efficiency,
    generalization,
    leaderboard,
    ranking,
    statistics,
    targets,
    timing,
)
from harness.results.efficiency import strategy_trials


def _configs(runs, shared: int, seed_offset: int = 0) -> dict:
    """Per-run lr values: the first ``shared`` positions equal across strategies of a seed."""
    values = {}
    # Not hash(strategy): str hashes change from process to process, and one that is 0 modulo
    # the offset made a strategy's own values equal the shared ones (a flaky prefix).
    names = sorted({strategy for strategy, _ in runs})
    for strategy, seed in runs:
        offset = 1000 * (1 + names.index(strategy))
        own = [offset + k for k in range(len(runs[strategy, seed]))]
        values[strategy, seed] = [seed * 100 + k if k < shared else own[k] for k in range(len(own))]
    return values


@pytest.fixture
def shared() -> pd.DataFrame:
    """random and tpe start with the same 3 configurations; gp never shares."""
    runs = {(name, s): [0.5, 0.6, 0.7, 0.8, 0.9] for name in ("random", "tpe") for s in range(3)}
    runs |= {("gp", s): [0.4, 0.5, 0.6, 0.7, 0.8] for s in range(3)}
    lr = _configs(runs, shared=3)
    lr |= {("gp", s): [5000 + s * 10 + k for k in range(5)] for s in range(3)}
    return make_frame(runs, lr=lr)


def test_shared_startup_found_from_configurations(shared):
    table = design.shared_startup(shared)
    assert table[["strategy_a", "strategy_b"]].values.tolist() == [["random", "tpe"]]
    row = table.iloc[0]
    assert (row["seeds"], row["shared_seeds"], row["prefix_max"]) == (3, 3, 3)
    assert design.shared_startup_horizon(shared) == 3


def test_efficiency_ranks_only_beyond_the_shared_startup(shared):
    table = leaderboard.efficiency_table(shared, n_boot=20)
    assert set(table["from_trial"]) == {4}


def test_reference_trials_are_not_strategy_trials():
    frame = make_frame({("random", 0): [0.99, 0.5, 0.6], ("tpe", 0): [0.99, 0.4, 0.7]})
    frame["reference"] = frame["trial"] == 1
    kept = strategy_trials(frame)
    assert kept["trial"].tolist() == [1, 2, 1, 2]
    # The baseline's 0.99 is not an incumbent: the optimum comes from the strategies' trials.
    assert targets.resolve_optimum(frame, None, "").value == 0.7


@pytest.fixture
def race() -> pd.DataFrame:
    runs = {("random", s): [0.5, 0.6, 0.7, 0.7] for s in range(4)}
    runs |= {("fast", s): [0.5, 0.9, 1.0, 1.0] for s in range(4)}
    runs |= {("half", s): [0.5, 0.6, 0.7, 1.0 if s < 2 else 0.8] for s in range(4)}
    return make_frame(runs)


def test_optimum_from_the_compared_runs_is_labelled_circular(race):
    optimum = targets.resolve_optimum(race, None, "")
    assert optimum.circular and "circular" in optimum.label
    independent = targets.resolve_optimum(race, 1.0, "exhaustive grid")
    assert not independent.circular and independent.label == "optimum = exhaustive grid (1.0000)"
    raised = targets.resolve_optimum(race, 0.95, "reference pool")
    assert raised.circular and raised.value == 1.0


def test_target_ladder_ert_bounds_and_never_fastest_when_never_reached(race):
    optimum = targets.resolve_optimum(race, 1.0, "exhaustive grid")
    table = targets.target_table(targets.run_hits(race, optimum, ladder=(0.5, 0.01)), optimum)
    top = table[table["q"] == 0.01].set_index("strategy")
    # random's final median 0.7: the 0.01 target is 0.997.
    assert top.loc["fast", "target"] == pytest.approx(1.0 - 0.01 * 0.3)
    assert top.loc["fast", "ert_trials"] == pytest.approx(3.0)
    assert top.loc["fast", "median_trials"] == "3"
    # half: 2 of 4 seeds reach it at trial 4; ERT = (4 + 4 + 4 + 4) / 2 trials.
    assert top.loc["half", "ert_trials"] == pytest.approx(8.0)
    assert top.loc["half", "median_trials"] == ">= 4"  # half the seeds missed: a bound
    assert math.isinf(top.loc["random", "ert_trials"])
    assert top.loc["random", "median_trials"] == ">= 4"
    assert top.loc["random", "median_seconds"] == ">= 8.0"
    assert top["lowest_ert"].to_dict() == {"fast": True, "half": False, "random": False}
    assert set(table["optimum"]) == {"optimum = exhaustive grid (1.0000)"}


def test_a_strategy_that_never_reaches_a_target_is_never_lowest():
    runs = {("random", s): [0.5, 0.6] for s in range(2)}
    runs |= {("stuck", s): [0.55, 0.55] for s in range(2)}
    frame = make_frame(runs)
    optimum = targets.resolve_optimum(frame, 1.0, "grid")
    table = targets.target_table(targets.run_hits(frame, optimum), optimum)
    assert not table["lowest_ert"].any()


def test_ecdf_counts_seed_target_pairs(race):
    optimum = targets.resolve_optimum(race, 1.0, "exhaustive grid")
    table = targets.ecdf_table(
        targets.run_hits(race, optimum, ladder=(0.5, 0.01)), points=(0.5, 1.0)
    )
    fast = table[(table["strategy"] == "fast") & (table["axis"] == "trials")]
    # Targets 0.85 and 0.997: fast reaches the first at trial 2, the second at trial 3.
    assert fast["reached_rate"].tolist() == [0.5, 1.0]
    assert set(table["runs_targets"]) == {8}
    assert (table.groupby(["strategy", "axis"])["reached_rate"].diff().dropna() >= 0).all()


def test_timing_table_duplicates_failures_and_workers():
    runs = {("tpe", 0): [0.5, 0.5, "F", 0.6], ("random", 0): [0.4, 0.5, 0.6, 0.7]}
    lr = {("tpe", 0): [1, 1, 2, 3], ("random", 0): [1, 2, 3, 4]}
    frame = make_frame(runs, lr=lr)
    table = timing.timing_table(frame, workers=2).set_index("strategy")
    assert table.loc["tpe", "duplicate_rate"] == 0.25
    assert table.loc["random", "duplicate_rate"] == 0.0
    assert table.loc["tpe", "fail_reason"] == "diverged (1)"
    assert table.loc["random", "fail_reason"] == "none"
    assert set(table["workers"]) == {2}
    assert table.loc["tpe", "run_seconds"] == 8.0
    frame["duplicate"] = [False, False, False, False, False, False, False, True]
    flagged = timing.timing_table(frame).set_index("strategy")
    # The ledger's flag wins over configurations compared after the fact.
    assert flagged["duplicate_rate"].to_dict() == {"random": 0.25, "tpe": 0.0}


def test_timing_uses_cpu_seconds_and_shows_wall_seconds_with_the_load():
    runs = {("tpe", 0): [0.5, 0.6, 0.7], ("random", 0): [0.4, 0.5, 0.8]}
    frame = make_frame(runs)
    stored_before = timing.timing_table(frame).set_index("strategy")
    assert set(stored_before["clock"]) == {"wall"}  # studies without CPU time still load
    assert stored_before["cpu_seconds"].isna().all()
    # random ran on a loaded machine: the same CPU seconds took twice the wall time.
    cpu = {"tpe": 1.0, "random": 1.0}
    frame["cpu_seconds"] = frame["strategy"].map(cpu)
    frame["elapsed_cpu_seconds"] = frame.groupby("strategy")["cpu_seconds"].cumsum()
    frame["load_average"] = frame["strategy"].map({"tpe": 1.0, "random": 4.0})
    frame.loc[frame["strategy"] == "random", "elapsed_seconds"] *= 2
    table = timing.timing_table(frame).set_index("strategy")
    assert set(table["clock"]) == {"CPU"}
    assert table.loc["random", "run_cpu_seconds"] == table.loc["tpe", "run_cpu_seconds"] == 3.0
    assert table.loc["random", "run_seconds"] == 2 * table.loc["tpe", "run_seconds"]
    assert table.loc["random", "load_average"] == 4.0
    # Seconds-based analyses measure CPU seconds: the loaded run is not slower there.
    ttt = efficiency.time_to_target(frame, optimum=0.8).set_index(["strategy", "seed"])
    assert ttt.loc[("random", 0), "ttt_seconds"] == 3.0
    efficiency_table = leaderboard.efficiency_table(frame)
    assert set(efficiency_table["clock"]) == {"CPU"}


def test_t_intervals_cover_at_five_seeds():
    rng = np.random.default_rng(0)
    samples = rng.normal(0.0, 1.0, size=(2000, 5))
    per_seed = pd.Series(
        samples.ravel(),
        index=pd.MultiIndex.from_product([range(2000), range(5)], names=["strategy", "seed"]),
    )
    table = statistics.summarize(per_seed)
    coverage = float(((table["ci_low"] <= 0) & (table["ci_high"] >= 0)).mean())
    assert 0.93 <= coverage <= 0.97
    boot = statistics.summarize(per_seed.loc[:199], method="bootstrap", n_boot=200)
    boot_coverage = float(((boot["ci_low"] <= 0) & (boot["ci_high"] >= 0)).mean())
    assert boot_coverage < 0.9  # why the tables no longer use the percentile bootstrap


def test_zero_width_interval_is_not_evidence():
    frame = make_frame(
        {("a", s): [0.5, 0.9] for s in range(3)} | {("b", s): [0.1, 0.2 + s / 10] for s in range(3)}
    )
    table = ranking.interval_table(frame).set_index("strategy")
    assert table.loc["a", "interval"] == "n/a (all seeds equal)"
    assert table.loc["b", "interval"].startswith("[")


def _paired(n: int, gap: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    base = rng.normal(0.5, 0.05, n)
    runs = {("a", s): [float(base[s] + gap)] for s in range(n)}
    runs |= {("b", s): [float(base[s])] for s in range(n)}
    runs |= {("c", s): [float(base[s] - gap)] for s in range(n)}
    return make_frame(runs)


def test_power_line_says_five_seeds_cannot_reach_significance():
    table = ranking.power_table(_paired(5, 0.01))
    row = table.iloc[0]
    assert (row["best_strategy"], row["runner_up"], row["pairs"]) == ("a", "b", 5)
    assert row["verdict"].startswith("cannot reach p < 0.05 with 5 seeds")
    assert row["sd_difference"] == pytest.approx(0.0, abs=1e-12)


def test_ranking_and_pairwise_are_paired_and_holm_corrected():
    frame = _paired(10, 0.01)
    rank = ranking.ranking_table(frame).set_index("strategy")
    assert rank["avg_rank"].to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert rank["friedman_p"].iloc[0] < 0.05
    pairs = ranking.pairwise_table(frame)
    assert pairs["significant"].all()
    assert (pairs["diff_low"] > 0).all()
    power = ranking.power_table(frame).iloc[0]
    assert power["verdict"].startswith("a ahead of b")
    assert "n/a" not in str(power["wilcoxon_p"])


def test_ranking_figure_bytes_are_reproducible(tmp_path):
    frame = _paired(6, 0.01)
    first = leaderboard.write_leaderboard(
        {}, tmp_path / "1", "x", figures=leaderboard.leaderboard_figures(frame)
    )
    second = leaderboard.write_leaderboard(
        {}, tmp_path / "2", "x", figures=leaderboard.leaderboard_figures(frame)
    )
    assert first[-1].name == "x-ranking.png"
    assert first[-1].read_bytes() == second[-1].read_bytes()


def test_gap_table_puts_cv_and_test_ranks_side_by_side():
    runs = {("tpe", s): [0.8] for s in range(3)} | {("grid", s): [0.7] for s in range(3)}
    frame = make_frame(runs)
    scores = {f"tpe-{s}": 0.6 + s / 100 for s in range(3)} | {f"grid-{s}": 0.68 for s in range(3)}
    table = generalization.gap_table(frame, scores).set_index("strategy")
    assert table.loc["tpe", "cv_rank"] == 1 and table.loc["tpe", "test_rank"] == 2
    assert table.loc["tpe", "gap"] == pytest.approx(-0.19)
    assert table.loc["grid", "interval"] == "n/a (all seeds equal)"
    assert table.loc["tpe", "ci_low"] < -0.19 < table.loc["tpe", "ci_high"]


def test_holdout_without_per_row_predictions_says_not_stored():
    holdout = {"tuned MLP": {"scores": {"f1_macro": 0.4}}, "forest": {"scores": {"f1_macro": 0.3}}}
    table = generalization.holdout_table(holdout, "tuned MLP", ("f1_macro", "accuracy"))
    assert table["interval"].eq(generalization.NOT_STORED).all()
    assert table["ci_low"].isna().all() and table["metric"].tolist() == ["f1_macro"] * 2


def test_holdout_with_per_row_predictions_has_intervals_and_paired_tests():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, 200)
    good = np.where(rng.random(200) < 0.8, truth, 1 - truth)
    bad = np.where(rng.random(200) < 0.6, truth, 1 - truth)
    holdout = {
        "y_true": truth.tolist(),
        "tuned MLP": {
            "scores": {"accuracy": float(np.mean(good == truth))},
            "predicted": good.tolist(),
            "labels": [0, 1],
        },
        "forest": {
            "scores": {"accuracy": float(np.mean(bad == truth))},
            "predicted": bad.tolist(),
            "labels": [0, 1],
        },
    }
    table = generalization.holdout_table(holdout, "tuned MLP", ("accuracy",))
    table = table.set_index("model")
    tuned = table.loc["tuned MLP"]
    assert tuned["rows"] == 200 and tuned["ci_low"] < tuned["score"] < tuned["ci_high"]
    # The standard error of an accuracy near 0.8 on 200 rows is about 0.03.
    assert 0.08 < tuned["ci_high"] - tuned["ci_low"] < 0.14
    forest = table.loc["forest"]
    assert forest["tuned_minus"] == pytest.approx(tuned["score"] - forest["score"])
    assert forest["paired_p"] < 0.05 and forest["mcnemar_p"] < 0.05


def test_rows_that_do_not_give_the_stored_score_get_no_interval():
    from sklearn.metrics import log_loss

    from harness.study.holdout import significant

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 100)
    # A confident model: a row's true class at 1e-9 (log loss 20.7 on that row).
    sure = np.where(truth == 0, 0.999, 0.001)
    sure[0] = 1e-9 if truth[0] == 0 else 1 - 1e-9
    proba = np.column_stack([sure, 1 - sure])
    score = float(log_loss(truth, proba, labels=[0, 1]))

    def holdout(stored: list) -> dict:
        entry = {
            "scores": {"log_loss": score, "accuracy": float(np.mean((sure < 0.5) == truth))},
            "predicted": (sure < 0.5).astype(int).tolist(),
            "proba": stored,
            "labels": [0, 1],
            "confusion": [[0, 0], [0, len(truth)]],
        }
        return {"y_true": truth.tolist(), "tuned MLP": entry, "forest": dict(entry)}

    # Six decimals turn 1e-9 into 0: the stored rows give another log loss than the score.
    lossy = holdout(np.round(proba, 6).tolist())
    table = generalization.holdout_table(lossy, "tuned MLP", ("log_loss", "accuracy"))
    table = table.set_index(["model", "metric"])
    assert table.loc[("tuned MLP", "log_loss"), "interval"] == generalization.NOT_REPRODUCED
    assert np.isnan(table.loc[("forest", "log_loss"), "tuned_minus"])
    assert table.loc[("tuned MLP", "accuracy"), "interval"].startswith("[")
    assert generalization.holdout_interval(lossy, "tuned MLP", "log_loss") is None
    # Seven significant digits keep it: the rows give the score, and the interval holds it.
    kept = holdout(significant(proba))
    interval = generalization.holdout_interval(kept, "tuned MLP", "log_loss")
    assert interval is not None and interval.estimate == pytest.approx(score, abs=1e-6)
    assert interval.low < score < interval.high


def test_versus_baselines_counts_studies():
    baselines = pd.DataFrame({"baseline": ["forest"], "test_f1_macro": [0.36]})
    table = generalization.beaten_table({"a": 0.37, "b": 0.35, "c": 0.36}, baselines, "f1_macro")
    assert table[["studies", "beaten"]].values.tolist() == [[3, 1]]


def test_comparison_optimum_sources_in_order(race):
    import types

    import optuna

    from harness.results.loading import ComparisonResults

    def results(comparison, pool=()):
        return ComparisonResults(comparison, [], None, race, [], list(pool))

    circular = results(types.SimpleNamespace()).optimum_info()
    assert circular.circular and circular.label.startswith("optimum = best of the compared runs")
    declared = results(types.SimpleNamespace(optimum=1.0)).optimum_info()
    assert not declared.circular and declared.source == "declared optimum"
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({})
    study.optimize(lambda trial: 1.0, n_trials=1)
    pooled = results(types.SimpleNamespace(optimum=0.5), [study]).optimum_info()
    assert not pooled.circular and pooled.value == 1.0 and "reference pool" in pooled.source


def test_bad_target_fractions_are_refused(race):
    from harness.errors import ConfigError

    optimum = targets.resolve_optimum(race, 1.0, "grid")
    with pytest.raises(ConfigError, match=r"target fractions must lie in \[0, 1\]"):
        targets.run_hits(race, optimum, ladder=(0.5, 1.5))


def test_every_new_column_is_in_the_glossary(shared):
    tables = leaderboard.leaderboard_tables(
        shared, params=(), test_scores={"tpe-0": 0.5}, n_boot=20, workers=1
    )
    for name, table in tables.items():
        missing = [
            column
            for column in table.columns
            if column not in leaderboard.GLOSSARY
            and not column.startswith(tuple(leaderboard.PREFIXES))
        ]
        assert not missing, (name, missing)
        assert name in leaderboard.TABLE_NOTES, name


def test_baseline_cv_table_pairs_each_run_with_the_baseline_on_the_same_folds():
    frame = make_frame(
        {
            ("a", 0): [0.30, 0.42],
            ("a", 1): [0.41, "F"],
            ("a", 2): [0.44],
            ("b", 0): [0.33],
            ("b", 1): [0.35],
            ("b", 2): [0.31],
        }
    )
    table = generalization.baseline_cv_table(frame, 0.34)
    a, b = (table.set_index("strategy").loc[s] for s in ("a", "b"))
    assert table["strategy"].tolist() == ["a", "b"]  # largest difference first
    assert a["difference"] == pytest.approx(np.mean([0.08, 0.07, 0.10]))
    assert a["below_baseline"] == 0 and b["below_baseline"] == 2
    assert b["ci_low"] < 0 < b["ci_high"]  # b is not distinguishable from the baseline
    assert a["ci_low"] > 0
    tables = leaderboard.leaderboard_tables(frame, baseline_cv=0.34, reference="b")
    order = list(tables)
    assert "baseline_cv" in tables and order.index("baseline_cv") == order.index("final") + 1
