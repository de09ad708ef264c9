"""Claims follow the evidence: the sentences change when the numbers do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from harness.data.datasets import TELECONNECT_WORDS
from harness.report import business, evidence, recommendations
from harness.results import statistics as sig
from harness.study.holdout import BASELINE, MAJORITY, TUNED


def _per_seed(scores: dict[str, list[float]]) -> pd.Series:
    rows = [(s, seed, v) for s, values in scores.items() for seed, v in enumerate(values)]
    frame = pd.DataFrame(rows, columns=["strategy", "seed", "value"])
    return frame.set_index(["strategy", "seed"])["value"]


def test_five_noisy_seeds_are_not_distinguishable_and_the_floor_is_stated():
    rng = np.random.default_rng(0)
    per_seed = _per_seed(
        {s: list(0.40 + 0.01 * rng.standard_normal(5)) for s in ("a", "b", "random")}
    )
    text = " ".join(evidence.strategy_evidence(per_seed, trials=30))
    assert "No strategy is distinguishable at this budget (30 trials, 5 seeds)" in text
    assert "cannot go below p = 2/2^5 = 0.0625" in text
    assert "it needs at least 6 seeds" in text
    assert "95% Student t-interval over 5 seeds (Student, 1908)" in text
    assert "interquartile mean" in text and "stratified BCa bootstrap interval" in text
    assert "Bayesian signed-rank test" in text
    assert not evidence.distinguishable(per_seed)


def test_a_clear_difference_over_many_seeds_is_named():
    rng = np.random.default_rng(1)
    noise = 0.002 * rng.standard_normal(12)
    per_seed = _per_seed({"tpe": list(0.5 + noise), "random": list(0.4 + noise[::-1])})
    text = " ".join(evidence.strategy_evidence(per_seed, trials=30))
    assert "Wilcoxon signed-rank tests with Holm's correction separate random vs tpe" in text
    assert "Friedman chi-square test" not in text  # two strategies: the paired test decides
    assert "No strategy is distinguishable" not in text
    assert "cannot go below" not in text
    assert evidence.distinguishable(per_seed)


def test_friedman_unequal_but_no_pair_separated_says_both_and_claims_no_leader():
    """wine-red's case: 5 seeds, Friedman p = 0.015, yet no Holm-Wilcoxon pair can reach 0.05
    (2/2^5 = 0.0625): the strategies are unequal, but none is shown ahead of another."""
    per_seed = _per_seed(
        {
            "gp": [0.630, 0.628, 0.627, 0.629, 0.626],
            "tpe": [0.620, 0.619, 0.618, 0.617, 0.621],
            "random": [0.615, 0.616, 0.614, 0.613, 0.612],
        }
    )
    text = " ".join(evidence.strategy_evidence(per_seed, trials=20))
    assert "finds the 3 strategies unequal (p = 0.00674)" in text
    assert "so no strategy is shown ahead of another at this budget (20 trials, 5 seeds)" in text
    assert "No strategy is distinguishable" not in text  # the omnibus test did distinguish
    # The leader's gap to the runner-up excludes zero, but it is one uncorrected interval.
    assert "one pair's uncorrected interval, which describes the gap and tests nothing" in text
    assert not evidence.distinguishable(per_seed)


def test_one_friedman_p_value_named_with_three_strategies():
    rng = np.random.default_rng(2)
    per_seed = _per_seed({s: list(0.4 + 0.01 * rng.standard_normal(8)) for s in "abc"})
    text = " ".join(evidence.strategy_evidence(per_seed, trials=30))
    assert text.count("Friedman chi-square test (Friedman, 1937) over the 3 strategies") == 1
    assert "Iman" not in text and "F form" not in text


def test_a_tiny_consistent_edge_is_significant_yet_practically_equivalent():
    rng = np.random.default_rng(3)
    base = 0.40 + 0.01 * rng.standard_normal(10)
    per_seed = _per_seed({"tpe": list(base + 0.0005), "random": list(base)})
    text = " ".join(evidence.strategy_evidence(per_seed, trials=30))
    assert "Holm's correction separate random vs tpe" in text
    assert "the two are practically equivalent (within 0.01)" in text


def test_the_report_prints_the_leaderboards_held_out_interval():
    from harness.results.generalization import holdout_table

    rng = np.random.default_rng(4)
    truth = rng.integers(0, 3, 200)
    held = {}
    for name, noise in ((TUNED, 0.4), (BASELINE, 0.6)):
        predicted = np.where(rng.random(200) < noise, rng.integers(0, 3, 200), truth)
        proba = np.eye(3)[predicted] * 0.7 + 0.1
        held[name] = {
            "labels": [0, 1, 2],
            "predicted": predicted.tolist(),
            "proba": proba.tolist(),
            "y_true": truth.tolist(),
            # The score the rows give: rows that do not give it get no interval.
            "scores": {"f1_macro": f1_score(truth, predicted, average="macro")},
        }
    table = holdout_table(held, TUNED, ("f1_macro",)).set_index("model")
    report = evidence.holdout_interval(held, TUNED, "f1_macro")
    assert table.loc[TUNED, "interval"] == report.text(".4f")
    difference, paired = evidence.holdout_difference(held, TUNED, BASELINE, "f1_macro")
    assert paired and difference.paired
    assert table.loc[BASELINE, "tuned_minus"] == pytest.approx(difference.estimate)


def test_held_out_models_are_named_by_their_family():
    held = _holdout([[90, 10], [10, 90]], [[50, 50], [50, 50]])
    text = " ".join(evidence.holdout_evidence(held, metric="accuracy", n_test=200, family="cnn"))
    assert "tuned CNN" in text and "baseline CNN" in text
    assert "MLP" not in text
    assert "per-row probabilities" not in text


def test_seeds_needed_comes_from_the_observed_differences():
    per_seed = _per_seed({"gp": [0.41, 0.42, 0.40, 0.43, 0.41], "random": [0.40] * 5})
    (sentence,) = [s for s in evidence.strategy_evidence(per_seed, trials=10) if "power" in s]
    assert "gp's observed mean edge over random (+0.0140" in sentence


def _holdout(tuned_confusion, other_confusion, *, scores_tuned=None, scores_other=None):
    base = {"accuracy": 0.3, "f1_macro": 0.3, "log_loss": 1.3, "roc_auc_ovr": 0.6}
    names = (
        "accuracy",
        "balanced_accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "log_loss",
        "roc_auc_ovr",
    )
    fill = {n: base.get(n, 0.3) for n in names}
    return {
        TUNED: {
            "labels": [0, 1],
            "confusion": tuned_confusion,
            "scores": {**fill, **(scores_tuned or {})},
        },
        BASELINE: {"labels": [0, 1], "confusion": other_confusion, "scores": fill},
        "logistic regression": {
            "labels": [0, 1],
            "confusion": other_confusion,
            "scores": {**fill, **(scores_other or {})},
        },
        MAJORITY: {
            "labels": [0, 1],
            "confusion": [[100, 0], [100, 0]],
            "scores": {**fill, "accuracy": 0.5},
        },
    }


def test_a_tiny_held_out_difference_is_not_called_ahead():
    # 101 vs 100 of 200 right: the interval of the difference includes zero.
    held = _holdout([[51, 49], [50, 50]], [[50, 50], [50, 50]])
    text = " ".join(evidence.holdout_evidence(held, metric="accuracy", n_test=200))
    assert (
        "do not separate the tuned MLP from baseline MLP (uncorrected interval) and logistic "
        "regression (uncorrected interval)" in text
    )
    assert "ahead" not in text and "scores higher" not in text
    assert "unpaired" in text


def test_a_large_held_out_difference_is_called_higher():
    held = _holdout([[90, 10], [10, 90]], [[50, 50], [50, 50]])
    text = " ".join(evidence.holdout_evidence(held, metric="accuracy", n_test=200))
    assert (
        "By the intervals above, the tuned MLP scores higher than baseline MLP (uncorrected "
        "interval) and logistic regression (uncorrected interval)" in text
    )


def test_held_out_verdicts_are_holm_corrected_over_the_compared_models():
    truth = np.repeat([0, 1], 100)
    tuned = truth.copy()
    tuned[:60] = 1 - tuned[:60]  # 140 of 200 right
    right, wrong = np.flatnonzero(tuned == truth), np.flatnonzero(tuned != truth)

    def rival(wins: int, losses: int) -> np.ndarray:
        # ``wins`` rows only the tuned model gets right, ``losses`` rows only the rival does.
        predicted = tuned.copy()
        predicted[right[:wins]] = 1 - predicted[right[:wins]]
        predicted[wrong[:losses]] = 1 - predicted[wrong[:losses]]
        return predicted

    held = {"y_true": truth.tolist()}
    models = {TUNED: tuned, "forest": rival(25, 5), "boosting": rival(13, 4)}
    models |= {"knn": tuned.copy(), "logistic": tuned.copy()}
    for name, predicted in models.items():
        accuracy = float(np.mean(predicted == truth))
        held[name] = {
            "labels": [0, 1],
            "predicted": predicted.tolist(),
            "scores": {"accuracy": accuracy},
        }
    interval, paired = evidence.holdout_difference(held, TUNED, "boosting", "accuracy")
    assert paired and interval.low > 0  # alone, boosting's interval excludes zero ...
    text = " ".join(evidence.holdout_evidence(held, metric="accuracy", n_test=200))
    # ... but not after Holm's correction over the four comparisons.
    assert "With Holm's correction (Holm, 1979) over the 4 paired bootstrap p-values" in text
    assert (
        "the tuned MLP scores higher than forest; the held-out rows do not separate it from "
        in (text)
    )
    assert "separate it from boosting, knn and logistic." in text


def test_a_reference_with_the_better_log_loss_is_named():
    held = _holdout(
        [[90, 10], [10, 90]],
        [[50, 50], [50, 50]],
        scores_tuned={"log_loss": 1.25},
        scores_other={"log_loss": 1.2455},
    )
    text = " ".join(evidence.holdout_evidence(held, metric="accuracy", n_test=200))
    assert "logistic regression has the better log_loss (1.2455 against 1.2500)" in text


def test_paired_predictions_are_used_when_stored():
    truth = np.array([0] * 100 + [1] * 100)
    a = truth.copy()
    a[:10] = 1
    b = truth.copy()
    b[:12] = 1
    held = _holdout([[90, 10], [0, 100]], [[88, 12], [0, 100]])
    held[TUNED].update(predicted=a.tolist(), y_true=truth.tolist())
    held["logistic regression"].update(predicted=b.tolist(), y_true=truth.tolist())
    held[TUNED]["scores"]["accuracy"] = 0.95  # what the rows give
    held["logistic regression"]["scores"]["accuracy"] = 0.94
    interval, paired = evidence.holdout_difference(held, TUNED, "logistic regression", "accuracy")
    assert paired
    assert interval.estimate == pytest.approx(0.01)
    # Paired: two rows differ, so the interval is far narrower than an unpaired one.
    assert interval.high - interval.low < 0.03


def test_rows_from_confusion_rebuild_the_matrix():
    truth, predicted = evidence.rows_from_confusion([[3, 1], [0, 2]])
    assert list(truth) == [0, 0, 0, 0, 1, 1]
    assert list(predicted) == [0, 0, 0, 1, 1, 1]


def _gaps(cv: list[float], test: list[float], half_width: float = 0.005) -> pd.DataFrame:
    strategies = ["gp", "tpe", "grid", "random", "qmc", "cmaes", "skopt", "bayesopt"]
    table = pd.DataFrame(
        {"strategy": strategies[: len(cv)], "seeds": 10, "cv_score": cv, "test_score": test}
    )
    table["gap"] = table["test_score"] - table["cv_score"]
    table["ci_low"], table["ci_high"] = table["gap"] - half_width, table["gap"] + half_width
    return table


def test_gap_evidence_claims_a_relation_only_where_its_permutation_test_finds_one():
    cv = [0.48, 0.47, 0.46, 0.45, 0.44, 0.43, 0.42, 0.41]
    # Gaps grow steadily with the CV score: rho = -1 over 8 strategies, exact p = 2 / 8!.
    related = " ".join(evidence.gap_evidence(_gaps(cv, [0.36] * 8)))
    assert "higher CV scores go with larger gaps (Spearman's rho -1.00, permutation p = 5e-05" in (
        related
    )
    assert "Every strategy's incumbents score lower on the held-out rows than in CV" in related
    # The CV order shuffled on the held-out rows: no relation, and none is claimed.
    close = [0.410 - i / 1000 for i in range(8)]
    test = [0.37, 0.40, 0.38, 0.36, 0.39, 0.35, 0.38, 0.37]
    unrelated = " ".join(evidence.gap_evidence(_gaps(close, test)))
    assert "go with" not in unrelated and "No relation between" in unrelated
    assert "the CV order is not shown to predict it (Spearman's rho" in unrelated
    assert "tpe has the highest mean test score (0.4000), gp (first on CV) 0.3700" in unrelated
    assert "no relation across strategies is tested" not in unrelated
    assert "On held-out rows the order differs" not in " ".join(
        evidence.gap_evidence(_gaps(cv, [0.40 - i / 100 for i in range(8)]))
    )


def test_gap_evidence_with_three_strategies_tests_nothing_across_them():
    # wine-white's shape: gaps in perfect order, which three strategies can never show.
    table = _gaps([0.570, 0.563, 0.560], [0.581, 0.582, 0.595], half_width=0.03)
    text = " ".join(evidence.gap_evidence(table))
    assert "With 3 strategies no rank correlation can reach p < 0.05" in text
    assert "smallest two-sided permutation p is 0.33" in text
    assert "go with" not in text and "overfit" not in text and "Spearman" not in text
    # Intervals that include zero: no claim that CV overstates the held-out score.
    assert "score lower on the held-out rows" not in text
    assert "held-out means span 0.0140." in text


def test_gap_evidence_measures_the_held_out_spread_against_one_models_interval():
    cv = [0.48, 0.47, 0.46, 0.45, 0.44]
    table = _gaps(cv, [0.36, 0.37, 0.35, 0.36, 0.36])
    interval = sig.Interval(0.36, 0.30, 0.43, 200, 0.03, "percentile", 0.95, unit="rows")
    text = " ".join(evidence.gap_evidence(table, test_interval=interval))
    assert "span 0.0200, less than the 0.1300 width of one model's 95% interval on these 200" in (
        text
    )
    some = table.assign(ci_high=[-0.1, 0.01, -0.1, 0.01, 0.01])
    assert "For gp and grid the held-out score is below the CV score" in " ".join(
        evidence.gap_evidence(some)
    )


def test_failures_per_strategy_and_never_running_values_are_disclosed():
    frame = pd.DataFrame(
        {
            "strategy": ["a", "a", "b", "b"],
            "state": ["FAIL", "COMPLETE", "FAIL", "COMPLETE"],
            "param_imbalance": ["adasyn", "none", "adasyn", "smote"],
            "fail_reason": [
                "ValueError: No samples will be generated.",
                None,
                "ValueError: No samples will be generated.",
                None,
            ],
        }
    )
    failures = pd.DataFrame(
        {"strategy": ["a", "b"], "trials": [2, 2], "failed": [1, 1], "fail_rate": [0.5, 0.5]}
    )
    text = " ".join(evidence.failure_evidence(failures, frame, workers=2))
    assert "2 of 4 trials (50.0%) failed" in text
    assert "Every one of the 2 trials with imbalance = adasyn failed" in text
    assert "ran with 2 worker processes" in text
    assert "worker processes" not in " ".join(evidence.failure_evidence(failures, frame, workers=1))


def test_grid_rationale_is_true_at_the_budget():
    assert "complete" in evidence.grid_rationale(162, 200)
    sparse = evidence.grid_rationale(1_555_200, 30)
    assert "0.002%" in sparse and "not a complete sweep" in sparse
    assert "does not depend on luck" not in sparse


def test_no_recommendation_without_a_test():
    frame = pd.DataFrame(
        {
            "strategy": ["random"] * 4 + ["tpe"] * 4,
            "seed": [0, 0, 1, 1] * 2,
            "trial": [0, 1] * 4,
            "number": [0, 1] * 4,
            "state": ["COMPLETE"] * 8,
            "value": [0.3, 0.4, 0.35, 0.36, 0.38, 0.41, 0.37, 0.39],
            "elapsed_seconds": [1.0, 2.0] * 4,
            "suggest_seconds": [0.1] * 8,
            "trial_seconds": [1.0] * 8,
        }
    )
    frame["study"] = frame["strategy"] + "-s" + frame["seed"].astype(str)
    undecided = recommendations.budget_advice(frame, optimum=None, trials=2)
    assert "No recommendation follows" in undecided[-1]
    decided = recommendations.budget_advice(frame, optimum=None, trials=2, distinguishable=True)
    assert decided[-1].startswith("Recommendation:")
    within = recommendations.budget_advice(frame, optimum=None, trials=2, startup={"tpe": 10})
    assert "tpe still propose random start-up trials" in within[0]


def test_campaign_summary_says_prioritise_not_decide_only_when_it_beats_the_guess():
    good = {
        TUNED: {"labels": [1, 2], "confusion": [[80, 20], [30, 70]]},
        BASELINE: {"labels": [1, 2], "confusion": [[50, 50], [50, 50]]},
    }
    words = TELECONNECT_WORDS
    text = " ".join(business.campaign_summary(good, {"1": "Basic", "2": "E-Service"}, words=words))
    assert "it can prioritise, not decide" in text
    assert "Putting everyone in the largest segment, Basic, would be right for 50%" in text
    weak = {TUNED: {"labels": [1, 2], "confusion": [[52, 48], [47, 53]]}}
    assert "not shown to beat that guess" in " ".join(
        business.campaign_summary(weak, {}, words=words)
    )


def test_class_names_fall_back_to_the_known_mapping_only_without_own_names():
    class Plain:
        name = "teleconnect"

    class Named:
        name = "teleconnect"
        class_names = {1: "Gold"}

    assert business.class_names(Plain())["4"] == "Total service"
    assert business.class_names(Named()) == {"1": "Gold"}
    assert business.segment(3, {"3": "Plus"}) == "3 (Plus)"
    assert business.segment(5, {}) == "5"


def test_fast_label_metrics_match_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(3)
    truth, predicted = rng.integers(0, 4, 200), rng.integers(0, 3, 200)
    assert evidence.LABEL_METRICS["f1_macro"](truth, predicted) == pytest.approx(
        f1_score(truth, predicted, average="macro", zero_division=0)
    )
    assert evidence.LABEL_METRICS["accuracy"](truth, predicted) == accuracy_score(truth, predicted)


def test_the_baseline_in_cv_is_claimed_only_where_its_interval_excludes_zero():
    import pandas as pd

    from harness.report.evidence import baseline_cv_evidence

    table = pd.DataFrame(
        {
            "strategy": ["gp", "random"],
            "seeds": [5, 5],
            "baseline_cv": [0.35, 0.35],
            "difference": [0.05, 0.001],
            "ci_low": [0.04, -0.01],
            "below_baseline": [0, 2],
        }
    )
    (sentence,) = baseline_cv_evidence(table)
    assert "for gp the 95% t-interval over seeds excludes zero" in sentence
    assert "random" not in sentence.split("excludes zero")[0].split("for ")[-1]
    assert "2 of 10 runs ended below the baseline" in sentence
