"""Significance over seeds and over test rows: intervals, rank tests, power, CD diagrams.

:mod:`harness.results.stats` has the percentile bootstrap and the per-pair rank tests
the report already prints; this module adds what a careful comparison of
search strategies needs on top of them (Demšar 2006, "Statistical
comparisons of classifiers over multiple data sets", JMLR 7):

* intervals of a mean over few seeds: Student-t (:func:`t_interval`), which
  keeps its coverage at ``n = 5`` where the percentile bootstrap does not,
  and BCa (:func:`bca_interval`) for other statistics or skewed data;
* the Friedman test over a seeds x strategies matrix, the Nemenyi critical
  difference and pairwise Wilcoxon signed-rank tests with Holm's correction,
  and a critical-difference diagram drawing them;
* how many seeds a paired comparison would need (:func:`seeds_needed`);
* held-out comparisons of two models on the same test rows (paired
  bootstrap, exact McNemar).

Conventions
-----------
matrix
    A seeds x strategies array (or DataFrame whose columns name the
    strategies) of scores to MAXIMISE; pass ``maximize=False`` for losses.
    Rank 1 is the best strategy on a seed; ties share the average rank.
cannot decide
    A p-value is NaN, never a number, where the sample cannot produce a
    p-value below ``alpha`` at all (Wilcoxon on fewer than
    :func:`wilcoxon_min_seeds` pairs), and an interval says so
    (:attr:`Interval.note`) where it has zero width because all seeds agree.
randomness
    Every resampling takes a ``seed``; equal inputs give equal outputs, so
    tables and figures are rebuilt byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from scipy import stats

from harness.results.stats import holm, paired_wilcoxon

#: Asymptotic relative efficiency of the Wilcoxon signed-rank test to the t-test on normal data.
WILCOXON_ARE = 3.0 / math.pi
#: Largest number of seeds :func:`seeds_needed` searches; beyond it the answer is ``inf``.
MAX_SEEDS = 10_000

BootstrapMethod = Literal["percentile", "bca"]
Metric = Callable[[np.ndarray, np.ndarray], float]


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
        test rows (:func:`bootstrap_metric_interval`), of the bootstrap
        estimates, i.e. the bootstrap standard error.
    method : str
        ``"t"``, ``"bca"``, ``"percentile"``, or ``"t-fallback"`` /
        ``"percentile-fallback"`` where BCa was asked for but the bootstrap
        distribution was degenerate.
    confidence : float
        Nominal coverage, e.g. 0.95.
    unit : str
        What ``n`` counts, for :attr:`note`: ``"seeds"``, ``"pairs"``, ``"rows"``.
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
    def zero_width(self) -> bool | np.ndarray:
        """True where ``low == high``: a width that is no evidence (see :attr:`note`)."""
        result = np.asarray(self.low) == np.asarray(self.high)
        return bool(result) if result.ndim == 0 else result

    @property
    def note(self) -> str | None:
        """Why a scalar interval is no evidence (``"n/a (all seeds equal)"``), else None.

        ``"n/a (fewer than 2 seeds)"`` (NaN bounds), ``"n/a (all seeds equal)"``
        (``sd == 0``; for intervals over rows ``"n/a (all resamples equal)"``), or
        ``"n/a (zero-width interval)"`` where the bounds coincide although the
        data vary (e.g. a median of mostly tied values).
        """
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

    def format(self, spec: str = ".4g") -> str:
        """``"0.8123 [0.8011, 0.8235]"``, or ``"0.8123, n/a (all seeds equal)"``."""
        estimate = format(float(self.estimate), spec)
        note = self.note
        if note is not None:
            return f"{estimate}, {note}"
        return f"{estimate} [{format(float(self.low), spec)}, {format(float(self.high), spec)}]"


def _tail(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return (1.0 - confidence) / 2.0


def t_interval(samples: ArrayLike, confidence: float = 0.95, axis: int = 0) -> Interval:
    """Student-t confidence interval of the mean.

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
        ``mean +- t_{1-tail, n-1} * sd / sqrt(n)``, method ``"t"``. Bounds are NaN
        with fewer than two seeds. Where all seeds are equal, ``sd`` is exactly 0
        and ``low == high == mean``: check :attr:`Interval.zero_width` (or print
        :attr:`Interval.note`) rather than presenting a zero-width interval.
    """
    tail = _tail(confidence)
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
        half = stats.t.ppf(1.0 - tail, n - 1) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    if values.ndim == 1:
        mean, low, high, sd = float(mean), float(low), float(high), float(sd)
    return Interval(mean, low, high, n, sd, "t", confidence)


def paired_differences_interval(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean paired difference ``x - y`` (same seed at each position).

    Parameters
    ----------
    x, y : array_like
        1-D, equal length; positions where either is NaN are dropped (their pair
        is incomplete).
    confidence : float
        Coverage.

    Returns
    -------
    Interval
        Of the differences, with ``unit="pairs"``; see :func:`t_interval`.
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
    result = t_interval(diff, confidence)
    return Interval(
        result.estimate, result.low, result.high, result.n, result.sd, "t", confidence, "pairs"
    )


def _bca_bounds(
    estimate: float, boots: np.ndarray, jackknife: np.ndarray, tail: float
) -> tuple[float, float] | None:
    """BCa quantiles of ``boots``, or None where the bootstrap distribution is degenerate."""
    if not np.all(np.isfinite(boots)) or np.ptp(boots) == 0:
        return None
    below = np.count_nonzero(boots < estimate) + np.count_nonzero(boots <= estimate)
    proportion = below / (2.0 * boots.size)
    if not 0.0 < proportion < 1.0:
        return None
    z0 = stats.norm.ppf(proportion)
    spread = jackknife.mean() - jackknife
    denominator = 6.0 * float(np.sum(spread**2)) ** 1.5
    acceleration = float(np.sum(spread**3)) / denominator if denominator > 0 else 0.0
    z = z0 + stats.norm.ppf([tail, 1.0 - tail])
    scale = 1.0 - acceleration * z
    if np.any(scale <= 0):
        return None
    levels = stats.norm.cdf(z0 + z / scale)
    if not np.all(np.isfinite(levels)):
        return None
    low, high = np.quantile(boots, levels)
    return float(low), float(high)


def bca_interval(
    samples: ArrayLike,
    statistic: Callable[..., np.ndarray] = np.mean,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Bias-corrected and accelerated (BCa) bootstrap interval of ``statistic``.

    Parameters
    ----------
    samples : array_like
        1-D, one value per seed.
    statistic : callable
        Called as ``statistic(array, axis=-1)``, e.g. :func:`numpy.mean` or
        :func:`numpy.median`.
    n_boot : int
        Bootstrap resamples.
    confidence : float
        Coverage.
    seed : int
        Seed of the resampling generator.

    Returns
    -------
    Interval
        Method ``"bca"``: Efron's BCa with the bias correction ``z0`` from the
        mid-rank share of resamples below the estimate and the acceleration
        from the jackknife. Where the bootstrap distribution is degenerate
        (all resamples equal, the estimate outside them, or an acceleration
        that breaks the formula), the :func:`t_interval` of the mean with
        method ``"t-fallback"``; with fewer than two samples, NaN bounds.
    """
    tail = _tail(confidence)
    values = np.asarray(samples, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"bca_interval takes 1-D samples, got shape {values.shape}")
    n = values.size
    fallback = t_interval(values, confidence) if n else None
    if n < 2:
        if fallback is None:
            raise ValueError("bca_interval needs at least one sample")
        return _with_method(fallback, "t-fallback")
    estimate = float(statistic(values, axis=-1))
    picks = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boots = np.asarray(statistic(values[picks], axis=-1), dtype=float)
    leave_one_out = np.broadcast_to(values, (n, n))[~np.eye(n, dtype=bool)].reshape(n, n - 1)
    jackknife = np.asarray(statistic(leave_one_out, axis=-1), dtype=float)
    bounds = _bca_bounds(estimate, boots, jackknife, tail)
    if bounds is None:
        return _with_method(fallback, "t-fallback")
    return Interval(estimate, *bounds, n, float(values.std(ddof=1)), "bca", confidence)


def _with_method(interval: Interval, method: str) -> Interval:
    return Interval(
        interval.estimate,
        interval.low,
        interval.high,
        interval.n,
        interval.sd,
        method,
        interval.confidence,
        interval.unit,
    )


# --- Rank tests over a seeds x strategies matrix ---------------------------------------------


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


def _ranks(values: np.ndarray, maximize: bool) -> np.ndarray:
    """Rank of each strategy within each seed (row); 1 is best, ties averaged."""
    return stats.rankdata(-values if maximize else values, axis=1)


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over seeds (blocks) and strategies (treatments).

    Attributes
    ----------
    statistic, pvalue : float
        Friedman's chi-square (tie-corrected, as :func:`scipy.stats.friedmanchisquare`)
        with ``k - 1`` degrees of freedom; NaN with fewer than 2 strategies or seeds.
    f_statistic, f_pvalue : float
        Iman and Davenport's F form, ``(N-1) chi2 / (N(k-1) - chi2)`` on
        ``(k-1, (k-1)(N-1))`` degrees of freedom, which Demšar recommends (less
        conservative).
    avg_ranks : dict of str to float
        Average rank of each strategy over the seeds, in column order (1 = best).
    n_seeds, n_strategies : int
        Seeds used (rows with no NaN) and strategies.
    """

    statistic: float
    pvalue: float
    f_statistic: float
    f_pvalue: float
    avg_ranks: dict[str, float]
    n_seeds: int
    n_strategies: int


def friedman_test(
    matrix: ArrayLike | pd.DataFrame,
    names: Sequence[str] | None = None,
    *,
    maximize: bool = True,
) -> FriedmanResult:
    """Friedman rank test that all strategies perform alike, with their average ranks.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame
        Shape ``(n_seeds, n_strategies)``; seeds with a NaN anywhere are dropped
        (the test needs complete blocks).
    names : sequence of str, optional
        Strategy names; default the DataFrame's columns, else ``s0, s1, ...``.
    maximize : bool
        Whether higher scores are better (rank 1 goes to the highest).

    Returns
    -------
    FriedmanResult
        Statistic and p-value NaN ("cannot decide") with fewer than 2
        strategies or 2 seeds; 0 and 1.0 when every seed ties all strategies.
    """
    values, names = _score_matrix(matrix, names)
    values = values[~np.isnan(values).any(axis=1)]
    n, k = values.shape
    ranks = _ranks(values, maximize) if n else np.full((0, k), np.nan)
    avg = ranks.mean(axis=0) if n else np.full(k, np.nan)
    avg_ranks = {name: float(rank) for name, rank in zip(names, avg, strict=True)}
    nan = float("nan")
    if n < 2 or k < 2:
        return FriedmanResult(nan, nan, nan, nan, avg_ranks, n, k)
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts**3 - counts))
    correction = 1.0 - ties / (n * k * (k * k - 1))
    if correction <= 0:
        return FriedmanResult(0.0, 1.0, 0.0, 1.0, avg_ranks, n, k)
    sums = ranks.sum(axis=0)
    chi2 = (12.0 / (n * k * (k + 1)) * float(np.sum(sums**2)) - 3.0 * n * (k + 1)) / correction
    chi2 = max(chi2, 0.0)
    pvalue = float(stats.chi2.sf(chi2, k - 1))
    denominator = n * (k - 1) - chi2
    if denominator <= 0:
        f_stat, f_p = math.inf, 0.0
    else:
        f_stat = (n - 1) * chi2 / denominator
        f_p = float(stats.f.sf(f_stat, k - 1, (k - 1) * (n - 1)))
    return FriedmanResult(float(chi2), pvalue, float(f_stat), f_p, avg_ranks, n, k)


def nemenyi_q(n_strategies: int, alpha: float = 0.05) -> float:
    """Critical value ``q_alpha`` of the Nemenyi test: studentized range at ``df = inf`` / sqrt 2.

    Demšar (2006), Table 5(a): 1.960, 2.343, 2.569, 2.728, ... for 2, 3, 4, 5, ... strategies.
    """
    if n_strategies < 2:
        return float("nan")
    return float(stats.studentized_range.ppf(1.0 - alpha, n_strategies, np.inf) / math.sqrt(2))


def nemenyi_critical_difference(n_strategies: int, n_seeds: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks, ``q_alpha * sqrt(k (k + 1) / (6 N))``.

    Parameters
    ----------
    n_strategies : int
        ``k``, strategies compared.
    n_seeds : int
        ``N``, seeds (blocks) the average ranks are over.
    alpha : float
        Family-wise level.

    Returns
    -------
    float
        Two strategies differ significantly when their average ranks differ by
        at least this much. NaN with fewer than 2 strategies or no seeds.
    """
    if n_strategies < 2 or n_seeds < 1:
        return float("nan")
    k = n_strategies
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6.0 * n_seeds))


def wilcoxon_min_seeds(alpha: float = 0.05) -> int:
    """Fewest non-tied pairs on which a two-sided Wilcoxon signed-rank test can reach ``alpha``.

    The smallest exact two-sided p-value on ``n`` pairs is ``2 / 2**n`` (all
    differences of one sign): 0.0625 at ``n = 5``, 0.03125 at ``n = 6``, so 6
    seeds for ``alpha = 0.05``.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    n = 1
    while 2.0 / 2.0**n > alpha:
        n += 1
    return n


@dataclass(frozen=True)
class PairwiseWilcoxon:
    """All pairwise Wilcoxon signed-rank tests over seeds, Holm-corrected.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pair ``a < b`` in column order: ``strategy_a``,
        ``strategy_b``, ``pairs`` (seeds both have), ``mean_difference``
        (``a - b`` in the score's direction), ``wilcoxon_p`` (NaN where the
        pairs cannot reach ``alpha``), ``holm_p`` (adjusted over the decided
        pairs only) and ``significant`` (``holm_p < alpha``; false where NaN).
    alpha : float
        Family-wise level.
    min_seeds : int
        :func:`wilcoxon_min_seeds` of ``alpha``: fewer non-tied pairs cannot decide.
    """

    table: pd.DataFrame
    alpha: float
    min_seeds: int

    @property
    def pvalues(self) -> dict[tuple[str, str], float]:
        """Holm-adjusted p-values keyed by ``(strategy_a, strategy_b)``, for :func:`cliques_from_pvalues`."""  # noqa: E501
        rows = self.table[["strategy_a", "strategy_b", "holm_p"]].itertuples(index=False)
        return {(a, b): float(p) for a, b, p in rows}


def wilcoxon_holm(
    matrix: ArrayLike | pd.DataFrame,
    names: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> PairwiseWilcoxon:
    """Two-sided Wilcoxon signed-rank test for every pair of strategies, with Holm's correction.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame
        Shape ``(n_seeds, n_strategies)``; each pair uses the seeds where both are
        not NaN.
    names : sequence of str, optional
        Strategy names, as in :func:`friedman_test`.
    alpha : float
        Family-wise level; each raw p-value is NaN ("cannot decide") where the
        non-tied pairs are fewer than :func:`wilcoxon_min_seeds` (see
        :func:`harness.results.stats.paired_wilcoxon`), and 1.0 where all pairs tie.

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


# --- Groups and the critical-difference diagram --------------------------------------------


def _by_rank(avg_ranks: Mapping[str, float]) -> list[str]:
    return sorted(avg_ranks, key=lambda name: (float(avg_ranks[name]), str(name)))


def cliques_from_ranks(avg_ranks: Mapping[str, float], cd: float) -> list[tuple[str, ...]]:
    """Maximal groups whose average ranks all lie within less than ``cd`` of each other.

    Parameters
    ----------
    avg_ranks : mapping of str to float
        Average rank per strategy.
    cd : float
        Critical difference (:func:`nemenyi_critical_difference`); NaN gives no groups.

    Returns
    -------
    list of tuple of str
        Groups of two or more strategies no pair of which the Nemenyi test tells
        apart, each ordered best rank first, the groups in order of their best
        member. Such groups are runs of consecutive ranks.
    """
    order = _by_rank(avg_ranks)
    ranks = [float(avg_ranks[name]) for name in order]
    if not math.isfinite(cd):
        return []
    groups: list[tuple[str, ...]] = []
    reach = -1
    for i, start in enumerate(ranks):
        end = i
        while end + 1 < len(ranks) and ranks[end + 1] - start < cd:
            end += 1
        if end > i and end > reach:
            groups.append(tuple(order[i : end + 1]))
        reach = max(reach, end)
    return groups


def cliques_from_pvalues(
    names: Sequence[str],
    pairwise_p: Mapping[tuple[str, str], float] | pd.DataFrame,
    alpha: float = 0.05,
) -> list[tuple[str, ...]]:
    """Maximal groups of strategies no two of which differ significantly.

    Parameters
    ----------
    names : sequence of str
        The strategies, in the order members are listed (e.g. best rank first).
    pairwise_p : mapping or pandas.DataFrame
        (Adjusted) p-value of every pair: keyed ``(a, b)`` in either order, as
        :attr:`PairwiseWilcoxon.pvalues`, or a square frame indexed and columned
        by name (as scikit-posthocs returns). A NaN p-value ("cannot decide")
        counts as not significant.
    alpha : float
        A pair differs when its p-value is below ``alpha``.

    Returns
    -------
    list of tuple of str
        The maximal cliques of size two or more of the graph joining the pairs
        that do not differ (Bron-Kerbosch), members in ``names`` order, groups
        sorted by their members' positions. Unlike :func:`cliques_from_ranks`
        a group need not be a run of consecutive ranks.
    """
    names = [str(name) for name in names]
    if isinstance(pairwise_p, pd.DataFrame):
        frame = pairwise_p

        def lookup(a: str, b: str) -> float:
            return float(frame.loc[a, b])
    else:
        mapping = pairwise_p

        def lookup(a: str, b: str) -> float:
            if (a, b) in mapping:
                return float(mapping[(a, b)])
            if (b, a) in mapping:
                return float(mapping[(b, a)])
            raise KeyError(f"no p-value for the pair ({a!r}, {b!r})")

    position = {name: i for i, name in enumerate(names)}
    alike: dict[str, set[str]] = {name: set() for name in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if not lookup(a, b) < alpha:
                alike[a].add(b)
                alike[b].add(a)
    cliques: list[tuple[str, ...]] = []

    def ordered(members: set[str]) -> list[str]:
        return sorted(members, key=position.__getitem__)

    def expand(chosen: set[str], candidates: set[str], excluded: set[str]) -> None:
        if not candidates and not excluded:
            if len(chosen) > 1:
                cliques.append(tuple(ordered(chosen)))
            return
        pivot = max(ordered(candidates | excluded), key=lambda name: len(alike[name] & candidates))
        for name in ordered(candidates - alike[pivot]):
            expand(chosen | {name}, candidates & alike[name], excluded & alike[name])
            candidates = candidates - {name}
            excluded = excluded | {name}

    expand(set(), set(names), set())
    return sorted(cliques, key=lambda clique: [position[name] for name in clique])


def critical_difference_figure(
    avg_ranks: Mapping[str, float],
    cd: float,
    n_seeds: int,
    cliques: Sequence[Sequence[str]] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Demšar-style critical-difference diagram of average ranks.

    Parameters
    ----------
    avg_ranks : mapping of str to float
        Average rank per strategy (1 = best), e.g. :attr:`FriedmanResult.avg_ranks`.
    cd : float
        Critical difference drawn as a bar above the axis; NaN writes "CD n/a".
    n_seeds : int
        Seeds the ranks average over, for the title.
    cliques : sequence of sequence of str, optional
        Groups not significantly different, each drawn as a thick bar from its
        best to its worst member's rank. Default :func:`cliques_from_ranks` with
        ``cd``; pass :func:`cliques_from_pvalues` of :func:`wilcoxon_holm` for
        pairwise tests instead.
    title : str, optional
        Default names the seeds and the convention.

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot: the rank axis runs from 1 (best, left) to ``k``; the
        better half of the strategies hang on the left, the rest on the right,
        each name a text artist of its own with its average rank beside its line.
        The drawing depends on the arguments only (write it with
        :func:`harness.report.figures.save_figure` for reproducible PNG bytes).
    """
    order = _by_rank(avg_ranks)
    k = len(order)
    if k == 0:
        raise ValueError("critical_difference_figure needs at least one strategy")
    ranks = {name: float(avg_ranks[name]) for name in order}
    if cliques is None:
        cliques = cliques_from_ranks(avg_ranks, cd)
    cliques = [tuple(str(member) for member in clique) for clique in cliques]
    for clique in cliques:
        unknown = [member for member in clique if member not in ranks]
        if unknown:
            raise ValueError(f"clique members {unknown} have no average rank")
    cliques = [clique for clique in cliques if len(clique) > 1]

    lowest, highest = 1.0, float(max(k, math.ceil(max(ranks.values()))))
    span = max(highest - lowest, 1.0)
    axis_inches = max(3.0, 0.8 * span)
    longest = max(len(name) for name in order)
    side_inches = 0.08 * longest + 0.7
    per_rank = axis_inches / span  # inches per rank unit
    gap = 0.25 / per_rank
    half = math.ceil(k / 2)
    left = order[:half]
    right = order[half:][::-1]
    row = 0.28
    top = 1.2
    first_row = -(0.3 + 0.14 * len(cliques) + 0.15)
    bottom = first_row - row * (max(len(left), len(right)) - 1) - 0.25
    width = axis_inches + 2 * side_inches
    height = top - bottom
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(lowest - side_inches / per_rank, highest + side_inches / per_rank)
    ax.set_ylim(bottom, top)
    line = {"color": "black", "linewidth": 1.0, "solid_capstyle": "butt"}

    ax.plot([lowest, highest], [0.0, 0.0], **line)
    for tick in np.arange(lowest, highest + 0.25, 0.5):
        major = float(tick).is_integer()
        ax.plot([tick, tick], [0.0, 0.1 if major else 0.05], **line)
        if major:
            ax.text(tick, 0.14, f"{int(tick)}", ha="center", va="bottom", fontsize=9)
    if math.isfinite(cd) and cd > 0:
        ax.plot([lowest, lowest + cd], [0.62, 0.62], color="black", linewidth=1.5)
        for end in (lowest, lowest + cd):
            ax.plot([end, end], [0.57, 0.67], **line)
        ax.text(lowest + cd / 2, 0.7, f"CD = {cd:.3f}", ha="center", va="bottom", fontsize=9)
    else:
        ax.text(lowest, 0.62, "CD n/a", ha="left", va="center", fontsize=9)
    seeds = f"{n_seeds} seed" + ("" if n_seeds == 1 else "s")
    heading = title or f"Average rank over {seeds} (1 = best)"
    ax.text((lowest + highest) / 2, top - 0.04, heading, ha="center", va="top", fontsize=9)

    for j, clique in enumerate(cliques):
        members = [ranks[member] for member in clique]
        y = -(0.3 + 0.14 * j)
        ax.plot(
            [min(members) - 0.03, max(members) + 0.03],
            [y, y],
            color="black",
            linewidth=3.0,
            solid_capstyle="round",
        )
    for side, names in (("left", left), ("right", right)):
        for i, name in enumerate(names):
            rank = ranks[name]
            y = first_row - row * i
            end = lowest - gap if side == "left" else highest + gap
            ax.plot([rank, rank, end], [0.0, y, y], **line)
            align = "right" if side == "left" else "left"
            label = end - 0.05 / per_rank if side == "left" else end + 0.05 / per_rank
            ax.text(label, y, name, ha=align, va="center", fontsize=10)
            inner = "left" if side == "left" else "right"
            ax.text(end, y + 0.03, f"{rank:.2f}", ha=inner, va="bottom", fontsize=7)
    return figure


# --- How many seeds ---------------------------------------------------------------------------


def paired_t_power(
    effect_size: float, n_seeds: int | np.ndarray, alpha: float = 0.05
) -> float | np.ndarray:
    """Power of a two-sided paired t-test at standardized effect ``d / s`` on ``n_seeds`` pairs.

    ``P(|T| > t_{1-alpha/2, n-1})`` with ``T`` noncentral t on ``n - 1`` degrees of
    freedom and noncentrality ``|d| / s * sqrt(n)``; NaN for ``n < 2``.
    """
    n = np.asarray(n_seeds, dtype=float)
    df = np.where(n >= 2, n - 1, np.nan)
    critical = stats.t.ppf(1.0 - alpha / 2.0, df)
    noncentrality = abs(effect_size) * np.sqrt(n)
    power = stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality)
    # scipy's noncentral t returns NaN far in the tail, where the power is 1 to double precision.
    power = np.where(np.isnan(power) & (noncentrality - critical > 10.0), 1.0, power)
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
        The same for the Wilcoxon signed-rank test: ``ceil(t_test / (3 / pi))``,
        the t-test's number inflated by the Wilcoxon's asymptotic relative
        efficiency on normal differences (3/pi ~ 0.955; on heavier-tailed
        differences the Wilcoxon needs fewer), and never below
        :func:`wilcoxon_min_seeds`, under which it cannot reach ``alpha``.
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

    Parameters
    ----------
    differences : array_like
        Observed paired differences (one per seed); NaN entries are dropped.
        The observed mean and sd are taken as the truth: with few seeds this is
        itself a rough estimate, so read the answer as an order of magnitude.
    alpha : float
        Two-sided level of the test.
    power : float
        Probability of detecting the difference, e.g. 0.8.
    max_seeds : int
        Search cap; a larger answer is reported as ``inf``.

    Returns
    -------
    SeedsNeeded
        E.g. ``d / s = 0.5``, ``alpha = 0.05``, power 0.8: 34 pairs for the t-test.
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


def _smallest_n(effect: float, alpha: float, power: float, max_seeds: int) -> float:
    """Smallest ``n`` in ``[2, max_seeds]`` with paired-t power >= ``power`` (rising in n)."""
    low, high = 1, 2  # power(low) < power; n = 1 has no test
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


def _resampled_rows(rng: np.random.Generator, n_rows: int, n_boot: int, block: int) -> np.ndarray:
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
    """Bootstrap over rows of ``statistic(row_indices)``; the interval and the estimates.

    ``block > 1`` resamples moving blocks of that many consecutive rows (a
    time series' forecasts, whose errors are correlated from one step to the next).
    """
    tail = _tail(confidence)
    if method not in ("percentile", "bca"):
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    if block > 1 and method == "bca":
        raise ValueError("the block bootstrap has no BCa variant here: use method='percentile'")
    estimate = float(statistic(np.arange(n_rows)))
    picks = _resampled_rows(np.random.default_rng(seed), n_rows, n_boot, block)
    boots = np.array([statistic(rows) for rows in picks], dtype=float)
    sd = 0.0 if np.ptp(boots) == 0 else float(boots.std(ddof=1))
    bounds = None
    used = "percentile"
    if method == "bca" and n_rows > 1:
        everything = np.arange(n_rows)
        jackknife = np.array([statistic(np.delete(everything, i)) for i in range(n_rows)])
        bounds = _bca_bounds(estimate, boots, jackknife, tail)
        used = "bca" if bounds is not None else "percentile-fallback"
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
        ``metric(y_true, pred) -> float``, e.g. :func:`sklearn.metrics.accuracy_score`.
    n_boot, confidence, seed
        Resamples of the rows (with replacement), coverage, generator seed.
    method : {"percentile", "bca"}
        BCa computes a jackknife: one extra metric call per test row.
    block : int, default=1
        1 resamples rows independently; more resamples moving blocks of that
        many consecutive rows (:func:`block_length`), for time-ordered rows.

    Returns
    -------
    Interval
        ``unit="rows"``; ``sd`` is the bootstrap standard error. A resample the
        metric cannot score (e.g. AUC on one class) must return NaN, which
        makes the bounds NaN rather than silently narrower.
    """
    y_true, pred = _rows(y_true, pred)

    def statistic(rows: np.ndarray) -> float:
        return float(metric(y_true[rows], pred[rows]))

    interval, _ = _metric_interval(
        statistic, len(y_true), n_boot=n_boot, confidence=confidence, seed=seed, method=method,
        block=block,
    )  # fmt: skip
    return interval


@dataclass(frozen=True)
class PairedBootstrap:
    """Held-out comparison of two models on the same test rows.

    Attributes
    ----------
    score_a, score_b : float
        ``metric`` of each model on all rows.
    difference : Interval
        ``score_a - score_b`` and its bootstrap interval over rows (``unit="rows"``).
    pvalue : float
        Two-sided bootstrap p-value of "no difference":
        ``min(1, 2 * (1 + min(#{D* <= 0}, #{D* >= 0})) / (n_boot + 1))`` over the
        resampled differences ``D*``; below ``1 - confidence`` about when the
        percentile interval excludes 0, never exactly 0.
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

    Parameters
    ----------
    y_true, pred_a, pred_b : array_like
        Labels and the two models' predictions on the SAME test rows, in the same order.
    metric : callable
        ``metric(y_true, pred) -> float``, higher or lower better alike (the
        difference is reported as is).
    n_boot, confidence, seed, method, block
        As in :func:`bootstrap_metric_interval`.

    Returns
    -------
    PairedBootstrap
        Identical predictions give a difference of 0, interval ``[0, 0]`` (with
        :attr:`Interval.note` "n/a (all resamples equal)") and p-value 1.
    """
    y_true, pred_a, pred_b = _rows(y_true, pred_a, pred_b)

    def statistic(rows: np.ndarray) -> float:
        truth = y_true[rows]
        return float(metric(truth, pred_a[rows])) - float(metric(truth, pred_b[rows]))

    interval, boots = _metric_interval(
        statistic, len(y_true), n_boot=n_boot, confidence=confidence, seed=seed, method=method,
        block=block,
    )  # fmt: skip
    if np.isnan(boots).any():
        pvalue = float("nan")
    else:
        extreme = min(np.count_nonzero(boots <= 0), np.count_nonzero(boots >= 0))
        pvalue = min(1.0, 2.0 * (1 + extreme) / (n_boot + 1))
    score_a = float(metric(y_true, pred_a))
    score_b = float(metric(y_true, pred_b))
    return PairedBootstrap(score_a, score_b, interval, pvalue, n_boot)


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
    """Exact McNemar test of two classifiers on the same test rows.

    Parameters
    ----------
    y_true, pred_a, pred_b : array_like
        1-D labels and the two models' predicted labels, row for row.
    mid_p : bool
        Return the mid-p value (``2 P(X < m) + P(X = m)``), less conservative
        than the exact one.

    Returns
    -------
    McNemar
        A tuple ``(b, c, p)``: ``b`` rows only ``a`` classifies correctly, ``c``
        rows only ``b`` does, and the two-sided binomial p-value of ``b`` out of
        ``b + c`` discordant rows at 1/2, ``min(1, 2 P(X <= min(b, c)))``;
        1.0 when there are no discordant rows.
    """
    y_true, pred_a, pred_b = _rows(y_true, pred_a, pred_b)
    right_a = pred_a == y_true
    right_b = pred_b == y_true
    b = int(np.count_nonzero(right_a & ~right_b))
    c = int(np.count_nonzero(~right_a & right_b))
    n = b + c
    if n == 0:
        return McNemar(b, c, 1.0)
    smaller = min(b, c)
    tail = float(stats.binom.cdf(smaller, n, 0.5))
    pvalue = 2.0 * tail
    if mid_p:
        pvalue -= float(stats.binom.pmf(smaller, n, 0.5))
    return McNemar(b, c, min(1.0, pvalue))
