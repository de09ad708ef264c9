"""Final scores with valid small-sample intervals, a paired ranking and a power line.

The seeds of different strategies are paired (same task seed, same folds), so
strategies are compared on the seeds they share:

- :func:`interval_table`: each strategy's mean final score with a Student-t
  interval over seeds (valid at ``n = 5``, where the percentile bootstrap
  under-covers), printed ``"n/a (all seeds equal)"`` where it has zero width;
- :func:`ranking_table`: Friedman's test over the seeds x strategies matrix,
  the average ranks, the Nemenyi critical difference and, for every pair,
  Wilcoxon signed-rank tests with Holm's correction (:func:`pairwise_table`);
  :func:`ranking_figure` draws the critical-difference diagram;
- :func:`power_table`: the best against the runner-up, the seed-to-seed spread
  of their paired differences and how many seeds would detect the difference
  (alpha 0.05, power 0.8), or that ``n`` seeds cannot reach p < 0.05 at all.

Overlapping or disjoint intervals are never used as a test here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.results import efficiency, significance

ALPHA = 0.05
POWER = 0.8


def _matrix(frame: pd.DataFrame, budget: int | None) -> pd.DataFrame:
    """Final incumbents as a seeds x strategies matrix (seeds every strategy ran)."""
    finals = efficiency.final_incumbents(frame, budget=budget)
    return finals.unstack("strategy").sort_index(axis=1).dropna()


def interval_text(interval: significance.Interval) -> str:
    """``"[0.3959, 0.4040]"``, or the interval's note (``"n/a (all seeds equal)"``)."""
    return interval.note or f"[{float(interval.low):.4f}, {float(interval.high):.4f}]"


def interval_table(
    frame: pd.DataFrame, *, budget: int | None = None, confidence: float = 1 - ALPHA
) -> pd.DataFrame:
    """Mean final score per strategy with its Student-t interval over seeds.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``mean``, ``std``, ``ci_low``, ``ci_high``
        (t interval; NaN with one seed) and ``interval`` (the interval as text,
        or why it is no evidence).
    """
    finals = efficiency.final_incumbents(frame, budget=budget)
    rows = []
    for strategy, values in finals.groupby(level="strategy", sort=True):
        interval = significance.t_interval(values.to_numpy(float), confidence)
        rows.append(
            {
                "strategy": strategy,
                "seeds": interval.n,
                "mean": float(interval.estimate),
                "std": float(interval.sd),
                "ci_low": float(interval.low),
                "ci_high": float(interval.high),
                "interval": interval_text(interval),
            }
        )
    return pd.DataFrame(rows)


def ranking_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Average rank per strategy over the shared seeds, with Friedman's test.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (by average rank), ``strategy``, ``seeds`` (shared by all),
        ``avg_rank`` (1 = best), ``friedman_p`` (Iman-Davenport F form; the same
        on every row; NaN with fewer than 2 seeds or strategies), ``nemenyi_cd``
        (critical difference of average ranks at alpha 0.05) and ``group``
        (strategies the Holm-corrected Wilcoxon tests do not tell apart from
        this one, ``"all"`` when none differ).
    """
    matrix = _matrix(frame, budget)
    result = significance.friedman_test(matrix)
    cd = significance.nemenyi_critical_difference(result.n_strategies, result.n_seeds, ALPHA)
    pairwise = significance.wilcoxon_holm(matrix, alpha=ALPHA).table
    significant = {
        frozenset((a, b)) for a, b, s in
        pairwise[["strategy_a", "strategy_b", "significant"]].itertuples(index=False) if s
    }  # fmt: skip
    names = list(matrix.columns)
    rows = []
    for name in names:
        alike = [other for other in names if frozenset((name, other)) not in significant]
        rows.append(
            {
                "strategy": name,
                "seeds": result.n_seeds,
                "avg_rank": result.avg_ranks[name],
                "friedman_p": result.f_pvalue,
                "nemenyi_cd": cd,
                "group": "all" if len(alike) == len(names) else ", ".join(sorted(alike)),
            }
        )
    table = pd.DataFrame(rows).sort_values(["avg_rank", "strategy"], ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def pairwise_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test for every pair of strategies, Holm-corrected.

    Returns
    -------
    pandas.DataFrame
        ``strategy_a``, ``strategy_b``, ``pairs``, ``mean_difference`` (``a - b``),
        ``diff_low``/``diff_high`` (t interval of the paired mean difference),
        ``wilcoxon_p`` (NaN where the pairs cannot reach 0.05), ``holm_p`` and
        ``significant``.
    """
    finals = efficiency.final_incumbents(frame, budget=budget)
    wide = finals.unstack("strategy").sort_index(axis=1)
    table = significance.wilcoxon_holm(wide, alpha=ALPHA).table
    lows, highs = [], []
    for a, b in table[["strategy_a", "strategy_b"]].itertuples(index=False):
        interval = significance.paired_differences_interval(wide[a], wide[b], 1 - ALPHA)
        lows.append(float(interval.low))
        highs.append(float(interval.high))
    table.insert(4, "diff_low", lows)
    table.insert(5, "diff_high", highs)
    return table


def ranking_figure(frame: pd.DataFrame, *, budget: int | None = None) -> Figure:
    """Critical-difference diagram: average ranks, Nemenyi CD, Wilcoxon-Holm groups."""
    matrix = _matrix(frame, budget)
    result = significance.friedman_test(matrix)
    cd = significance.nemenyi_critical_difference(result.n_strategies, result.n_seeds, ALPHA)
    pairwise = significance.wilcoxon_holm(matrix, alpha=ALPHA)
    order = sorted(result.avg_ranks, key=lambda n: (result.avg_ranks[n], n))
    cliques = significance.cliques_from_pvalues(order, pairwise.pvalues, ALPHA)
    return significance.critical_difference_figure(
        result.avg_ranks, cd, result.n_seeds, cliques,
        title=f"average rank of the final CV score over {result.n_seeds} seeds "
        f"(bars: not told apart by Wilcoxon-Holm at {ALPHA})",
    )  # fmt: skip


def power_table(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """The best strategy against the runner-up: observed difference, spread, seeds needed.

    Returns
    -------
    pandas.DataFrame
        One row: ``best_strategy``, ``runner_up`` (by mean final score), ``pairs``,
        ``mean_difference``, ``sd_difference`` (seed-to-seed SD of the paired
        differences), ``wilcoxon_p``, ``seeds_needed_t`` and
        ``seeds_needed_wilcoxon`` (to detect that difference at alpha 0.05 with
        power 0.8; ``inf`` for a zero difference) and ``verdict`` (text).
    """
    finals = efficiency.final_incumbents(frame, budget=budget)
    wide = finals.unstack("strategy").sort_index(axis=1)
    means = wide.mean().sort_values(ascending=False, kind="stable")
    columns = ["best_strategy", "runner_up", "pairs", "mean_difference", "sd_difference",
               "wilcoxon_p", "seeds_needed_t", "seeds_needed_wilcoxon", "verdict"]  # fmt: skip
    if len(means) < 2:
        return pd.DataFrame(columns=columns)
    best, runner_up = means.index[0], means.index[1]
    pairs = wide[[best, runner_up]].dropna()
    diff = (pairs[best] - pairs[runner_up]).to_numpy(float)
    n = len(diff)
    needed = significance.seeds_needed(diff, ALPHA, POWER)
    p = significance.paired_wilcoxon(pairs[best], pairs[runner_up], alpha=ALPHA)
    minimum = significance.wilcoxon_min_seeds(ALPHA)
    nonzero = int(np.count_nonzero(diff))
    if nonzero < minimum:
        verdict = (
            f"cannot reach p < {ALPHA} with {n} seeds ({nonzero} non-tied pairs; a Wilcoxon "
            f"test needs at least {minimum})"
        )
    elif not math.isnan(p) and p < ALPHA:
        verdict = f"{best} ahead of {runner_up} (Wilcoxon p = {p:.3g}, {n} pairs)"
    else:
        verdict = f"not distinguishable with {n} seeds (Wilcoxon p = {p:.3g})"
    if math.isfinite(needed.wilcoxon):
        verdict += f"; about {int(needed.wilcoxon)} seeds would detect this difference"
    sd = float(np.std(diff, ddof=1)) if n > 1 else float("nan")
    row = [best, runner_up, n, float(diff.mean()) if n else float("nan"), sd, p,
           needed.t_test, needed.wilcoxon, verdict]  # fmt: skip
    return pd.DataFrame([row], columns=columns)
