"""Pareto fronts and their hypervolume: studies of several objectives, read back.

A study of several objectives (see :mod:`harness.study.objectives`) stores each
complete trial's objective values (``objective_<name>`` columns of
:func:`harness.study.ledger.trial_rows`) and whether Optuna puts it on the
study's front (``pareto``, from :attr:`optuna.Study.best_trials`). This module
turns them into tables, and compares studies by the hypervolume of their fronts.

Hypervolume, as computed here
-----------------------------
Every objective is put on one scale for the whole comparison: min-max
normalised over all complete trials of all its studies (within the budget), and
oriented so that 0 is the best observed value and 1 the worst. The reference
point is the worst observed value of every objective, ``(1, ..., 1)`` on that
scale: fixed per comparison, the same for every study. A study's hypervolume is
the volume its complete trials dominate up to that point, a number in [0, 1]
(1 only if one trial is best on every objective at once); dominated trials add
nothing, so it is the hypervolume of the study's front. A point that is the
worst observed on some objective adds nothing either. The volume is
:func:`moocore.hypervolume` (the reference implementation of Fonseca, Paquete and
López-Ibáñez, any number of objectives); fronts pooled over several studies use
:func:`moocore.is_nondominated`. Optuna's own hypervolume code is private
(``optuna._hypervolume``), so it is not used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harness.study.objectives import directions as objective_directions

REFERENCE = 1.0
"""The reference point's coordinate on every normalised objective: the worst observed value."""


def objective_columns(objectives: Sequence[str]) -> list[str]:
    """The trial-frame columns holding the objective values: ``objective_<name>``."""
    return [f"objective_{name}" for name in objectives]


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """Volume dominated by ``points`` (each objective minimised) up to ``reference``.

    Parameters
    ----------
    points : ndarray of shape (n_points, n_objectives)
        Objective vectors, every objective to minimise. Points not strictly
        better than ``reference`` on every objective add nothing.
    reference : sequence of float
        The reference point.

    Returns
    -------
    float
        0.0 for no points.

    Examples
    --------
    >>> hypervolume(np.array([[0.0, 1.0], [1.0, 0.0]]), [2.0, 2.0])
    3.0
    """
    import moocore

    points = np.asarray(points, dtype=float).reshape(-1, len(reference))
    inside = points[np.all(points < np.asarray(reference, dtype=float), axis=1)]
    if not len(inside):
        return 0.0
    return float(moocore.hypervolume(inside, ref=np.asarray(reference, dtype=float)))


def within_budget(frame: pd.DataFrame, budget: int | None) -> pd.DataFrame:
    """Complete trials among each study's first ``budget`` trials (all with None)."""
    kept = frame[frame["state"] == "COMPLETE"]
    if budget is not None:
        kept = kept[kept["trial"] <= budget]
    return kept


def normalised(
    frame: pd.DataFrame, objectives: Sequence[str], *, budget: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Objective values on the comparison's common scale: 0 best observed, 1 worst.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one or more studies of the same objectives.
    objectives : sequence of str
        The objectives, in the study's order.
    budget : int, optional
        Only each study's first ``budget`` trials count.

    Returns
    -------
    points : pandas.DataFrame
        The complete trials' ``study``, ``strategy``, ``seed``, ``number`` and one
        column per objective (named as the objective), normalised.
    scale : pandas.DataFrame
        One row per objective: ``objective``, ``direction``, ``best`` and ``worst``
        observed raw values (what 0 and 1 stand for).
    """
    trials = within_budget(frame, budget)
    points = trials[["study", "strategy", "seed", "number"]].copy()
    rows = []
    for name, column, direction in zip(
        objectives, objective_columns(objectives), objective_directions(objectives), strict=True
    ):
        values = trials[column].to_numpy(float)
        low, high = (float(np.min(values)), float(np.max(values))) if len(values) else (0.0, 0.0)
        best, worst = (high, low) if direction == "maximize" else (low, high)
        span = abs(worst - best) or 1.0  # one observed value: every point is at 0
        points[name] = np.abs(values - best) / span
        rows.append({"objective": name, "direction": direction, "best": best, "worst": worst})
    return points.reset_index(drop=True), pd.DataFrame(rows)


def hypervolume_table(
    frame: pd.DataFrame, objectives: Sequence[str], *, budget: int | None = None
) -> pd.DataFrame:
    """The hypervolume of every study's front on the comparison's common scale.

    Returns
    -------
    pandas.DataFrame
        One row per study, sorted by strategy and seed: ``strategy``, ``seed``,
        ``study``, ``complete_trials`` (trials within the budget), ``front`` (trials on
        the study's own Pareto front among them) and ``hypervolume`` (see the
        module docstring; reference point: the worst observed value of every
        objective).
    """
    points, _ = normalised(frame, objectives, budget=budget)
    trials = within_budget(frame, budget)
    front = trials.groupby("study")["pareto"].sum() if "pareto" in trials else None
    reference = [REFERENCE] * len(objectives)
    rows = []
    studies = frame.drop_duplicates("study")[["study", "strategy", "seed"]]
    for study, strategy, seed in studies.itertuples(index=False):
        mine = points[points["study"] == study]
        rows.append(
            {
                "strategy": strategy,
                "seed": seed,
                "study": study,
                "complete_trials": len(mine),
                "front": int(front.get(study, 0)) if front is not None else 0,
                "hypervolume": hypervolume(mine[list(objectives)].to_numpy(), reference),
            }
        )
    return pd.DataFrame(rows).sort_values(["strategy", "seed"], ignore_index=True)


def hypervolume_finals(table: pd.DataFrame) -> pd.Series:
    """Per-seed hypervolume as the statistics read a final score: indexed by (strategy, seed)."""
    return table.set_index(["strategy", "seed"])["hypervolume"].sort_index()


def front_table(
    frame: pd.DataFrame,
    objectives: Sequence[str],
    *,
    budget: int | None = None,
    pooled: bool = False,
) -> pd.DataFrame:
    """The Pareto front as a table: each objective, the metric's CV spread, the configuration.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one study (its stored front, ``pareto``: Optuna's
        :attr:`~optuna.Study.best_trials`) or, with ``pooled``, of several.
    objectives : sequence of str
        The objectives, the metric first.
    budget : int, optional
        Only each study's first ``budget`` trials count.
    pooled : bool, default=False
        The front of all trials of all studies together (non-dominated by any
        trial of any study: :func:`moocore.is_nondominated`), each row naming
        its study; else the rows the frame marks ``pareto``.

    Returns
    -------
    pandas.DataFrame
        Sorted by the metric, best first (then by trial number): ``strategy``,
        ``seed`` (pooled only), ``number``, one column per objective, ``std_<metric>``
        (standard deviation of the metric over the folds) and the ``param_<name>``
        columns.
    """
    import moocore

    trials = within_budget(frame, budget)
    if pooled:
        sense = objective_directions(objectives)
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in sense])
        values = trials[objective_columns(objectives)].to_numpy(float) * signs
        keep = moocore.is_nondominated(values, keep_weakly=True) if len(values) else []
        front = trials[np.asarray(keep, dtype=bool)] if len(values) else trials
    else:
        front = trials[trials["pareto"].astype(bool)] if "pareto" in trials else trials.iloc[:0]
    metric = objectives[0]
    ascending = objective_directions(objectives)[0] == "minimize"
    front = front.sort_values(
        [objective_columns(objectives)[0], "number", "study"],
        ascending=[ascending, True, True],
        kind="stable",
    )
    renamed = {f"objective_{name}": name for name in objectives}
    params = [c for c in front.columns if c.startswith("param_")]
    spread = [f"std_{metric}"] if f"std_{metric}" in front.columns else []
    ids = ["strategy", "seed", "number"] if pooled else ["number"]
    table = front[[*ids, *objective_columns(objectives), *spread, *params]].rename(columns=renamed)
    if "n_params" in table.columns:
        table["n_params"] = table["n_params"].astype(int)
    return table.reset_index(drop=True)


def pareto_figure(
    frame: pd.DataFrame,
    objectives: Sequence[str],
    *,
    budget: int | None = None,
    pooled: bool = False,
    title: str | None = None,
):
    """Objective 1 against objective 2, every complete trial, the front highlighted.

    The front is :func:`front_table`'s (the same rows the table lists), joined
    as a step line in the order of the second objective when there are two
    objectives (with more, a front member may look dominated in this plane). Drawn without pyplot
    state, in a fixed order, so the PNG bytes depend on the trials only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    first, second = objectives[0], objectives[1]
    trials = within_budget(frame, budget).sort_values(["study", "number"], kind="stable")
    front = front_table(frame, objectives, budget=budget, pooled=pooled).sort_values(
        [second, first], kind="stable"
    )
    figure = Figure(figsize=(6.0, 4.2))
    ax = figure.add_subplot(1, 1, 1)
    ax.scatter(
        trials[f"objective_{second}"],
        trials[f"objective_{first}"],
        s=14,
        color="0.7",
        label=f"complete trials ({len(trials)})",
    )
    label = f"Pareto front ({len(front)})"
    if len(objectives) == 2:  # the staircase the front dominates; with more, it is no staircase
        ax.step(front[second], front[first], where="post", color="tab:blue", linewidth=1, alpha=0.6)
    else:
        label = f"Pareto front on all {len(objectives)} objectives ({len(front)})"
    ax.scatter(front[second], front[first], s=26, color="tab:blue", label=label)
    direction = objective_directions(objectives)
    ax.set_xlabel(f"{second} ({'lower' if direction[1] == 'minimize' else 'higher'} is better)")
    ax.set_ylabel(f"{first} ({'lower' if direction[0] == 'minimize' else 'higher'} is better)")
    if second in ("n_params",) or _spans_decades(trials[f"objective_{second}"]):
        ax.set_xscale("log")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{first} against {second}", fontsize=9)
    figure.tight_layout()
    return figure


def _spans_decades(values: pd.Series) -> bool:
    positive = values[values > 0]
    return len(positive) > 1 and positive.max() / positive.min() > 100
