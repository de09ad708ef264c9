"""Leaderboard tables built from stored trials, written as Markdown and CSV.

The builders return DataFrames whose column names say how to print them
(``*_seconds`` with one decimal, ``*_p`` with three significant digits,
``*_rate`` as percentages, scores with four decimals; see :data:`GLOSSARY`).
:func:`write_leaderboard` turns a ``{table name: DataFrame}`` mapping into
``<name>.md`` (one section per table) and one ``<name>-<table>.csv`` per
table with the unrounded values. Nothing here reads a clock, so the same
trials always give the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tabulate import tabulate

from harness.errors import ConfigError
from harness.results import (
    design,
    efficiency,
    factors,
    generalization,
    pareto,
    ranking,
    statistics,
    targets,
    timing,
)
from harness.results.targets import Optimum

#: Level of every test and coverage of every interval in the tables.
ALPHA = 0.05
CONFIDENCE = 1 - ALPHA

#: What each column means; a table's section lists the entries of its columns.
GLOSSARY = {
    "baseline_cv": "the unoptimized baseline's mean CV score on the same folds",
    "incumbent": "mean over seeds of the runs' final incumbents (best CV score in the budget)",
    "difference": "mean over seeds of incumbent minus baseline (paired: the same folds)",
    "below_baseline": "runs whose final incumbent scores below the unoptimized baseline",
    "rank": "position (ties share it)",
    "strategy": "search strategy",
    "seeds": "runs (seeds) behind the figure",
    "trials": "finished trials behind the figure",
    "budget": "trials compared per run (T)",
    "auc_nr": "mean normalized regret over trials 1..T (0 = optimum, 1 = random search)",
    "auc_regret": "mean of best known score minus median incumbent over trials 1..T",
    "ttt_trials": "median trials to reach the q = 0.1 target (n/a: censored, see `targets`)",
    "ttt_seconds": "median seconds (which seconds: see `clock`) to reach it (n/a: "
    "censored, see `targets`)",
    "ttt_censored": "yes: half the runs or more missed the target, so the median is only a bound",
    "success": "share of runs that reached the target",
    "speedup_trials": "random search's median trials to target / this one's (n/a: both censored)",
    "speedup_seconds": "the same ratio in seconds",
    "overhead": "time spent proposing / total trial wall time",
    "final_rank": "rank of the final incumbent among strategies, averaged over seeds",
    "mean": "mean over seeds of each seed's best CV score",
    "std": "standard deviation over seeds",
    "ci_low": f"lower end of the {CONFIDENCE:.0%} interval (method in the table's note)",
    "ci_high": "upper end of that interval",
    "interval": "the interval as text; n/a (all seeds equal) where it has zero width",
    "wilcoxon_p": "raw two-sided paired Wilcoxon signed-rank p, against rank 1 in `final` "
    f"(n/a: too few pairs to reach {ALPHA}); verdicts use `holm_p`",
    "iqm": "interquartile mean over seeds of the final score (robust to one lucky seed)",
    "iqm_interval": f"{CONFIDENCE:.0%} stratified BCa bootstrap interval of the IQM over seeds",
    "p_a_better": f"Bayesian signed-rank posterior probability that a beats b by more than "
    f"{ranking.ROPE}",
    "p_equivalent": f"posterior probability that a and b are within {ranking.ROPE} "
    "(practically equivalent)",
    "p_b_better": f"posterior probability that b beats a by more than {ranking.ROPE}",
    "bayes": "the Bayesian verdict where a posterior probability exceeds 0.95, else undecided",
    "fail_rate": "share of trials that failed",
    "prune_rate": "share of trials that were pruned",
    "strategy_a": "first strategy of the pair",
    "strategy_b": "second strategy of the pair",
    "holm_p": "Holm-adjusted Wilcoxon p over every pair of strategies (the family of "
    "`pairwise`, the ranking groups and the diagram; `final` shows each strategy's pair with "
    "rank 1)",
    "significant": f"holm_p below {ALPHA}",
    "complete": "complete trials",
    "best": "best score of any trial",
    "cv_score": "mean CV score of the incumbents",
    "test_score": "mean held-out test score of the refitted incumbents",
    "gap": "mean test minus CV score",
    "baseline": "reference model",
    "number": "Optuna trial number",
    "value": "mean CV objective",
    "trial_seconds": "wall time of the trial",
    "trial": "trials finished (t)",
    "median": "median over seeds of the incumbent (best CV score so far) after t trials",
    "nr": "normalized regret of that median (0 = optimum, 1 = random search)",
    "mean_rank": "rank among strategies after t trials, averaged over seeds",
    "startup": "yes: within the shared start-up, some strategies are still the same random draws",
    "from_trial": "first trial the AUC and the final rank count (after the shared start-up)",
    "shared_seeds": "seeds on which the two runs start with the same configuration",
    "prefix_median": "median over seeds of the leading trials with identical configurations",
    "prefix_max": "most leading trials with identical configurations on one seed",
    "same_trials": "positions (all seeds) where the two runs evaluated the same configuration",
    "q": "target fraction: target = optimum - q * (optimum - random search's final median)",
    "target": "the target score",
    "reached": "seeds that reached the target within the budget",
    "ert_trials": "expected running time: trials spent by all seeds / seeds that reached it "
    "(inf: none did)",
    "ert_seconds": "the same in seconds",
    "median_trials": "median trials to the target; '>= x' where half the seeds or more missed it",
    "median_seconds": "median seconds (which seconds: see `efficiency`'s `clock`) to the "
    "target, as a bound where censored",
    "lowest_ert": "lowest finite ERT in trials at this target (a description, not a test)",
    "optimum": "where the optimum comes from",
    "axis": "budget measured in trials or seconds",
    "at": "budget point (trials, or seconds since the run's first trial)",
    "pairs": "seeds both strategies ran (paired)",
    "runs_targets": "seeds x targets behind the share",
    "reached_rate": "share of (seed, target) pairs reached within that budget",
    "beaten": "studies whose tuned model scores above this baseline on held-out rows",
    "studies": "studies with held-out results",
    "comparison": "the comparison (comparison file) the model comes from",
    "refit_cv": "mean CV score of the refitted configuration (a baseline's: on the same folds)",
    "studies_test_mean": "mean held-out objective of the tuned models of all the comparison's "
    "studies",
    "studies_test_interval": f"{CONFIDENCE:.0%} Student-t interval of that mean over studies",
    "n_parameters": "trainable parameters of the network",
    "beaten_rate": "share of those studies",
    "workers": "parallel workers the comparison ran with",
    "run_seconds": "median over seeds of a run's wall time (read it with `load_average`)",
    "load_average": "mean over the trials of the machine's 1-minute load average when each ended",
    "run_cpu_seconds": "median over seeds of a run's process CPU time (the fair cost)",
    "cpu_seconds": "mean process CPU seconds per trial, proposal included",
    "clock": "what the seconds columns measure: process CPU seconds, a replay's simulated "
    "seconds (the replayed table's stored seconds), or wall seconds for studies stored before "
    "CPU time was recorded",
    "fit_seconds": "mean seconds per trial spent fitting (all folds)",
    "predict_seconds": "mean seconds per trial spent predicting (n/a: not recorded)",
    "suggest_seconds": "mean seconds per trial spent proposing the configuration",
    "duplicate_rate": "share of trials repeating a configuration already evaluated in the run",
    "fail_reason": "most common failure reason (count)",
    "avg_rank": "rank of the final CV score among strategies, averaged over shared seeds",
    "friedman_p": "Friedman chi-square test that all strategies rank alike (shown only with "
    "3 strategies or more)",
    "group": "strategies the Holm-corrected paired Wilcoxon tests do not tell apart from it",
    "mean_difference": "mean over paired seeds of a minus b (best minus runner-up in power)",
    "diff_low": f"lower end of the {CONFIDENCE:.0%} paired Student-t interval of the "
    "difference (one pair, uncorrected)",
    "diff_high": "upper end of that interval",
    "effect": "mean over seeds of the value's predicted score on each seed's configurations",
    "effect_sd": "standard deviation of the effect over seeds",
    "vs_top": "mean over seeds of this value's effect minus the first row's (paired, same "
    "configurations)",
    "vs_top_low": f"lower end of the {CONFIDENCE:.0%} t interval of `vs_top` over seeds",
    "vs_top_high": "upper end of that interval",
    "best_strategy": "highest mean final score",
    "runner_up": "second highest mean final score",
    "sd_difference": "seed-to-seed standard deviation of the paired differences",
    "seeds_needed_t": "seeds a paired t-test needs to detect that difference (alpha 0.05, "
    "power 0.8)",
    "seeds_needed_wilcoxon": "the same for the Wilcoxon signed-rank test",
    "verdict": "what the paired test supports",
    "cv_rank": "rank of the mean CV score of the incumbents",
    "test_rank": "rank of their mean held-out score",
    "model": "held-out model",
    "metric": "held-out metric",
    "score": "stored held-out score",
    "rows": "held-out rows behind the score and its interval",
    "tuned_minus": "tuned model minus this one on the same rows (paired bootstrap)",
    "tuned_minus_low": "lower end of the paired bootstrap interval of `tuned_minus`",
    "tuned_minus_high": "upper end of that interval",
    "paired_p": "paired bootstrap p of that difference",
    "paired_holm_p": "paired_p with Holm's correction over the models compared on this metric",
    "mcnemar_p": "exact McNemar p, tuned against this model, on correct/incorrect rows",
    "hypervolume": "volume the study's trials dominate on the comparison's normalised "
    "objectives, up to the worst observed value of each (0 to 1, greater is better)",
    "front": "trials on the study's own Pareto front (Optuna's best_trials)",
    "complete_trials": "complete trials within the budget",
    "mean_hv": "mean over seeds of the hypervolume",
    "std_hv": "standard deviation over seeds of the hypervolume",
    "iqm_hv": "interquartile mean over seeds of the hypervolume (robust to one lucky seed)",
    "iqm_hv_interval": f"{CONFIDENCE:.0%} stratified BCa bootstrap interval of that IQM",
    "avg_hv_rank": "rank of the hypervolume among strategies, averaged over shared seeds",
    "n_params": "trainable weights of the configuration's network",
    "objective": "an objective of the study",
    "direction": "whether the objective is maximised or minimised",
    "worst": "the worst observed value: 1 on the normalised scale, the reference point",
}
#: What a table's rows are and how its intervals are computed, printed under its heading.
TABLE_NOTES = {
    "baseline_cv": f"Tuned against the unoptimized baseline in CV: the baseline is evaluated on "
    f"the same folds as every trial, so differences are paired; {CONFIDENCE:.0%} Student-t "
    "intervals over seeds.",
    "startup": "Pairs of strategies whose runs with the same seed evaluated identical "
    "configurations at the same leading trial positions (shared random start-up streams); up to "
    "that many trials they compare one random draw with itself.",
    "efficiency": "Ranked by the anytime AUC over the trials after the shared start-up only; "
    "`success` is the share of runs reaching the q = 0.1 target (see `targets`).",
    "targets": "A ladder of targets below an optimum independent of the compared runs (without "
    "one, no target table is reported); censored medians are bounds ('>= x'), never point values, "
    "and a strategy that never reaches a target is never the fastest there.",
    "ecdf": "The COCO-style ECDF: share of the (seed, target) pairs of the ladder reached within "
    "a budget of trials or seconds.",
    "timing": "Equal trials are not equal compute: the cost behind each strategy's trials. "
    "CPU seconds are the fair measure; wall seconds grow with the machine's load "
    "(`load_average`), and `compare` interleaves its studies so every strategy sees the same "
    "load.",
    "final": f"Intervals: {CONFIDENCE:.0%} Student-t over seeds (valid at small n); the IQM's: "
    "stratified BCa bootstrap over seeds. Tests: paired Wilcoxon signed-rank against rank 1, "
    "Holm-corrected over every pair of strategies (the family the ranking groups and the "
    "diagram use: rank 1 is chosen after seeing the scores, so it is no pre-set control); "
    "overlap of intervals is not a test.",
    "ranking": "Average ranks over seeds (blocks) x strategies, the Friedman chi-square test "
    "(with 3 strategies or more), and groups from paired Wilcoxon signed-rank tests with "
    "Holm's correction; the critical-difference diagram (`-ranking.png` beside this file) draws "
    "the same Wilcoxon-Holm groups.",
    "pairwise": "Paired (same seeds) Wilcoxon signed-rank tests with Holm's correction; n/a where "
    "the pairs cannot reach p < 0.05 (fewer than 6 non-tied pairs: with 5 seeds the smallest "
    "two-sided p is 2/2^5 = 0.0625). The Bayesian signed-rank test (Benavoli et al. 2017) "
    f"with a region of practical equivalence of {ranking.ROPE} says where two strategies are "
    "practically equivalent rather than only not separated.",
    "power": "The best strategy against the runner-up: how many seeds would detect the observed "
    "difference with its observed seed-to-seed spread.",
    "curves": "Intervals: percentile bootstrap over seeds of the median incumbent.",
    "generalization": f"Gap intervals: {CONFIDENCE:.0%} Student-t over seeds.",
    "by_param": "Each value compared on the same configurations, not by the best score it "
    "happened to reach (that grows with how often a strategy proposed it): per seed, a "
    "random-forest surrogate of the score fitted on every complete trial, then its mean "
    "prediction over all of that seed's configurations with only this parameter set to the "
    f"value (partial dependence, the marginal of functional ANOVA). Intervals: {CONFIDENCE:.0%} "
    "Student-t over seeds; `vs_top` is paired over seeds. An imbalance strategy is credited only "
    "where it ran: a resampler skipped on every fold counts as `none`.",
    "holdout": "Intervals: percentile bootstrap over the held-out rows; paired comparisons on the "
    "same rows.",
    "versus": "Each comparison's tuned model (its best study by CV score) and its family's "
    "baseline, on the same held-out rows: intervals are percentile bootstraps over those rows; "
    "`tuned_minus`, `paired_p` and `mcnemar_p` compare this comparison's tuned model with each "
    "other model, paired on the rows.",
    "versus_baselines": "How many studies' tuned models beat each baseline on the held-out rows "
    "in the objective (one study's comparison is one draw; see `holdout` for its uncertainty).",
    "pareto_front": "The trials no other trial beats on every objective (Optuna's best_trials), "
    "best metric first; the metric is the mean over folds, `std_` its spread over the folds. "
    "`-pareto_front.png` beside this file plots the first objective against the second, the "
    "front highlighted.",
    "pareto": "The comparison's Pareto front: the trials of all studies together that no trial "
    "of any study beats on every objective, best metric first; `-pareto.png` beside this file "
    "plots every complete trial, the front highlighted.",
    "hv_scale": "What the hypervolume's normalised scale stands for: every objective is min-max "
    "normalised over all complete trials of all studies (within the budget), 0 at the best "
    "observed value and 1 at the worst; the reference point is 1 on every objective (the worst "
    "observed value of each), the same for every study.",
    "hypervolume": "Each study's hypervolume (moocore's, on the scale of `hv_scale`): the share "
    "of the normalised objective space its trials dominate; its front's, since dominated trials "
    "add nothing.",
    "hv_final": f"Hypervolume per strategy over seeds: {CONFIDENCE:.0%} Student-t intervals, the "
    "IQM with a stratified BCa bootstrap interval, paired Wilcoxon signed-rank tests against "
    "rank 1 with Holm's correction over every pair (the tests of `final`).",
    "hv_ranking": "Average ranks of the hypervolume over seeds, the Friedman test and the "
    "Wilcoxon-Holm groups (the tests of `ranking`); `-hv_ranking.png` draws the same groups.",
    "hv_pairwise": "Every pair of strategies on the hypervolume: the tests of `pairwise`.",
    "hv_power": "The best strategy by hypervolume against the runner-up: the test of `power`.",
}
#: Meanings of the column families named by a prefix.
PREFIXES = {
    "score_": "mean over folds of a metric",
    "std_": "standard deviation over folds of a metric",
    "test_": "held-out test metric",
    "param_": "configuration value",
}
RATES = {"success", "overhead"}
SCORES = {
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "best",
    "cv_score",
    "test_score",
    "gap",
    "value",
    "median",
    "nr",
    "mean_rank",
    "baseline_cv",
    "incumbent",
    "difference",
    "iqm",
    "mean_hv",
    "std_hv",
    "iqm_hv",
    "hypervolume",
}
#: Fractions of the budget at which :func:`curve_table` samples the incumbent curves.
CHECKPOINTS = (0.1, 0.25, 0.5, 0.75, 1.0)
SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _ranked(table: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """Sort ``table`` and prepend a competition rank (equal keys share the rank)."""
    table = table.sort_values(
        [*by, "strategy"], ascending=[*ascending, True], kind="stable", ignore_index=True
    )
    first = ~table.duplicated(subset=by)
    positions = pd.Series(np.arange(1, len(table) + 1)).where(first).ffill()
    table.insert(0, "rank", positions.astype(int))
    return table


def efficiency_table(
    frame: pd.DataFrame,
    *,
    optimum: float | Optimum | None = None,
    reference: str = "random",
    budget: int | None = None,
    after: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Strategies ranked by anytime AUC of normalized regret beyond the shared start-up.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task (:func:`harness.study.ledger.trials_frame`).
    optimum : float or Optimum, optional
        The task's optimum (a bare float is taken as known from outside the runs).
    reference, budget
        As in :func:`harness.results.efficiency.anytime_auc`.
    after : int, optional
        Leading trials left out of the AUC; default
        :func:`harness.results.design.shared_startup_horizon`.
    n_boot, seed
        Bootstrap of the rank curves (only the final mean rank is shown).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``strategy``, ``seeds``, ``trials``, ``from_trial``,
        ``auc_nr``, ``auc_regret``, ``success``, ``ttt_trials`` and
        ``ttt_seconds`` (median to the q = 0.1 target; NaN where the median is
        censored, see ``targets`` for the bound), ``ttt_censored``,
        ``overhead``, ``final_rank``, ``optimum`` (:attr:`Optimum.label`: the
        regret's optimum and its source, "circular" when it is a compared run).
    """
    opt = _as_optimum(frame, optimum)
    horizon = design.shared_startup_horizon(frame) if after is None else after
    auc = efficiency.anytime_auc(
        frame, optimum=opt.value, reference=reference, budget=budget, after=horizon
    )
    if opt.circular:
        # No target without an optimum independent of the compared runs: n/a, not a number.
        hits = auc[["strategy"]].assign(
            success=np.nan, median_trials="n/a", median_seconds="n/a", reached=0
        )
    else:
        reached = targets.run_hits(frame, opt, reference=reference, ladder=(0.1,), budget=budget)
        hits = targets.target_table(reached, opt)
    cost = efficiency.overhead(frame, budget=budget)
    ranks = efficiency.rank_curves(frame, budget=budget, n_boot=n_boot, seed=seed)
    final = ranks[ranks["trial"] == ranks["trial"].max()]
    last = int(auc["budget"].max())
    # The q = 0.1 medians as point values only where at least half the seeds reached the
    # target; a censored median is a bound (printed in `targets`), here n/a.
    hits = hits.assign(
        ttt_censored=hits["median_trials"].str.startswith(">="),
        ttt_trials=pd.to_numeric(hits["median_trials"], errors="coerce"),
        ttt_seconds=pd.to_numeric(hits["median_seconds"], errors="coerce"),
    )
    table = (
        auc[["strategy", "seeds", "auc_nr", "auc_regret"]]
        .merge(cost[["strategy", "trials", "overhead"]], on="strategy")
        .merge(
            hits[["strategy", "success", "ttt_trials", "ttt_seconds", "ttt_censored"]],
            on="strategy",
        )
        .merge(final[["strategy", "mean_rank"]].rename(columns={"mean_rank": "final_rank"}))
    )
    table["from_trial"] = horizon + 1 if horizon < last else 1
    table["optimum"] = opt.label
    table["clock"] = efficiency.clock(efficiency.prepare_trials(frame, budget))
    columns = [
        "strategy",
        "seeds",
        "trials",
        "from_trial",
        "auc_nr",
        "auc_regret",
        "success",
        "ttt_trials",
        "ttt_seconds",
        "ttt_censored",
        "overhead",
        "final_rank",
        "optimum",
        "clock",
    ]
    return _ranked(table[columns], ["auc_nr", "auc_regret"], [True, True])


def _as_optimum(frame: pd.DataFrame, optimum: float | Optimum | None) -> Optimum:
    if isinstance(optimum, Optimum):
        return optimum
    return targets.resolve_optimum(frame, optimum, "given")


#: Columns of the hypervolume tables renamed from the final-score tables' (their glossary
#: entries speak of CV scores).
HV_COLUMNS = {
    "mean": "mean_hv",
    "std": "std_hv",
    "iqm": "iqm_hv",
    "iqm_interval": "iqm_hv_interval",
    "avg_rank": "avg_hv_rank",
}


def pareto_tables(
    frame: pd.DataFrame, objectives: Sequence[str], *, budget: int | None = None
) -> dict[str, pd.DataFrame]:
    """A comparison of several objectives: its front, and its studies' hypervolumes compared.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of the comparison's studies (``objective_<name>`` columns).
    objectives : sequence of str
        The objectives, the metric first.
    budget : int, optional
        Trials compared per study.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``pareto`` (the pooled front, :func:`harness.results.pareto.front_table`),
        ``hv_scale``, ``hypervolume`` (per study), then the per-seed hypervolume
        through the tests of the single-objective tables: ``hv_final``
        (intervals and Wilcoxon-Holm against rank 1), ``hv_ranking``,
        ``hv_pairwise`` and ``hv_power``.
    """
    table = pareto.hypervolume_table(frame, objectives, budget=budget)
    finals = pareto.hypervolume_finals(table)
    tests = statistics.wilcoxon_vs_best(finals, alpha=ALPHA)
    intervals = ranking.interval_table_of(finals, CONFIDENCE)
    final = intervals.merge(tests[["strategy", "pairs", "wilcoxon_p", "holm_p"]], on="strategy")
    return {
        "pareto": pareto.front_table(frame, objectives, budget=budget, pooled=True),
        "hv_scale": pareto.normalised(frame, objectives, budget=budget)[1],
        "hypervolume": table,
        "hv_final": _ranked(final, ["mean"], [False]).rename(columns=HV_COLUMNS),
        "hv_ranking": ranking.ranking_table_of(finals).rename(columns=HV_COLUMNS),
        "hv_pairwise": ranking.pairwise_table_of(finals),
        "hv_power": ranking.power_table_of(finals),
    }


def pareto_figures(
    frame: pd.DataFrame, objectives: Sequence[str], *, budget: int | None = None
) -> dict[str, Figure]:
    """Figures of a comparison of several objectives: ``pareto`` (the pooled front over every
    complete trial) and ``hv_ranking`` (the critical-difference diagram of the hypervolume)."""
    finals = pareto.hypervolume_finals(pareto.hypervolume_table(frame, objectives, budget=budget))
    return {
        "pareto": pareto.pareto_figure(frame, objectives, budget=budget, pooled=True),
        "hv_ranking": ranking.ranking_figure_of(finals, "the hypervolume"),
    }


def final_score_table(
    frame: pd.DataFrame,
    *,
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Strategies ranked by mean final incumbent, with intervals, tests and failure rates.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task, as :func:`harness.study.ledger.trials_frame` returns them.
    budget : int, optional
        Trials per run that count; default the longest run.
    n_boot, seed : int
        Passed to :func:`harness.results.efficiency.final_scores`, whose bootstrap interval
        this table replaces with the Student-t one of
        :func:`harness.results.ranking.interval_table`: they change no column.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``strategy``, ``seeds``, ``trials``, ``mean``, ``std``,
        ``ci_low``, ``ci_high`` (95% Student-t interval of the mean over seeds),
        ``interval`` (text; ``"n/a (all seeds equal)"`` for a zero width),
        ``iqm``, ``iqm_interval`` (interquartile mean, stratified BCa interval),
        ``pairs``, ``wilcoxon_p`` (raw, against rank 1), ``holm_p`` (the pair's
        Holm-corrected p over every pair of strategies: the p-value every verdict uses),
        ``fail_rate``, ``prune_rate``.
    """
    scores = efficiency.final_scores(
        frame, budget=budget, n_boot=n_boot, confidence=CONFIDENCE, seed=seed
    )
    finals = efficiency.final_incumbents(frame, budget=budget)
    tests = statistics.wilcoxon_vs_best(finals, alpha=ALPHA)
    fails = efficiency.failure_rates(frame, budget=budget)
    intervals = ranking.interval_table(frame, budget=budget, confidence=CONFIDENCE)
    scores = scores.drop(columns=["ci_low", "ci_high"]).merge(
        intervals[["strategy", "ci_low", "ci_high", "interval", "iqm", "iqm_interval"]],
        on="strategy",
    )
    table = scores.merge(tests[["strategy", "pairs", "wilcoxon_p", "holm_p"]], on="strategy").merge(
        fails[["strategy", "fail_rate", "prune_rate"]], on="strategy"
    )
    return _ranked(table, ["mean"], [False])


def baselines_table(baselines: pd.DataFrame) -> pd.DataFrame:
    """Reference baselines' held-out metrics as a leaderboard table.

    Parameters
    ----------
    baselines : pandas.DataFrame
        One row per baseline, named by a ``baseline`` column or by the index,
        and one numeric column per test metric.

    Returns
    -------
    pandas.DataFrame
        ``baseline`` then ``test_<metric>`` columns, highest first by the first
        metric column (put a score to maximise first).
    """
    table = baselines
    if "baseline" not in table.columns:
        table = table.rename_axis("baseline").reset_index()
    metrics = [
        c for c in table.columns if c != "baseline" and pd.api.types.is_numeric_dtype(table[c])
    ]
    if not metrics:
        raise ConfigError("the baselines table has no numeric metric column: one column per metric")
    names = {c: c if c.startswith("test_") else f"test_{c}" for c in metrics}
    table = table.rename(columns=names)
    return table.sort_values(names[metrics[0]], ascending=False, kind="stable", ignore_index=True)


def curve_table(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The incumbent curves by trials, sampled at :data:`CHECKPOINTS` of the budget.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task.
    optimum, reference
        The regret's optimum and reference strategy
        (:func:`harness.results.efficiency.regret_curves`).
    budget : int, optional
        Trials per run that count; default the longest run.
    n_boot, seed : int
        Bootstrap resamples and generator seed of the median incumbent's interval over
        seeds (and of :func:`harness.results.efficiency.rank_curves`).

    Returns
    -------
    pandas.DataFrame
        One row per strategy and checkpoint: ``trial``, ``startup`` (true up to
        the shared start-up, where strategies may be the same random draws), the
        median incumbent over seeds with its bootstrap interval, its normalized regret and the
        strategy's mean rank at that point, and how many seeds stand behind it.
    """
    boot = {"n_boot": n_boot, "seed": seed}
    curves = efficiency.incumbent_curves(frame, axis="trials", budget=budget, **boot)
    regret = efficiency.regret_curves(
        frame, optimum=optimum, reference=reference, axis="trials", budget=budget
    )
    ranks = efficiency.rank_curves(frame, budget=budget, **boot)
    last = int(curves["trial"].max())
    points = sorted({max(1, math.ceil(fraction * last)) for fraction in CHECKPOINTS})
    table = (
        curves[["strategy", "trial", "median", "ci_low", "ci_high", "seeds"]]
        .merge(regret[["strategy", "trial", "nr"]], on=["strategy", "trial"])
        .merge(ranks[["strategy", "trial", "mean_rank"]], on=["strategy", "trial"])
    )
    table = table[table["trial"].isin(points)]
    table = table.assign(startup=table["trial"] <= design.shared_startup_horizon(frame))
    columns = [
        "strategy",
        "trial",
        "startup",
        "median",
        "ci_low",
        "ci_high",
        "nr",
        "mean_rank",
        "seeds",
    ]
    return table[columns].sort_values(["strategy", "trial"], ignore_index=True)


def study_leaderboard(frame: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The ``k`` best complete trials of one study.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of exactly one study.
    k : int
        How many trials to list.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (ties share it), ``number``, ``value``, the ``std_<metric>``
        columns where the frame has them, ``score_<metric>`` columns,
        ``trial_seconds`` and the ``param_<name>`` columns.
    """
    studies = frame["study"].unique()
    if len(studies) != 1:
        raise ConfigError(
            f"study_leaderboard ranks one study, got {len(studies)}: "
            "select one with frame[frame['study'] == NAME]"
        )
    complete = frame[frame["state"] == "COMPLETE"]
    ranked = complete.sort_values(["value", "number"], ascending=[False, True], kind="stable")
    ranked = ranked.assign(rank=ranked["value"].rank(method="min", ascending=False).astype(int))
    families = [[c for c in frame.columns if c.startswith(p)] for p in ("std_", "score_")]
    params = [c for c in frame.columns if c.startswith("param_")]
    columns = ["rank", "number", "value", *families[0], *families[1], "trial_seconds", *params]
    return ranked.head(k)[columns].reset_index(drop=True)


def leaderboard_tables(
    frame: pd.DataFrame,
    *,
    optimum: float | Optimum | None = None,
    reference: str = "random",
    params: Sequence[str] = ("optimizer", "imbalance"),
    test_scores: Mapping[str, float] | None = None,
    baselines: pd.DataFrame | None = None,
    holdout: Mapping[str, Any] | None = None,
    tuned: str | None = None,
    metrics: Sequence[str] = (),
    workers: int | None = None,
    budget: int | None = None,
    baseline_cv: float | None = None,
    regret_frame: pd.DataFrame | None = None,
    family: str = "mlp",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The standard set of tables for one task's comparison.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task; reference trials (``reference`` column) are left out.
    optimum : float or Optimum, optional
        The task's optimum and its source; a bare float counts as known from
        outside the runs, None as the best of the compared runs (circular).
    reference, budget
        As in :func:`efficiency_table`.
    params : sequence of str
        Parameters to group by (``by_<param>`` tables); those the trials lack
        are skipped.
    test_scores : Mapping[str, float], optional
        Study -> held-out score of its incumbent; adds ``generalization``.
    baselines : pandas.DataFrame, optional
        Baselines' test metrics; adds ``baselines``.
    holdout, tuned, metrics
        Stored held-out results of one study, the tuned model's name in them and
        the metrics to show; adds ``holdout``
        (:func:`harness.results.generalization.holdout_table`).
    workers : int, optional
        Workers the comparison ran with, for ``timing``.
    baseline_cv : float, optional
        The unoptimized baseline's mean CV score on the same folds; adds ``baseline_cv``.
    regret_frame : pandas.DataFrame, optional
        ``frame`` with values put on one optimum's scale, for the tables that
        measure regret or targets (``efficiency``, ``targets``, ``ecdf``,
        ``curves``); see
        :meth:`harness.results.loading.ComparisonResults.regret_frame`. Default ``frame``.
    family : str, default="mlp"
        The model family of the tuned model: the held-out tables name the stored
        ``tuned MLP`` and ``baseline MLP`` by it
        (:func:`harness.results.generalization.model_label`).
    n_boot, seed
        Bootstrap resamples and seed for every bootstrap interval.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``startup``, ``efficiency``, ``targets`` and ``ecdf`` (only with an optimum
        independent of the compared runs), ``timing``,
        ``final``, ``ranking``, ``pairwise``, ``power``, ``curves``,
        ``by_<param>`` and, when their inputs are given, ``generalization``,
        ``holdout`` and ``baselines``, in that order (see :data:`TABLE_NOTES`).
    """
    boot = {"n_boot": n_boot, "seed": seed}
    regret = frame if regret_frame is None else regret_frame
    opt = _as_optimum(regret, optimum)
    where = {"reference": reference, "budget": budget}
    tables = {
        "startup": design.shared_startup(frame),
        "efficiency": efficiency_table(regret, optimum=opt, **where, **boot),
    }
    if not opt.circular:  # targets near an optimum a compared run set are reached by construction
        hits = targets.run_hits(regret, opt, **where)
        tables["targets"] = targets.target_table(hits, opt)
        tables["ecdf"] = targets.ecdf_table(hits, budget=budget)
    tables |= {
        "timing": timing.timing_table(frame, workers=workers, budget=budget),
        "final": final_score_table(frame, budget=budget, **boot),
    }
    if baseline_cv is not None:
        tables["baseline_cv"] = generalization.baseline_cv_table(
            frame, baseline_cv, budget=budget, confidence=CONFIDENCE
        )
    tables |= {
        "ranking": ranking.ranking_table(frame, budget=budget),
        "pairwise": ranking.pairwise_table(frame, budget=budget),
        "power": ranking.power_table(frame, budget=budget),
        "curves": curve_table(regret, optimum=opt.value, **where, **boot),
    }
    for param in params:
        if f"param_{param}" in frame.columns:
            tables[f"by_{param}"] = factors.factor_effects(
                frame, param, budget=budget, confidence=CONFIDENCE, seed=seed
            )
    if test_scores is not None:
        tables["generalization"] = generalization.gap_table(
            frame, test_scores, confidence=CONFIDENCE
        )
    if holdout and tuned is not None and metrics:
        tables["holdout"] = generalization.holdout_table(
            holdout, tuned, tuple(metrics), confidence=CONFIDENCE
        )
    if baselines is not None:
        tables["baselines"] = baselines_table(baselines)
        if test_scores and metrics and f"test_{metrics[0]}" in tables["baselines"].columns:
            tables["versus_baselines"] = generalization.beaten_table(
                test_scores, tables["baselines"], metrics[0]
            )
    for key, table in tables.items():
        if key.startswith("by_"):
            tables[key] = _with_interval_text(table)
        for column in MODEL_NAME_COLUMNS.get(key, ()):
            tables[key] = tables[key].assign(
                **{column: [generalization.model_label(name, family) for name in table[column]]}
            )
    return tables


MODEL_NAME_COLUMNS = {
    "holdout": ("model",),
    "baselines": ("baseline",),
    "versus_baselines": ("baseline",),
}
"""The columns of held-out tables that hold stored model names."""


def _with_interval_text(table: pd.DataFrame) -> pd.DataFrame:
    """Add an ``interval`` column: the bounds as text, or why there is no interval."""
    texts = []
    spread = "effect_sd" if "effect_sd" in table.columns else "std"
    for low, high, std, seeds in table[["ci_low", "ci_high", spread, "seeds"]].itertuples(
        index=False
    ):
        if seeds < 2 or math.isnan(low):
            texts.append("n/a (fewer than 2 seeds)")
        elif std == 0 or low == high:
            texts.append("n/a (all seeds equal)")
        else:
            texts.append(f"[{low:.4f}, {high:.4f}]")
    return table.assign(interval=texts)


def leaderboard_figures(frame: pd.DataFrame, *, budget: int | None = None) -> dict[str, Figure]:
    """Figures saved beside the tables: ``ranking``, the critical-difference diagram."""
    return {"ranking": ranking.ranking_figure(frame, budget=budget)}


def _float_format(column: str) -> str:
    if column.endswith("_p"):
        return ".3g"
    if "seconds" in column:
        return ".3g"
    if column in RATES or column.endswith("_rate"):
        return ".1%"
    if "rank" in column or column.startswith(("speedup", "ttt_trials")):
        return ".2f"
    if column in SCORES or column.startswith(("score_", "std_", "test_", "auc_", "target")):
        return ".4f"
    return ".4g"


def _formatter(column: str, values: pd.Series) -> Callable[[object], str]:
    if pd.api.types.is_bool_dtype(values):
        return lambda v: "yes" if v else "no"
    if pd.api.types.is_integer_dtype(values):
        return lambda v: str(int(v))
    if pd.api.types.is_float_dtype(values):
        spec = _float_format(column)

        def number(v: float) -> str:
            if math.isnan(v):
                return "n/a"
            return format(v, spec) if math.isfinite(v) else str(v)

        return number
    return lambda v: "" if v is None or v is pd.NA else str(v).replace("|", r"\|")


def markdown_table(table: pd.DataFrame) -> str:
    cells = {c: table[c].map(_formatter(c, table[c])) for c in table.columns}
    rows = pd.DataFrame(cells, columns=table.columns).values.tolist()
    align = [
        "right"
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        else "left"
        for c in table.columns
    ]
    return tabulate(
        rows,
        headers=list(table.columns),
        tablefmt="github",
        disable_numparse=True,
        colalign=align,
    )


def explanation(table: pd.DataFrame) -> str:
    parts = []
    for column in table.columns:
        meaning = GLOSSARY.get(column) or next(
            (text for prefix, text in PREFIXES.items() if column.startswith(prefix)), None
        )
        if meaning:
            parts.append(f"`{column}`: {meaning}")
    return "Columns: " + "; ".join(parts) + "." if parts else ""


def render_markdown(
    tables: Mapping[str, pd.DataFrame], name: str, header_notes: Sequence[str] = ()
) -> str:
    """GitHub-flavoured Markdown of ``tables``: a title, the notes, one section per table.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Section name -> table, in the order to print.
    name : str
        Title of the document.
    header_notes : sequence of str
        Paragraphs under the title (what was compared, budget, dates if wanted).

    Returns
    -------
    str
        The document, ending with a newline.
    """
    blocks = [f"# {name}", *header_notes]
    for key, table in tables.items():
        note = TABLE_NOTES.get("by_param" if key.startswith("by_") else key, "")
        body = markdown_table(table) if len(table) else "No rows."
        blocks += [f"## {key}", note, explanation(table), body]
    return "\n\n".join(block for block in blocks if block) + "\n"


#: Resolution of the PNG figures written beside the tables.
DPI = 100


def write_leaderboard(
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    name: str,
    header_notes: Sequence[str] = (),
    figures: Mapping[str, Figure] | None = None,
) -> list[Path]:
    """Write ``<directory>/<name>.md``, one ``<name>-<table>.csv`` per table, one PNG per figure.

    The CSV files hold the unrounded values without an index;
    ``pandas.read_csv(path)`` reads one back equal to its table.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Table name -> table; names are used in file names.
    directory : str or pathlib.Path
        Output folder, created if missing (e.g. ``leaderboards``).
    name : str
        Base name of the files.
    header_notes : sequence of str
        Paragraphs under the Markdown title.
    figures : Mapping[str, matplotlib.figure.Figure], optional
        Figure name -> figure, written as ``<name>-<figure>.png`` with no date
        or software version in the file, so the bytes depend on the figure only.

    Returns
    -------
    list of pathlib.Path
        The Markdown file, the CSV files in table order, then the PNG files.
    """
    figures = figures or {}
    for label in (name, *tables, *figures):
        if not SAFE_NAME.fullmatch(label):
            raise ConfigError(
                f"{label!r} cannot be part of a file name: use letters, digits, '.', '_' or '-'"
            )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"{name}.md"
    markdown.write_text(render_markdown(tables, name, header_notes), encoding="utf-8", newline="\n")
    written = [markdown]
    for key, table in tables.items():
        path = directory / f"{name}-{key}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    for key, figure in figures.items():
        path = directory / f"{name}-{key}.png"
        figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
        written.append(path)
    return written
