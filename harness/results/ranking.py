"""Final scores with valid small-sample intervals, a paired ranking and a power line.

The seeds of different strategies are paired (same task seed, same folds), so
strategies are compared on the seeds they share, with the tests of
:mod:`harness.results.statistics`:

- :func:`interval_table`: each strategy's mean final score with a Student-t
  interval over seeds, and its interquartile mean with a stratified BCa
  bootstrap interval (robust to one lucky seed);
- :func:`ranking_table`: average ranks, the Friedman chi-square test (only
  with three strategies or more: with two the paired test decides) and the
  groups of the ONE post-hoc test the text and the diagram use
  (:data:`POSTHOC`, pairwise Wilcoxon signed-rank tests with Holm's correction);
  :func:`ranking_figure` draws that test's critical-difference diagram;
- :func:`pairwise_table`: the Wilcoxon-Holm test of every pair, its paired
  t-interval, and the Bayesian signed-rank test with a region of practical
  equivalence (:data:`ROPE`), which can say "practically equivalent";
- :func:`power_table`: the best against the runner-up and how many seeds
  would detect the difference.

Each takes a trial frame and reads the final incumbents from it; its ``*_of``
twin takes any per-seed score directly (a Series indexed by ``(strategy, seed)``,
greater is better), so another per-seed measure, such as the hypervolume of a
study's Pareto front (:mod:`harness.results.pareto`), goes through the same tests.

Overlapping or disjoint intervals are never used as a test here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.results import efficiency, statistics
from harness.results.figures import critical_difference_figure

ALPHA = 0.05
POWER = 0.8
#: The post-hoc test behind every "significant", group and diagram bar (Benavoli et al. 2016).
POSTHOC = "wilcoxon-holm"
#: Region of practical equivalence of the Bayesian signed-rank test, in score units.
ROPE = 0.01


def _matrix(frame: pd.DataFrame, budget: int | None) -> pd.DataFrame:
    """Final incumbents as a seeds x strategies matrix (seeds every strategy ran)."""
    return _matrix_of(efficiency.final_incumbents(frame, budget=budget))


def _matrix_of(finals: pd.Series) -> pd.DataFrame:
    """Per-seed scores as a seeds x strategies matrix (seeds every strategy ran)."""
    return finals.unstack("strategy").sort_index(axis=1).dropna()


def interval_text(interval: statistics.Interval) -> str:
    """``"[0.3959, 0.4040]"``, or the interval's note (``"n/a (all seeds equal)"``)."""
    return interval.text(".4f")


def interval_table(
    frame: pd.DataFrame, *, budget: int | None = None, confidence: float = 1 - ALPHA
) -> pd.DataFrame:
    """Mean final score per strategy with its Student-t interval, and its interquartile mean.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``mean``, ``std``, ``ci_low``, ``ci_high``
        (t interval; NaN with one seed), ``interval`` (the interval as text, or
        why it is no evidence), ``iqm`` and ``iqm_interval`` (interquartile mean
        over seeds, stratified BCa bootstrap interval).
    """
    return interval_table_of(efficiency.final_incumbents(frame, budget=budget), confidence)


def interval_table_of(finals: pd.Series, confidence: float = 1 - ALPHA) -> pd.DataFrame:
    """:func:`interval_table` of per-seed scores indexed by ``(strategy, seed)``."""
    rows = []
    for strategy, values in finals.groupby(level="strategy", sort=True):
        values = values.dropna().to_numpy(float)
        interval = statistics.t_interval(values, confidence)
        iqm = statistics.iqm_interval([values], confidence=confidence)
        rows.append(
            {
                "strategy": strategy,
                "seeds": interval.n,
                "mean": float(interval.estimate),
                "std": float(interval.sd),
                "ci_low": float(interval.low),
                "ci_high": float(interval.high),
                "interval": interval_text(interval),
                "iqm": float(iqm.estimate),
                "iqm_interval": interval_text(iqm),
            }
        )
    return pd.DataFrame(rows)


def posthoc(frame: pd.DataFrame, *, budget: int | None = None) -> statistics.Ranking:
    """The ranking by :data:`POSTHOC` over the seeds every strategy ran."""
    return statistics.ranking(_matrix(frame, budget), test=POSTHOC, alpha=ALPHA)


def ranking_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Average rank per strategy over the shared seeds, the Friedman test and the post-hoc groups.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``strategy``, ``seeds`` (shared by all), ``avg_rank`` (1 =
        best), ``friedman_p`` (Friedman chi-square test; the same on every row;
        NaN where it does not apply: fewer than 3 strategies or 2 seeds) and
        ``group`` (strategies the Holm-corrected paired Wilcoxon tests do not
        tell apart from this one, ``"all"`` when none differ).
    """
    return ranking_table_of(efficiency.final_incumbents(frame, budget=budget))


def ranking_table_of(finals: pd.Series) -> pd.DataFrame:
    """:func:`ranking_table` of per-seed scores indexed by ``(strategy, seed)``."""
    matrix = _matrix_of(finals)
    friedman = statistics.friedman_test(matrix)
    result = statistics.ranking(matrix, test=POSTHOC, alpha=ALPHA)
    names = list(matrix.columns)
    rows = []
    for name in names:
        alike = [other for other in names if not result.separated(name, other)]
        rows.append(
            {
                "strategy": name,
                "seeds": friedman.n_seeds,
                "avg_rank": friedman.avg_ranks[name],
                "friedman_p": friedman.pvalue,
                "group": "all" if len(alike) == len(names) else ", ".join(sorted(alike)),
            }
        )
    columns = ["strategy", "seeds", "avg_rank", "friedman_p", "group"]
    table = pd.DataFrame(rows, columns=columns).sort_values(
        ["avg_rank", "strategy"], ignore_index=True
    )
    if not friedman.applies:
        table = table.drop(columns="friedman_p")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def pairwise_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Paired tests for every pair of strategies: Wilcoxon-Holm and Bayesian signed-rank.

    Returns
    -------
    pandas.DataFrame
        ``strategy_a``, ``strategy_b``, ``pairs``, ``mean_difference`` (``a - b``),
        ``diff_low``/``diff_high`` (paired t interval of the mean difference),
        ``wilcoxon_p`` (raw; NaN where the pairs cannot reach 0.05), ``holm_p``,
        ``significant`` (``holm_p < 0.05``), ``p_a_better``, ``p_equivalent``,
        ``p_b_better`` (Bayesian signed-rank posterior with the rope
        :data:`ROPE`) and ``bayes`` (its verdict at 0.95: ``a better``,
        ``practically equivalent``, ``b better`` or ``undecided``).
    """
    return pairwise_table_of(efficiency.final_incumbents(frame, budget=budget))


def pairwise_table_of(finals: pd.Series) -> pd.DataFrame:
    """:func:`pairwise_table` of per-seed scores indexed by ``(strategy, seed)``."""
    wide = finals.unstack("strategy").sort_index(axis=1)
    table = statistics.wilcoxon_holm(wide, alpha=ALPHA).table
    lows, highs, bayes = [], [], []
    for a, b in table[["strategy_a", "strategy_b"]].itertuples(index=False):
        interval = statistics.paired_differences_interval(wide[a], wide[b], 1 - ALPHA)
        lows.append(float(interval.low))
        highs.append(float(interval.high))
        bayes.append(statistics.bayes_signed_rank(wide[a], wide[b], rope=ROPE))
    table.insert(4, "diff_low", lows)
    table.insert(5, "diff_high", highs)
    table["p_a_better"] = [result.p_better for result in bayes]
    table["p_equivalent"] = [result.p_equivalent for result in bayes]
    table["p_b_better"] = [result.p_worse for result in bayes]
    verdicts = {"better": "a better", "worse": "b better"}
    table["bayes"] = [verdicts.get(result.verdict, result.verdict) for result in bayes]
    return table


def ranking_figure(frame: pd.DataFrame, *, budget: int | None = None) -> Figure:
    """Critical-difference diagram of the average ranks, bars from the :data:`POSTHOC` test."""
    return ranking_figure_of(efficiency.final_incumbents(frame, budget=budget))


def ranking_figure_of(finals: pd.Series, what: str = "the final CV score") -> Figure:
    """:func:`ranking_figure` of per-seed scores indexed by ``(strategy, seed)``; ``what``
    names them in the title."""
    result = statistics.ranking(_matrix_of(finals), test=POSTHOC, alpha=ALPHA)
    return critical_difference_figure(
        result,
        title=f"Average rank of {what} over {result.n_seeds} seeds (1 = best); "
        f"bars: not separated by {result.label} at {ALPHA}",
    )


def power_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """The best strategy against the runner-up: observed difference, spread, seeds needed.

    Returns
    -------
    pandas.DataFrame
        One row: ``best_strategy``, ``runner_up`` (by mean final score), ``pairs``,
        ``mean_difference``, ``sd_difference``, ``wilcoxon_p`` (one pair, so no
        correction), ``seeds_needed_t`` and ``seeds_needed_wilcoxon`` (to detect
        that difference at alpha 0.05 with power 0.8) and ``verdict`` (text).
    """
    return power_table_of(efficiency.final_incumbents(frame, budget=budget))


def power_table_of(finals: pd.Series) -> pd.DataFrame:
    """:func:`power_table` of per-seed scores indexed by ``(strategy, seed)``."""
    wide = finals.unstack("strategy").sort_index(axis=1)
    means = wide.mean().sort_values(ascending=False, kind="stable")
    columns = [
        "best_strategy",
        "runner_up",
        "pairs",
        "mean_difference",
        "sd_difference",
        "wilcoxon_p",
        "seeds_needed_t",
        "seeds_needed_wilcoxon",
        "verdict",
    ]
    if len(means) < 2:
        return pd.DataFrame(columns=columns)
    best, runner_up = means.index[0], means.index[1]
    pairs = wide[[best, runner_up]].dropna()
    diff = (pairs[best] - pairs[runner_up]).to_numpy(float)
    n = len(diff)
    needed = statistics.seeds_needed(diff, ALPHA, POWER)
    p = statistics.paired_wilcoxon(pairs[best], pairs[runner_up], alpha=ALPHA)
    minimum = statistics.wilcoxon_min_seeds(ALPHA)
    nonzero = int(np.count_nonzero(diff))
    if nonzero < minimum:
        verdict = (
            f"cannot reach p < {ALPHA} with {n} seeds ({nonzero} non-tied pairs: the smallest "
            f"two-sided Wilcoxon p is 2/2^{nonzero} = {statistics.wilcoxon_floor(nonzero):.4g}; "
            f"it needs at least {minimum})"
        )
    elif not math.isnan(p) and p < ALPHA:
        verdict = f"{best} ahead of {runner_up} (Wilcoxon p = {p:.3g}, {n} pairs)"
    else:
        verdict = f"not distinguishable with {n} seeds (Wilcoxon p = {p:.3g})"
    if math.isfinite(needed.wilcoxon):
        verdict += f"; about {int(needed.wilcoxon)} seeds would detect this difference"
    sd = float(np.std(diff, ddof=1)) if n > 1 else float("nan")
    row = [
        best,
        runner_up,
        n,
        float(diff.mean()) if n else float("nan"),
        sd,
        p,
        needed.t_test,
        needed.wilcoxon,
        verdict,
    ]
    return pd.DataFrame([row], columns=columns)
