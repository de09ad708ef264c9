"""Every statistic the harness prints: intervals, paired tests, ranks, power, held-out comparisons.

One module, built on well-kept libraries, so that each number has one owner:

* intervals of a mean over few seeds: Student-t (:func:`t_interval`,
  :func:`paired_differences_interval`), which keeps its coverage at ``n = 5``
  where the percentile bootstrap does not; BCa (:func:`bca_interval`,
  :func:`scipy.stats.bootstrap`) for other statistics; the percentile
  bootstrap (:func:`bootstrap_ci`) only for descriptive bands;
* the interquartile mean with a stratified bootstrap interval over seeds
  (:func:`iqm_interval`, Agarwal et al. 2021), robust to one lucky seed;
  written with :func:`scipy.stats.trim_mean` and :func:`scipy.stats.bootstrap`
  rather than ``rliable``, which would bring ``arch`` (compiled) and
  ``absl-py`` for the same resampling and gives percentile intervals only;
* paired Wilcoxon signed-rank tests (:func:`scipy.stats.wilcoxon`) with Holm's
  correction (:func:`statsmodels.stats.multitest.multipletests`), against the
  best (:func:`wilcoxon_vs_best`) or for every pair (:func:`wilcoxon_holm`);
* the Friedman test (:func:`scipy.stats.friedmanchisquare`), only where it
  applies (three strategies or more), and the Nemenyi post-hoc test with its
  critical difference (:func:`scikit_posthocs.posthoc_nemenyi_friedman`);
* the Bayesian signed-rank test with a region of practical equivalence
  (:func:`bayes_signed_rank`, ``baycomp``; Benavoli et al. 2017), which can say
  "practically equivalent" where a frequentist test only says "not separated";
* Spearman's rank correlation with an exact permutation test
  (:func:`rank_correlation`, :func:`scipy.stats.permutation_test`) for relations
  across a handful of strategies;
* how many seeds a paired comparison would need (:func:`seeds_needed`,
  :class:`statsmodels.stats.power.TTestPower`);
* held-out comparisons of two models on the same test rows (paired bootstrap
  over rows, exact McNemar via :func:`statsmodels.stats.contingency_tables.mcnemar`).

Conventions
-----------
matrix
    A seeds x strategies array (or DataFrame whose columns name the
    strategies) of scores to MAXIMISE. Rank 1 is the best strategy on a seed;
    ties share the average rank.
cannot decide
    A p-value is NaN, never a number, where the sample cannot produce a
    p-value below ``alpha`` at all (Wilcoxon on fewer than
    :func:`wilcoxon_min_seeds` non-tied pairs: ``2 / 2**n`` is 0.0625 at
    ``n = 5``), and an interval says so (:attr:`Interval.note`) where it has zero
    width because all seeds agree.
randomness
    Every resampling takes a ``seed``; equal inputs give equal outputs, so
    tables and figures are rebuilt byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

#: Asymptotic relative efficiency of the Wilcoxon signed-rank test to the t-test on normal data.
WILCOXON_ARE = 3.0 / math.pi
#: Largest number of seeds :func:`seeds_needed` searches; beyond it the answer is ``inf``.
MAX_SEEDS = 10_000
#: Bootstrap resamples drawn per vectorised chunk are capped at this many array elements.
_CHUNK_ELEMENTS = 4_000_000
#: Posterior probability above which the Bayesian signed-rank test states a verdict.
BAYES_DECISION = 0.95
#: Posterior samples drawn by :func:`bayes_signed_rank`.
BAYES_SAMPLES = 10_000

BootstrapMethod = Literal["percentile", "bca"]
Metric = Callable[[np.ndarray, np.ndarray], float]

#: How each interval method is named in a sentence or a table note.
METHOD_NAMES = {
    "t": "Student t-interval",
    "t-fallback": "Student t-interval (the BCa bootstrap was degenerate)",
    "bca": "BCa bootstrap interval",
    "percentile": "percentile bootstrap interval",
    "percentile-fallback": "percentile bootstrap interval (BCa was degenerate)",
    "stratified-bca": "stratified BCa bootstrap interval",
}


# --- Intervals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval.

    Attributes
    ----------
    estimate : float or numpy.ndarray
        The statistic on the data (the mean for :func:`t_interval`).
    low, high : float or numpy.ndarray
        Bounds; NaN where ``n < 2``. Equal to ``estimate`` where the data (or
        every bootstrap resample) agree: see :attr:`note`.
    n : int
        Observations the interval is computed from (seeds, pairs or test rows).
    sd : float or numpy.ndarray
        Standard deviation (ddof 1) of the observations; for intervals over
        test rows, of the bootstrap estimates, i.e. the bootstrap standard error.
    method : str
        A key of :data:`METHOD_NAMES`, or ``"block-percentile (blocks of b)"``.
    confidence : float
        Nominal coverage, e.g. 0.95.
    unit : str
        What ``n`` counts: ``"seeds"``, ``"pairs"`` (a paired interval of
        differences) or ``"rows"``.
    """

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    n: int
    sd: float | np.ndarray
    method: str
    confidence: float
    unit: str = "seeds"

    @property
    def paired(self) -> bool:
        """Whether this is an interval of paired differences (same seeds or same rows)."""
        return self.unit == "pairs" or self.method.startswith("paired")

    @property
    def zero_width(self) -> bool | np.ndarray:
        """True where ``low == high``: a width that is no evidence (see :attr:`note`)."""
        result = np.asarray(self.low) == np.asarray(self.high)
        return bool(result) if result.ndim == 0 else result

    @property
    def note(self) -> str | None:
        """Why a scalar interval is no evidence (``"n/a (all seeds equal)"``), else None."""
        if np.ndim(self.estimate) != 0:
            raise ValueError("note describes a scalar interval; index the arrays first")
        if self.n < 2:
            return f"n/a (fewer than 2 {self.unit})"
        if self.sd == 0:
            return (
                "n/a (all resamples equal)"
                if self.unit == "rows"
                else f"n/a (all {self.unit} equal)"
            )
        if self.zero_width:
            return "n/a (zero-width interval)"
        return None

    def describe(self) -> str:
        """``"95% Student t-interval over 5 seeds"``, ``"95% paired percentile bootstrap ..."``."""
        name = METHOD_NAMES.get(self.method, f"{self.method} bootstrap interval")
        paired = "paired " if self.unit == "pairs" or self.method.startswith("paired") else ""
        unit = "paired seeds" if self.unit == "pairs" else self.unit
        over = "the test rows" if self.unit == "rows" else f"{self.n} {unit}"
        return f"{self.confidence:.0%} {paired}{name} over {over}"

    def text(self, spec: str = ".4f") -> str:
        """The bounds alone, ``"[0.2968, 0.4340]"``, or the :attr:`note`."""
        note = self.note
        if note is not None:
            return note
        return f"[{format(float(self.low), spec)}, {format(float(self.high), spec)}]"

    def format(self, spec: str = ".4g") -> str:
        """``"0.8123 [0.8011, 0.8235]"``, or ``"0.8123, n/a (all seeds equal)"``."""
        estimate = format(float(self.estimate), spec)
        note = self.note
        if note is not None:
            return f"{estimate}, {note}"
        return f"{estimate} {self.text(spec)}"


def _tail(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return (1.0 - confidence) / 2.0


def _with(interval: Interval, **changes: object) -> Interval:
    return dataclasses.replace(interval, **changes)


def t_interval(samples: ArrayLike, confidence: float = 0.95, axis: int = 0) -> Interval:
    """Student-t confidence interval of the mean (:func:`scipy.stats.t.interval`).

    Parameters
    ----------
    samples : array_like
        One value per seed along ``axis``; NaN entries propagate (drop them first).
    confidence : float
        Coverage, e.g. 0.95.
    axis : int
        Axis of the seeds; the other axes give one interval each.

    Returns
    -------
    Interval
        Method ``"t"``. Bounds are NaN with fewer than two seeds. Where all seeds
        are equal, ``sd`` is exactly 0 and ``low == high == mean``: check
        :attr:`Interval.zero_width` (or print :attr:`Interval.note`).
    """
    _tail(confidence)
    values = np.moveaxis(np.asarray(samples, dtype=float), axis, 0)
    n = values.shape[0]
    if n == 0:
        raise ValueError("t_interval needs at least one sample")
    equal = np.all(values == values[:1], axis=0)
    mean = np.where(equal, values[0], values.mean(axis=0))
    if n < 2:
        sd = np.full(values.shape[1:], np.nan)
        low = high = np.full(values.shape[1:], np.nan)
    else:
        sd = np.where(equal, 0.0, values.std(axis=0, ddof=1))
        scale = np.where(equal, 1.0, sd / math.sqrt(n))
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=scale)
        low, high = np.where(equal, mean, low), np.where(equal, mean, high)
    if values.ndim == 1:
        mean, low, high, sd = float(mean), float(low), float(high), float(sd)
    return Interval(mean, low, high, n, sd, "t", confidence)


def paired_differences_interval(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean paired difference ``x - y`` (same seed at each position).

    Parameters
    ----------
    x, y : array_like
        1-D, equal length; positions where either is NaN are dropped.
    confidence : float
        Coverage.

    Returns
    -------
    Interval
        Of the differences, with ``unit="pairs"`` (:attr:`Interval.paired`).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of equal length, got {x.shape} and {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    diff = x[keep] - y[keep]
    if diff.size == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, 0, nan, "t", confidence, unit="pairs")
    return _with(t_interval(diff, confidence), unit="pairs")


def _scipy_bootstrap(
    data: tuple[np.ndarray, ...],
    statistic: Callable[..., np.ndarray],
    *,
    method: str,
    n_boot: int,
    confidence: float,
    seed: int,
    axis: int = 0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Bounds from :func:`scipy.stats.bootstrap`, or None where they are degenerate (NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        with np.errstate(invalid="ignore", divide="ignore"):
            result = stats.bootstrap(
                data,
                statistic,
                n_resamples=n_boot,
                confidence_level=confidence,
                method=method,
                axis=axis,
                rng=np.random.default_rng(seed),
            )
    low = np.asarray(result.confidence_interval.low, dtype=float)
    high = np.asarray(result.confidence_interval.high, dtype=float)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return None
    return low, high


def bootstrap_ci(
    samples: np.ndarray,
    statistic: Callable[..., np.ndarray] = np.mean,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of ``statistic`` over the first axis (the seeds).

    Descriptive only: it under-covers at 5 seeds. Used for bands of curves.

    Parameters
    ----------
    samples : numpy.ndarray
        Shape ``(n_seeds, ...)``; every other position gets its own interval.
    statistic : callable
        Called as ``statistic(array, axis=-1)``, e.g. :func:`numpy.median`.
    n_boot, confidence, seed
        Resamples, coverage, generator seed.

    Returns
    -------
    low, high : numpy.ndarray
        Shape ``samples.shape[1:]``. All NaN with fewer than two seeds; equal to
        the statistic where every seed agrees.
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
    tail = _tail(confidence)
    low, high = np.quantile(estimates, [tail, 1.0 - tail], axis=0)
    return low, high


def bca_interval(
    samples: ArrayLike,
    statistic: Callable[..., np.ndarray] = np.mean,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Bias-corrected and accelerated (BCa) bootstrap interval (:func:`scipy.stats.bootstrap`).

    Parameters
    ----------
    samples : array_like
        1-D, one value per seed.
    statistic : callable
        Called as ``statistic(array, axis=-1)``.
    n_boot, confidence, seed
        Resamples, coverage, generator seed.

    Returns
    -------
    Interval
        Method ``"bca"``; where the bootstrap distribution is degenerate (all
        resamples equal, or NaN bounds), the :func:`t_interval` of the mean with
        method ``"t-fallback"``.
    """
    _tail(confidence)
    values = np.asarray(samples, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"bca_interval takes 1-D samples, got shape {values.shape}")
    if values.size == 0:
        raise ValueError("bca_interval needs at least one sample")
    fallback = _with(t_interval(values, confidence), method="t-fallback")
    if values.size < 2 or np.all(values == values[0]):
        return fallback
    bounds = _scipy_bootstrap(
        (values,), statistic, method="BCa", n_boot=n_boot, confidence=confidence, seed=seed
    )
    if bounds is None or bounds[0] == bounds[1]:
        return fallback
    estimate = float(statistic(values, axis=-1))
    return Interval(
        estimate,
        float(bounds[0]),
        float(bounds[1]),
        values.size,
        float(values.std(ddof=1)),
        "bca",
        confidence,
    )


def interquartile_mean(values: ArrayLike, axis: int | None = None) -> float | np.ndarray:
    """Mean of the middle 50% of the values (:func:`scipy.stats.trim_mean` at 0.25)."""
    return stats.trim_mean(np.asarray(values, dtype=float), 0.25, axis=axis)


def iqm_interval(
    strata: Sequence[ArrayLike],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Interquartile mean over all runs, with a stratified BCa bootstrap interval.

    The runs of each stratum (one stratum per task; seeds within it) are
    resampled within their stratum, as rliable does (Agarwal et al. 2021):
    :func:`scipy.stats.bootstrap` resamples each of several samples on its
    own, which is exactly a stratified bootstrap.

    Parameters
    ----------
    strata : sequence of array_like
        One 1-D array of final scores per task (a single task: one array of seeds).
    n_boot, confidence, seed
        Resamples, coverage, generator seed.

    Returns
    -------
    Interval
        Method ``"stratified-bca"`` (``"percentile-fallback"`` where BCa is
        degenerate); NaN bounds with fewer than two runs.
    """
    arrays = [np.asarray(s, dtype=float) for s in strata]
    arrays = [a[~np.isnan(a)] for a in arrays]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        raise ValueError("iqm_interval needs at least one run")
    everything = np.concatenate(arrays)
    estimate = float(interquartile_mean(everything))
    sd = float(everything.std(ddof=1)) if everything.size > 1 else float("nan")
    nan = float("nan")
    if everything.size < 2 or any(a.size < 2 for a in arrays):
        return Interval(estimate, nan, nan, everything.size, sd, "stratified-bca", confidence)
    if np.all(everything == everything[0]):
        return Interval(
            estimate, estimate, estimate, everything.size, 0.0, "stratified-bca", confidence
        )

    def pooled(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        return stats.trim_mean(np.concatenate(samples, axis=axis), 0.25, axis=axis)

    kwargs = {"n_boot": n_boot, "confidence": confidence, "seed": seed, "axis": -1}
    method = "stratified-bca"
    bounds = _scipy_bootstrap(tuple(arrays), pooled, method="BCa", **kwargs)
    if bounds is None:
        method = "percentile-fallback"
        bounds = _scipy_bootstrap(tuple(arrays), pooled, method="percentile", **kwargs)
    low, high = (nan, nan) if bounds is None else (float(bounds[0]), float(bounds[1]))
    return Interval(estimate, low, high, everything.size, sd, method, confidence)


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
        Indexed by ``(group, seed)``; NaN entries are left out.
    n_boot, confidence, seed
        As in :func:`bootstrap_ci`.
    method : {"t", "bootstrap"}
        ``"t"``: Student-t interval of the mean; ``"bootstrap"``: percentile
        bootstrap (too narrow at small n; descriptive only).

    Returns
    -------
    pandas.DataFrame
        One row per group in sorted order: the group, ``seeds``, ``mean``,
        ``std``, ``ci_low`` and ``ci_high``.
    """
    level = per_seed.index.names[0]
    rows = []
    for group, values in per_seed.dropna().groupby(level=0, sort=True):
        values = values.to_numpy(float)
        if method == "t":
            interval = t_interval(values, confidence)
            low, high = interval.low, interval.high
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


# --- Paired tests over seeds ------------------------------------------------------------------


def wilcoxon_min_seeds(alpha: float = 0.05) -> int:
    """Fewest non-tied pairs on which a two-sided Wilcoxon signed-rank test can reach ``alpha``.

    The smallest exact two-sided p-value on ``n`` pairs is ``2 / 2**n``: 0.0625
    at ``n = 5``, 0.03125 at ``n = 6``, so 6 seeds for ``alpha = 0.05``.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    return max(1, math.ceil(1.0 - math.log2(alpha) - 1e-12))


def wilcoxon_floor(n_pairs: int) -> float:
    """Smallest two-sided exact Wilcoxon p-value on ``n_pairs`` non-tied pairs: ``2 / 2**n``."""
    return 2.0 / 2.0**n_pairs


def paired_wilcoxon(x: ArrayLike, y: ArrayLike, *, alpha: float = 0.05) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired samples, or NaN when it cannot decide.

    Returns
    -------
    float
        1.0 when every pair is equal; NaN when the non-zero differences are
        too few to reach ``alpha`` (``2 / 2**n > alpha``); else
        :func:`scipy.stats.wilcoxon`'s p-value.
    """
    diff = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    nonzero = int(np.count_nonzero(diff))
    if nonzero == 0:
        return 1.0
    if wilcoxon_floor(nonzero) > alpha:
        return float("nan")
    return float(stats.wilcoxon(diff).pvalue)


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (statsmodels); NaN entries are not part of the family."""
    from statsmodels.stats.multitest import multipletests

    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full(pvalues.shape, np.nan)
    tested = ~np.isnan(pvalues)
    if tested.any():
        adjusted[tested] = multipletests(pvalues[tested], method="holm")[1]
    return adjusted


def wilcoxon_vs_best(per_seed: pd.Series, *, alpha: float = 0.05) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test of every strategy against the best, Holm-corrected.

    Parameters
    ----------
    per_seed : pandas.Series
        Final incumbents indexed by ``(strategy, seed)``.
    alpha : float
        Family-wise level.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``best`` (highest mean; the first by name on a tie),
        ``pairs``, ``wilcoxon_p`` (raw; NaN for the best and where the pairs
        cannot reach ``alpha``), ``holm_p`` (the pair's Holm-adjusted p over every
        pair of strategies: :func:`wilcoxon_holm`'s family) and ``significant``
        (``holm_p < alpha``).

    The best is chosen after seeing the scores, so it is not a control fixed in
    advance: a Holm family of its k - 1 comparisons only would call more
    differences significant than the all-pairs family the ranking groups and the
    critical-difference diagram use. Every verdict reads that one family.
    """
    wide = per_seed.unstack(0).sort_index(axis=1)
    best = wide.mean().idxmax()
    pairwise = wilcoxon_holm(wide, alpha=alpha).table
    adjusted = {
        frozenset((a, b)): p
        for a, b, p in pairwise[["strategy_a", "strategy_b", "holm_p"]].itertuples(index=False)
    }
    rows = []
    for strategy in wide.columns:
        pairs = wide[[strategy, best]].dropna()
        p = adjusted_p = float("nan")
        if strategy != best:
            p = paired_wilcoxon(pairs[strategy], pairs[best], alpha=alpha)
            adjusted_p = adjusted.get(frozenset((strategy, best)), float("nan"))
        rows.append(
            {
                "strategy": strategy,
                "best": best,
                "pairs": len(pairs),
                "wilcoxon_p": p,
                "holm_p": adjusted_p,
            }
        )
    table = pd.DataFrame(rows)
    table["significant"] = (table["holm_p"] < alpha).astype(bool)
    return table


def _score_matrix(
    matrix: ArrayLike | pd.DataFrame, names: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """The matrix as floats and the strategy names (DataFrame columns, or ``s0, s1, ...``)."""
    if isinstance(matrix, pd.DataFrame):
        values = matrix.to_numpy(dtype=float)
        default = [str(column) for column in matrix.columns]
    else:
        values = np.asarray(matrix, dtype=float)
        default = [f"s{i}" for i in range(values.shape[-1])] if values.ndim == 2 else []
    if values.ndim != 2:
        raise ValueError(f"expected a seeds x strategies matrix, got shape {values.shape}")
    names = [str(name) for name in names] if names is not None else default
    if len(names) != values.shape[1]:
        raise ValueError(f"{len(names)} names for {values.shape[1]} strategies")
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names must be unique, got {names}")
    return values, names


@dataclass(frozen=True)
class PairwiseWilcoxon:
    """All pairwise Wilcoxon signed-rank tests over seeds, Holm-corrected.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pair ``a < b`` in column order: ``strategy_a``,
        ``strategy_b``, ``pairs``, ``mean_difference`` (``a - b``),
        ``wilcoxon_p`` (NaN where the pairs cannot reach ``alpha``), ``holm_p``
        and ``significant`` (``holm_p < alpha``).
    alpha : float
        Family-wise level.
    min_seeds : int
        :func:`wilcoxon_min_seeds` of ``alpha``.
    """

    table: pd.DataFrame
    alpha: float
    min_seeds: int

    def pvalue_matrix(self, names: Sequence[str]) -> pd.DataFrame:
        """Square frame of Holm-adjusted p-values (1 on the diagonal, 1 for undecided pairs)."""
        frame = pd.DataFrame(1.0, index=list(names), columns=list(names))
        for a, b, p in self.table[["strategy_a", "strategy_b", "holm_p"]].itertuples(index=False):
            value = 1.0 if math.isnan(p) else float(p)
            frame.loc[a, b] = frame.loc[b, a] = value
        return frame


def wilcoxon_holm(
    matrix: ArrayLike | pd.DataFrame,
    names: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> PairwiseWilcoxon:
    """Two-sided Wilcoxon signed-rank test for every pair of strategies, with Holm's correction.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame
        Shape ``(n_seeds, n_strategies)``; each pair uses the seeds where both
        are not NaN.
    names : sequence of str, optional
        Strategy names; default the DataFrame's columns.
    alpha : float
        Family-wise level.

    Returns
    -------
    PairwiseWilcoxon
    """
    values, names = _score_matrix(matrix, names)
    rows = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            x, y = values[:, i], values[:, j]
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            p = paired_wilcoxon(x, y, alpha=alpha) if x.size else float("nan")
            mean = float(np.mean(x - y)) if x.size else float("nan")
            rows.append([a, names[j], int(x.size), mean, p])
    columns = ["strategy_a", "strategy_b", "pairs", "mean_difference", "wilcoxon_p"]
    table = pd.DataFrame(rows, columns=columns).astype({"pairs": int})
    table["holm_p"] = holm(table["wilcoxon_p"].to_numpy(float))
    table["significant"] = (table["holm_p"] < alpha).astype(bool)
    return PairwiseWilcoxon(table, alpha, wilcoxon_min_seeds(alpha))


# --- Rank tests over a seeds x strategies matrix ----------------------------------------------


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over seeds (blocks) and strategies (treatments).

    Attributes
    ----------
    statistic, pvalue : float
        Friedman's chi-square (tie-corrected, :func:`scipy.stats.friedmanchisquare`)
        on ``k - 1`` degrees of freedom; NaN where the test does not apply
        (fewer than 3 strategies: use the paired test, or fewer than 2 seeds).
    avg_ranks : dict of str to float
        Average rank of each strategy over the seeds, in column order (1 = best).
    n_seeds, n_strategies : int
        Seeds used (rows with no NaN) and strategies.
    """

    statistic: float
    pvalue: float
    avg_ranks: dict[str, float]
    n_seeds: int
    n_strategies: int

    #: The test's name as the text prints it.
    name = "Friedman chi-square test"

    @property
    def applies(self) -> bool:
        """Whether a Friedman test was run: three strategies or more, two seeds or more."""
        return self.n_strategies >= 3 and self.n_seeds >= 2


def friedman_test(
    matrix: ArrayLike | pd.DataFrame, names: Sequence[str] | None = None
) -> FriedmanResult:
    """Friedman rank test that all strategies perform alike, with their average ranks.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame
        Shape ``(n_seeds, n_strategies)`` of scores to maximise; seeds with a NaN
        anywhere are dropped (the test needs complete blocks).
    names : sequence of str, optional
        Strategy names; default the DataFrame's columns.

    Returns
    -------
    FriedmanResult
        Statistic and p-value NaN where the test does not apply (see
        :attr:`FriedmanResult.applies`); 0 and 1.0 when every seed ties every
        strategy.
    """
    values, names = _score_matrix(matrix, names)
    values = values[~np.isnan(values).any(axis=1)]
    n, k = values.shape
    ranks = stats.rankdata(-values, axis=1) if n else np.full((0, k), np.nan)
    avg = ranks.mean(axis=0) if n else np.full(k, np.nan)
    avg_ranks = {name: float(rank) for name, rank in zip(names, avg, strict=True)}
    nan = float("nan")
    if n < 2 or k < 3:
        return FriedmanResult(nan, nan, avg_ranks, n, k)
    if np.all(values == values[:, :1]):
        return FriedmanResult(0.0, 1.0, avg_ranks, n, k)
    result = stats.friedmanchisquare(*values.T)
    return FriedmanResult(float(result.statistic), float(result.pvalue), avg_ranks, n, k)


def nemenyi_critical_difference(n_strategies: int, n_seeds: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks, ``q_alpha * sqrt(k (k + 1) / (6 N))``.

    ``q_alpha`` is the studentized range at infinite degrees of freedom over
    sqrt 2 (Demšar 2006, Table 5). NaN with fewer than 2 strategies or no seeds.
    """
    if n_strategies < 2 or n_seeds < 1:
        return float("nan")
    k = n_strategies
    q = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf) / math.sqrt(2))
    return q * math.sqrt(k * (k + 1) / (6.0 * n_seeds))


def nemenyi_pvalues(matrix: pd.DataFrame) -> pd.DataFrame:
    """Nemenyi post-hoc p-values of every pair (:func:`scikit_posthocs.posthoc_nemenyi_friedman`).

    ``matrix`` is seeds x strategies of scores to maximise, complete rows only.
    Two strategies differ at ``alpha`` exactly when their average ranks differ
    by at least :func:`nemenyi_critical_difference`.
    """
    import scikit_posthocs

    frame = pd.DataFrame(matrix).dropna()
    frame.columns = [str(column) for column in frame.columns]
    result = scikit_posthocs.posthoc_nemenyi_friedman(frame.to_numpy(float))
    result.index = result.columns = list(frame.columns)
    return result.astype(float)


@dataclass(frozen=True)
class Ranking:
    """The post-hoc ranking of strategies by one named test, for tables, text and the diagram.

    Attributes
    ----------
    test : {"nemenyi", "wilcoxon-holm"}
        Which post-hoc test decides the groups.
    avg_ranks : dict of str to float
        Average rank per strategy (1 = best).
    n_seeds : int
        Complete seeds behind the ranks.
    pvalues : pandas.DataFrame
        Square frame of that test's (adjusted) p-values.
    cd : float
        Nemenyi critical difference where ``test == "nemenyi"``, else NaN (the
        diagram then draws no CD bar: Holm-Wilcoxon groups do not come from it).
    alpha : float
        Family-wise level.
    """

    test: str
    avg_ranks: dict[str, float]
    n_seeds: int
    pvalues: pd.DataFrame
    cd: float
    alpha: float

    @property
    def label(self) -> str:
        """The test as the text and the diagram name it."""
        if self.test == "nemenyi":
            return "Nemenyi post-hoc test"
        return "pairwise Wilcoxon signed-rank tests with Holm's correction"

    def separated(self, a: str, b: str) -> bool:
        """Whether the test tells ``a`` and ``b`` apart at :attr:`alpha`."""
        return bool(self.pvalues.loc[a, b] < self.alpha)


def ranking(matrix: pd.DataFrame, *, test: str = "wilcoxon-holm", alpha: float = 0.05) -> Ranking:
    """Average ranks and the post-hoc test's p-values over a seeds x strategies matrix.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Seeds x strategies, scores to maximise; incomplete seeds are dropped.
    test : {"wilcoxon-holm", "nemenyi"}
        Benavoli et al. (2016) recommend pairwise Wilcoxon with Holm over the
        Nemenyi test (whose verdicts depend on the other strategies compared).
    alpha : float
        Family-wise level.
    """
    matrix = matrix.dropna()
    friedman = friedman_test(matrix)
    names = list(friedman.avg_ranks)
    if test == "nemenyi":
        pvalues = nemenyi_pvalues(matrix)
        cd = nemenyi_critical_difference(len(names), friedman.n_seeds, alpha)
    elif test == "wilcoxon-holm":
        pvalues = wilcoxon_holm(matrix, alpha=alpha).pvalue_matrix(names)
        cd = float("nan")
    else:
        raise ValueError(f"test must be 'wilcoxon-holm' or 'nemenyi', got {test!r}")
    return Ranking(test, friedman.avg_ranks, friedman.n_seeds, pvalues, cd, alpha)


# --- Bayesian signed-rank test with a region of practical equivalence -------------------------


@dataclass(frozen=True)
class BayesComparison:
    """Posterior probabilities of the Bayesian signed-rank test (Benavoli et al. 2017).

    Attributes
    ----------
    p_better, p_equivalent, p_worse : float
        Probability that ``a`` is better than ``b`` by more than the rope, that
        they are practically equivalent (within ``rope``), that ``a`` is worse.
    rope : float
        Half-width of the region of practical equivalence, in score units.
    pairs : int
        Paired seeds behind the posterior.
    """

    p_better: float
    p_equivalent: float
    p_worse: float
    rope: float
    pairs: int

    @property
    def verdict(self) -> str:
        """``"better"``, ``"practically equivalent"``, ``"worse"`` or ``"undecided"``.

        A verdict needs a posterior probability above :data:`BAYES_DECISION`.
        """
        for name, p in (
            ("better", self.p_better),
            ("practically equivalent", self.p_equivalent),
            ("worse", self.p_worse),
        ):
            if p > BAYES_DECISION:
                return name
        return "undecided"


def bayes_signed_rank(
    x: ArrayLike, y: ArrayLike, *, rope: float, seed: int = 0, samples: int = BAYES_SAMPLES
) -> BayesComparison:
    """Bayesian signed-rank test of paired scores ``x`` against ``y`` (``baycomp``).

    Parameters
    ----------
    x, y : array_like
        Paired scores to maximise (same seed at each position); incomplete
        pairs are dropped.
    rope : float
        Differences within ``+-rope`` count as practically equivalent (e.g.
        0.01 of accuracy); must be positive.
    seed, samples
        Seed and size of the Monte Carlo sample of the Dirichlet-process posterior.

    Returns
    -------
    BayesComparison
        NaN probabilities with fewer than 2 pairs.
    """
    import baycomp

    if not rope > 0:
        raise ValueError(f"the region of practical equivalence must be positive, got {rope}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    nan = float("nan")
    if x.size < 2:
        return BayesComparison(nan, nan, nan, rope, int(x.size))
    # baycomp's "left" is y - x < -rope: x better by more than the rope.
    better, equivalent, worse = baycomp.SignedRankTest.probs(
        x, y, rope=rope, nsamples=samples, random_state=seed
    )
    return BayesComparison(float(better), float(equivalent), float(worse), rope, int(x.size))


# --- How many seeds ---------------------------------------------------------------------------


def paired_t_power(
    effect_size: float, n_seeds: int | np.ndarray, alpha: float = 0.05
) -> float | np.ndarray:
    """Power of a two-sided paired t-test at standardized effect ``d / s`` on ``n_seeds`` pairs.

    :meth:`statsmodels.stats.power.TTestPower.power`; NaN for ``n < 2``.
    """
    from statsmodels.stats.power import TTestPower

    n = np.asarray(n_seeds, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        power = TTestPower().power(abs(effect_size), np.where(n >= 2, n, np.nan), alpha)
    power = np.asarray(power, dtype=float)
    # Far in the tail scipy's noncentral t returns NaN where the power is 1 to double precision.
    power = np.where(
        np.isnan(power) & (n >= 2) & (abs(effect_size) * np.sqrt(n) > 12.0), 1.0, power
    )
    return float(power) if power.ndim == 0 else power


@dataclass(frozen=True)
class SeedsNeeded:
    """Seeds a paired comparison needs to detect the observed difference.

    Attributes
    ----------
    effect_size : float
        ``d / s``: mean over standard deviation (ddof 1) of the paired differences.
    t_test : float
        Smallest number of pairs with paired-t power at least ``power``; ``inf``
        when ``d == 0`` or beyond ``max_seeds``; NaN when ``s`` is 0 or undefined.
    wilcoxon : float
        The same for the Wilcoxon signed-rank test: the t-test's number over
        its asymptotic relative efficiency (3/pi), and never below
        :func:`wilcoxon_min_seeds`.
    alpha, power : float
        The two-sided level and the power asked for.
    """

    effect_size: float
    t_test: float
    wilcoxon: float
    alpha: float
    power: float


def seeds_needed(
    differences: ArrayLike,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    max_seeds: int = MAX_SEEDS,
) -> SeedsNeeded:
    """Seeds a paired t-test (and a Wilcoxon) would need to detect the observed mean difference.

    The observed mean and sd are taken as the truth: with few seeds the answer
    is an order of magnitude. E.g. ``d / s = 0.5``, alpha 0.05, power 0.8: 34 pairs.
    """
    values = np.asarray(differences, dtype=float)
    values = values[~np.isnan(values)]
    nan = float("nan")
    if values.size < 2:
        return SeedsNeeded(nan, nan, nan, alpha, power)
    mean = float(values.mean())
    sd = 0.0 if np.all(values == values[0]) else float(values.std(ddof=1))
    if mean == 0:
        return SeedsNeeded(0.0, math.inf, math.inf, alpha, power)
    if sd == 0:
        return SeedsNeeded(math.copysign(math.inf, mean), nan, nan, alpha, power)
    effect = mean / sd
    n_t = _smallest_n(effect, alpha, power, max_seeds)
    if math.isinf(n_t):
        n_w = math.inf
    else:
        n_w = float(max(math.ceil(n_t / WILCOXON_ARE), wilcoxon_min_seeds(alpha)))
        if n_w > max_seeds:
            n_w = math.inf
    return SeedsNeeded(effect, n_t, n_w, alpha, power)


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rank correlation of paired values and its permutation p-value.

    Attributes
    ----------
    rho : float
        Spearman's rho, in [-1, 1]; NaN where it is undefined.
    pvalue : float
        Two-sided permutation p-value of ``rho`` under no association; NaN
        where ``rho`` is.
    n : int
        Pairs behind it.
    """

    rho: float
    pvalue: float
    n: int


#: Pairings a rank correlation's permutation test enumerates exactly (8! = 40,320);
#: beyond that it draws this many at random, from a fixed seed.
EXACT_PAIRINGS = 40_320


def rank_correlation(x: ArrayLike, y: ArrayLike, *, seed: int = 0) -> RankCorrelation:
    """Spearman's rank correlation with a permutation test, exact for up to 8 pairs.

    At the handful of strategies a comparison has, the t approximation of
    :func:`scipy.stats.spearmanr` is off; :func:`scipy.stats.permutation_test`
    over every pairing is exact (3 pairs can never give p below 1/3).

    Parameters
    ----------
    x, y : array_like of shape (n,)
        Paired values; pairs with a NaN are dropped.
    seed : int, default=0
        Seeds the random pairings beyond :data:`EXACT_PAIRINGS`.

    Returns
    -------
    RankCorrelation
        NaN ``rho`` and ``pvalue`` for fewer than 3 pairs or a constant sample.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = stats.rankdata(a[keep]), stats.rankdata(b[keep])
    n = int(a.size)
    if n < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return RankCorrelation(float("nan"), float("nan"), n)
    centred = b - b.mean()

    def pearson(ranks: np.ndarray, axis: int = -1) -> np.ndarray:
        deviation = ranks - ranks.mean(axis=axis, keepdims=True)
        cross = (deviation * centred).sum(axis=axis)
        return cross / np.sqrt((deviation**2).sum(axis=axis) * (centred**2).sum())

    exact = math.factorial(n) <= EXACT_PAIRINGS
    result = stats.permutation_test(
        (a,),
        pearson,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=np.inf if exact else 9_999,
        alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return RankCorrelation(float(result.statistic), float(min(result.pvalue, 1.0)), n)


def _smallest_n(effect: float, alpha: float, power: float, max_seeds: int) -> float:
    """Smallest ``n`` in ``[2, max_seeds]`` with paired-t power >= ``power`` (rising in n)."""
    low, high = 1, 2
    while paired_t_power(effect, high, alpha) < power:
        if high >= max_seeds:
            return math.inf
        low, high = high, min(2 * high, max_seeds)
    while high - low > 1:
        middle = (low + high) // 2
        if paired_t_power(effect, middle, alpha) >= power:
            high = middle
        else:
            low = middle
    return float(high)


# --- Held-out comparisons on the same test rows -----------------------------------------------


def _rows(y_true: ArrayLike, *predictions: ArrayLike) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.asarray(a) for a in (y_true, *predictions))
    n = len(arrays[0])
    if n == 0:
        raise ValueError("no test rows")
    if any(len(a) != n for a in arrays):
        raise ValueError(f"row counts differ: {[len(a) for a in arrays]}")
    return arrays


def block_length(n_rows: int) -> int:
    """The moving-block bootstrap's block length for ``n_rows`` consecutive rows: ceil(n^(1/3)).

    The rate n^(1/3) minimises the error of block-bootstrap variance estimates
    (Hall, Horowitz and Jing 1995); 62 held-out years give blocks of 4.
    """
    return max(1, math.ceil(n_rows ** (1 / 3)))


def resampled_rows(rng: np.random.Generator, n_rows: int, n_boot: int, block: int) -> np.ndarray:
    """``n_boot`` resamples of ``n_rows`` row indices: iid, or moving blocks of ``block`` rows."""
    if block <= 1:
        return rng.integers(0, n_rows, size=(n_boot, n_rows))
    block = min(block, n_rows)
    n_blocks = math.ceil(n_rows / block)
    starts = rng.integers(0, n_rows - block + 1, size=(n_boot, n_blocks))
    return (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n_rows]


def _metric_interval(
    statistic: Callable[[np.ndarray], float],
    n_rows: int,
    *,
    n_boot: int,
    confidence: float,
    seed: int,
    method: BootstrapMethod,
    block: int = 1,
) -> tuple[Interval, np.ndarray]:
    """Bootstrap over rows of ``statistic(row_indices)``; the interval and the estimates."""
    tail = _tail(confidence)
    if method not in ("percentile", "bca"):
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    if block > 1 and method == "bca":
        raise ValueError("the block bootstrap has no BCa variant here: use method='percentile'")
    estimate = float(statistic(np.arange(n_rows)))
    picks = resampled_rows(np.random.default_rng(seed), n_rows, n_boot, block)
    boots = np.array([statistic(rows) for rows in picks], dtype=float)
    sd = 0.0 if np.ptp(boots) == 0 else float(boots.std(ddof=1))
    used = "percentile"
    bounds = None
    if method == "bca" and n_rows > 1:
        found = _scipy_bootstrap(
            (np.arange(n_rows),),
            lambda rows, axis=-1: np.apply_along_axis(statistic, axis, rows),
            method="BCa",
            n_boot=n_boot,
            confidence=confidence,
            seed=seed,
        )
        if found is not None and found[0] != found[1]:
            bounds, used = (float(found[0]), float(found[1])), "bca"
        else:
            used = "percentile-fallback"
    if bounds is None:
        low, high = np.quantile(boots, [tail, 1.0 - tail])
        bounds = (float(low), float(high))
    if block > 1:
        used = f"block-percentile (blocks of {min(block, n_rows)})"
    return Interval(estimate, *bounds, n_rows, sd, used, confidence, unit="rows"), boots


def bootstrap_metric_interval(
    y_true: ArrayLike,
    pred: ArrayLike,
    metric: Metric,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    method: BootstrapMethod = "percentile",
    block: int = 1,
) -> Interval:
    """Bootstrap interval of one model's held-out ``metric(y_true, pred)`` over test rows.

    Parameters
    ----------
    y_true, pred : array_like
        Labels and predictions (or scores: rows of a 2-D array stay together).
    metric : callable
        ``metric(y_true, pred) -> float``.
    n_boot, confidence, seed
        Resamples of the rows, coverage, generator seed.
    method : {"percentile", "bca"}
        BCa computes a jackknife: one extra metric call per test row.
    block : int, default=1
        1 resamples rows independently; more resamples moving blocks of that
        many consecutive rows (:func:`block_length`), for time-ordered rows.

    Returns
    -------
    Interval
        ``unit="rows"``; ``sd`` is the bootstrap standard error.
    """
    y_true, pred = _rows(y_true, pred)

    def statistic(rows: np.ndarray) -> float:
        return float(metric(y_true[rows], pred[rows]))

    interval, _ = _metric_interval(
        statistic,
        len(y_true),
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        method=method,
        block=block,
    )
    return interval


@dataclass(frozen=True)
class PairedBootstrap:
    """Held-out comparison of two models on the same test rows.

    Attributes
    ----------
    score_a, score_b : float
        ``metric`` of each model on all rows.
    difference : Interval
        ``score_a - score_b`` and its paired bootstrap interval over rows
        (method prefixed ``"paired-"``: :attr:`Interval.paired`).
    pvalue : float
        Two-sided bootstrap p-value of "no difference".
    n_boot : int
        Resamples drawn.
    """

    score_a: float
    score_b: float
    difference: Interval
    pvalue: float
    n_boot: int


def paired_bootstrap_metric(
    y_true: ArrayLike,
    pred_a: ArrayLike,
    pred_b: ArrayLike,
    metric: Metric,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    method: BootstrapMethod = "percentile",
    block: int = 1,
) -> PairedBootstrap:
    """Paired bootstrap of ``metric(a) - metric(b)``: both models scored on the same resampled rows.

    Identical predictions give a difference of 0, interval ``[0, 0]`` (with
    :attr:`Interval.note` "n/a (all resamples equal)") and p-value 1.
    """
    y_true, pred_a, pred_b = _rows(y_true, pred_a, pred_b)

    def statistic(rows: np.ndarray) -> float:
        truth = y_true[rows]
        return float(metric(truth, pred_a[rows])) - float(metric(truth, pred_b[rows]))

    interval, boots = _metric_interval(
        statistic,
        len(y_true),
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        method=method,
        block=block,
    )
    interval = _with(interval, method=f"paired-{interval.method}")
    if np.isnan(boots).any():
        pvalue = float("nan")
    else:
        extreme = min(np.count_nonzero(boots <= 0), np.count_nonzero(boots >= 0))
        pvalue = min(1.0, 2.0 * (1 + extreme) / (n_boot + 1))
    score_a = float(metric(y_true, pred_a))
    score_b = float(metric(y_true, pred_b))
    return PairedBootstrap(score_a, score_b, interval, pvalue, n_boot)


METHOD_NAMES |= {f"paired-{key}": value for key, value in list(METHOD_NAMES.items())}


class McNemar(tuple):
    """``(b, c, pvalue)`` of :func:`mcnemar_test`, also readable by name."""

    __slots__ = ()

    def __new__(cls, b: int, c: int, pvalue: float) -> McNemar:
        return super().__new__(cls, (b, c, pvalue))

    @property
    def b(self) -> int:
        """Rows model a gets right and model b wrong."""
        return self[0]

    @property
    def c(self) -> int:
        """Rows model a gets wrong and model b right."""
        return self[1]

    @property
    def pvalue(self) -> float:
        """Two-sided exact (or mid-p) p-value."""
        return self[2]


def mcnemar_test(
    y_true: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike, *, mid_p: bool = False
) -> McNemar:
    """Exact McNemar test of two classifiers on the same test rows (statsmodels).

    Returns
    -------
    McNemar
        ``(b, c, p)``: ``b`` rows only ``a`` classifies correctly, ``c`` rows
        only ``b`` does, and the exact two-sided binomial p-value
        (:func:`statsmodels.stats.contingency_tables.mcnemar`); with ``mid_p``
        the mid-p value ``2 P(X < m) + P(X = m)``. 1.0 without discordant rows.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    y_true, pred_a, pred_b = _rows(y_true, pred_a, pred_b)
    right_a = pred_a == y_true
    right_b = pred_b == y_true
    b = int(np.count_nonzero(right_a & ~right_b))
    c = int(np.count_nonzero(~right_a & right_b))
    if b + c == 0:
        return McNemar(b, c, 1.0)
    pvalue = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
    if mid_p:
        pvalue -= float(stats.binom.pmf(min(b, c), b + c, 0.5))
    return McNemar(b, c, min(1.0, pvalue))
