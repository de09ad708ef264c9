"""Recommendations computed from a comparison's numbers, each stating the numbers it rests on.

Every function returns sentences built from tables of :mod:`harness.results.efficiency`
and :mod:`harness.results.leaderboard`; none holds canned advice. Differences are
called significant only where a paired test says so; interval overlap is reported as
"not distinguishable", separation as a description, never as a test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from harness.model.vocabulary import RESAMPLER_NAMES
from harness.report import evidence
from harness.results import efficiency
from harness.results.leaderboard import ALPHA
from harness.study.holdout import BASELINE, TUNED

#: Strategies that propose random start-up trials before their model takes over.
STARTUP_STRATEGIES = ("tpe", "gp", "bayesopt", "skopt", "skopt-rf", "skopt-et")

#: Seeds a paired two-sided exact Wilcoxon test needs before p can fall below ALPHA.
WILCOXON_MIN_PAIRS = math.floor(1 - math.log2(ALPHA)) + 1


def _number(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else str(value)


def _interval(row: Mapping[str, Any]) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return f"{row['mean']:.4f} (no interval from one seed)"
    return f"{row['mean']:.4f} [{row['ci_low']:.4f}, {row['ci_high']:.4f}]"


def _seeds(count: int) -> str:
    return f"{count} seed" if count == 1 else f"{count} seeds"


def _compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """``"overlap"``, ``"apart"`` or ``"unknown"`` (an interval needs two seeds) for two rows."""
    bounds = [a["ci_low"], a["ci_high"], b["ci_low"], b["ci_high"]]
    if any(pd.isna(bound) for bound in bounds):
        return "unknown"
    overlap = a["ci_low"] <= b["ci_high"] and b["ci_low"] <= a["ci_high"]
    return "overlap" if overlap else "apart"


def _against(best: Mapping[str, Any], others: pd.DataFrame, key: str) -> dict[str, list[str]]:
    """The ``key`` of every other row, grouped by how its interval compares with ``best``'s."""
    groups: dict[str, list[str]] = {"overlap": [], "apart": [], "unknown": []}
    for _, row in others.iterrows():
        groups[_compare(best, row)].append(str(row[key]))
    return groups


def _verb(names: Sequence[str], singular: str, plural: str) -> str:
    return singular if len(names) == 1 else plural


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _trials(count: int) -> str:
    return f"{count} trial" if count == 1 else f"{count} trials"


def budgets(trials: int) -> list[int]:
    """The budgets the advice compares: a quarter, half and all of ``trials`` (distinct, >= 1)."""
    return sorted({max(1, trials // 4), max(1, trials // 2), trials})


def budget_advice(
    frame: pd.DataFrame,
    *,
    optimum: float | None,
    trials: int,
    reference: str = "random",
    distinguishable: bool = False,
    startup: Mapping[str, int] | None = None,
) -> list[str]:
    """Which strategy has the lowest anytime AUC at each of :func:`budgets`, and what to use.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of the comparison.
    optimum : float or None
        Best known score (the exhaustive grid's).
    trials : int
        The comparison's budget per study.
    reference : str
        The strategy normalized regret is relative to.
    distinguishable : bool
        Whether a paired test separated the strategies' final scores; without
        one, the lowest AUC describes these runs and no strategy is recommended.
    startup : mapping, optional
        Strategy -> random start-up trials it proposes before its model; budgets
        within them compare random draws, and the sentence says so.
    """
    sentences, leaders = [], {}
    startup = {k: v for k, v in (startup or {}).items() if k in set(frame["strategy"])}
    for budget in budgets(trials):
        auc = efficiency.anytime_auc(frame, optimum=optimum, reference=reference, budget=budget)
        auc = auc.sort_values(["auc_nr", "auc_regret", "strategy"], kind="stable")
        first = auc.iloc[0]
        tied = auc[(auc["auc_nr"] == first["auc_nr"]) & (auc["auc_regret"] == first["auc_regret"])]
        leaders[budget] = list(tied["strategy"])
        ref = auc.set_index("strategy").loc[reference]
        verb = "tie at" if len(tied) > 1 else "has"
        sentences.append(
            f"Up to {_trials(budget)}, {_names(leaders[budget])} {verb} the lowest anytime AUC "
            f"of normalized regret ({_number(first['auc_nr'])}; plain regret "
            f"{_number(first['auc_regret'])}), against {_number(ref['auc_nr'])} for {reference} "
            f"search (1 means no better than {reference}, 0 the optimum)."
        )
        within = sorted(name for name, count in startup.items() if budget <= count)
        if within:
            sentences[-1] += (
                f" At this budget {_names(within)} still propose random start-up trials "
                f"({_trials(max(startup[n] for n in within))}), so it compares random draws, "
                "not algorithms."
            )
    small, full = min(leaders), max(leaders)
    if not distinguishable:
        sentences.append(
            "No recommendation follows: these AUCs are medians over seeds with no test behind "
            "their order, and the paired tests of the final scores do not separate the "
            "strategies."
        )
        return sentences
    if leaders[small] == leaders[full]:
        sentences.append(
            f"Recommendation: {_names(leaders[full])} at every budget examined "
            f"({', '.join(map(str, leaders))} trials)."
        )
    else:
        sentences.append(
            f"Recommendation: {_names(leaders[small])} when only about {_trials(small)} can be "
            f"afforded, {_names(leaders[full])} for the full {_trials(full)}."
        )
    return sentences


def final_advice(final: pd.DataFrame, *, trials: int) -> list[str]:
    """Whether the best final CV score is significantly ahead, from the ``final`` table."""
    best = final.iloc[0]
    others = final.iloc[1:]
    sentence = (
        f"After {_trials(trials)}, {best['strategy']} has the highest mean final CV score "
        f"{_interval(best)} over {_seeds(best['seeds'])}."
    )
    if others.empty:
        return [sentence]
    tested = others.dropna(subset=["holm_p"])
    if tested.empty:
        pairs = int(others["pairs"].max())
        return [
            sentence + f" With {pairs} paired seeds no Wilcoxon test can reach p < {ALPHA} "
            f"(it needs {WILCOXON_MIN_PAIRS}), so the order of final scores is not significant "
            "(overlap or separation of the intervals is no test either)."
        ]
    worse = tested[tested["holm_p"] < ALPHA]
    level = [f"{r['strategy']} (p = {r['holm_p']:.3g})" for _, r in tested.iterrows()]
    verdict = (
        f"significantly ahead of {_names(list(worse['strategy']))}"
        if not worse.empty
        else "not significantly ahead of any strategy"
    )
    return [
        sentence + f" Paired Wilcoxon signed-rank tests against it, Holm-corrected over the "
        f"{len(others)} comparisons: {_names(level)}; it is {verdict}."
    ]


def _clock(efficiency: pd.DataFrame) -> str:
    """``"process CPU time"`` where the efficiency table's seconds are CPU, else wall-clock."""
    if "clock" in efficiency.columns and (efficiency["clock"] == "CPU").all():
        return "process CPU time"
    return "wall-clock time"


def time_advice(efficiency: pd.DataFrame, overhead: pd.DataFrame) -> list[str]:
    """Fastest strategy to the target in seconds, and what proposing costs.

    Parameters
    ----------
    efficiency : pandas.DataFrame
        :func:`harness.results.leaderboard.efficiency_table`.
    overhead : pandas.DataFrame
        :func:`harness.results.efficiency.overhead`.
    """
    reached = efficiency[(efficiency["success"] > 0) & ~efficiency["ttt_censored"].astype(bool)]
    sentences = []
    if efficiency["success"].isna().all():
        sentences.append(
            "No optimum independent of the compared runs is stored, so there is no target and "
            "no strategy is called fastest to it."
        )
    elif reached.empty:
        sentences.append(
            "Half or more of every strategy's runs missed the time-to-target threshold within "
            "the budget, so every median time to target is a lower bound (the runs' lengths) "
            "and these runs cannot rank the strategies by speed."
        )
    else:
        fastest = reached.sort_values(["ttt_seconds", "strategy"], kind="stable").iloc[0]
        sentences.append(
            f"By {_clock(efficiency)}, {fastest['strategy']} has the shortest median time to "
            "target "
            f"among strategies where most runs reached it: {fastest['ttt_seconds']:.1f} s, "
            f"{fastest['success']:.0%} of its runs reached it (no test behind the order)."
        )
    costs = overhead.assign(per_trial=overhead["suggest_seconds"] / overhead["trials"])
    costs = costs.sort_values(["overhead", "strategy"], ascending=[False, True], kind="stable")
    parts = [
        f"{row['strategy']} {row['overhead']:.1%} ({row['per_trial']:.3f} s per trial)"
        for _, row in costs.iterrows()
    ]
    sentences.append(f"Share of trial time spent proposing: {'; '.join(parts)}.")
    return sentences


def group_advice(table: pd.DataFrame, param: str) -> list[str]:
    """Best value of one parameter and which others are within its 95% interval.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`harness.results.efficiency.best_by_parameter` of ``param`` (best mean first).
    param : str
        The parameter.
    """
    rows = table[table["seeds"] > 0]
    best = rows.iloc[0]
    others = rows.iloc[1:]
    sentence = (
        f"Highest score by {param}: {best[param]} reaches a mean best CV score of "
        f"{_interval(best)} "
        f"over {_seeds(best['seeds'])} (95% Student t-interval over seeds)."
    )
    groups = _against(best, others, param)
    close, apart, unknown = groups["overlap"], groups["apart"], groups["unknown"]
    if close:
        verb = _verb(close, "overlaps", "overlap")
        sentence += f" {_names(close)} {verb} its interval: not distinguishable on this data."
    if apart:
        verb = _verb(apart, "lies", "lie")
        sentence += (
            f" {_names(apart)} {verb} below it, outside the interval (a description: "
            "separate intervals are not a test)."
        )
    if unknown:
        verb = _verb(unknown, "has", "have")
        sentence += f" {_names(unknown)} {verb} too few seeds for an interval: no conclusion."
    return [sentence]


def imbalance_advice(table: pd.DataFrame | None, imbalance_ratio: float) -> list[str]:
    """Whether resampling helped, from the ``by_imbalance`` table (None: not searched)."""
    if table is None:
        return [
            f"The search space did not vary imbalance handling, so these runs cannot tell "
            f"whether resampling helps on this data (largest/smallest class ratio "
            f"{imbalance_ratio:.2f}); add `imbalance` to the space to find out."
        ]
    rows = table[table["seeds"] > 0].set_index("imbalance", drop=False)
    sentences = group_advice(table, "imbalance")
    resamplers = rows[rows["imbalance"].isin(list(RESAMPLER_NAMES))]
    if resamplers.empty or "none" not in rows.index:
        return sentences
    best = resamplers.iloc[0]
    plain = rows.loc["none"]
    relation = _compare(best, plain)
    if relation == "unknown":
        verdict = "too few seeds for intervals, so no conclusion"
    elif relation == "overlap":
        verdict = "their intervals overlap, so these seeds show no difference from resampling"
    elif best["mean"] > plain["mean"]:
        verdict = "resampling helped beyond the intervals' overlap"
    else:
        verdict = "resampling hurt beyond the intervals' overlap"
    sentences.append(
        f"Resampling: the best resampler, {best['imbalance']}, reaches {_interval(best)}, "
        f"no imbalance handling {_interval(plain)}: {verdict} (class ratio "
        f"{imbalance_ratio:.2f})."
    )
    return sentences


def holdout_advice(
    holdout: Mapping[str, Mapping[str, Any]],
    test_scores: Mapping[str, float],
    *,
    metric: str,
    n_test: int,
) -> list[str]:
    """Tuned vs unoptimized MLP on the held-out split, across studies and against references.

    Point values first, then :func:`harness.report.evidence.holdout_evidence`: each
    difference with its 95% interval over the test rows, the metrics on which a
    reference does better, and how many tuned incumbents beat each reference.

    Parameters
    ----------
    holdout : mapping
        The best study's held-out results (tuned MLP and baselines).
    test_scores : mapping
        Study name -> held-out ``metric`` of its tuned model.
    metric : str
        The objective.
    n_test : int
        Rows of the held-out split.
    """
    scores = {name: result["scores"][metric] for name, result in holdout.items()}
    tuned, before = scores[TUNED], scores[BASELINE]
    sentences = [
        f"On the held-out split ({n_test} rows; one row is {1 / n_test:.3f} of accuracy), "
        f"the best configuration's {metric} is {tuned:.4f} against the unoptimized MLP's "
        f"{before:.4f} ({tuned - before:+.4f}).",
    ]
    values = list(test_scores.values())
    if len(values) > 1:
        sentences.append(
            f"Across all {len(values)} tuned studies the held-out {metric} ranges from "
            f"{min(values):.4f} to {max(values):.4f}."
        )
    return sentences + evidence.holdout_evidence(
        holdout, metric=metric, n_test=n_test, test_scores=test_scores
    )
