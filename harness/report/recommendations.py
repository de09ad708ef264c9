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
from harness.results.factors import paired_difference
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
        sentence + " Paired Wilcoxon signed-rank tests against it, Holm-corrected over "
        f"{_all_pairs(len(final))}: {_names(level)}; it is {verdict}."
    ]


def _all_pairs(strategies: int) -> str:
    """The Holm family of the final verdicts: every pair of strategies (the ranking groups' and
    the diagram's), not only the leader's comparisons, since the leader is picked after the fact."""
    pairs = strategies * (strategies - 1) // 2
    return "the one pair" if pairs == 1 else f"all {pairs} pairs of strategies"


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


def _effect(row: Mapping[str, Any]) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return f"{row['effect']:.4f} (no interval from one seed)"
    return f"{row['effect']:.4f} [{row['ci_low']:.4f}, {row['ci_high']:.4f}]"


def _difference(mean: float, low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return f"{mean:+.4f} (no interval from one seed)"
    return f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"


def group_advice(table: pd.DataFrame, param: str) -> list[str]:
    """Best value of one parameter on matched configurations, and how far each other value is.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`harness.results.factors.factor_effects` of ``param`` (best mean first):
        each value's predicted score on the same configurations, and its paired
        difference from the first row over seeds.
    param : str
        The parameter.
    """
    rows = table[table["seeds"] > 0]
    best = rows.iloc[0]
    sentence = (
        f"Effect of {param} on the same configurations (each seed's trials with only {param} "
        f"changed, scored by a random-forest surrogate): {best[param]} is highest, "
        f"{_effect(best)} over {_seeds(best['seeds'])} (95% t interval over seeds)."
    )
    below, level, unknown = [], [], []
    for _, row in rows.iloc[1:].iterrows():
        shown = _difference(row["vs_top"], row["vs_top_low"], row["vs_top_high"])
        text = f"{row[param]} {shown}"
        if pd.isna(row["vs_top_high"]):
            unknown.append(text)
        elif row["vs_top_high"] < 0:
            below.append(text)
        else:
            level.append(text)
    if below:
        sentence += (
            f" Below it, the paired interval of the difference excluding 0: {'; '.join(below)}."
        )
    if level:
        sentence += (
            f" Not separated from it (the paired interval includes 0; not shown equivalent "
            f"either): {'; '.join(level)}."
        )
    if unknown:
        sentence += f" Too few seeds for an interval: {'; '.join(unknown)}."
    return [sentence]


def imbalance_advice(table: pd.DataFrame | None, imbalance_ratio: float) -> list[str]:
    """Whether resampling helped, from the ``by_imbalance`` table (None: not searched).

    The table credits each trial with the strategy that ran on its folds
    (:func:`harness.study.ledger.effective_imbalance`); the best resampler and no
    imbalance handling are compared paired over seeds on the same configurations.
    """
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
    mean, low, high, seeds = paired_difference(table, best["imbalance"], "none")
    if seeds < 2 or pd.isna(low):
        verdict = "too few seeds for an interval, so no conclusion"
    elif low > 0:
        verdict = "resampling helped: the paired interval lies above 0"
    elif high < 0:
        verdict = "resampling hurt: the paired interval lies below 0"
    else:
        verdict = "the paired interval includes 0, so these seeds show no effect of resampling"
    sentences.append(
        f"Resampling: the best resampler that ran, {best['imbalance']}, against no imbalance "
        f"handling on the same configurations: {_difference(mean, low, high)} over "
        f"{_seeds(seeds)}; {verdict} (class ratio {imbalance_ratio:.2f})."
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
