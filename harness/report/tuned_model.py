"""The tuned model of a comparison: which trial it is, what it trains with, how it scored.

Read from stored studies only: the study and trial whose configuration was
refitted on the training split and scored on the held-out split, the
estimator settings a configuration resolves to, per-class scores from the
stored confusion matrices and parameter importances over pooled trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.model.vocabulary import IMBALANCE
from harness.report.business import segment
from harness.study import ledger


def class_metrics(
    confusion: Sequence[Sequence[int]],
    labels: Sequence[Any],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per-class precision, recall and F1 from a confusion matrix, with a macro row.

    Parameters
    ----------
    confusion : array-like of shape (n_classes, n_classes)
        Rows are true classes, columns predicted classes.
    labels : sequence
        The classes in row order.
    names : mapping, optional
        Name of each label (as text), shown as ``"2 (E-Service)"``.

    Returns
    -------
    pandas.DataFrame
        ``class``, ``support``, ``precision``, ``recall``, ``f1``; a class
        never predicted has precision 0 (scikit-learn's ``zero_division=0``).
        The last row, ``macro``, holds the unweighted means and the total support.
    """
    matrix = np.asarray(confusion, dtype=float)
    hits = np.diag(matrix)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    zeros = np.zeros_like(hits)
    precision = np.divide(hits, predicted, out=zeros.copy(), where=predicted > 0)
    recall = np.divide(hits, support, out=zeros.copy(), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=zeros.copy(), where=total > 0)
    frame = pd.DataFrame(
        {
            "class": [segment(label, names or {}) for label in labels],
            "support": support.astype(int),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )
    macro = {
        "class": "macro",
        "support": int(support.sum()),
        "precision": precision.mean(),
        "recall": recall.mean(),
        "f1": f1.mean(),
    }
    return pd.concat([frame, pd.DataFrame([macro])], ignore_index=True)


def complete_trials(studies: Sequence[optuna.Study]) -> list[optuna.trial.FrozenTrial]:
    """Every complete trial of ``studies``, pooled."""
    states = (optuna.trial.TrialState.COMPLETE,)
    return [t for study in studies for t in study.get_trials(deepcopy=False, states=states)]


def effective_trials(
    trials: Sequence[optuna.trial.FrozenTrial],
) -> list[optuna.trial.FrozenTrial]:
    """``trials`` with each one's ``imbalance`` parameter set to the strategy that ran.

    A trial whose resampler ran on none of its folds trained without imbalance
    handling (:func:`harness.study.ledger.effective_imbalance`), so it is
    credited to ``"none"``; the parameter's choices gain every value that ran.
    """
    ran = [
        ledger.effective_imbalance(t.params, t.user_attrs) if IMBALANCE in t.params else None
        for t in trials
    ]
    pairs = list(zip(ran, trials, strict=True))
    if all(value is None or value == t.params[IMBALANCE] for value, t in pairs):
        return list(trials)
    choices = tuple(
        dict.fromkeys(
            [
                *(
                    c
                    for t in trials
                    if IMBALANCE in t.distributions
                    for c in t.distributions[IMBALANCE].choices
                ),
                *(value for value in ran if value is not None),
            ]
        )
    )
    rebuilt = []
    for trial, value in zip(trials, ran, strict=True):
        if value is None:
            rebuilt.append(trial)
            continue
        distributions = {**trial.distributions, IMBALANCE: CategoricalDistribution(choices)}
        rebuilt.append(
            optuna.trial.create_trial(
                params={**trial.params, IMBALANCE: value},
                distributions=distributions,
                value=trial.values[0],
                user_attrs=trial.user_attrs,
            )
        )
    return rebuilt


def param_importances(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, float]:
    """fANOVA importances (seeded) of the parameters every trial has; most important first.

    The imbalance strategy is the one that ran (:func:`effective_trials`). Empty
    when there is nothing to explain: no searched parameter, or fewer than two
    distinct scores. Trials of several objectives are explained by their first (the metric).
    """
    if len({t.values[0] for t in trials}) < 2 or not trials[0].params:
        return {}
    trials = [
        t
        if len(t.values) == 1
        else optuna.trial.create_trial(
            params=t.params,
            distributions=t.distributions,
            value=t.values[0],
            user_attrs=t.user_attrs,
        )
        for t in trials
    ]
    pooled = optuna.create_study(direction="maximize")
    pooled.add_trials(effective_trials(trials))
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    scores = optuna.importance.get_param_importances(pooled, evaluator=evaluator)
    return {name: float(value) for name, value in scores.items()}


def encoded_width(dataset: Dataset) -> int:
    """Input width of the network: scaled numeric columns plus one-hot columns of ``dataset``."""
    return len(build_preprocessor(dataset).fit(dataset.X).get_feature_names_out())
