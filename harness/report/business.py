"""The segment layer: what the model can and cannot do for a campaign, in plain words.

Classes are customer segments; every function names them (:func:`class_names`)
and carries its numbers with their uncertainty and the rows behind them. What the
study did not store (per-row probabilities, permutation importances) is said to be
"not stored for this study", never estimated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.data.datasets import Dataset
from harness.report import evidence
from harness.results import statistics
from harness.study.holdout import BASELINE, MAJORITY, TUNED

#: Segment names of the registered datasets, used only when the dataset carries none.
KNOWN_CLASS_NAMES: dict[str, dict[str, str]] = {
    "teleconnect": {"1": "Basic", "2": "E-Service", "3": "Plus", "4": "Total service"},
}

NOT_STORED = "not stored for this study"

#: Shares of customers contacted in the targeting table.
CONTACT_SHARES = (0.1, 0.2, 0.3, 0.5)


def class_names(dataset: Dataset) -> dict[str, str]:
    """Label (as text) -> segment name: the dataset's own ``class_names``, else the known ones."""
    own = getattr(dataset, "class_names", None)
    if own:
        return {str(label): str(name) for label, name in dict(own).items()}
    return dict(KNOWN_CLASS_NAMES.get(dataset.name, {}))


def segment(label: Any, names: Mapping[str, str]) -> str:
    """``"2 (E-Service)"``, or the label alone when it has no name."""
    name = names.get(str(label))
    return f"{label} ({name})" if name else str(label)


def plain(label: Any, names: Mapping[str, str]) -> str:
    """The segment's name alone where it has one (``"E-Service"``), else ``"segment 2"``."""
    return names.get(str(label)) or f"segment {label}"


def _recall(confusion: np.ndarray) -> np.ndarray:
    support = confusion.sum(axis=1)
    return np.divide(np.diag(confusion), support, out=np.zeros(len(support)), where=support > 0)


def campaign_summary(
    holdout: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> list[str]:
    """What the tuned model can and cannot do for a campaign, with numbers.

    Parameters
    ----------
    holdout : mapping
        The best study's held-out results.
    names : mapping
        :func:`class_names`.
    """
    tuned = holdout[TUNED]
    labels = tuned["labels"]
    confusion = np.asarray(tuned["confusion"])
    n = int(confusion.sum())
    support = confusion.sum(axis=1)
    largest = int(np.argmax(support))
    share = support[largest] / n
    accuracy = evidence.holdout_interval(holdout, TUNED, "accuracy")
    beats = accuracy.low > share
    recall = _recall(confusion)
    best, worst = int(np.argmax(recall)), int(np.argmin(recall))
    sentences = [
        f"Tested on {n} customers it never saw, the model puts {accuracy.estimate:.0%} of them "
        f"in their true segment (95% interval {accuracy.low:.0%} to {accuracy.high:.0%}, "
        f"bootstrap over those customers). Putting everyone in the largest segment, "
        f"{plain(labels[largest], names)}, would be right for {share:.0%}.",
        (
            "So it can prioritise, not decide: it assigns segments better than that guess, but "
            "most individual assignments are wrong, so use it to order a contact list or to "
            "pick which offer a customer sees first, not to decide alone who gets which "
            "service."
            if beats
            else "On these customers it is not shown to beat that guess (the interval reaches "
            f"{share:.0%}): do not use it to target campaigns without more evidence."
        ),
        f"It finds {plain(labels[best], names)} customers best ({recall[best]:.0%} of the "
        f"{support[best]} in the test) and {plain(labels[worst], names)} customers worst "
        f"({recall[worst]:.0%} of {support[worst]}); each figure rests on {support.min()} to "
        f"{support.max()} customers per segment, so one customer moves it by about "
        f"{1 / support.min():.0%}.",
    ]
    if BASELINE in holdout:
        before = evidence.holdout_interval(holdout, BASELINE, "accuracy")
        difference, paired = evidence.holdout_difference(holdout, TUNED, BASELINE, "accuracy")
        how = (
            "paired bootstrap over the same customers"
            if paired
            else "unpaired bootstrap over the customers"
        )
        verdict = (
            "a gain the test customers support"
            if difference.low > 0
            else f"a gain these {n} customers cannot confirm"
        )
        sentences.append(
            f"Tuning moved that share from {before.estimate:.0%} (the unoptimized model) to "
            f"{accuracy.estimate:.0%}: {difference.estimate:+.1%} "
            f"[{difference.low:+.1%}, {difference.high:+.1%}] (95% interval, {how}), {verdict}."
        )
    return sentences


def segment_changes(
    holdout: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> pd.DataFrame:
    """Per segment: customers found and precision before (unoptimized) and after (tuned)."""
    rows = []
    before = np.asarray(holdout[BASELINE]["confusion"])
    after = np.asarray(holdout[TUNED]["confusion"])
    for i, label in enumerate(holdout[TUNED]["labels"]):
        support = int(after[i].sum())
        found_b, found_a = int(before[i, i]), int(after[i, i])
        assigned_b, assigned_a = int(before[:, i].sum()), int(after[:, i].sum())
        rows.append(
            {
                "segment": segment(label, names),
                "customers": support,
                "found_before": found_b,
                "found_after": found_a,
                "change": found_a - found_b,
                "assigned_after": assigned_a,
                "right_before": f"{found_b / assigned_b:.0%}" if assigned_b else "n/a",
                "right_after": f"{found_a / assigned_a:.0%}" if assigned_a else "n/a",
            }
        )
    return pd.DataFrame(rows)


def change_sentences(table: pd.DataFrame) -> list[str]:
    """What the per-segment changes mean, largest first."""
    ordered = table.reindex(table["change"].abs().sort_values(ascending=False).index)
    sentences = []
    for row in ordered.itertuples():
        if row.change == 0:
            what = "the same number found"
        else:
            what = f"{'more' if row.change > 0 else 'fewer'} found ({row.change:+d})"
        sentences.append(
            f"{row.segment}: {row.found_after} of {row.customers} found after tuning, "
            f"{row.found_before} before: {what}; of the customers the tuned model puts in "
            f"this segment, {row.right_after} belong there (was {row.right_before})."
        )
    fewest, most = int(table["customers"].min()), int(table["customers"].max())
    sentences.append(
        f"With {fewest} to {most} customers per segment one customer is about "
        f"{1 / fewest:.0%} of recall: changes of a few customers are within the noise of "
        "this test."
    )
    return sentences


def segment_profiles(dataset: Dataset, names: Mapping[str, str]) -> pd.DataFrame:
    """Mean of each numeric feature by segment with its 95% t-interval half-width, all rows."""
    frame = dataset.X.assign(_segment=dataset.y.to_numpy())
    rows = []
    for label, group in frame.groupby("_segment", sort=True):
        row: dict[str, Any] = {"segment": segment(label, names), "customers": len(group)}
        for column in dataset.numeric:
            interval = statistics.t_interval(group[column].dropna().to_numpy())
            spec = ".2f" if abs(interval.estimate) < 10 else ".1f"
            half = interval.high - interval.estimate
            row[column] = f"{interval.estimate:{spec}} ± {half:{spec}}"
        rows.append(row)
    return pd.DataFrame(rows)


def drivers(holdout: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame | None:
    """Permutation importances of the customer features on the held-out rows, when stored.

    Read defensively: ``holdout[TUNED]["permutation_importance"]`` as a mapping of
    feature -> ``{"mean": .., "std": .., "repeats": ..}`` or -> list of repeats.
    """
    stored = holdout.get(TUNED, {}).get("permutation_importance")
    if not stored:
        return None
    rows = []
    for feature, value in dict(stored).items():
        if isinstance(value, Mapping):
            mean, sd = float(value.get("mean", np.nan)), float(value.get("std", np.nan))
            repeats = int(value.get("repeats", 0))
        else:
            values = np.asarray(value, dtype=float)
            mean, sd, repeats = float(values.mean()), float(values.std(ddof=1)), len(values)
        rows.append({"feature": feature, "importance": mean, "std": sd, "repeats": repeats})
    table = pd.DataFrame(rows).sort_values("importance", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def gains(
    y_true: Sequence[Any], proba: np.ndarray, labels: Sequence[Any], names: Mapping[str, str]
) -> pd.DataFrame:
    """Cumulative gains: share of each segment reached by contacting the top x% by its score."""
    truth = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    rows = []
    for j, label in enumerate(labels):
        members = truth == label
        order = np.argsort(-proba[:, j], kind="stable")
        row: dict[str, Any] = {"segment": segment(label, names), "customers": int(members.sum())}
        for share in CONTACT_SHARES:
            top = order[: max(1, round(share * len(truth)))]
            reached = members[top].sum() / max(1, members.sum())
            row[f"top {share:.0%}"] = f"{reached:.0%} (lift {reached / share:.1f})"
        rows.append(row)
    return pd.DataFrame(rows)


def stored_probabilities(
    holdout: Mapping[str, Mapping[str, Any]],
) -> tuple[np.ndarray, np.ndarray] | None:
    """True labels and per-row probabilities of the tuned model, when the study stored them."""
    tuned = holdout.get(TUNED, {})
    proba = tuned.get("proba")
    truth = tuned.get("y_true", tuned.get("true"))
    if proba is None or truth is None:
        return None
    return np.asarray(truth), np.asarray(proba, dtype=float)


def majority_share(holdout: Mapping[str, Mapping[str, Any]]) -> float | None:
    """Held-out accuracy of always predicting the largest segment, when stored."""
    result = holdout.get(MAJORITY)
    return None if result is None else float(result["scores"]["accuracy"])
