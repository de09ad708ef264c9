"""The plain-language layer: what the model can and cannot do for its readers, in their words.

The nouns are the dataset's own (:attr:`harness.data.datasets.Dataset.vocabulary`,
passed as ``words``): teleconnect's classes are customer segments for campaign planners, a
wine file's are quality grades of wines, a CSV file's are classes of rows. Every
function names the classes (:func:`class_names`) and carries its numbers with their
uncertainty and the rows behind them. What the study did not store (per-row
probabilities, permutation importances) is said to be "not stored for this study",
never estimated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.data.datasets import Dataset, Vocabulary
from harness.report import evidence
from harness.results import statistics
from harness.study.holdout import BASELINE, MAJORITY, TUNED

#: Segment names of the registered datasets, used only when the dataset carries none.
KNOWN_CLASS_NAMES: dict[str, dict[str, str]] = {
    "teleconnect": {"1": "Basic", "2": "E-Service", "3": "Plus", "4": "Total service"},
}

NOT_STORED = "not stored for this study"

#: Shares of the held-out rows picked by probability in the targeting (ranking) table.
CONTACT_SHARES = (0.1, 0.2, 0.3, 0.5)


def class_names(dataset: Dataset) -> dict[str, str]:
    """Label (as text) -> class name: the dataset's own ``class_names``, else the known ones."""
    own = getattr(dataset, "class_names", None)
    if own:
        return {str(label): str(name) for label, name in dict(own).items()}
    return dict(KNOWN_CLASS_NAMES.get(dataset.name, {}))


def segment(label: Any, names: Mapping[str, str]) -> str:
    """``"2 (E-Service)"``, or the label alone when it has no name."""
    name = names.get(str(label))
    return f"{label} ({name})" if name else str(label)


def plain(label: Any, names: Mapping[str, str], words: Vocabulary) -> str:
    """The class's name alone where it has one (``"E-Service"``), else ``"segment 2"``.

    The word before the label is ``words.group`` (``"quality grade 6"`` for a wine).
    """
    return names.get(str(label)) or f"{words.group} {label}"


def _wrong_share(accuracy: float) -> str:
    """How many single assignments are wrong, in words no stronger than the accuracy."""
    if accuracy < 0.5:
        return "most individual assignments are wrong"
    return f"about {1 - accuracy:.0%} of individual assignments are wrong"


def _recall(confusion: np.ndarray) -> np.ndarray:
    support = confusion.sum(axis=1)
    return np.divide(np.diag(confusion), support, out=np.zeros(len(support)), where=support > 0)


def campaign_summary(
    holdout: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], *, words: Vocabulary
) -> list[str]:
    """What the tuned model can and cannot do for its readers, with numbers, in their words.

    Parameters
    ----------
    holdout : mapping
        The best study's held-out results.
    names : mapping
        :func:`class_names`.
    words : Vocabulary
        The dataset's nouns (:attr:`Dataset.vocabulary`): teleconnect speaks of customers,
        segments and campaigns, a CSV file of rows and classes.
    """
    w = words
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
        f"Tested on {n} {w.rows} it never saw, the model puts {accuracy.estimate:.0%} of them "
        f"in their true {w.group} (95% interval {accuracy.low:.0%} to {accuracy.high:.0%}, "
        f"bootstrap over those {w.rows}). Putting {w.all_rows} in the largest {w.group}, "
        f"{plain(labels[largest], names, w)}, would be right for {share:.0%}.",
        (
            f"So it can prioritise, not decide: it assigns {w.groups} better than that guess, "
            f"but {_wrong_share(accuracy.estimate)}, so use it to {w.use}."
            if beats
            else f"On these {w.rows} it is not shown to beat that guess (the interval reaches "
            f"{share:.0%}): do not use it to {w.act} without more evidence."
        ),
        f"It finds {plain(labels[best], names, w)} {w.rows} best ({recall[best]:.0%} of the "
        f"{support[best]} in the test) and {plain(labels[worst], names, w)} {w.rows} worst "
        f"({recall[worst]:.0%} of {support[worst]}); each figure rests on {support.min()} to "
        f"{support.max()} {w.rows} per {w.group}, so one {w.row} moves it by about "
        f"{1 / support.min():.0%}.",
    ]
    if BASELINE in holdout:
        before = evidence.holdout_interval(holdout, BASELINE, "accuracy")
        difference, paired = evidence.holdout_difference(holdout, TUNED, BASELINE, "accuracy")
        how = (
            f"paired bootstrap over the same {w.rows}"
            if paired
            else f"unpaired bootstrap over the {w.rows}"
        )
        if difference.low > 0:
            verdict = f"a gain the test {w.rows} support"
        elif difference.high < 0:
            verdict = f"a loss the test {w.rows} support: tuning made it worse here"
        elif difference.estimate == 0:
            verdict = f"no change on these {n} {w.rows}"
        else:
            change = "gain" if difference.estimate > 0 else "loss"
            verdict = f"a {change} these {n} {w.rows} cannot confirm"
        # Whole percents unless they would print two different shares as one (99% to 99%).
        spec = ".0%" if f"{before.estimate:.0%}" != f"{accuracy.estimate:.0%}" else ".1%"
        sentences.append(
            f"Tuning moved that share from {before.estimate:{spec}} (the unoptimized model) to "
            f"{accuracy.estimate:{spec}}: {_signed_share(difference.estimate)} "
            f"[{_signed_share(difference.low)}, {_signed_share(difference.high)}] "
            f"(95% interval, {how}), {verdict}."
        )
    return sentences


def _signed_share(value: float) -> str:
    """``+0.6%``; a value that one decimal would print as zero keeps its sign (``-0.01%``)."""
    text = f"{value:+.1%}"
    if value != 0 and float(text.rstrip("%")) == 0:
        text = f"{value * 100:+.1g}%"
    return text


def segment_changes(
    holdout: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], *, words: Vocabulary
) -> pd.DataFrame:
    """Per class: rows found and precision before (unoptimized) and after (tuned).

    The first two columns are named by ``words``: the class (``group``, e.g.
    ``segment``) and its held-out rows (``rows``, e.g. ``customers``).
    """
    rows = []
    before = np.asarray(holdout[BASELINE]["confusion"])
    after = np.asarray(holdout[TUNED]["confusion"])
    for i, label in enumerate(holdout[TUNED]["labels"]):
        support = int(after[i].sum())
        found_b, found_a = int(before[i, i]), int(after[i, i])
        assigned_b, assigned_a = int(before[:, i].sum()), int(after[:, i].sum())
        rows.append(
            {
                words.group: segment(label, names),
                words.rows: support,
                "found_before": found_b,
                "found_after": found_a,
                "change": found_a - found_b,
                "assigned_after": assigned_a,
                "right_before": f"{found_b / assigned_b:.0%}" if assigned_b else "n/a",
                "right_after": f"{found_a / assigned_a:.0%}" if assigned_a else "n/a",
            }
        )
    return pd.DataFrame(rows)


def change_sentences(table: pd.DataFrame, *, words: Vocabulary) -> list[str]:
    """What the per-class changes of :func:`segment_changes` mean, largest first."""
    w = words
    ordered = table.reindex(table["change"].abs().sort_values(ascending=False).index)
    sentences = []
    for _, row in ordered.iterrows():
        change = int(row["change"])
        if change == 0:
            what = "the same number found"
        else:
            what = f"{'more' if change > 0 else 'fewer'} found ({change:+d})"
        sentences.append(
            f"{row[w.group]}: {row['found_after']} of {row[w.rows]} found after tuning, "
            f"{row['found_before']} before: {what}; of the {w.rows} the tuned model puts in "
            f"this {w.group}, {row['right_after']} belong there (was {row['right_before']})."
        )
    fewest, most = int(table[w.rows].min()), int(table[w.rows].max())
    sentences.append(
        f"With {fewest} to {most} {w.rows} per {w.group} one {w.row} is about "
        f"{1 / fewest:.0%} of recall: changes of a few {w.rows} are within the noise of "
        "this test."
    )
    return sentences


def segment_profiles(
    dataset: Dataset, names: Mapping[str, str], *, words: Vocabulary
) -> pd.DataFrame:
    """Mean of each numeric feature by class with its 95% t-interval half-width, all rows."""
    frame = dataset.X.assign(_segment=dataset.y.to_numpy())
    rows = []
    for label, group in frame.groupby("_segment", sort=True):
        row: dict[str, Any] = {words.group: segment(label, names), words.rows: len(group)}
        for column in dataset.numeric:
            interval = statistics.t_interval(group[column].dropna().to_numpy())
            spec = ".2f" if abs(interval.estimate) < 10 else ".1f"
            half = interval.high - interval.estimate
            row[column] = f"{interval.estimate:{spec}} ± {half:{spec}}"
        rows.append(row)
    return pd.DataFrame(rows)


def drivers(holdout: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame | None:
    """Permutation importances of the features on the held-out rows, when stored.

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
    y_true: Sequence[Any],
    proba: np.ndarray,
    labels: Sequence[Any],
    names: Mapping[str, str],
    *,
    words: Vocabulary,
) -> pd.DataFrame:
    """Cumulative gains: share of each class reached by picking the top x% by its score.

    The first two columns are named by ``words`` (``group``, ``rows``).
    """
    truth = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    rows = []
    for j, label in enumerate(labels):
        members = truth == label
        order = np.argsort(-proba[:, j], kind="stable")
        row: dict[str, Any] = {words.group: segment(label, names), words.rows: int(members.sum())}
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
    """Held-out accuracy of always predicting the largest class, when stored."""
    result = holdout.get(MAJORITY)
    return None if result is None else float(result["scores"]["accuracy"])
