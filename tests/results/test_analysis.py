"""Known-answer tests of the search-efficiency metrics on hand-built trial frames."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import SUGGEST_SECONDS, TRIAL_SECONDS, make_frame

from harness.errors import ConfigError
from harness.results import efficiency, generalization
from harness.results import statistics as stats
from harness.study import ledger


@pytest.fixture
def race() -> pd.DataFrame:
    """Random search never reaches the target; "fast" hits the optimum 1.0 at trial 3."""
    random = {
        ("random", 0): [0.5, 0.6, 0.7, 0.8],
        ("random", 1): [0.6, 0.6, 0.7, 0.7],
        ("random", 2): [0.4, 0.7, 0.7, 0.9],
    }
    fast = {("fast", seed): [0.5, 0.6, 1.0, "F"] for seed in range(3)}
    return make_frame(random | fast)


def rows_of(table: pd.DataFrame, strategy: str) -> pd.DataFrame:
    return table[table["strategy"] == strategy]


def test_incumbents_ignore_failed_and_pruned_trials_and_carry_forward():
    frame = make_frame({("a", 0): ["F", 0.4, "P", 0.3], ("a", 1): [0.2, 0.9]})
    matrix = efficiency.incumbents(frame)
    assert list(matrix.columns) == [1, 2, 3, 4]
    np.testing.assert_array_equal(matrix.loc[("a", 0)], [np.nan, 0.4, 0.4, 0.4])
    np.testing.assert_array_equal(matrix.loc[("a", 1)], [0.2, 0.9, 0.9, 0.9])


def test_incumbents_against_seconds_use_trial_end_times(race):
    matrix = efficiency.incumbents(race, axis="seconds", grid=[1.0, 2.0, 6.5, 100.0])
    np.testing.assert_array_equal(matrix.loc[("fast", 0)], [np.nan, 0.5, 1.0, 1.0])
    assert matrix.columns.name == "seconds"


def test_incumbent_curves_count_floored_seeds():
    frame = make_frame({("a", 0): ["F", 0.8], ("a", 1): [0.6, 0.6], ("a", 2): [0.7, 0.7]})
    curves = efficiency.incumbent_curves(frame, n_boot=200)
    first = curves.iloc[0]
    # The floor is the worst complete value of the task, 0.6.
    assert first["median"] == pytest.approx(0.6)
    assert first["floored"] == 1
    assert first["seeds"] == 3
    assert curves.iloc[1]["median"] == pytest.approx(0.7)
    assert curves.iloc[1]["floored"] == 0
    assert first["ci_low"] <= first["median"] <= first["ci_high"]


def test_random_search_has_normalized_regret_one_and_fast_known_values(race):
    curves = efficiency.regret_curves(race)
    np.testing.assert_array_equal(rows_of(curves, "random")["nr"], [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(rows_of(curves, "fast")["nr"], [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(rows_of(curves, "random")["regret"], [0.5, 0.4, 0.3, 0.2])
    assert set(curves["seeds"]) == {3}
    timed = efficiency.regret_curves(race, axis="seconds", grid=[4.0, 6.0])
    np.testing.assert_allclose(rows_of(timed, "fast")["nr"], [1.0, 0.0])
    np.testing.assert_array_equal(rows_of(timed, "random")["nr"], [1.0, 1.0])


def test_anytime_auc_by_hand(race):
    auc = efficiency.anytime_auc(race).set_index("strategy")
    assert auc.loc["fast", "auc_nr"] == pytest.approx(0.5)
    assert auc.loc["random", "auc_nr"] == pytest.approx(1.0)
    assert auc.loc["random", "auc_regret"] == pytest.approx(0.35)
    assert auc.loc["fast", "budget"] == 4


def test_given_optimum_above_the_runs_is_used_and_below_is_ignored(race):
    above = efficiency.regret_curves(race, optimum=1.5)
    assert rows_of(above, "fast")["regret"].iloc[-1] == pytest.approx(0.5)
    below = efficiency.regret_curves(race, optimum=0.2)
    assert rows_of(below, "fast")["regret"].iloc[-1] == pytest.approx(0.0)


def test_zero_denominator_gives_zero_at_the_optimum_and_inf_elsewhere():
    runs = {("random", s): [1.0, 1.0] for s in range(2)}
    runs |= {("slow", s): [0.5, 1.0] for s in range(2)}
    runs |= {("tied", s): [1.0, 1.0] for s in range(2)}
    curves = efficiency.regret_curves(make_frame(runs))
    np.testing.assert_array_equal(rows_of(curves, "random")["nr"], [0.0, 0.0])
    np.testing.assert_array_equal(rows_of(curves, "tied")["nr"], [0.0, 0.0])
    np.testing.assert_array_equal(rows_of(curves, "slow")["nr"], [np.inf, 0.0])
    auc = efficiency.anytime_auc(make_frame(runs)).set_index("strategy")
    assert auc.loc["slow", "auc_nr"] == np.inf
    assert auc.loc["slow", "auc_regret"] == pytest.approx(0.25)


def test_time_to_target_hits_and_censoring(race):
    runs = efficiency.time_to_target(race)
    fast = rows_of(runs, "fast")
    assert fast["target"].iloc[0] == pytest.approx(0.98)
    assert fast["reached"].all()
    assert list(fast["ttt_trials"]) == [3, 3, 3]
    assert list(fast["ttt_seconds"]) == [6.0, 6.0, 6.0]
    random = rows_of(runs, "random")
    assert not random["reached"].any()
    assert list(random["ttt_trials"]) == [4, 4, 4]
    assert list(random["ttt_seconds"]) == [8.0, 8.0, 8.0]


def test_speedup_uses_censored_medians(race):
    table = efficiency.speedup(race).set_index("strategy")
    assert table.loc["fast", "success"] == 1.0
    assert table.loc["random", "success"] == 0.0
    assert not table.loc["fast", "ttt_censored"]
    assert table.loc["random", "ttt_censored"]
    assert table.loc["fast", "speedup_trials"] == pytest.approx(4 / 3)
    assert table.loc["fast", "speedup_seconds"] == pytest.approx(8 / 6)
    # Both censored: no ratio.
    assert math.isnan(table.loc["random", "speedup_trials"])


def test_speedup_with_partial_success():
    runs = {("random", s): [0.1, 0.2, 1.0, 1.0] for s in range(2)}
    runs |= {("half", 0): [1.0, 0.0, 0.0, 0.0], ("half", 1): [0.0, 0.0, 0.0, 0.0]}
    table = efficiency.speedup(make_frame(runs)).set_index("strategy")
    assert table.loc["half", "success"] == 0.5
    # Median of 1 and the censored 4 is 2.5; with two seeds that median is censored.
    assert table.loc["half", "ttt_trials"] == 2.5
    assert table.loc["half", "ttt_censored"]
    assert table.loc["half", "speedup_trials"] == pytest.approx(3 / 2.5)


def test_rank_curves_average_ties_and_are_deterministic(race):
    ranks = efficiency.rank_curves(race, n_boot=300, seed=7)
    first = ranks[ranks["trial"] == 1].set_index("strategy")["mean_rank"]
    assert first.to_dict() == {"fast": 1.5, "random": 1.5}
    last = ranks[ranks["trial"] == 4].set_index("strategy")
    assert last.loc["fast", "mean_rank"] == 1.0
    assert last.loc["fast", "ci_low"] == last.loc["fast", "ci_high"] == 1.0
    pd.testing.assert_frame_equal(ranks, efficiency.rank_curves(race, n_boot=300, seed=7))


def test_rank_curves_need_a_shared_seed():
    frame = make_frame({("random", 0): [0.5], ("tpe", 1): [0.6]})
    with pytest.raises(ConfigError, match="every strategy"):
        efficiency.rank_curves(frame)


def test_final_scores_mean_interval_and_budget(race):
    table = efficiency.final_scores(race, n_boot=500).set_index("strategy")
    assert table.loc["random", "mean"] == pytest.approx(0.8)
    assert table.loc["random", "std"] == pytest.approx(0.1)
    assert table.loc["random", "seeds"] == 3
    assert table.loc["random", "trials"] == 12
    low, high = table.loc["random", ["ci_low", "ci_high"]]
    # Student-t over 3 seeds: 0.8 +- t(0.975, 2) * 0.1 / sqrt(3), wider than the data's range.
    half = 4.302652729911275 * 0.1 / math.sqrt(3)
    assert (low, high) == pytest.approx((0.8 - half, 0.8 + half))
    assert table.loc["fast", "ci_low"] == table.loc["fast", "ci_high"] == 1.0
    truncated = efficiency.final_scores(race, budget=2).set_index("strategy")
    assert truncated.loc["random", "mean"] == pytest.approx((0.6 + 0.6 + 0.7) / 3)
    assert truncated.loc["fast", "trials"] == 6


def test_one_seed_gives_no_interval():
    frame = make_frame({("random", 0): [0.5, 0.7], ("tpe", 0): [0.6, 0.9]})
    table = efficiency.final_scores(frame)
    assert table["ci_low"].isna().all() and table["std"].isna().all()
    assert efficiency.incumbent_curves(frame)["ci_high"].isna().all()
    tests = stats.wilcoxon_vs_best(efficiency.final_incumbents(frame))
    assert tests["wilcoxon_p"].isna().all()


def test_run_without_complete_trial_has_no_final_score():
    frame = make_frame({("a", 0): ["F", "P"], ("a", 1): [0.4, 0.6]})
    assert efficiency.final_incumbents(frame).to_dict() == {("a", 1): 0.6}
    assert efficiency.final_scores(frame)["seeds"].tolist() == [1]


def test_bootstrap_is_seeded_and_degenerate_for_constant_samples():
    values = np.array([0.1, 0.5, 0.2, 0.9, 0.4])
    first = stats.bootstrap_ci(values, n_boot=500, seed=3)
    assert first == stats.bootstrap_ci(values, n_boot=500, seed=3)
    assert values.min() <= first[0] < values.mean() < first[1] <= values.max()
    assert stats.bootstrap_ci(np.ones(4), np.median, seed=1) == (1.0, 1.0)


def six_seeds(difference: float, seeds: int = 6) -> pd.Series:
    index = pd.MultiIndex.from_product([["a", "b"], range(seeds)], names=["strategy", "seed"])
    values = [0.5 + 0.01 * s + difference for s in range(seeds)] + [
        0.5 + 0.01 * s for s in range(seeds)
    ]
    return pd.Series(values, index=index)


def test_wilcoxon_against_best_exact_value_and_too_few_pairs():
    tests = stats.wilcoxon_vs_best(six_seeds(0.1)).set_index("strategy")
    assert tests.loc["b", "best"] == "a"
    assert tests.loc["b", "wilcoxon_p"] == pytest.approx(2 / 2**6)
    assert tests.loc["b", "pairs"] == 6
    assert math.isnan(tests.loc["a", "wilcoxon_p"])
    five = stats.wilcoxon_vs_best(six_seeds(0.1, seeds=5)).set_index("strategy")
    assert math.isnan(five.loc["b", "wilcoxon_p"])
    tie = stats.wilcoxon_vs_best(six_seeds(0.0)).set_index("strategy")
    assert tie.loc["b", "wilcoxon_p"] == 1.0
    # One comparison against the best: Holm leaves its p-value as it is.
    assert tests.loc["b", "holm_p"] == pytest.approx(tests.loc["b", "wilcoxon_p"])


def test_holm_by_hand_and_untested_hypotheses():
    adjusted = stats.holm(np.array([0.01, 0.04, np.nan, 0.03]))
    np.testing.assert_allclose(adjusted, [0.03, 0.06, np.nan, 0.06])


def test_overhead_and_failure_rates(race):
    cost = efficiency.overhead(race).set_index("strategy")
    assert cost.loc["fast", "overhead"] == pytest.approx(SUGGEST_SECONDS / TRIAL_SECONDS)
    assert cost.loc["fast", "trial_seconds"] == pytest.approx(12 * TRIAL_SECONDS)
    untimed = race.assign(suggest_seconds=race["suggest_seconds"].where(race["trial"] > 1))
    cost = efficiency.overhead(untimed).set_index("strategy")
    assert cost.loc["fast", "trial_seconds"] == pytest.approx(9 * TRIAL_SECONDS)
    assert cost.loc["fast", "overhead"] == pytest.approx(SUGGEST_SECONDS / TRIAL_SECONDS)
    frame = make_frame({("a", 0): [0.1, "F", "P", "P"], ("a", 1): [0.1, 0.2, 0.3, "F"]})
    rates = efficiency.failure_rates(frame).iloc[0]
    assert (rates["failed"], rates["pruned"], rates["trials"], rates["seeds"]) == (2, 2, 8, 2)
    assert rates["fail_rate"] == 0.25 and rates["prune_rate"] == 0.25


def test_the_generalization_gap_uses_the_incumbent_cv_score(race):
    table = generalization.gap_table(race, {"fast-0": 0.9, "fast-1": 0.8, "unknown": 1.0})
    row = table.set_index("strategy").loc["fast"]
    assert row["seeds"] == 2
    assert row["cv_score"] == 1.0
    assert row["gap"] == pytest.approx(-0.15)
    assert generalization.gap_table(race, {"other": 0.5}).empty


def test_invalid_frames_are_reported():
    frame = make_frame({("tpe", 0): [0.5]})
    with pytest.raises(ConfigError, match="'random'"):
        efficiency.regret_curves(frame)
    with pytest.raises(ConfigError, match="lacks columns"):
        efficiency.final_scores(frame.drop(columns="trial_seconds"))
    twice = pd.concat([frame, frame.assign(study="tpe-0-again")])
    with pytest.raises(ConfigError, match="several studies"):
        efficiency.final_scores(twice)
    with pytest.raises(ConfigError, match="no complete trial"):
        efficiency.final_scores(make_frame({("tpe", 0): ["F"]}))
    with pytest.raises(ConfigError, match="axis"):
        efficiency.incumbents(frame, axis="epochs")


def test_frames_from_ledger_studies():
    frames = []
    for seed, values in enumerate([[0.4, None, 0.7], [0.6, 0.5, None]]):
        study = optuna.create_study(direction="maximize", study_name=f"random-{seed}")
        study.set_user_attr(ledger.STRATEGY, "random")
        study.set_user_attr(ledger.SEED, seed)
        for value in values:
            state = (
                optuna.trial.TrialState.FAIL if value is None else optuna.trial.TrialState.COMPLETE
            )
            attrs = {
                ledger.CONFIG: {"optimizer": "adam"},
                ledger.FOLD_SCORES: {"accuracy": [value or 0.0] * 3},
                ledger.SUGGEST_SECONDS: 0.1,
                ledger.TRIAL_SECONDS: 1.0,
            }
            study.add_trial(optuna.trial.create_trial(state=state, value=value, user_attrs=attrs))
        frames.append(study)
    frame = ledger.trials_frame(frames)
    table = efficiency.final_scores(frame).iloc[0]
    assert (table["seeds"], table["trials"], table["mean"]) == (2, 6, pytest.approx(0.65))
    assert efficiency.overhead(frame)["overhead"].iloc[0] == pytest.approx(0.1)
    adam = frame["param_optimizer"] == "adam"
    assert int(frame.loc[adam, "value"].notna().sum()) == 4  # complete trials of the value
