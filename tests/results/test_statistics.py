"""harness.results.statistics: each number checked against a table, a library or a simulation."""

from __future__ import annotations

import io
import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from harness.results import statistics as sig
from harness.results.figures import critical_difference_figure
from harness.results.statistics import bootstrap_ci, holm


def _accuracy(y_true: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y_true == pred))


# --- intervals --------------------------------------------------------------------------------


def test_t_interval_covers_95_percent_at_5_seeds_where_percentile_bootstrap_does_not():
    """Why the report uses t: at n = 5 the percentile bootstrap interval is too narrow."""
    rng = np.random.default_rng(20240601)
    mean = 3.0
    samples = rng.normal(mean, 2.0, size=(5, 2000))  # 2000 replications of 5 seeds
    interval = sig.t_interval(samples, axis=0)
    t_coverage = np.mean((interval.low <= mean) & (mean <= interval.high))
    low, high = bootstrap_ci(samples, seed=1)
    bootstrap_coverage = np.mean((low <= mean) & (mean <= high))
    assert 0.93 <= t_coverage <= 0.97
    assert bootstrap_coverage < 0.9
    # The report's words (evidence.method_notes): "more than a third too narrow at 5".
    narrower = 1 - np.median((high - low) / (interval.high - interval.low))
    assert 1 / 3 < narrower < 0.45


def test_t_interval_matches_scipy_and_flags_degenerate_cases():
    values = np.array([0.71, 0.74, 0.69, 0.80, 0.77])
    interval = sig.t_interval(values, confidence=0.9)
    low, high = stats.t.interval(0.9, 4, loc=values.mean(), scale=stats.sem(values))
    assert interval.estimate == pytest.approx(values.mean())
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert interval.n == 5 and interval.method == "t" and not interval.zero_width
    assert interval.note is None
    assert interval.format(".3f") == f"{values.mean():.3f} [{low:.3f}, {high:.3f}]"

    equal = sig.t_interval([0.1, 0.1, 0.1])
    assert equal.low == equal.high == equal.estimate == 0.1
    assert equal.sd == 0.0 and equal.zero_width
    assert equal.note == "n/a (all seeds equal)"
    assert equal.format() == "0.1, n/a (all seeds equal)"

    single = sig.t_interval([0.5])
    assert single.estimate == 0.5 and math.isnan(single.low) and math.isnan(single.high)
    assert single.note == "n/a (fewer than 2 seeds)"


def test_t_interval_along_an_axis():
    values = np.array([[1.0, 2.0, 5.0], [3.0, 2.0, 6.0], [5.0, 2.0, 7.0]])
    by_column = sig.t_interval(values, axis=0)
    by_row = sig.t_interval(values.T, axis=1)
    np.testing.assert_allclose(by_column.low, by_row.low)
    np.testing.assert_array_equal(by_column.zero_width, [False, True, False])
    first = sig.t_interval(values[:, 0])
    assert by_column.high[0] == pytest.approx(first.high)


def test_paired_differences_interval_is_the_t_interval_of_complete_pairs():
    x = np.array([0.80, 0.82, np.nan, 0.79, 0.85, 0.83])
    y = np.array([0.78, 0.80, 0.70, 0.79, 0.81, np.nan])
    interval = sig.paired_differences_interval(x, y)
    diff = np.array([0.02, 0.02, 0.0, 0.04])
    expected = sig.t_interval(diff)
    assert interval.n == 4 and interval.unit == "pairs"
    assert (interval.estimate, interval.low, interval.high) == pytest.approx(
        (expected.estimate, expected.low, expected.high)
    )
    assert sig.paired_differences_interval([1, 2], [1, 2]).note == "n/a (all pairs equal)"
    with pytest.raises(ValueError, match="equal length"):
        sig.paired_differences_interval([1, 2, 3], [1, 2])


def test_bca_coverage_on_skewed_data():
    """BCa on exponential samples of 20: close to nominal, better than percentile at n=20."""
    rng = np.random.default_rng(7)
    covered = 0
    for rep in range(1000):
        sample = rng.exponential(size=20)
        interval = sig.bca_interval(sample, n_boot=1000, seed=rep)
        assert interval.method == "bca"
        covered += interval.low <= 1.0 <= interval.high
    assert 0.89 <= covered / 1000 <= 0.96


def test_bca_is_scipys_bootstrap():
    sample = np.random.default_rng(1).exponential(size=20)
    ours = sig.bca_interval(sample, n_boot=5000, seed=3)
    theirs = stats.bootstrap(
        (sample,), np.mean, method="BCa", n_resamples=5000, rng=np.random.default_rng(3)
    ).confidence_interval
    assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high))
    assert ours.describe() == "95% BCa bootstrap interval over 20 seeds"
    median = sig.bca_interval(sample, statistic=np.median, seed=3)
    assert median.estimate == pytest.approx(np.median(sample))
    assert median.low <= median.estimate <= median.high


def test_bca_falls_back_to_t_when_the_bootstrap_is_degenerate():
    equal = sig.bca_interval([0.9, 0.9, 0.9, 0.9])
    assert equal.method == "t-fallback"
    assert equal.low == equal.high == 0.9 and equal.note == "n/a (all seeds equal)"
    single = sig.bca_interval([0.9])
    assert single.method == "t-fallback" and math.isnan(single.low)
    values = np.array([10.1, 9.9, 10.0, 10.2, 9.8])
    fallback = sig.bca_interval(values, statistic=lambda a, axis: np.round(np.mean(a, axis=axis)))
    assert fallback.method == "t-fallback"
    assert fallback.high == pytest.approx(sig.t_interval(values).high)


def test_bca_is_seeded():
    sample = np.random.default_rng(5).normal(size=12)
    assert sig.bca_interval(sample, seed=11) == sig.bca_interval(sample, seed=11)
    assert sig.bca_interval(sample, seed=11).low != sig.bca_interval(sample, seed=12).low


def test_interval_labels_say_t_or_bootstrap_and_paired():
    t = sig.t_interval([0.1, 0.2, 0.3, 0.25, 0.15])
    assert t.describe() == "95% Student t-interval over 5 seeds" and not t.paired
    paired = sig.paired_differences_interval([0.3, 0.2, 0.4], [0.1, 0.2, 0.1])
    assert (
        paired.paired and paired.describe() == "95% paired Student t-interval over 3 paired seeds"
    )
    y = np.array([0, 1] * 20)
    rows = sig.paired_bootstrap_metric(y, y, 1 - y, _accuracy, n_boot=200)
    assert rows.difference.paired
    assert (
        rows.difference.describe() == "95% paired percentile bootstrap interval over the test rows"
    )


# --- interquartile mean -----------------------------------------------------------------------


def test_iqm_is_the_trimmed_mean_and_resists_one_lucky_seed():
    seeds = np.array([0.40, 0.41, 0.39, 0.40, 0.41, 0.40, 0.39, 0.40, 0.41, 0.60])
    interval = sig.iqm_interval([seeds])
    assert interval.estimate == pytest.approx(stats.trim_mean(seeds, 0.25))
    assert interval.estimate < seeds.mean() - 0.01  # the lucky 0.60 barely moves it
    assert interval.method == "stratified-bca"
    assert interval.low <= interval.estimate <= interval.high
    assert sig.iqm_interval([seeds], seed=1) == sig.iqm_interval([seeds], seed=1)


def test_iqm_stratified_bootstrap_resamples_within_each_task():
    a = np.array([0.1, 0.12, 0.11, 0.13, 0.1])
    b = np.array([0.9, 0.91, 0.92, 0.9, 0.93])
    interval = sig.iqm_interval([a, b], n_boot=500)
    # Each resample keeps 5 runs of each task, so the pooled IQM never leaves the middle.
    assert interval.n == 10
    assert 0.1 < interval.low <= interval.high < 0.93
    equal = sig.iqm_interval([[0.5, 0.5, 0.5]])
    assert equal.low == equal.high == 0.5 and equal.note == "n/a (all seeds equal)"
    assert math.isnan(sig.iqm_interval([[0.5]]).low)


# --- Bayesian signed-rank ---------------------------------------------------------------------


def test_bayes_signed_rank_says_practically_equivalent_where_wilcoxon_only_fails_to_separate():
    rng = np.random.default_rng(0)
    x = rng.normal(0.40, 0.01, size=10)
    y = x + rng.normal(0.0, 0.001, size=10)
    assert not sig.paired_wilcoxon(x, y) < 0.05
    result = sig.bayes_signed_rank(x, y, rope=0.01)
    assert result.verdict == "practically equivalent"
    assert result.p_better + result.p_equivalent + result.p_worse == pytest.approx(1.0)
    better = sig.bayes_signed_rank(x + 0.05, y, rope=0.01)
    assert better.verdict == "better" and better.p_better > 0.95
    assert sig.bayes_signed_rank(y, x + 0.05, rope=0.01).verdict == "worse"
    assert math.isnan(sig.bayes_signed_rank([0.1], [0.2], rope=0.01).p_better)
    with pytest.raises(ValueError, match="positive"):
        sig.bayes_signed_rank(x, y, rope=0)


# --- Friedman, Nemenyi, Wilcoxon-Holm ---------------------------------------------------------

#: Scores to maximise, 6 seeds x 4 strategies, with ties in two seeds.
MATRIX = np.array(
    [
        [0.81, 0.85, 0.79, 0.86],
        [0.80, 0.84, 0.80, 0.88],
        [0.78, 0.86, 0.81, 0.85],
        [0.82, 0.83, 0.77, 0.83],
        [0.79, 0.85, 0.80, 0.87],
        [0.80, 0.82, 0.78, 0.86],
    ]
)


def test_friedman_is_scipys_chi_square_and_ranks_the_best_first():
    result = sig.friedman_test(pd.DataFrame(MATRIX, columns=["a", "b", "c", "d"]))
    expected = stats.friedmanchisquare(*MATRIX.T)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.pvalue == pytest.approx(expected.pvalue)
    assert result.name == "Friedman chi-square test" and result.applies
    ranks = stats.rankdata(-MATRIX, axis=1).mean(axis=0)
    assert list(result.avg_ranks) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(list(result.avg_ranks.values()), ranks)
    assert result.avg_ranks["d"] == pytest.approx((1 + 1 + 2 + 1.5 + 1 + 1) / 6)


def test_friedman_does_not_apply_to_two_strategies_or_one_seed():
    two = sig.friedman_test(MATRIX[:, :2])
    assert not two.applies and math.isnan(two.pvalue)
    assert two.avg_ranks["s1"] < two.avg_ranks["s0"]  # the ranks are still there
    one_seed = sig.friedman_test(MATRIX[:1])
    assert math.isnan(one_seed.pvalue) and one_seed.avg_ranks["s3"] == 1.0
    with_nan = MATRIX.copy()
    with_nan[0, 1] = np.nan
    assert sig.friedman_test(with_nan).n_seeds == 5
    tied = sig.friedman_test(np.ones((4, 3)))
    assert (tied.statistic, tied.pvalue) == (0.0, 1.0)


def test_nemenyi_critical_difference_matches_demsar():
    assert sig.nemenyi_critical_difference(4, 10, alpha=0.05) == pytest.approx(1.483, abs=5e-4)
    assert math.isnan(sig.nemenyi_critical_difference(1, 10))
    assert math.isnan(sig.nemenyi_critical_difference(4, 0))


def test_nemenyi_pvalues_separate_exactly_the_pairs_beyond_the_cd():
    rng = np.random.default_rng(3)
    names = ["a", "b", "c", "d", "e"]
    scores = pd.DataFrame(rng.normal(size=(12, 5)) + np.arange(5) * 0.4, columns=names)
    ranking = sig.ranking(scores, test="nemenyi")
    cd = sig.nemenyi_critical_difference(5, 12)
    assert ranking.cd == pytest.approx(cd)
    for a in names:
        for b in names:
            if a != b:
                apart = abs(ranking.avg_ranks[a] - ranking.avg_ranks[b]) >= cd
                assert ranking.separated(a, b) == apart
    holm_ranking = sig.ranking(scores)
    assert holm_ranking.test == "wilcoxon-holm" and math.isnan(holm_ranking.cd)
    with pytest.raises(ValueError, match="wilcoxon-holm"):
        sig.ranking(scores, test="tukey")


def _scores(n_seeds: int) -> np.ndarray:
    rng = np.random.default_rng(42)
    return rng.normal(size=(n_seeds, 3)) * 0.01 + np.array([0.80, 0.83, 0.805])


def test_wilcoxon_holm_cannot_decide_on_five_seeds():
    result = sig.wilcoxon_holm(_scores(5), names=["a", "b", "c"])
    assert result.min_seeds == 6 == sig.wilcoxon_min_seeds(0.05)
    assert result.table["wilcoxon_p"].isna().all()
    assert result.table["holm_p"].isna().all()
    assert not result.table["significant"].any()
    assert list(result.table["pairs"]) == [5, 5, 5]


def test_wilcoxon_holm_decides_on_ten_seeds():
    scores = _scores(10)
    result = sig.wilcoxon_holm(scores, names=["a", "b", "c"])
    table = result.table.set_index(["strategy_a", "strategy_b"])
    raw = stats.wilcoxon(scores[:, 0] - scores[:, 1]).pvalue
    assert table.loc[("a", "b"), "wilcoxon_p"] == pytest.approx(raw)
    assert table["wilcoxon_p"].notna().all()
    expected = holm(table["wilcoxon_p"].to_numpy())
    np.testing.assert_allclose(table["holm_p"], expected)
    assert table.loc[("a", "b"), "significant"]  # 0.83 vs 0.80 on every seed
    assert table.loc[("a", "b"), "mean_difference"] < 0
    matrix = result.pvalue_matrix(["a", "b", "c"])
    assert matrix.loc["b", "a"] == table.loc[("a", "b"), "holm_p"]


def test_wilcoxon_holm_agrees_with_scikit_posthocs():
    sp = pytest.importorskip("scikit_posthocs")
    scores = _scores(10)
    long = pd.DataFrame(
        {"value": scores.T.ravel(), "group": np.repeat(["a", "b", "c"], len(scores))}
    )
    theirs = sp.posthoc_wilcoxon(long, val_col="value", group_col="group", p_adjust="holm")
    ours = sig.wilcoxon_holm(scores, names=["a", "b", "c"]).pvalue_matrix(["a", "b", "c"])
    np.testing.assert_allclose(ours.to_numpy(), theirs.loc[["a", "b", "c"], ["a", "b", "c"]])


def test_holm_is_statsmodels_and_skips_untested_hypotheses():
    from statsmodels.stats.multitest import multipletests

    adjusted = holm(np.array([0.01, 0.04, np.nan, 0.03]))
    assert math.isnan(adjusted[2])
    np.testing.assert_allclose(
        adjusted[[0, 1, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1]
    )


def test_wilcoxon_vs_best_reads_the_all_pairs_holm_family():
    # The best is chosen after seeing the scores: its comparisons are Holm-corrected within
    # every pair (the ranking groups' and the diagram's family), not within its own k - 1.
    rng = np.random.default_rng(1)
    index = pd.MultiIndex.from_product([["a", "b", "c"], range(10)], names=["strategy", "seed"])
    values = np.concatenate([rng.normal(m, 0.01, 10) for m in (0.80, 0.79, 0.795)])
    per_seed = pd.Series(values, index=index)
    table = sig.wilcoxon_vs_best(per_seed).set_index("strategy")
    assert table.loc["a", "best"] == "a" and math.isnan(table.loc["a", "holm_p"])
    pairwise = sig.wilcoxon_holm(per_seed.unstack(0).sort_index(axis=1)).table
    all_pairs = holm(pairwise["wilcoxon_p"].to_numpy())
    expected = {
        frozenset((a, b)): p
        for a, b, p in zip(pairwise["strategy_a"], pairwise["strategy_b"], all_pairs, strict=True)
    }
    for other in ("b", "c"):
        assert table.loc[other, "holm_p"] == pytest.approx(expected[frozenset(("a", other))])
    assert (table["holm_p"].dropna() >= table["wilcoxon_p"].dropna()).all()
    assert table["significant"].tolist() == list(table["holm_p"] < 0.05)


@pytest.mark.parametrize(("alpha", "seeds"), [(0.05, 6), (0.1, 5), (0.01, 8), (0.0625, 5)])
def test_wilcoxon_min_seeds(alpha, seeds):
    assert sig.wilcoxon_min_seeds(alpha) == seeds
    assert 2 / 2**seeds <= alpha < 2 / 2 ** (seeds - 1)


# --- the figure -----------------------------------------------------------------------------


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def test_critical_difference_figure_draws_the_tests_own_bars_and_is_deterministic():
    rng = np.random.default_rng(3)
    names = ["random", "tpe", "cmaes", "gp", "grid", "qmc"]
    scores = pd.DataFrame(rng.normal(size=(10, 6)) + np.arange(6) * 0.3, columns=names)
    nemenyi = sig.ranking(scores, test="nemenyi")
    figure = critical_difference_figure(nemenyi)
    texts = " ".join(text.get_text() for ax in figure.axes for text in ax.texts)
    assert all(name in texts for name in names)
    assert f"CD = {nemenyi.cd:.2g}" in texts
    assert "Nemenyi" in figure._suptitle.get_text()
    first = _png(figure)
    assert first == _png(critical_difference_figure(nemenyi))
    holm_figure = critical_difference_figure(sig.ranking(scores))
    holm_texts = " ".join(text.get_text() for ax in holm_figure.axes for text in ax.texts)
    assert "CD =" not in holm_texts  # no Nemenyi CD drawn beside Holm-Wilcoxon bars
    assert "Holm" in holm_figure._suptitle.get_text()


# --- seeds needed -----------------------------------------------------------------------------


def _differences(effect: float, n: int = 40) -> np.ndarray:
    """Paired differences whose mean over sd (ddof 1) is exactly ``effect``."""
    z = np.random.default_rng(0).normal(size=n)
    z = (z - z.mean()) / z.std(ddof=1)
    return 0.02 * (effect + z)


def test_seeds_needed_matches_the_textbook_value():
    """d/s = 0.5, two-sided alpha 0.05, power 0.8: 34 pairs (Cohen 1988; G*Power)."""
    result = sig.seeds_needed(_differences(0.5))
    assert result.effect_size == pytest.approx(0.5)
    assert result.t_test == 34
    assert sig.paired_t_power(0.5, 33) < 0.8 <= sig.paired_t_power(0.5, 34)
    assert result.wilcoxon == math.ceil(34 / (3 / math.pi)) == 36
    assert sig.seeds_needed(_differences(-0.5)).t_test == 34
    assert sig.seeds_needed(_differences(0.8), power=0.9).t_test == 19  # G*Power: 19


def test_seeds_needed_power_agrees_with_simulation():
    rng = np.random.default_rng(11)
    differences = rng.normal(0.5, 1.0, size=(4000, 34))
    p = stats.ttest_1samp(differences, 0.0, axis=1).pvalue
    assert np.mean(p < 0.05) == pytest.approx(sig.paired_t_power(0.5, 34), abs=0.02)


def test_seeds_needed_edge_cases():
    zero = sig.seeds_needed([0.01, -0.01, 0.02, -0.02])
    assert zero.t_test == math.inf and zero.wilcoxon == math.inf
    huge = sig.seeds_needed(_differences(3.0))
    assert huge.t_test == 4 and huge.wilcoxon == 6  # the Wilcoxon cannot decide on fewer
    tiny = sig.seeds_needed(_differences(0.01))
    assert tiny.t_test == math.inf
    assert math.isnan(sig.seeds_needed([0.1]).t_test)
    assert math.isnan(sig.seeds_needed([0.1, 0.1, 0.1]).t_test)


# --- held-out comparisons ---------------------------------------------------------------------


def test_mcnemar_exact_p_matches_a_hand_computation():
    y = np.zeros(20, dtype=int)
    pred_a = y.copy()
    pred_b = y.copy()
    pred_a[:2] = 1  # a wrong, b right: c = 2
    pred_b[2:10] = 1  # b wrong, a right: b = 8
    pred_a[15] = pred_b[15] = 1  # both wrong: not discordant
    b, c, p = sig.mcnemar_test(y, pred_a, pred_b)
    assert (b, c) == (8, 2)
    assert p == pytest.approx(2 * (1 + 10 + 45) / 2**10)  # 2 P(X <= 2), X ~ Bin(10, 1/2)
    mid = sig.mcnemar_test(y, pred_a, pred_b, mid_p=True)
    assert mid.pvalue == pytest.approx((2 * (1 + 10 + 45) - 45) / 2**10)
    assert mid.b == 8 and mid.c == 2
    assert sig.mcnemar_test(y, pred_b, pred_a)[:2] == (2, 8)
    assert sig.mcnemar_test(y, y, y) == (0, 0, 1.0)
    assert sig.mcnemar_test(y, pred_a, pred_a).pvalue == 1.0


def test_paired_bootstrap_identical_predictions_show_no_difference():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    pred = np.where(rng.random(200) < 0.8, y, 1 - y)
    result = sig.paired_bootstrap_metric(y, pred, pred.copy(), _accuracy)
    assert result.difference.estimate == 0.0
    assert (result.difference.low, result.difference.high) == (0.0, 0.0)
    assert result.pvalue == 1.0
    assert result.difference.note == "n/a (all resamples equal)"


def test_paired_bootstrap_detects_a_clearly_better_model():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=300)
    good = np.where(rng.random(300) < 0.9, y, 1 - y)
    poor = np.where(rng.random(300) < 0.7, y, 1 - y)
    result = sig.paired_bootstrap_metric(y, good, poor, _accuracy, seed=2)
    assert result.difference.estimate == pytest.approx(_accuracy(y, good) - _accuracy(y, poor))
    assert result.score_a == _accuracy(y, good)
    assert 0.0 < result.difference.low <= result.difference.high
    assert result.pvalue == pytest.approx(2 / (result.n_boot + 1))
    assert result == sig.paired_bootstrap_metric(y, good, poor, _accuracy, seed=2)
    swapped = sig.paired_bootstrap_metric(y, poor, good, _accuracy, seed=2)
    assert swapped.difference.high == pytest.approx(-result.difference.low)
    bca = sig.paired_bootstrap_metric(y, good, poor, _accuracy, seed=2, method="bca")
    assert bca.difference.method == "paired-bca" and bca.difference.low > 0


def test_paired_bootstrap_uses_the_pairing_of_rows():
    """b is a with 12 of its right rows made wrong: separate intervals overlap, paired do not."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=300)
    a = np.where(rng.random(300) < 0.85, y, 1 - y)
    b = a.copy()
    flip = np.flatnonzero(a == y)[:12]
    b[flip] = 1 - b[flip]
    paired = sig.paired_bootstrap_metric(y, a, b, _accuracy, seed=0)
    alone_a = sig.bootstrap_metric_interval(y, a, _accuracy, seed=0)
    alone_b = sig.bootstrap_metric_interval(y, b, _accuracy, seed=0)
    assert alone_a.low < alone_b.high  # the two intervals overlap
    assert paired.difference.estimate == pytest.approx(12 / 300)
    assert paired.difference.low > 0 and paired.pvalue < 0.01
    assert sig.mcnemar_test(y, a, b) == (12, 0, pytest.approx(2 / 2**12))


def test_bootstrap_metric_interval_and_its_validation():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, size=400)
    pred = np.where(rng.random(400) < 0.75, y, 1 - y)
    interval = sig.bootstrap_metric_interval(y, pred, _accuracy, n_boot=4000, seed=0)
    acc = _accuracy(y, pred)
    se = math.sqrt(acc * (1 - acc) / len(y))  # binomial standard error
    assert interval.sd == pytest.approx(se, rel=0.1)
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * se, rel=0.1)
    assert interval.unit == "rows" and interval.n == 400 and interval.method == "percentile"
    with pytest.raises(ValueError, match="row counts differ"):
        sig.bootstrap_metric_interval(y, pred[:-1], _accuracy)
    with pytest.raises(ValueError, match="method"):
        sig.bootstrap_metric_interval(y, pred, _accuracy, method="student")


def test_critical_difference_figure_bytes_do_not_depend_on_string_hashing():
    # scikit-posthocs draws a crossbar through a set of names; its order follows
    # PYTHONHASHSEED, so the same diagram could antialias to other bytes in another process.
    code = (
        "import hashlib, io, numpy as np, pandas as pd\n"
        "from harness.results import statistics as sig\n"
        "from harness.results.figures import critical_difference_figure\n"
        "names = ['gp', 'bayesopt', 'tpe', 'random', 'skopt']\n"
        "rng = np.random.default_rng(0)\n"
        "scores = pd.DataFrame(rng.normal(size=(10, 5)) * 0.01, columns=names)\n"
        "buffer = io.BytesIO()\n"
        "critical_difference_figure(sig.ranking(scores)).savefig(\n"
        "    buffer, format='png', dpi=100, metadata={'Software': None})\n"
        "print(hashlib.sha256(buffer.getvalue()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(digests) == 1


def test_rank_correlation_is_spearman_with_an_exact_permutation_p():
    x = [0.41, 0.409, 0.4095, 0.4075, 0.405, 0.404, 0.4038, 0.4033]
    y = [-0.0436, -0.0414, -0.0451, -0.0433, -0.0387, -0.0327, -0.0466, -0.0426]
    result = sig.rank_correlation(x, y)
    assert result.rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert result.n == 8
    # Exact over the 8! pairings: the share at least as extreme as the observed rho.
    pairings = np.array(list(itertools.permutations(stats.rankdata(x))))
    ranks = stats.rankdata(y)
    rhos = np.array([np.corrcoef(p, ranks)[0, 1] for p in pairings])
    assert result.pvalue == pytest.approx(np.mean(np.abs(rhos) >= abs(result.rho) - 1e-12))


def test_rank_correlation_knows_what_few_pairs_cannot_show():
    # Three pairs in perfect order: 2 of the 6 pairings are as extreme.
    assert sig.rank_correlation([1, 2, 3], [3, 2, 1]).pvalue == pytest.approx(1 / 3)
    constant = sig.rank_correlation([1, 1, 1], [1, 2, 3])
    assert np.isnan(constant.rho) and np.isnan(constant.pvalue)
    assert np.isnan(sig.rank_correlation([1, 2], [1, 2]).pvalue)
    # Beyond 8 pairs the pairings are drawn from a fixed seed: the same p every time.
    x, y = np.arange(12.0), np.arange(12.0) ** 2
    assert sig.rank_correlation(x, y).pvalue == sig.rank_correlation(x, y).pvalue < 0.001
