"""Statistics over seeds: bootstrap intervals, rank tests, Holm correction, summaries.

Everything here works on per-seed numbers (arrays, or Series indexed by
``(group, seed)``) that :mod:`harness.results.efficiency` pulls out of the trial
frames. Every random draw takes a seed, so a rebuilt table is identical.

The rank tests return NaN ("n/a") instead of a p-value when the sample sizes
cannot produce a p-value below ``alpha`` at all: with 5 paired seeds the
smallest two-sided Wilcoxon p-value is 0.0625, so any number printed would
only look like evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np
import pandas as pd
from scipy import stats

#: Bootstrap resamples drawn per vectorised chunk are capped at this many array elements.
_CHUNK_ELEMENTS = 4_000_000


def bootstrap_ci(
    samples: np.ndarray,
    statistic: Callable[..., np.ndarray] = np.mean,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of ``statistic`` over the first axis (the seeds).

    Parameters
    ----------
    samples : numpy.ndarray
        Shape ``(n_seeds, ...)``; seeds are resampled with replacement, whole
        rows at a time, so the other axes stay paired.
    statistic : callable
        Called as ``statistic(array, axis=1)`` on a stack of resamples, e.g.
        :func:`numpy.mean` or :func:`numpy.median`.
    n_boot : int
        Number of resamples.
    confidence : float
        Coverage of the interval, e.g. 0.95.
    seed : int
        Seed of the resampling generator.

    Returns
    -------
    low, high : numpy.ndarray
        Shape ``samples.shape[1:]``. All NaN with fewer than two seeds, where a
        bootstrap would only repeat the one value.
    """
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    if n < 2:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan.copy()
    picks = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    chunk = max(1, _CHUNK_ELEMENTS // samples.size)
    estimates = np.concatenate(
        [statistic(samples[picks[i : i + chunk]], axis=1) for i in range(0, n_boot, chunk)]
    )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail], axis=0)
    return low, high


def paired_wilcoxon(x: np.ndarray, y: np.ndarray, *, alpha: float = 0.05) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired samples, or NaN when it cannot decide.

    Parameters
    ----------
    x, y : numpy.ndarray
        Paired values (same seed at the same position).
    alpha : float
        Level the test must be able to reach.

    Returns
    -------
    float
        1.0 when every pair is equal; NaN when the non-zero differences are
        too few for an exact two-sided p-value below ``alpha``
        (``2 / 2**n > alpha``); else :func:`scipy.stats.wilcoxon`'s p-value.
    """
    diff = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    nonzero = int(np.count_nonzero(diff))
    if nonzero == 0:
        return 1.0
    if 2.0 / 2.0**nonzero > alpha:
        return float("nan")
    return float(stats.wilcoxon(diff).pvalue)


def mann_whitney(x: np.ndarray, y: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test, or NaN when the sample sizes cannot reach ``alpha``.

    Parameters
    ----------
    x, y : numpy.ndarray
        Independent samples.
    alpha : float
        Level the test must be able to reach.

    Returns
    -------
    u, p : float
        The U statistic of ``x`` and the p-value; the p-value is NaN when the
        smallest exact two-sided p-value, ``2 / C(n_x + n_y, n_x)``, exceeds
        ``alpha``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0 or y.size == 0:
        return float("nan"), float("nan")
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    if 2.0 / comb(x.size + y.size, x.size) > alpha:
        return float(result.statistic), float("nan")
    return float(result.statistic), float(result.pvalue)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values; NaN entries are not part of the family.

    Parameters
    ----------
    pvalues : numpy.ndarray
        Raw p-values, NaN for hypotheses that were not tested.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order: reject hypothesis i at family-wise
        level alpha when the adjusted value is below alpha.
    """
    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full(pvalues.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(pvalues))
    order = tested[np.argsort(pvalues[tested], kind="stable")]
    factors = len(order) - np.arange(len(order))
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(factors * pvalues[order]))
    return adjusted


def summarize(
    per_seed: pd.Series,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "t",
) -> pd.DataFrame:
    """Mean, standard deviation and confidence interval of one number per seed, per group.

    Parameters
    ----------
    per_seed : pandas.Series
        Indexed by ``(group, seed)``, e.g. final incumbents by strategy and seed;
        NaN entries are left out.
    n_boot, confidence, seed
        As in :func:`bootstrap_ci`.
    method : {"t", "bootstrap"}
        ``"t"``: Student-t interval of the mean, which keeps its coverage at
        5 seeds; ``"bootstrap"``: percentile bootstrap (too narrow at small n).

    Returns
    -------
    pandas.DataFrame
        One row per group in sorted order: the group (column named after the
        first index level), ``seeds``, ``mean``, ``std`` (ddof 1, NaN with one
        seed), ``ci_low`` and ``ci_high`` (NaN with one seed; equal to the mean
        when all seeds agree).
    """
    level = per_seed.index.names[0]
    rows = []
    for group, values in per_seed.dropna().groupby(level=0, sort=True):
        values = values.to_numpy(float)
        if method == "t":
            low, high = _t_bounds(values, confidence)
        else:
            low, high = bootstrap_ci(values, n_boot=n_boot, confidence=confidence, seed=seed)
        rows.append(
            {
                level: group,
                "seeds": len(values),
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
    return pd.DataFrame(rows, columns=[level, "seeds", "mean", "std", "ci_low", "ci_high"])


def _t_bounds(values: np.ndarray, confidence: float) -> tuple[float, float]:
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    mean = float(values.mean())
    if np.all(values == values[0]):
        return mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean - float(half), mean + float(half)


def wilcoxon_vs_best(per_seed: pd.Series, *, alpha: float = 0.05) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test of every strategy against the best one.

    Parameters
    ----------
    per_seed : pandas.Series
        Final incumbents indexed by ``(strategy, seed)``.
    alpha : float
        Level the test must be able to reach (see :func:`paired_wilcoxon`).

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``best`` (highest mean; the first by name on a tie),
        ``pairs`` (seeds both ran) and ``wilcoxon_p`` (NaN for the best itself
        and where the pairs cannot reach ``alpha``).
    """
    wide = per_seed.unstack(0).sort_index(axis=1)
    best = wide.mean().idxmax()
    rows = []
    for strategy in wide.columns:
        pairs = wide[[strategy, best]].dropna()
        p = float("nan")
        if strategy != best:
            p = paired_wilcoxon(pairs[strategy], pairs[best], alpha=alpha)
        rows.append({"strategy": strategy, "best": best, "pairs": len(pairs), "wilcoxon_p": p})
    return pd.DataFrame(rows)


def pairwise_mannwhitney(per_seed: pd.Series, *, alpha: float = 0.05) -> pd.DataFrame:
    """Two-sided Mann-Whitney U tests for every pair of strategies, Holm-corrected.

    Parameters
    ----------
    per_seed : pandas.Series
        Final incumbents indexed by ``(strategy, seed)``.
    alpha : float
        Family-wise level.

    Returns
    -------
    pandas.DataFrame
        ``strategy_a``, ``strategy_b``, ``seeds_a``, ``seeds_b``, ``u`` (of
        ``a``), ``mannwhitney_p`` (NaN where the sizes cannot reach ``alpha``),
        ``holm_p`` (adjusted over the tested pairs) and ``significant``
        (``holm_p < alpha``; false for untested pairs).
    """
    groups = {name: v.to_numpy(float) for name, v in per_seed.dropna().groupby(level=0)}
    names = sorted(groups)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            u, p = mann_whitney(groups[a], groups[b], alpha=alpha)
            rows.append([a, b, len(groups[a]), len(groups[b]), u, p])
    table = pd.DataFrame(
        rows, columns=["strategy_a", "strategy_b", "seeds_a", "seeds_b", "u", "mannwhitney_p"]
    )
    table["holm_p"] = holm(table["mannwhitney_p"].to_numpy(float))
    table["significant"] = table["holm_p"] < alpha
    return table
