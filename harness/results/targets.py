"""A ladder of targets, expected running time and the ECDF of targets reached (COCO style).

A single target at ``q = 0.1`` with censored medians hides most of what the
runs did, and reads a censored run's length as if it were its speed. Here every
strategy is measured against a ladder of targets between random search's final
median and the optimum,

    ``target_q = opt - q * (opt - rand_p(T))`` for ``q`` in :data:`LADDER`,

and summarised as COCO does (Hansen et al., "COCO: performance assessment"):

expected running time (ERT)
    ``sum over seeds of the trials (seconds) spent until the target was reached,
    or the whole run where it was not / number of seeds that reached it``;
    ``inf`` when no seed reached it, so a strategy that never reaches a target
    is never the fastest there.
median time to target
    Printed as a value only where at least half the seeds reached the target;
    otherwise as a bound, ``">= 25"``: the censored median is no point value.
ECDF
    The share of (seed, target) pairs reached within ``t`` trials or ``tau``
    seconds.

The optimum is an :class:`Optimum`, which says where it comes from; an optimum
taken from the compared runs themselves is marked circular.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.errors import ConfigError
from harness.results import efficiency

#: Fractions of the way from the optimum back to random search's final median.
LADDER = (0.5, 0.25, 0.1, 0.05, 0.01)
#: Fractions of the budget (trials) or of the longest run (seconds) where the ECDF is read.
ECDF_POINTS = (0.1, 0.25, 0.5, 0.75, 1.0)
CIRCULAR = "best of the compared runs (circular)"


@dataclass(frozen=True)
class Optimum:
    """The best score known for a task and where it comes from.

    Attributes
    ----------
    value : float or None
        The score; None means "the best of the compared runs".
    source : str
        ``"exhaustive grid"``, ``"reference pool"`` (studies that are not compared),
        ``"declared"`` (a value in the comparison file) or :data:`CIRCULAR`.
    circular : bool
        True when the optimum is (or is raised to) a score of a compared run:
        targets near it are then reached by construction by that run.
    """

    value: float | None
    source: str
    circular: bool

    @property
    def label(self) -> str:
        """``"optimum = exhaustive grid (0.4044)"``, or the circular warning."""
        if self.circular:
            return f"optimum = {CIRCULAR}" + (
                f" ({self.value:.4f})" if self.value is not None else ""
            )
        return f"optimum = {self.source} ({self.value:.4f})"


def resolve_optimum(frame: pd.DataFrame, known: float | None, source: str) -> Optimum:
    """The optimum of ``frame``'s task: ``known`` unless a compared run beats it.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of the compared runs.
    known : float or None
        A score from outside the compared runs (exhaustive grid, reference pool).
    source : str
        Where ``known`` comes from.
    """
    best = float(strategy_values(frame).max())
    if known is None or not math.isfinite(known):
        return Optimum(best, CIRCULAR, True)
    if best > known:
        return Optimum(
            best, f"{source} ({known:.4f}), raised to a compared run's better score", True
        )
    return Optimum(float(known), source, False)


def strategy_values(frame: pd.DataFrame) -> pd.Series:
    """Complete values of the strategies' own trials (reference trials left out)."""
    trials = efficiency.strategy_trials(frame)
    return trials["value"].where(trials["state"] == "COMPLETE")


def _levels(
    trials: pd.DataFrame, optimum: Optimum, reference: str, ladder: Sequence[float], budget
) -> dict[float, float]:
    """The ladder's target scores, ``{q: opt - q * (opt - rand_p(T))}``, on prepared trials.

    Every target is the optimum when random search's median already reaches it; the
    optimum is raised to the best trial within the budget if lower.
    """
    matrix = efficiency.filled_incumbents(trials, budget)
    medians = efficiency.reference_medians(matrix, reference)
    opt = efficiency.effective_optimum(trials, optimum.value)
    random_final = float(medians.loc[reference].iloc[-1])
    return {float(q): opt - q * max(opt - random_final, 0.0) for q in ladder}


def run_hits(
    frame: pd.DataFrame,
    optimum: Optimum,
    *,
    reference: str = "random",
    ladder: Sequence[float] = LADDER,
    budget: int | None = None,
) -> pd.DataFrame:
    """When each run first reached each target of the ladder.

    The targets are ``target_q = opt - q * (opt - rand_p(T))``: every target is the
    optimum when random search's median already reaches it.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one comparison.
    optimum : Optimum
        The task's optimum (raised to the best trial within the budget if lower).
    reference : str
        Strategy whose final median incumbent is ``rand_p(T)``.
    ladder : sequence of float
        The fractions ``q``.
    budget : int, optional
        Trials per run compared.

    Returns
    -------
    pandas.DataFrame
        One row per run and target: ``strategy``, ``seed``, ``q``, ``target``,
        ``reached``, ``trials_spent`` and ``seconds_spent`` (at the first trial
        reaching the target, else the whole run within the budget), ``run_trials``
        and ``run_seconds`` (the whole run within the budget); the input of
        :func:`target_table` and :func:`ecdf_table`.
    """
    if not ladder or any(not 0.0 <= q <= 1.0 for q in ladder):
        raise ConfigError(f"target fractions must lie in [0, 1], got {list(ladder)}")
    trials = efficiency.prepare_trials(frame, budget)
    levels = _levels(trials, optimum, reference, ladder, budget)
    rows = []
    for (strategy, seed), run in trials.groupby(efficiency.RUN, sort=True):
        last_trial = int(run["trial"].max())
        last_second = float(run["elapsed_seconds"].max())
        for q, target in levels.items():
            hits = run[run["value"] >= target]
            reached = not hits.empty
            first = hits.iloc[0] if reached else None
            rows.append(
                {
                    "strategy": strategy,
                    "seed": seed,
                    "q": q,
                    "target": target,
                    "reached": reached,
                    "trials_spent": int(first["trial"]) if reached else last_trial,
                    "seconds_spent": float(first["elapsed_seconds"]) if reached else last_second,
                    "run_trials": last_trial,
                    "run_seconds": last_second,
                }
            )
    return pd.DataFrame(rows)


def _median_text(spent: np.ndarray, reached: np.ndarray, spec: str) -> str:
    """The median time to target, or ``">= x"`` where half the seeds or more are censored."""
    if np.isnan(spent).all():
        return "n/a"
    censored = np.isinf(np.median(np.where(reached, spent, np.inf)))
    value = format(float(np.nanmedian(spent)), spec)
    return f">= {value}" if censored else value


def _ert(spent: np.ndarray, reached: np.ndarray) -> float:
    hits = int(reached.sum())
    return float(np.nansum(spent)) / hits if hits else math.inf


def target_table(hits: pd.DataFrame, optimum: Optimum) -> pd.DataFrame:
    """Per strategy and target: success, ERT and median time to target (bounds where censored).

    Parameters
    ----------
    hits : pandas.DataFrame
        :func:`run_hits` of the comparison.
    optimum : Optimum
        The optimum ``hits`` were measured against.

    Returns
    -------
    pandas.DataFrame
        ``q``, ``target``, ``strategy``, ``seeds``, ``reached`` (seeds),
        ``success``, ``ert_trials``, ``ert_seconds`` (``inf``: no seed reached
        it), ``median_trials`` and ``median_seconds`` (text; ``">= x"`` where the
        median is censored), ``lowest_ert`` (lowest finite ERT in trials at that
        target, not a test; never a strategy that did not reach it) and ``optimum`` (its
        source, :attr:`Optimum.label`).
    """
    rows = []
    for (q, strategy), group in hits.groupby(["q", "strategy"], sort=True):
        reached = group["reached"].to_numpy()
        trials = group["trials_spent"].to_numpy(float)
        seconds = group["seconds_spent"].to_numpy(float)
        rows.append(
            {
                "q": q,
                "target": float(group["target"].iloc[0]),
                "strategy": strategy,
                "seeds": len(group),
                "reached": int(reached.sum()),
                "success": float(reached.mean()),
                "ert_trials": _ert(trials, reached),
                "ert_seconds": _ert(seconds, reached),
                "median_trials": _median_text(trials, reached, ".0f"),
                "median_seconds": _median_text(seconds, reached, ".1f"),
            }
        )
    table = pd.DataFrame(rows)
    best = table[np.isfinite(table["ert_trials"])].groupby("q")["ert_trials"].transform("min")
    table["lowest_ert"] = False
    table.loc[best.index, "lowest_ert"] = table.loc[best.index, "ert_trials"] == best
    table["optimum"] = optimum.label
    table = table.sort_values(["q", "ert_trials", "strategy"], ascending=[False, True, True])
    return table.reset_index(drop=True)


def ecdf_table(
    hits: pd.DataFrame, *, budget: int | None = None, points: Sequence[float] = ECDF_POINTS
) -> pd.DataFrame:
    """Share of (seed, target) pairs each strategy reached within ``t`` trials and ``tau`` seconds.

    Parameters
    ----------
    hits : pandas.DataFrame
        :func:`run_hits` of the comparison.
    budget : int, optional
        The trials per run ``hits`` were measured within; default the longest run.
    points : sequence of float
        Fractions of the budget (trials) or of the longest run (seconds).

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``axis`` (``"trials"`` or ``"seconds"``), ``at`` (the
        budget point: ``points`` of the budget, or of the longest run's seconds),
        ``runs_targets`` (seeds x targets) and ``reached_rate``.
    """
    horizon = {
        "trials": float(budget or hits["run_trials"].max()),
        "seconds": float(hits["run_seconds"].max()),
    }
    rows = []
    for strategy, group in hits.groupby("strategy", sort=True):
        reached = group["reached"].to_numpy()
        for axis, column in (("trials", "trials_spent"), ("seconds", "seconds_spent")):
            spent = group[column].to_numpy(float)
            for fraction in points:
                at = horizon[axis] * fraction
                at = float(math.ceil(at)) if axis == "trials" else at
                share = float(np.mean(reached & (spent <= at)))
                rows.append(
                    {
                        "strategy": strategy,
                        "axis": axis,
                        "at": at,
                        "runs_targets": len(group),
                        "reached_rate": share,
                    }
                )
    return pd.DataFrame(rows)
