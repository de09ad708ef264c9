"""What the numbers support and what they do not: sentences generated from the evidence.

Every function here takes tables or stored results and returns sentences that
carry their numbers, the interval method, and how many seeds or rows stand
behind them. Wording follows the evidence: "ahead of", "better" or "best" only
where a paired test or an interval that excludes zero supports it; otherwise the
sentence says the difference is not distinguishable and how many seeds or rows
would be needed.

Intervals over seeds are Student-t (valid at small n, unlike the percentile
bootstrap); intervals over held-out rows are percentile bootstrap intervals over
the test rows, rebuilt from the stored confusion matrices (the per-row pairs of
true and predicted label are exactly the cells of the matrix).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.report.references import cite
from harness.results import generalization, statistics
from harness.results.generalization import model_label
from harness.results.leaderboard import ALPHA
from harness.results.ranking import ROPE
from harness.study.holdout import BASELINE, MAJORITY, TUNED
from harness.study.metrics import HEADLINE_METRICS, METRICS

#: Bootstrap resamples of the held-out rows: the leaderboard's.
N_BOOT = generalization.HOLDOUT_BOOT


def _accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(truth == predicted))


def _f1_macro(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro F1 over the classes present in either array (scikit-learn's ``zero_division=0``).

    Written with numpy because the bootstrap calls it thousands of times.
    """
    classes, codes = np.unique(np.concatenate([truth, predicted]), return_inverse=True)
    k = len(classes)
    true_codes, predicted_codes = codes[: len(truth)], codes[len(truth) :]
    hits = np.bincount(true_codes[true_codes == predicted_codes], minlength=k)
    support = np.bincount(true_codes, minlength=k)
    assigned = np.bincount(predicted_codes, minlength=k)
    denominator = support + assigned
    f1 = np.divide(2 * hits, denominator, out=np.zeros(k), where=denominator > 0)
    return float(f1.mean())


#: Metrics computable from predicted labels alone (the stored confusion matrices).
LABEL_METRICS = {"accuracy": _accuracy, "f1_macro": _f1_macro}


def names(items: Sequence[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    items = [str(item) for item in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _t(interval: statistics.Interval, spec: str = ".4f") -> str:
    """``0.4056 [0.4000, 0.4112]`` or the interval's note when it is no evidence."""
    return interval.format(spec)


def _count(value: float) -> str:
    return "more than 10,000" if math.isinf(value) else f"about {int(value)}"


def seed_matrix(per_seed: pd.Series) -> pd.DataFrame:
    """Seeds x strategies matrix of final scores from a ``(strategy, seed)``-indexed series."""
    return per_seed.unstack("strategy").sort_index(axis=1)


def distinguishable(per_seed: pd.Series, *, alpha: float = ALPHA) -> bool:
    """Whether a Holm-corrected paired Wilcoxon test separates any two strategies' final scores."""
    matrix = seed_matrix(per_seed).dropna()
    if matrix.shape[0] < 2 or matrix.shape[1] < 2:
        return False
    return bool(statistics.wilcoxon_holm(matrix, alpha=alpha).table["significant"].any())


def baseline_cv_evidence(table: pd.DataFrame) -> list[str]:
    """What the paired comparison with the unoptimized baseline in CV supports.

    ``table`` is the leaderboard's ``baseline_cv`` table: each strategy's final
    incumbents minus the baseline's CV score on the same folds, t-interval over seeds.
    """
    if table.empty:
        return []
    clear = table[table["ci_low"] > 0]["strategy"].tolist()
    below = int(table["below_baseline"].sum())
    runs = int(table["seeds"].sum())
    spread = f"{table['difference'].min():+.4f} to {table['difference'].max():+.4f}"
    baseline = float(table["baseline_cv"].iloc[0])
    where = "above it" if table["difference"].min() >= 0 else "relative to it"
    verdict = (
        f"for {names(clear)} the 95% t-interval over seeds excludes zero"
        if clear
        else "no strategy's 95% t-interval over seeds excludes zero"
    )
    return [
        f"In CV, on the same folds (paired), the unoptimized baseline scores {baseline:.4f}; the "
        f"strategies' final incumbents are {spread} {where} on average, and {verdict}; "
        f"{below} of {runs} runs ended below the baseline."
    ]


def method_notes(*, n_seeds: int, optimum_known: bool, optimum_source: str = "") -> list[str]:
    """How to read the intervals and the target of the tables below."""
    notes = [
        "Intervals over seeds in this summary and in the `final`, `pairwise`, `baseline_cv`, "
        "`generalization` and `by_<parameter>` tables are 95% Student t-intervals "
        f"{cite('student1908')}, which keep their coverage at small n; the interquartile "
        f"means carry stratified BCa bootstrap intervals {cite('efron1987')}; only the "
        f"efficiency and curve bands are percentile bootstrap intervals {cite('efron1979')}, "
        f"which under-cover at {n_seeds} seeds (more than a third too narrow at 5): read them "
        "as descriptive. Every 'significant' comes from pairwise Wilcoxon signed-rank tests with "
        "Holm's correction, and the critical-difference diagram draws the same test's groups; "
        f"overlap of intervals is not a test {cite('demsar2006')}.",
    ]
    if optimum_known and optimum_source:
        source = optimum_source.removeprefix("optimum = ")
        notes.append(
            f"The optimum behind normalized regret and the targets is {source}: it does not "
            "come from the runs being compared."
        )
    if not optimum_known:
        notes.append(
            "No optimum independent of the compared runs is stored (no exhaustive grid, or a "
            "reference pool that a compared run beat), so the optimum behind normalized regret "
            "is the best score one of the compared runs found, and no time-to-target or "
            "success rate is reported: that run would reach any target by construction."
        )
    return notes


def strategy_evidence(
    per_seed: pd.Series,
    *,
    trials: int,
    reference: str = "random",
    alpha: float = ALPHA,
) -> list[str]:
    """What the final CV scores over seeds support about the strategies.

    Parameters
    ----------
    per_seed : pandas.Series
        Final incumbent (score to maximise) indexed by ``(strategy, seed)``
        (:func:`harness.results.efficiency.final_incumbents`).
    trials : int
        The budget per study, named in the sentences.
    reference : str
        The strategy whose paired difference to the leader is sized with
        :func:`harness.results.statistics.seeds_needed`.
    alpha : float
        Family-wise level.

    Returns
    -------
    list of str
        The Wilcoxon-Holm verdict ("no strategy is distinguishable at this
        budget" when no pair is significant) with the Friedman chi-square test
        where it applies (3 strategies or more); the leader with its t-interval
        and interquartile mean; the Bayesian signed-rank test of the leader
        against the runner-up ("practically equivalent" where the posterior
        says so); the Wilcoxon floor when the seeds are too few; and the seeds
        that would detect the observed difference.
    """
    matrix = seed_matrix(per_seed).dropna()
    n, k = matrix.shape
    if k < 2 or n < 2:
        return [f"{n} complete seed(s) of {k} strategy(ies): too few to compare strategies at all."]
    means = matrix.mean().sort_values(ascending=False, kind="stable")
    leader, runner = str(means.index[0]), str(means.index[1])
    lead = statistics.t_interval(matrix[leader].to_numpy())
    iqm = statistics.iqm_interval([matrix[leader].to_numpy()])
    gap = statistics.paired_differences_interval(matrix[leader], matrix[runner])
    sentences = []
    friedman = statistics.friedman_test(matrix)
    pairs = statistics.wilcoxon_holm(matrix, alpha=alpha)
    significant = pairs.table[pairs.table["significant"]]
    friedman_text = (
        f"the {friedman.name} {cite('friedman1937')} over the {k} strategies gives "
        f"p = {friedman.pvalue:.3g}"
        if friedman.applies
        else ""
    )
    if significant.empty and friedman.applies and friedman.pvalue < alpha:
        # The omnibus test rejects "all alike" but names no strategy: say both, in that order.
        sentences.append(
            f"The {friedman.name} {cite('friedman1937')} finds the {k} strategies unequal "
            f"(p = {friedman.pvalue:.3g}), but no pairwise Wilcoxon signed-rank test "
            f"{cite('wilcoxon1945')} with Holm's correction {cite('holm1979')} reaches "
            f"p < {alpha}, so no strategy is shown ahead of another at this budget "
            f"({trials} trials, {n} seeds)."
        )
    elif significant.empty:
        verdict = (
            f"No strategy is distinguishable at this budget ({trials} trials, {n} seeds): "
            f"no pairwise Wilcoxon signed-rank test {cite('wilcoxon1945')} with Holm's "
            f"correction {cite('holm1979')} reaches p < {alpha}"
        )
        sentences.append(verdict + (f", and {friedman_text}." if friedman_text else "."))
    else:
        found = [
            f"{r.strategy_a} vs {r.strategy_b} (Holm-corrected Wilcoxon p = {r.holm_p:.3g})"
            for r in significant.itertuples()
        ]
        sentences.append(
            f"At {trials} trials and {n} seeds, pairwise Wilcoxon signed-rank tests with "
            f"Holm's correction separate {names(found)}; no other pair is separated"
            + (f" ({friedman_text})." if friedman_text else ".")
        )
    sentences.append(
        f"Highest mean final CV score: {leader}, {_t(lead)} ({lead.describe()} "
        f"{cite('student1908')}; interquartile mean {_t(iqm)}, {iqm.describe()}); "
        f"its paired difference to the next, {runner}, is {_t(gap, '+.4f')} "
        f"({gap.describe()})"
        + (
            ", an interval that includes zero."
            if gap.low <= 0 <= gap.high
            else ": one pair's uncorrected interval, which describes the gap and tests nothing."
        )
    )
    bayes = statistics.bayes_signed_rank(matrix[leader], matrix[runner], rope=ROPE)
    if not math.isnan(bayes.p_equivalent):
        reading = {
            "better": f"{leader} is better by more than {ROPE}",
            "worse": f"{runner} is better by more than {ROPE}",
            "practically equivalent": f"the two are practically equivalent (within {ROPE})",
            "undecided": "neither better nor practically equivalent is established at 0.95",
        }[bayes.verdict]
        sentences.append(
            f"Bayesian signed-rank test {cite('benavoli2017')} of {leader} against {runner}, "
            f"region of practical equivalence +-{ROPE}: P({leader} better) = "
            f"{bayes.p_better:.2f}, P(equivalent) = {bayes.p_equivalent:.2f}, "
            f"P({runner} better) = {bayes.p_worse:.2f}: {reading}."
        )
    if n < pairs.min_seeds:
        sentences.append(
            f"With {n} seeds a two-sided Wilcoxon signed-rank test cannot go below p = "
            f"2/2^{n} = {statistics.wilcoxon_floor(n):.4g}, so no Wilcoxon difference can be "
            f"significant at {alpha}; it needs at least {pairs.min_seeds} seeds."
        )
    if reference in matrix.columns and reference != leader:
        differences = (matrix[leader] - matrix[reference]).to_numpy()
        need = statistics.seeds_needed(differences, alpha=alpha)
        if not math.isnan(need.wilcoxon):
            sentences.append(
                f"Detecting {leader}'s observed mean edge over {reference} "
                f"({np.mean(differences):+.4f}, effect size {need.effect_size:.2f} SD) with "
                f"{need.power:.0%} power would take {_count(need.wilcoxon)} seeds with a "
                f"Wilcoxon test ({_count(need.t_test)} with a paired t-test); read it as an "
                f"order of magnitude, since it rests on {n} seeds."
            )
    return sentences


def _rho(correlation: statistics.RankCorrelation) -> str:
    p = correlation.pvalue
    shown = f"{p:.2f}" if p >= 0.01 else f"{p:.2g}"
    return (
        f"Spearman's rho {correlation.rho:+.2f}, permutation p = {shown} "
        f"over {correlation.n} strategies"
    )


def gap_evidence(
    generalization: pd.DataFrame,
    *,
    test_interval: statistics.Interval | None = None,
    alpha: float = ALPHA,
) -> list[str]:
    """CV-to-test gap per strategy, and what its intervals and rank tests support.

    Parameters
    ----------
    generalization : pandas.DataFrame
        :func:`harness.results.generalization.gap_table`: ``strategy``,
        ``seeds``, ``cv_score``, ``test_score``, ``gap``, ``ci_low``, ``ci_high``.
    test_interval : Interval, optional
        One tuned model's held-out interval on the same rows, the yardstick for
        how far apart the strategies' held-out means are.
    alpha : float
        Level of the rank tests (:func:`harness.results.statistics.rank_correlation`).

    Returns
    -------
    list of str
        The gaps; that CV overstates the held-out score where every gap's
        interval says so; a relation between CV score and gap, or between the
        CV and held-out orders, only where its permutation test finds one.
    """
    table = generalization.sort_values("cv_score", ascending=False, kind="stable")
    parts = [
        f"{r.strategy} {r.gap:+.4f} (CV {r.cv_score:.4f}, test {r.test_score:.4f})"
        for r in table.itertuples()
    ]
    seeds = int(table["seeds"].min())
    sentences = [
        f"CV-to-test gap (held-out minus CV score of each run's incumbent, mean over {seeds} "
        f"seeds), in order of CV score: {'; '.join(parts)}."
    ]
    below = table.loc[table["ci_high"] < 0, "strategy"] if "ci_high" in table else ()
    if len(below) == len(table):
        sentences.append(
            "Every strategy's incumbents score lower on the held-out rows than in CV, each "
            "gap's 95% t-interval over seeds excluding zero: the best CV score a search "
            "finds overstates what its model scores on new rows."
        )
    elif len(below):
        sentences.append(
            f"For {names(list(below))} the held-out score is below the CV score (the gap's 95% "
            "t-interval over seeds excludes zero); for the others the interval includes zero."
        )
    if len(table) < 3:
        return sentences
    # Two orderings of n strategies are the most extreme: below that no test can say anything.
    smallest_p = 2 / math.factorial(len(table))
    testable = smallest_p < alpha
    if not testable:
        sentences.append(
            f"With {len(table)} strategies no rank correlation can reach p < {alpha:g} (the "
            f"smallest two-sided permutation p is {smallest_p:.2f}), so no relation across "
            "strategies is tested."
        )
    else:
        gap = statistics.rank_correlation(table["cv_score"], table["gap"])
        if gap.pvalue < alpha:
            larger = "larger" if gap.rho < 0 else "smaller"
            sentences.append(
                f"Across strategies, higher CV scores go with {larger} gaps ({_rho(gap)})."
            )
        elif not math.isnan(gap.pvalue):
            sentences.append(
                f"No relation between a strategy's CV score and its gap is shown ({_rho(gap)})."
            )
    held_out = table.sort_values("test_score", ascending=False, kind="stable").iloc[0]
    if held_out.strategy == table.iloc[0].strategy:
        return sentences
    spread = float(table["test_score"].max() - table["test_score"].min())
    sentence = (
        f"On held-out rows the order differs: {held_out.strategy} has the highest mean "
        f"test score ({held_out.test_score:.4f}), {table.iloc[0].strategy} (first on CV) "
        f"{table.iloc[0].test_score:.4f}; the strategies' held-out means span {spread:.4f}"
    )
    if test_interval is not None and math.isfinite(test_interval.high - test_interval.low):
        width = test_interval.high - test_interval.low
        relation = "less than" if spread < width else "against"
        sentence += (
            f", {relation} the {width:.4f} width of one model's 95% interval on these "
            f"{test_interval.n} rows"
        )
    order = statistics.rank_correlation(table["cv_score"], table["test_score"])
    if testable and order.pvalue < alpha:
        follows = "follows" if order.rho > 0 else "runs against"
        sentence += f"; overall the held-out order {follows} the CV order ({_rho(order)})"
    elif testable and not math.isnan(order.pvalue):
        sentence += f"; the CV order is not shown to predict it ({_rho(order)})"
    sentences.append(sentence + ".")
    return sentences


def rows_from_confusion(confusion: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The (true, predicted) class index of every test row a confusion matrix counts."""
    matrix = np.asarray(confusion, dtype=int)
    true, predicted = np.nonzero(matrix)
    counts = matrix[true, predicted]
    return np.repeat(true, counts), np.repeat(predicted, counts)


def holdout_interval(
    holdout: Mapping[str, Mapping[str, Any]], name: str, metric: str
) -> statistics.Interval:
    """Percentile bootstrap interval over the test rows of one model's label metric.

    The leaderboard's interval (:func:`harness.results.generalization.holdout_interval`,
    its one owner) where the per-row predictions are stored; for an older study
    without them, the rows rebuilt from the stored confusion matrix (same
    resamples and seed).
    """
    interval = generalization.holdout_interval(holdout, name, metric)
    if interval is not None:
        return interval
    rows = rows_from_confusion(holdout[name]["confusion"])
    return statistics.bootstrap_metric_interval(
        *rows, LABEL_METRICS[metric], n_boot=N_BOOT, seed=generalization.HOLDOUT_SEED
    )


def holdout_difference(
    holdout: Mapping[str, Mapping[str, Any]], a: str, b: str, metric: str
) -> tuple[statistics.Interval, bool]:
    """Interval of ``metric(a) - metric(b)`` on the held-out rows, and whether it is paired.

    Paired (both models on the same resampled rows, the leaderboard's
    :func:`harness.results.generalization.holdout_difference`) where the per-row
    predictions are stored; otherwise the two models' rows are resampled
    independently from their confusion matrices, which ignores the positive
    correlation of two models scored on the same rows: a wider, conservative
    interval, labelled unpaired.
    """
    paired = generalization.holdout_difference(holdout, a, b, metric)
    if paired is not None:
        return paired.difference, True
    function = LABEL_METRICS[metric]
    truth_a, pred_a = rows_from_confusion(holdout[a]["confusion"])
    truth_b, pred_b = rows_from_confusion(holdout[b]["confusion"])
    rng = np.random.default_rng(generalization.HOLDOUT_SEED)
    boots = np.empty(N_BOOT)
    for i in range(N_BOOT):
        pick_a = rng.integers(0, len(truth_a), len(truth_a))
        pick_b = rng.integers(0, len(truth_b), len(truth_b))
        boots[i] = function(truth_a[pick_a], pred_a[pick_a]) - function(
            truth_b[pick_b], pred_b[pick_b]
        )
    estimate = function(truth_a, pred_a) - function(truth_b, pred_b)
    low, high = np.quantile(boots, [0.025, 0.975])
    sd = float(boots.std(ddof=1))
    interval = statistics.Interval(
        float(estimate), float(low), float(high), len(truth_a), sd, "percentile", 0.95, "rows"
    )
    return interval, False


def holdout_evidence(
    holdout: Mapping[str, Mapping[str, Any]],
    *,
    metric: str,
    n_test: int,
    test_scores: Mapping[str, float] | None = None,
    family: str = "mlp",
) -> list[str]:
    """The tuned network against its unoptimized baseline and each reference on held-out rows.

    Parameters
    ----------
    holdout : mapping
        The best study's held-out results (:data:`harness.study.ledger.HOLDOUT`).
    metric : str
        The objective; its label-based form (accuracy or macro F1) gets intervals.
    n_test : int
        Held-out rows.
    test_scores : mapping, optional
        Study name -> held-out ``metric`` of its tuned model, for the count of
        tuned incumbents that beat each reference.
    family : str
        The model family (``"mlp"``, ``"cnn"``, ``"lstm"``, ``"ensemble"``): the text
        names the models by it (``tuned CNN``), whatever the stored keys say.

    Returns
    -------
    list of str
        Differences with their 95% interval and method; the metrics on which a
        reference has the better point value; the tuned incumbents' record.
    """
    sentences = []
    shown = metric if metric in LABEL_METRICS else "accuracy"
    tuned = holdout[TUNED]
    me = model_label(TUNED, family)
    references = [
        name
        for name, entry in holdout.items()
        if isinstance(entry, Mapping) and name not in (TUNED, MAJORITY)
    ]
    paired_all = True
    parts, groups = [], {"higher": [], "lower": [], "apart": []}
    # The verdicts are Holm-corrected over every model the tuned one is paired with, as in the
    # leaderboard's `holdout` table; an unpaired model has no p-value.
    compared = generalization.paired_differences(holdout, TUNED, shown)
    holm = generalization.holm_adjusted(compared)
    family_size = len(holm)
    for name in references:
        if name in compared:
            interval, paired = compared[name].difference, True
        else:
            interval, paired = holdout_difference(holdout, TUNED, name, shown)
        paired_all &= paired
        label = model_label(name, family)
        parts.append(f"{label} {_t(interval, '+.4f')}")
        holm_p = holm.get(name, float("nan"))
        if math.isnan(holm_p):
            label += " (uncorrected interval)"
            side = "higher" if interval.low > 0 else "lower" if interval.high < 0 else "apart"
        else:
            side = "apart" if holm_p >= ALPHA else "higher" if interval.estimate > 0 else "lower"
        groups[side].append(label)
    score = holdout_interval(holdout, TUNED, shown)
    how = (
        "paired percentile bootstrap over the same test rows"
        if paired_all
        else "percentile bootstrap over the test rows, unpaired where a model's per-row "
        "predictions are not stored: such a model is resampled on its own from its confusion "
        "matrix, and its interval is conservative"
    )
    sentences.append(
        f"On the {n_test} held-out rows the {me}'s {shown} is {_t(score)} (95% percentile "
        f"bootstrap over the rows {cite('efron1979')}). Its difference to each model, with a "
        f"95% interval ({how}): "
        f"{'; '.join(parts)}."
    )
    verdicts = []
    if groups["higher"]:
        verdicts.append(f"the {me} scores higher than {names(groups['higher'])}")
    if groups["lower"]:
        who = "it" if verdicts else f"the {me}"
        verdicts.append(f"{who} scores lower than {names(groups['lower'])}")
    if groups["apart"]:
        who = "it" if verdicts else f"the {me}"
        verdicts.append(f"the held-out rows do not separate {who} from {names(groups['apart'])}")
    if verdicts:
        test = (
            f"With Holm's correction {cite('holm1979')} over the {family_size} paired bootstrap "
            f"p-values of the leaderboard's `holdout` table ({shown}, every model against the "
            f"{me}), "
            if family_size
            else "By the intervals above, "
        )
        sentences.append(test + "; ".join(verdicts) + ".")
    sign_of = {m: 1 if METRICS[m].greater_is_better else -1 for m in HEADLINE_METRICS}
    better = []
    for m in HEADLINE_METRICS:
        mine = tuned["scores"].get(m)
        rivals = {
            n: holdout[n]["scores"][m]
            for n in references
            if n != BASELINE and m in holdout[n]["scores"]
        }
        if mine is None or not rivals:
            continue
        best = max(rivals, key=lambda n: sign_of[m] * rivals[n])
        if sign_of[m] * (rivals[best] - mine) > 0:
            better.append(
                f"{model_label(best, family)} has the better {m} ({rivals[best]:.4f} against "
                f"{mine:.4f})"
            )
    if better:
        sentences.append(
            f"Where a reference model does better than the {me} (point values on {n_test} "
            f"rows; every metric's interval is in the leaderboard's `holdout` table): "
            f"{'; '.join(better)}."
        )
    if test_scores and len(test_scores) > 1:
        sign = sign_of.get(metric, 1)
        counts = []
        for name in references:
            value = holdout[name]["scores"].get(metric)
            if value is None:
                continue
            wins = sum(sign * (v - value) > 0 for v in test_scores.values())
            counts.append(
                f"{wins} of {len(test_scores)} beat the {model_label(name, family)} ({value:.4f})"
            )
        sentences.append(
            f"Across all {len(test_scores)} tuned incumbents' held-out {metric} (each refitted "
            f"and scored on the same {n_test} rows): {'; '.join(counts)}."
        )
    return sentences


def failure_evidence(
    failures: pd.DataFrame, frame: pd.DataFrame, *, workers: int, param: str = "imbalance"
) -> list[str]:
    """Failed trials per strategy, values of ``param`` that never ran, and the workers.

    Parameters
    ----------
    failures : pandas.DataFrame
        :func:`harness.results.efficiency.failure_rates`.
    frame : pandas.DataFrame
        The trials (``state``, ``fail_reason``, ``param_<param>``).
    workers : int
        Processes per study in the comparison.
    """
    sentences = []
    total = int(failures["failed"].sum())
    trials = int(failures["trials"].sum())
    if total:
        table = failures.sort_values(["fail_rate", "strategy"], ascending=[False, True])
        parts = [f"{r.strategy} {r.fail_rate:.1%} ({r.failed})" for r in table.itertuples()]
        sentences.append(
            f"{total} of {trials} trials ({total / trials:.1%}) failed, unevenly across "
            f"strategies, so their effective budgets differ: {', '.join(parts)}."
        )
    column = f"param_{param}"
    if column in frame.columns:
        states = frame.dropna(subset=[column]).groupby(column)["state"]
        never = [str(v) for v, s in states if (s == "FAIL").all()]
        for value in never:
            rows = frame[(frame[column] == value) & (frame["state"] == "FAIL")]
            reason = rows["fail_reason"].dropna().mode()
            why = f": {str(reason.iloc[0]).rstrip('.')}" if not reason.empty else ""
            sentences.append(
                f"Every one of the {len(rows)} trials with {param} = {value} failed{why}; "
                "those trials were budget spent on a configuration that cannot run on this data."
            )
    if workers > 1:
        sentences.append(
            f"Each study ran with {workers} worker processes: sequential model-based samplers "
            "proposed while other trials were still running, so they saw fewer results than "
            "in a one-worker run, and seconds-based figures include contention."
        )
    return sentences


def grid_rationale(grid_size: int | None, trials: int) -> str:
    """Why grid search is in the comparison, true at the budget used."""
    if grid_size is None or grid_size <= trials:
        return (
            "the classic baseline: every grid point once, so at this budget its coverage of "
            "the grid is complete and does not depend on luck"
        )
    share = trials / grid_size
    return (
        f"the classic baseline; at {trials} trials it visits {share:.3%} of the "
        f"{grid_size:,} grid points, in a seeded order, so at this budget it is a sample of "
        "the grid, not a complete sweep"
    )
