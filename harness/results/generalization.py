"""From CV to held-out rows: the CV-to-test gap per strategy and held-out uncertainty.

:func:`gap_table` puts each strategy's CV ranking next to its held-out ranking
and the CV-to-test gap with a Student-t interval over seeds: the strategies
that lead in CV are often those that overfit the CV most.

:func:`holdout_table` gives every held-out metric of every model a bootstrap
interval over the test rows and compares the tuned model with each reference
on the same rows (paired bootstrap of the metric difference, exact McNemar on
correct/incorrect), but only where the stored held-out results hold per-row
predictions (``predicted`` labels, ``proba`` and the true labels). Where they
do not, the table says "not stored" instead of inventing an uncertainty.

A regression (time series) result is resampled in moving blocks of
consecutive test rows (:func:`harness.results.statistics.block_length`):
one-step-ahead forecast errors are autocorrelated (a forecast that misses a
solar maximum misses the next year too), and an iid bootstrap would treat
them as independent and give intervals that are too narrow. McNemar is
left out for regression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.results import efficiency, statistics
from harness.results.ranking import interval_text
from harness.study.metrics import compute_metric, get_metric, task_of

NOT_STORED = "not stored (no per-row predictions in the held-out results)"
NOT_REPRODUCED = (
    "n/a: the stored per-row values do not reproduce the stored score (probabilities stored "
    "to 6 decimals, which turned the smallest into 0; newer studies keep 7 significant digits)"
)
#: Largest gap between a stored score and the same metric recomputed from the stored rows that
#: still counts as the same number: half the last digit the outputs print.
REPRODUCE_TOLERANCE = 5e-5
#: Bootstrap resamples of the held-out rows: every held-out interval, in every output, uses these.
HOLDOUT_BOOT = 2000
#: Seed of the held-out bootstraps.
HOLDOUT_SEED = 0
#: Keys under which the stored held-out results may keep the true test labels.
TRUTH_KEYS = ("y_true", "true", "true_labels", "truth")


def gap_table(
    frame: pd.DataFrame, test_scores: Mapping[str, float], *, confidence: float = 0.95
) -> pd.DataFrame:
    """CV and held-out ranking of the strategies, and the test-minus-CV gap over seeds.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one comparison.
    test_scores : Mapping[str, float]
        Study name -> held-out score of its refitted incumbent, in the metric
        of ``value``; studies missing here are left out.

    Returns
    -------
    pandas.DataFrame
        ``cv_rank``, ``strategy``, ``seeds``, ``cv_score``, ``test_score``,
        ``test_rank``, ``gap`` (mean of test minus CV), ``ci_low``/``ci_high``
        (t interval of the gap over seeds) and ``interval`` (text, or why it is
        no evidence); CV leader first.
    """
    trials = efficiency.prepare_trials(frame, None)
    runs = trials.groupby([*efficiency.RUN, "study"], sort=True)["value"].max().reset_index()
    runs["test_score"] = runs["study"].map(test_scores)
    runs = runs.dropna(subset=["value", "test_score"])
    rows = []
    for strategy, group in runs.groupby("strategy", sort=True):
        gap = (group["test_score"] - group["value"]).to_numpy(float)
        interval = statistics.t_interval(gap, confidence)
        rows.append(
            {
                "strategy": strategy,
                "seeds": len(group),
                "cv_score": float(group["value"].mean()),
                "test_score": float(group["test_score"].mean()),
                "gap": float(interval.estimate),
                "ci_low": float(interval.low),
                "ci_high": float(interval.high),
                "interval": interval_text(interval),
            }
        )
    columns = [
        "cv_rank",
        "strategy",
        "seeds",
        "cv_score",
        "test_score",
        "test_rank",
        "gap",
        "ci_low",
        "ci_high",
        "interval",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows)
    table["cv_rank"] = table["cv_score"].rank(ascending=False, method="min").astype(int)
    table["test_rank"] = table["test_score"].rank(ascending=False, method="min").astype(int)
    return table[columns].sort_values(["cv_rank", "strategy"], ignore_index=True)


def _truth(holdout: Mapping[str, Any], result: Mapping[str, Any]) -> np.ndarray | None:
    for source in (result, holdout):
        for key in TRUTH_KEYS:
            if isinstance(source.get(key), list | tuple | np.ndarray):
                return np.asarray(source[key])
    return None


def _rows_of(holdout: Mapping[str, Any], name: str) -> tuple | None:
    """``(y_true, predicted, proba, labels)`` of model ``name``, or None where not stored."""
    result = holdout.get(name)
    if not isinstance(result, Mapping) or "predicted" not in result:
        return None
    truth = _truth(holdout, result)
    predicted = np.asarray(result["predicted"])
    if truth is None or len(truth) != len(predicted) or len(truth) == 0:
        return None
    labels = np.asarray(result.get("labels", np.unique(truth)))
    proba = result.get("proba")
    proba = np.asarray(proba, dtype=float) if proba is not None else None
    if proba is not None and proba.shape != (len(truth), len(labels)):
        proba = None
    return truth, predicted, proba, labels


def _metric(name: str, predicted: np.ndarray, proba: np.ndarray | None, labels: np.ndarray):
    """``metric(y_true, rows)`` scoring the model on the resampled row indices ``rows``."""
    full = proba if proba is not None else np.full((len(predicted), len(labels)), np.nan)

    def metric(y_true: np.ndarray, rows: np.ndarray) -> float:
        rows = rows.astype(int)
        return compute_metric(name, y_true, predicted[rows], full[rows], labels)

    return metric


def _block(holdout: Mapping[str, Any], metric: str, n_rows: int) -> int:
    """Moving-block length for a regression (time series) metric, 1 for a classification one."""
    return statistics.block_length(n_rows) if task_of((metric,)) == "regression" else 1


def _scorable(data: tuple | None, metric: str) -> bool:
    return data is not None and not (metric in ("log_loss", "roc_auc_ovr") and data[2] is None)


def _reproduces(holdout: Mapping[str, Any], name: str, metric: str, data: tuple) -> bool:
    """Whether the stored rows give the stored score, so an interval from them describes it.

    A sample of the rows (more than :data:`harness.study.holdout.STORED_ROWS`) cannot
    give the whole split's score and is not held to it.
    """
    result = holdout[name]
    stored = result.get("scores", {}).get(metric)
    truth, predicted, proba, labels = data
    confusion = result.get("confusion")
    if stored is None or (confusion is not None and int(np.sum(confusion)) != len(truth)):
        return True
    value = _metric(metric, predicted, proba, labels)(truth, np.arange(len(truth)))
    return bool(abs(value - float(stored)) <= REPRODUCE_TOLERANCE)


def _rows_for(holdout: Mapping[str, Any], name: str, metric: str) -> tuple | None:
    """Model ``name``'s stored rows where they can score ``metric`` and give its stored score."""
    data = _rows_of(holdout, name)
    if not _scorable(data, metric) or not _reproduces(holdout, name, metric, data):
        return None
    return data


def why_no_interval(holdout: Mapping[str, Any], name: str, metric: str) -> str:
    """Why model ``name`` has no held-out interval of ``metric``: the text every output prints."""
    return NOT_STORED if not _scorable(_rows_of(holdout, name), metric) else NOT_REPRODUCED


def holdout_interval(
    holdout: Mapping[str, Any], model: str, metric: str, *, confidence: float = 0.95
) -> statistics.Interval | None:
    """The held-out interval of one model's metric: the one owner every output reads.

    A percentile bootstrap over the test rows (:data:`HOLDOUT_BOOT` resamples,
    seed :data:`HOLDOUT_SEED`; moving blocks for a time series), from the stored
    per-row predictions and probabilities. None where they are not stored or do
    not reproduce the stored score (:func:`why_no_interval` says which).
    """
    data = _rows_for(holdout, model, metric)
    if data is None:
        return None
    truth, predicted, proba, labels = data
    return statistics.bootstrap_metric_interval(
        truth,
        np.arange(len(truth)),
        _metric(metric, predicted, proba, labels),
        n_boot=HOLDOUT_BOOT,
        confidence=confidence,
        seed=HOLDOUT_SEED,
        block=_block(holdout, metric, len(truth)),
    )


def holdout_difference(
    holdout: Mapping[str, Any], a: str, b: str, metric: str, *, confidence: float = 0.95
) -> statistics.PairedBootstrap | None:
    """Model ``a`` minus model ``b`` on the same held-out rows: the paired bootstrap.

    None where either model's per-row predictions are not stored, do not
    reproduce its stored score, or the row counts differ.
    """
    rows_a, rows_b = _rows_for(holdout, a, metric), _rows_for(holdout, b, metric)
    if rows_a is None or rows_b is None:
        return None
    if len(rows_a[0]) != len(rows_b[0]) or not np.array_equal(rows_a[0], rows_b[0]):
        return None
    return _paired(metric, rows_a, rows_b, confidence, _block(holdout, metric, len(rows_a[0])))


def holdout_table(
    holdout: Mapping[str, Any],
    tuned: str,
    metrics: tuple[str, ...],
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Held-out metrics with bootstrap intervals over the test rows, and paired comparisons.

    Parameters
    ----------
    holdout : Mapping
        Stored held-out results: model name -> ``{"scores": {metric: value},
        "predicted": [...], "proba": [[...]], ...}``; the true labels under one
        of :data:`TRUTH_KEYS`, in the model's entry or at the top level.
    tuned : str
        The tuned model's name; every other model is a reference it is compared to.
    metrics : tuple of str
        Metric names (keys of :data:`harness.study.metrics.METRICS`), the
        objective first; where no model has per-row predictions only the first
        is listed, with :data:`NOT_STORED`.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``metric``, ``score`` (stored), ``rows``, ``ci_low``,
        ``ci_high`` (:func:`holdout_interval`), ``interval`` (text, or
        :data:`NOT_STORED`), ``tuned_minus`` (tuned minus this model, paired
        bootstrap over the same rows: :func:`holdout_difference`) with its interval
        ``tuned_minus_low``, ``tuned_minus_high``, ``paired_p``, ``paired_holm_p`` (``paired_p``
        with Holm's correction over the models compared on that metric) and ``mcnemar_p`` (exact,
        on correct/incorrect; the same for every metric of a model).
    """
    rows = []
    tuned_rows = _rows_of(holdout, tuned)
    if all(_rows_of(holdout, model) is None for model in holdout):
        metrics = metrics[:1]  # nothing to resample: one line per model says so
    # McNemar (right or wrong per row) has no meaning for a time series' forecasts.
    regression = task_of(metrics) == "regression"
    compared = {m: paired_differences(holdout, tuned, m, confidence=confidence) for m in metrics}
    holm = {metric: holm_adjusted(differences) for metric, differences in compared.items()}
    for model, result in holdout.items():
        if not isinstance(result, Mapping) or "scores" not in result:
            continue
        data = _rows_of(holdout, model)
        mcnemar = float("nan")
        if data is not None and tuned_rows is not None and model != tuned and not regression:
            mcnemar = statistics.mcnemar_test(data[0], tuned_rows[1], data[1]).pvalue
        for metric in metrics:
            interval = holdout_interval(holdout, model, metric, confidence=confidence)
            paired = compared[metric].get(model)
            difference = paired.difference if paired is not None else None
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "score": float(result["scores"].get(metric, float("nan"))),
                    "rows": np.nan if data is None else len(data[0]),
                    "ci_low": np.nan if interval is None else float(interval.low),
                    "ci_high": np.nan if interval is None else float(interval.high),
                    "interval": (
                        why_no_interval(holdout, model, metric)
                        if interval is None
                        else interval_text(interval)
                    ),
                    "tuned_minus": np.nan if paired is None else float(difference.estimate),
                    "tuned_minus_low": np.nan if paired is None else float(difference.low),
                    "tuned_minus_high": np.nan if paired is None else float(difference.high),
                    "paired_p": np.nan if paired is None else paired.pvalue,
                    "paired_holm_p": holm[metric].get(model, np.nan),
                    "mcnemar_p": mcnemar,
                }
            )
    columns = [
        "model",
        "metric",
        "score",
        "rows",
        "ci_low",
        "ci_high",
        "interval",
        "tuned_minus",
        "tuned_minus_low",
        "tuned_minus_high",
        "paired_p",
        "paired_holm_p",
        "mcnemar_p",
    ]
    return pd.DataFrame(rows, columns=columns)


def paired_differences(
    holdout: Mapping[str, Any], tuned: str, metric: str, *, confidence: float = 0.95
) -> dict[str, statistics.PairedBootstrap]:
    """The tuned model minus every other stored model on the same held-out rows.

    Only the models :func:`holdout_difference` can pair with the tuned one; in
    the order of ``holdout``.
    """
    differences = {}
    for model, result in holdout.items():
        if model == tuned or not isinstance(result, Mapping) or "scores" not in result:
            continue
        paired = holdout_difference(holdout, tuned, model, metric, confidence=confidence)
        if paired is not None:
            differences[model] = paired
    return differences


def holm_adjusted(differences: Mapping[str, statistics.PairedBootstrap]) -> dict[str, float]:
    """Each paired p-value with Holm's correction over the family ``differences`` (one metric:
    the tuned model against every model it is paired with)."""
    adjusted = statistics.holm([paired.pvalue for paired in differences.values()])
    return {model: float(p) for model, p in zip(differences, adjusted, strict=True)}


def _paired(metric, tuned_rows, data, confidence, block=1) -> statistics.PairedBootstrap:
    """Tuned minus reference on the same rows: the paired bootstrap."""
    truth = data[0]
    index = np.arange(len(truth))
    # Both models are scored on the same resampled rows: pred_a is the tuned model's.
    tuned_metric = _metric(metric, tuned_rows[1], tuned_rows[2], tuned_rows[3])
    reference_metric = _metric(metric, data[1], data[2], data[3])

    def difference_metric(y_true: np.ndarray, rows: np.ndarray) -> float:
        # pred_b holds the row indices shifted by n, so the index says which model it is.
        if (rows >= len(truth)).any():
            return reference_metric(y_true, rows - len(truth))
        return tuned_metric(y_true, rows)

    return statistics.paired_bootstrap_metric(
        truth,
        index,
        index + len(truth),
        difference_metric,
        n_boot=HOLDOUT_BOOT,
        confidence=confidence,
        seed=HOLDOUT_SEED,
        block=block,
    )


def beaten_table(
    test_scores: Mapping[str, float], baselines: pd.DataFrame, metric: str
) -> pd.DataFrame:
    """How many studies' tuned models score above each baseline on the held-out rows.

    Parameters
    ----------
    test_scores : Mapping[str, float]
        Study name -> held-out ``metric`` of its tuned model.
    baselines : pandas.DataFrame
        :func:`harness.results.leaderboard.baselines_table` (``baseline``, ``test_<metric>``).
    metric : str
        A metric to maximise.

    Returns
    -------
    pandas.DataFrame
        ``baseline``, ``test_<metric>``, ``studies``, ``beaten``, ``beaten_rate``.
    """
    column = f"test_{metric}"
    scores = np.asarray(list(test_scores.values()), dtype=float)
    scores = scores[~np.isnan(scores)]
    table = baselines[["baseline", column]].copy()
    table["studies"] = len(scores)
    table["beaten"] = [int(np.sum(scores > value)) for value in table[column]]
    table["beaten_rate"] = table["beaten"] / max(len(scores), 1)
    return table


def baseline_cv_table(
    frame: pd.DataFrame, baseline: float, *, budget: int | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Each strategy's final incumbents against the unoptimized baseline, in CV, paired.

    The baseline was evaluated on the same folds as every trial
    (:data:`harness.study.ledger.BASELINE_CV`), so each run's incumbent minus the
    baseline is a paired difference; the interval is a t interval over seeds.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one comparison.
    baseline : float
        The baseline's mean CV score in the objective metric.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``baseline_cv``, ``incumbent`` (mean over seeds),
        ``difference``, ``ci_low``/``ci_high``, ``interval`` and ``below_baseline``
        (runs whose incumbent scores below the baseline); largest difference first.
    """
    finals = efficiency.final_incumbents(frame, budget=budget)
    rows = []
    for strategy, values in finals.groupby(level=0, sort=True):
        difference = values.to_numpy(float) - baseline
        interval = statistics.t_interval(difference, confidence)
        rows.append(
            {
                "strategy": strategy,
                "seeds": len(values),
                "baseline_cv": baseline,
                "incumbent": float(values.mean()),
                "difference": float(difference.mean()),
                "ci_low": interval.low,
                "ci_high": interval.high,
                "interval": interval_text(interval),
                "below_baseline": int((difference < 0).sum()),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values("difference", ascending=False, kind="stable").reset_index(drop=True)


FAMILY_LABELS = {"mlp": "MLP", "ensemble": "ensemble", "cnn": "CNN", "lstm": "LSTM"}
"""How tables and text name a family's model. The stored held-out results key the tuned and
the unoptimized model ``tuned MLP`` and ``baseline MLP`` whatever the family (stored studies
keep their keys); :func:`model_label` puts the family's name in their place."""


def model_label(name: str, family: str = "mlp") -> str:
    """A stored model name as tables and text show it: ``tuned MLP`` is ``tuned CNN`` for a CNN.

    Parameters
    ----------
    name : str
        A model's name in the stored held-out results (``tuned MLP``, ``random forest``).
    family : str, default="mlp"
        The comparison's model family.
    """
    return name.replace("MLP", FAMILY_LABELS.get(family, family.upper()))


@dataclass(frozen=True)
class Confirmation:
    """What the held-out rows say about a model chosen by CV.

    Attributes
    ----------
    chosen : str
        The model chosen by CV (:func:`harness.study.holdout.model_choice`).
    best : str
        The CV candidate with the best held-out score (``chosen`` on a tie).
    metric : str
        The objective both were scored by.
    chosen_score, best_score : float
        Their held-out scores.
    difference : statistics.PairedBootstrap or None
        ``chosen`` minus ``best`` on the same rows (paired bootstrap); None where
        they agree or the per-row predictions are not stored.
    """

    chosen: str
    best: str
    metric: str
    chosen_score: float
    best_score: float
    difference: statistics.PairedBootstrap | None

    @property
    def agrees(self) -> bool:
        """Whether the CV choice also scores best on the held-out rows."""
        return self.chosen == self.best

    @property
    def contradicted(self) -> bool:
        """Whether the paired interval puts ``best`` ahead of ``chosen`` on the held-out rows."""
        if self.agrees or self.difference is None:
            return False
        interval = self.difference.difference
        sign = 1.0 if get_metric(self.metric).greater_is_better else -1.0
        return bool(interval.high < 0 if sign > 0 else interval.low > 0)

    def sentence(self, name: Callable[[str], str] = str) -> str:
        """One sentence: whether the held-out rows agree with the choice, with the paired test.

        ``name`` turns a stored model name into the reader's words.
        """
        chosen, best = name(self.chosen), name(self.best)
        if self.agrees:
            return (
                f"The held-out rows agree: it also scores best there among the candidates "
                f"({self.metric} {self.chosen_score:.4f})."
            )
        scores = f"{self.best_score:.4f} against {self.chosen_score:.4f} for {chosen}"
        if self.difference is None:
            return (
                f"On the held-out rows {best} scores better ({scores}); without per-row "
                "predictions stored, no paired test can say whether that is more than noise."
            )
        interval = self.difference.difference
        test = (
            f"{chosen} minus {best} {interval.estimate:+.4f} "
            f"[{interval.low:+.4f}, {interval.high:+.4f}], paired bootstrap over the "
            f"{interval.n} held-out rows"
        )
        if self.contradicted:
            return (
                f"The held-out rows disagree: {best} scores better there ({scores}; {test}, "
                "interval excluding 0). The choice stays with CV, which rests on more rows than "
                "this one split, but check both models before deploying."
            )
        return (
            f"On the held-out rows {best} scores better ({scores}), but the paired difference "
            f"is within the noise ({test}, interval including 0): the held-out rows do not "
            "contradict the choice."
        )


def holdout_confirmation(
    holdout: Mapping[str, Any], chosen: str, candidates: list[str], metric: str
) -> Confirmation | None:
    """Whether the held-out rows agree with a model chosen by CV among ``candidates``.

    The best held-out score among the candidates that have one is compared with
    the chosen model's on the same rows (:func:`holdout_difference`). None where
    the chosen model has no held-out score.
    """
    scores = {
        name: float(holdout[name]["scores"][metric])
        for name in candidates
        if metric in holdout.get(name, {}).get("scores", {})
    }
    if chosen not in scores:
        return None
    sign = 1.0 if get_metric(metric).greater_is_better else -1.0
    # The chosen model first, so that a tie keeps it.
    order = [chosen, *(name for name in scores if name != chosen)]
    best = max(order, key=lambda name: sign * scores[name])
    difference = None if best == chosen else holdout_difference(holdout, chosen, best, metric)
    return Confirmation(chosen, best, metric, scores[chosen], scores[best], difference)
