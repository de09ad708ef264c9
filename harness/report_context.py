"""What a report reads, loaded once, and the Markdown helpers its sections share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
import pandas as pd

from harness import leaderboard, ledger
from harness.comparison import Comparison
from harness.datasets import Dataset
from harness.preprocessing import holdout_split
from harness.results import ComparisonResults, comparison_tables
from harness.tuned import (
    best_study,
    complete_trials,
    encoded_width,
    param_importances,
    refitted_trial,
)


@dataclass
class ReportContext:
    """Everything the report's sections read, loaded once from storage and the dataset.

    Attributes
    ----------
    results : ComparisonResults
    dataset, train, test : Dataset
        The full dataset and its held-out split (the comparison's task seed).
    study, trial
        The best study and its refitted trial (:func:`harness.tuned.best_study`).
    config : dict
        The refitted trial's configuration.
    holdout : dict
        That study's held-out results.
    tables : dict of str to DataFrame
        The comparison's leaderboard tables.
    trials : list of FrozenTrial
        Complete trials of every strategy x seed study, pooled.
    distributions : dict
        Every searched parameter's distribution, by name.
    importances : dict
        fANOVA importances over ``trials``, most important first.
    n_inputs : int
        The network's input width on the training split.
    """

    results: ComparisonResults
    dataset: Dataset
    train: Dataset
    test: Dataset
    study: optuna.Study
    trial: optuna.trial.FrozenTrial
    config: dict[str, Any]
    holdout: dict[str, dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    trials: list[optuna.trial.FrozenTrial]
    distributions: dict[str, optuna.distributions.BaseDistribution]
    importances: dict[str, float]
    n_inputs: int

    @property
    def comparison(self) -> Comparison:
        """The comparison reported on."""
        return self.results.comparison

    @property
    def metric(self) -> str:
        """The objective metric."""
        return self.comparison.metric


def load_context(results: ComparisonResults, dataset: Dataset) -> ReportContext:
    """Read everything the report needs from ``results`` and the full ``dataset``."""
    comparison = results.comparison
    train, test = holdout_split(dataset, comparison.test_size, comparison.task_seed)
    study = best_study(results)
    trial = refitted_trial(study)
    trials = complete_trials(results.studies)
    distributions: dict[str, Any] = {}
    for each in (t for s in results.studies for t in s.get_trials(deepcopy=False)):
        distributions.update(each.distributions)
    tables = comparison_tables(results)
    return ReportContext(
        results=results,
        dataset=dataset,
        train=train,
        test=test,
        study=study,
        trial=trial,
        config=ledger.stored_config(trial),
        holdout=study.user_attrs[ledger.HOLDOUT],
        tables=tables,
        trials=trials,
        distributions=dict(sorted(distributions.items())),
        importances=param_importances(trials),
        n_inputs=encoded_width(train),
    )


def markdown_table(frame: pd.DataFrame, *, explain: bool = False) -> str:
    """A Markdown table in the leaderboard's format, with its column glossary if asked."""
    parts = [leaderboard.explanation(frame)] if explain else []
    return "\n\n".join([*parts, leaderboard.markdown_table(frame)])


def bullets(sentences: Sequence[str]) -> str:
    """A Markdown bullet list, one sentence per item."""
    return "\n".join(f"- {sentence}" for sentence in sentences)
