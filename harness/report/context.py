"""What a report reads, loaded once, and the Markdown helpers its sections share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
import pandas as pd

from harness.data.datasets import Dataset, Vocabulary
from harness.data.splits import holdout_split
from harness.model.vocabulary import IMBALANCE
from harness.report.business import class_names
from harness.report.tuned_model import complete_trials, encoded_width, param_importances
from harness.results import factors, leaderboard
from harness.results.loading import (
    ComparisonResults,
    comparison_tables,
    refitted_trial,
)
from harness.study import ledger
from harness.study.comparison import Comparison
from harness.study.storage import redact_password


@dataclass
class ReportContext:
    """Everything the report's sections read, loaded once from storage and the dataset.

    Attributes
    ----------
    results : ComparisonResults
    dataset, train, test : Dataset
        The full dataset and its held-out split (the comparison's task seed).
    study, trial
        The best study and its refitted trial
        (:meth:`harness.results.loading.ComparisonResults.best_study`).
    config : dict
        The refitted trial's configuration.
    holdout : dict
        That study's held-out results.
    tables : dict of str to DataFrame
        The comparison's leaderboard tables; for a report that is not
        :attr:`comparative`, the best trials (``trials``) and ``by_<param>`` only.
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
    def names(self) -> dict[str, str]:
        """Name of each class label (as text); empty where the dataset has none."""
        return class_names(self.dataset)

    @property
    def words(self) -> Vocabulary:
        """The nouns of the plain-language layer: the dataset's own, else rows and classes."""
        return self.dataset.vocabulary

    @property
    def comparison(self) -> Comparison:
        """The comparison reported on."""
        return self.results.comparison

    @property
    def metric(self) -> str:
        """The objective metric."""
        return self.comparison.metric

    @property
    def comparative(self) -> bool:
        """Whether strategies can be compared: several of them, random search among them."""
        return is_comparative(self.comparison)

    @property
    def single_study(self) -> bool:
        """Whether this reports one study (named like the comparison), not a comparison file."""
        studies = self.results.studies
        return len(studies) == 1 and studies[0].study_name == self.comparison.name

    @property
    def command(self) -> str:
        """The command that rebuilds this report."""
        if self.single_study:
            storage = redact_password(self.comparison.storage)
            return f"python -m harness report --study {self.comparison.name} --storage {storage}"
        return f"python -m harness report {self.comparison.path}"


NOT_COMPARATIVE = (
    "Search efficiency, final scores, regret at checkpoints, time to target and pairwise tests "
    "compare several strategies against random search, which these trials do not hold, so they "
    "are left out: report a comparison (studies/*.toml) for them."
)
"""The one line a report that is not comparative says where those tables and figures would be."""


def is_comparative(comparison: Comparison) -> bool:
    """Whether ``comparison`` has several strategies, random search (the reference) among them."""
    return len(comparison.strategies) > 1 and "random" in comparison.strategies


def _tables(results: ComparisonResults, searched: Sequence[str]) -> dict[str, pd.DataFrame]:
    if is_comparative(results.comparison):
        return comparison_tables(results)
    frame, budget = results.frame, results.comparison.trials
    board = leaderboard.study_leaderboard(frame)
    shown = [
        "rank",
        "number",
        "value",
        f"std_{results.comparison.metric}",
        "trial_seconds",
        *(f"param_{name}" for name in searched),
    ]
    tables = {"trials": board[[c for c in shown if c in board.columns]]}
    for param in ("optimizer", IMBALANCE):
        if f"param_{param}" in frame.columns:
            tables[f"by_{param}"] = factors.factor_effects(
                frame, param, budget=budget, confidence=leaderboard.CONFIDENCE
            )
    return tables


def load_context(results: ComparisonResults, dataset: Dataset) -> ReportContext:
    """Read everything the report needs from ``results`` and the full ``dataset``."""
    comparison = results.comparison
    train, test = holdout_split(dataset, comparison.test_size, comparison.task_seed)
    study = results.best_study()
    trial = refitted_trial(study)
    trials = complete_trials(results.studies)
    distributions: dict[str, Any] = {}
    for each in (t for s in results.studies for t in s.get_trials(deepcopy=False)):
        distributions.update(each.distributions)
    tables = _tables(results, sorted(distributions))
    return ReportContext(
        results=results,
        dataset=dataset,
        train=train,
        test=test,
        study=study,
        trial=trial,
        config=ledger.effective_config(trial),
        holdout=ledger.stored_holdout(study),
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
