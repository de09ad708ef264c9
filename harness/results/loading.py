"""A comparison's stored results, read back from its storage (no training)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from harness.errors import ConfigError
from harness.model.families import DEFAULT_FAMILY, family_of
from harness.results import design, statistics, targets
from harness.results.generalization import holdout_table, model_label
from harness.results.leaderboard import (
    leaderboard_figures,
    leaderboard_tables,
    pareto_figures,
    pareto_tables,
    write_leaderboard,
)
from harness.results.ranking import interval_text
from harness.results.targets import Optimum
from harness.study import ledger
from harness.study.comparison import Comparison, load_comparison
from harness.study.holdout import BASELINE, TUNED
from harness.study.metrics import HEADLINE_METRICS, METRICS, headline_metrics
from harness.study.objectives import directions
from harness.study.storage import (
    load_stored_study,
    open_storage,
    redact_password,
    sqlite_path,
    storage_exists,
)


@dataclass
class ComparisonResults:
    """Everything the leaderboards and the report need, from stored studies only.

    Attributes
    ----------
    comparison : Comparison
    studies : list of optuna.Study
        The (strategy, seed) studies that exist, in matrix order.
    exhaustive : optuna.Study or None
        The exhaustive grid study, when the comparison has one and it exists.
    frame : DataFrame
        :func:`harness.study.ledger.trials_frame` of ``studies``.
    missing : list of str
        Names of matrix studies not in the storage yet.
    """

    comparison: Comparison
    studies: list[optuna.Study]
    exhaustive: optuna.Study | None
    frame: pd.DataFrame
    missing: list[str]
    reference_pool: list[optuna.Study] = field(default_factory=list)
    _attrs: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)
    _best: optuna.Study | None = field(default=None, init=False, repr=False)

    def study_attrs(self, study: optuna.Study) -> dict[str, Any]:
        """``study.user_attrs``, read once: Optuna reads and deep-copies them at every access,
        and a study's held-out results (every test row's prediction) are among them. Read only.
        """
        if study.study_name not in self._attrs:
            self._attrs[study.study_name] = study.user_attrs
        return self._attrs[study.study_name]

    @property
    def optimum(self) -> float | None:
        """The exhaustive grid's best score when it covered the whole grid, else None."""
        if self.exhaustive is None:
            return None
        complete = self.exhaustive.get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        )
        return max(t.values[0] for t in complete) if complete else None

    def optimum_info(self) -> Optimum:
        """The optimum of the task and its source, never silently one of the compared runs.

        In order: the exhaustive grid's best; else the best of a reference pool
        (studies named by the comparison's ``reference_studies``, run but not
        compared); else a value declared as the comparison's ``optimum``; else the
        best of the compared runs, marked circular.
        """
        if self.optimum is not None:
            return targets.resolve_optimum(self.frame, self.optimum, "the exhaustive grid's best")
        stored = sorted(
            {
                self.study_attrs(s)[ledger.OPTIMUM]
                for s in self.studies
                if self.study_attrs(s).get(ledger.OPTIMUM) is not None
            }
        )
        if len(stored) == 1:
            return targets.resolve_optimum(
                self.frame, stored[0], "the task's known optimum (stored with the replay)"
            )
        if stored:
            return targets.resolve_optimum(
                self.regret_frame(),
                stored[-1],
                f"each replayed table's own optimum ({stored[0]:.4f} to {stored[-1]:.4f}): a "
                "seed's regret and targets are measured against the optimum of the table it "
                "replayed, expressed on the scale of the best table",
            )
        pool = [
            t.values[0]
            for study in self.reference_pool
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        ]
        if pool:
            names = ", ".join(s.study_name for s in self.reference_pool)
            return targets.resolve_optimum(
                self.frame, max(pool), f"the best of reference pool {names}"
            )
        declared = getattr(self.comparison, "optimum", None)
        if isinstance(declared, int | float):
            return targets.resolve_optimum(self.frame, float(declared), "declared optimum")
        return targets.resolve_optimum(self.frame, None, "")

    def regret_frame(self) -> pd.DataFrame:
        """``frame`` for regret, targets and curves: each study against its own task's optimum.

        Replays on several tables (exhaustive grids of one space with different
        task seeds) store each table's optimum with the study. A seed's values
        are shifted by ``best optimum - its table's optimum``, so that regret
        against the best optimum equals regret against its own table's optimum,
        and medians over seeds compare like with like. Otherwise ``frame``.
        """
        optima = {s.study_name: self.study_attrs(s).get(ledger.OPTIMUM) for s in self.studies}
        known = [v for v in optima.values() if v is not None]
        if len(set(known)) <= 1 or len(known) < len(optima):
            return self.frame
        best = max(known)
        shift = self.frame["study"].map({name: best - v for name, v in optima.items()})
        return self.frame.assign(value=self.frame["value"] + shift)

    def _candidates(self) -> list[optuna.Study]:
        return [*self.studies, *([self.exhaustive] if self.exhaustive else [])]

    def startup_trials(self) -> int:
        """Leading trials some strategies share (:func:`~.design.shared_startup_horizon`).

        Efficiency ranks and advice hold only for budgets beyond this number.
        """
        return design.shared_startup_horizon(self.frame)

    def test_scores(self) -> dict[str, float]:
        """Study name -> held-out objective score of its tuned model."""
        metric = self.comparison.metric
        return {
            study.study_name: self.study_attrs(study)[ledger.HOLDOUT][TUNED]["scores"][metric]
            for study in self.studies
            if ledger.HOLDOUT in self.study_attrs(study)
        }

    def holdout(self, study: optuna.Study | None = None) -> dict[str, dict[str, Any]]:
        """The stored held-out results of ``study``.

        Default: the best study's (:meth:`best_study`, the report's tuned model,
        which alone also carries the ensemble rows of a comparison), else the
        first with results.
        """
        if study is None and any(ledger.HOLDOUT in self.study_attrs(s) for s in self._candidates()):
            study = self.best_study()
        candidates = [study] if study is not None else self.studies
        for candidate in candidates:
            if ledger.HOLDOUT in self.study_attrs(candidate):
                return ledger.stored_holdout(candidate)
        return {}

    def baseline_cv(self) -> float | None:
        """The unoptimized baseline's mean CV score in the objective (same folds as the trials)."""
        metric = self.comparison.metric
        for study in self.studies:
            folds = self.study_attrs(study).get(ledger.BASELINE_CV, {}).get(metric)
            if folds:
                return float(np.mean(folds))
        return None

    def best_study(self) -> optuna.Study:
        """The study whose refitted trial has the best mean CV score (the first on a tie).

        The exhaustive grid study is a candidate too. Selection is by CV score,
        never by held-out score, so the test split stays unseen by every choice.

        Raises
        ------
        ConfigError
            If no study has held-out results yet.
        """
        if self._best is not None:
            return self._best
        candidates = [s for s in self._candidates() if ledger.HOLDOUT in self.study_attrs(s)]
        if not candidates:
            raise ConfigError(
                f"no study of {self.comparison.name!r} has held-out results yet: "
                f"let `python -m harness compare {self.comparison.path}` finish"
            )
        self._best = max(
            candidates, key=lambda study: refitted_trial(study, self.study_attrs(study)).values[0]
        )
        return self._best

    def baselines(self) -> pd.DataFrame | None:
        """Held-out scores of the baselines (the same task seed gives the same ones everywhere)."""
        holdout = {k: v for k, v in self.holdout().items() if k != TUNED}
        return ledger.holdout_frame(holdout) if holdout else None


def refitted_trial(
    study: optuna.Study, attrs: Mapping[str, Any] | None = None
) -> optuna.trial.FrozenTrial:
    """The trial whose configuration was refitted and scored on the held-out split.

    ``attrs``: the study's user attributes when already read
    (:meth:`ComparisonResults.study_attrs`).
    """
    number = (study.user_attrs if attrs is None else attrs)[ledger.HOLDOUT_TRIAL]
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def load_results(comparison: Comparison) -> ComparisonResults:
    """Read every stored study of ``comparison``.

    Raises
    ------
    ConfigError
        If none of its studies is stored yet.
    """
    stored: set[str] = set()
    if storage_exists(comparison.storage):  # only read: a missing file is not created
        storage = open_storage(comparison.storage, create=False)
        stored = set(optuna.get_all_study_names(storage))
    names = comparison.study_names()
    studies = [optuna.load_study(study_name=n, storage=storage) for n in names if n in stored]
    if not studies:
        raise ConfigError(
            f"no study of comparison {comparison.name!r} in {comparison.storage}: "
            + (
                _unpack_hint(comparison.storage)
                or f"run `python -m harness compare {comparison.path}` first"
            )
        )
    exhaustive = None
    if comparison.exhaustive_grid and comparison.exhaustive_name in stored:
        exhaustive = optuna.load_study(study_name=comparison.exhaustive_name, storage=storage)
    pool_names = tuple(getattr(comparison, "reference_studies", None) or ())
    absent = [n for n in pool_names if n not in stored]
    if absent:
        raise ConfigError(
            f"reference studies {', '.join(absent)} of comparison {comparison.name!r} are not in "
            f"{redact_password(comparison.storage)}: run them or remove them from "
            "reference_studies"
        )
    pool = [optuna.load_study(study_name=n, storage=storage) for n in pool_names]
    return ComparisonResults(
        comparison=comparison,
        studies=studies,
        exhaustive=exhaustive,
        frame=with_predict_seconds(ledger.trials_frame(studies), studies),
        missing=[n for n in names if n not in stored],
        reference_pool=pool,
    )


def _unpack_hint(url: str) -> str | None:
    """How to restore a storage that is committed packed (``NAME.db.xz``) but not unpacked."""
    path = sqlite_path(url)
    if path is None or path.exists():
        return None
    packed = path.with_name(f"{path.name}.xz")
    if not packed.is_file():
        return None
    return (
        f"its storage is committed packed as {packed}: unpack it with "
        f"`python scripts/storage_archive.py unpack {path.stem}` (or `xz -dk {packed}`)"
    )


def with_predict_seconds(frame: pd.DataFrame, studies: list[optuna.Study]) -> pd.DataFrame:
    """``frame`` with a ``predict_seconds`` column (all folds) where trials recorded it."""
    if "predict_seconds" in frame.columns or frame.empty:
        return frame
    seconds = {
        (study.study_name, t.number): float(sum(t.user_attrs[ledger.PREDICT_SECONDS]))
        for study in studies
        for t in study.get_trials(deepcopy=False)
        if isinstance(t.user_attrs.get(ledger.PREDICT_SECONDS), list)
    }
    if not seconds:
        return frame
    keys = zip(frame["study"], frame["number"], strict=True)
    return frame.assign(predict_seconds=[seconds.get(key, float("nan")) for key in keys])


def study_results(name: str, storage: str) -> ComparisonResults:
    """Read one stored study as a comparison of one strategy and one seed.

    The comparison is named after the study and takes its task (dataset,
    space, metric, folds, held-out split, task seed) from the study's user
    attributes; its budget is the study's finished trial count. Being named
    after its only study is what marks it as one study to the report.

    Parameters
    ----------
    name : str
        The study name (as ``python -m harness run`` printed it).
    storage : str
        The study's storage URL.

    Raises
    ------
    ConfigError
        If the storage has no such study, the study has no held-out results
        yet, or its data was synthetic (a study does not store generator settings).
    """
    from harness.data.datasets import DATASETS, SYNTHETIC

    study = load_stored_study(storage, name)
    attrs = study.user_attrs
    if ledger.HOLDOUT not in attrs:
        raise ConfigError(
            f"study {name!r} has no held-out results yet: run it again with "
            "`python -m harness run` to finish it"
        )
    dataset = attrs[ledger.DATASET]
    source = attrs.get(ledger.DATA_SOURCE)
    if source is None and (dataset not in DATASETS or dataset == SYNTHETIC):
        raise ConfigError(
            f"study {name!r} was run on {dataset!r}, not a registered dataset or a CSV file "
            "it recorded: report it through a comparison file (studies/*.toml) instead"
        )
    data = {"dataset": dataset}
    if source is not None:
        data = {
            "data": source["path"],
            "target": source["target"],
            "sep": source["sep"],
            "categorical": tuple(source["categorical"]),
            "time_column": source.get("time_column"),
        }
    frame = ledger.trials_frame([study])
    comparison = Comparison(
        name=name,
        strategies=(attrs[ledger.STRATEGY],),
        seeds=(attrs[ledger.SEED],),
        trials=len(frame),
        **data,
        space=attrs[ledger.SPACE],
        metric=attrs[ledger.METRIC],
        folds=attrs[ledger.N_FOLDS],
        test_size=attrs[ledger.TEST_SIZE],
        task_seed=attrs[ledger.TASK_SEED],
        storage=storage,
    )
    return ComparisonResults(
        comparison=comparison, studies=[study], exhaustive=None, frame=frame, missing=[]
    )


def _compute_note(results: ComparisonResults) -> str:
    frame = results.frame
    studies = [*results.studies, *([results.exhaustive] if results.exhaustive else [])]
    stored = [t for s in studies for t in s.get_trials(deepcopy=False)]
    seconds = sum(t.user_attrs.get(ledger.TRIAL_SECONDS, 0.0) for t in stored)
    trials = len(stored)
    return (
        f"Compute: {trials} trials in {len(studies)} studies, {seconds / 3600:.2f} worker-hours "
        f"of trial time ({len(frame)} trials in the strategy x seed matrix)."
    )


def comparison_tables(results: ComparisonResults) -> dict[str, pd.DataFrame]:
    """The comparison's leaderboard tables (see :func:`~.leaderboard.leaderboard_tables`),
    and ``versus`` (:func:`versus_table`) when the comparison names other comparisons."""
    tables = leaderboard_tables(
        results.frame,
        regret_frame=results.regret_frame(),
        optimum=results.optimum_info(),
        test_scores=results.test_scores() or None,
        baselines=results.baselines(),
        holdout=results.holdout(),
        tuned=TUNED,
        metrics=(
            results.comparison.metric,
            *(m for m in _headline(results.comparison) if m != results.comparison.metric),
        ),
        workers=getattr(results.comparison, "workers", None),
        budget=results.comparison.trials,
        baseline_cv=results.baseline_cv(),
        family=_family(results),
    )
    if getattr(results.comparison, "versus", ()):
        tables["versus"] = versus_table(results)
    objectives = _objectives(results.comparison)
    if len(objectives) > 1:
        tables |= pareto_tables(results.frame, objectives, budget=results.comparison.trials)
    return tables


def _family(results: ComparisonResults) -> str:
    """The family of the comparison's tuned model (the MLP before any held-out result)."""
    try:
        study = results.best_study()
    except ConfigError:
        return DEFAULT_FAMILY
    return family_of(ledger.stored_config(refitted_trial(study))).name


def _objectives(comparison: Any) -> tuple[str, ...]:
    """A comparison's objectives (a replay's or an older spec's: its one metric)."""
    return tuple(getattr(comparison, "objectives", ()) or (comparison.metric,))


VERSUS_TASK = ("dataset", "data", "target", "metric", "folds", "repeats", "test_size", "task_seed")
"""What comparisons shown side by side must share: the same folds and held-out rows."""


def versus_table(results: ComparisonResults) -> pd.DataFrame:
    """This comparison's tuned and baseline models next to those of its ``versus`` comparisons.

    Each comparison contributes the tuned model of its best study (by CV score,
    :meth:`ComparisonResults.best_study`) and its family's baseline, named by
    family. The rows are :func:`~.generalization.holdout_table` of those models
    (percentile bootstrap intervals over the held-out rows; ``tuned_minus``,
    ``paired_p`` and ``mcnemar_p`` compare this comparison's tuned model with each
    other model on the same rows), with the comparison, the refitted trial's mean
    CV score (the baselines': their CV score on the same folds), the held-out
    objective over all studies of the comparison (mean and Student-t interval)
    and ``n_parameters``, the network's trainable parameter count.

    Raises
    ------
    ConfigError
        If a ``versus`` comparison has another task, or its held-out rows differ.
    """
    comparison = results.comparison
    compared = [results]
    for path in comparison.versus_paths():
        other = load_results(load_comparison(path))
        differing = [
            k for k in VERSUS_TASK if getattr(other.comparison, k) != getattr(comparison, k)
        ]
        if differing:
            raise ConfigError(
                f"{comparison.path}: versus {path} has another task ({', '.join(differing)} "
                "differ); compare models only on the same folds and held-out rows"
            )
        compared.append(other)
    models: dict[str, dict[str, Any]] = {}
    extra: dict[str, dict[str, Any]] = {}
    truth = None
    for entry in compared:
        study = entry.best_study()
        trial = refitted_trial(study)
        family = family_of(ledger.stored_config(trial)).name
        holdout = ledger.stored_holdout(study)
        rows = holdout[TUNED].get("y_true")
        if truth is not None and rows != truth:
            raise ConfigError(
                f"{entry.comparison.path}: its held-out rows differ from {comparison.path}'s; "
                "rerun it with the same task"
            )
        truth = rows
        scores = list(entry.test_scores().values())
        over = statistics.t_interval(scores) if len(scores) > 1 else None
        name = entry.comparison.name
        tuned = f"{model_label(TUNED, family)} ({name})"
        models[tuned] = holdout[TUNED]
        extra[tuned] = {
            "comparison": name,
            "cv_score": float(trial.values[0]),
            "studies": len(scores),
            "test_mean": float(np.mean(scores)),
            "test_interval": interval_text(over) if over is not None else "n/a (one study)",
        }
        models[model_label(BASELINE, family)] = holdout[BASELINE]
        extra[model_label(BASELINE, family)] = {"comparison": name, "cv_score": entry.baseline_cv()}
    metrics = (comparison.metric, *(m for m in ("accuracy",) if m != comparison.metric))
    table = holdout_table(models, next(iter(models)), metrics)
    info = pd.DataFrame([{**extra[model]} for model in table["model"]])
    table.insert(1, "comparison", info["comparison"])
    table["refit_cv"] = info["cv_score"]
    tuned_rows = table["model"].str.startswith("tuned ") & (table["metric"] == comparison.metric)
    table["studies"] = info["studies"].where(tuned_rows)
    table["studies_test_mean"] = info["test_mean"].where(tuned_rows)
    table["studies_test_interval"] = info["test_interval"].where(tuned_rows, "")
    table["n_parameters"] = [models[model].get("n_parameters") for model in table["model"]]
    return table


def _headline(comparison: Any) -> tuple[str, ...]:
    """The headline metrics of the comparison's task (its objective's)."""
    if comparison.metric not in METRICS:  # an analytic task's neg_value
        return HEADLINE_METRICS
    return headline_metrics(METRICS[comparison.metric].task)


def _batch_text(comparison: Any) -> str:
    """How a comparison with batch proposals asked for trials; empty without batches."""
    batch = getattr(comparison, "batch", 1)
    if batch <= 1:
        return ""
    text = f", in synchronous batches of {batch} proposals"
    if getattr(comparison, "replay", False):
        speedup = getattr(comparison, "batch_speedup", 1.0)
        text += (
            f" (a batch takes its trials' stored seconds / {speedup:g}, the population speed-up)"
        )
    return text


def _folds_text(comparison: Any) -> str:
    """How the comparison's folds are made: stratified, or forward in time for a time series."""
    regression = comparison.metric in METRICS and METRICS[comparison.metric].task == "regression"
    return "forward-chaining" if regression else "stratified"


def write_comparison_leaderboard(results: ComparisonResults, directory: str | Path) -> Path:
    """Write the comparison's leaderboards (Markdown and CSV) and return the Markdown path."""
    comparison = results.comparison
    optimum = results.optimum_info()
    source = optimum.label
    if optimum.circular:
        why = (
            "no exhaustive grid or reference pool is stored"
            if optimum.source == targets.CIRCULAR
            else optimum.source
        )
        source = (
            f"**{optimum.label.upper()}**: {why}; targets near it would be reached by "
            "construction by the run that found it, so no target table is reported"
        )
    startup = results.startup_trials()
    workers = getattr(comparison, "workers", None)
    notes = [
        f"Comparison `{comparison.name}` ({comparison.path}, storage "
        f"{redact_password(comparison.storage)}): dataset "
        f"{comparison.dataset or comparison.data}, space {comparison.space}, objective "
        f"{comparison.metric} (mean over {comparison.folds} {_folds_text(comparison)} folds, "
        f"the same folds for every study: task seed {comparison.task_seed}).",
        f"Strategies {', '.join(comparison.strategies)} x seeds "
        f"{', '.join(map(str, comparison.seeds))}; budget {comparison.trials} trials per study"
        + (f", run with {workers} parallel worker(s)" if workers is not None else "")
        + _batch_text(comparison)
        + f". Normalized regret and targets use random search as the reference; {source}.",
        f"Shared start-up: some strategies evaluate identical configurations in their first "
        f"{startup} trials on the same seed (table `startup`); efficiency ranks count trials "
        f"{startup + 1} onwards, and no advice holds for budgets up to {startup} trials."
        if startup
        else "Shared start-up: no two strategies start with the same configurations.",
        _compute_note(results),
    ]
    if results.missing:
        notes.append(f"Not run yet: {', '.join(results.missing)}.")
    if _folds_text(comparison) == "forward-chaining":
        notes.append(
            "A time series: each fold trains on every row before its validation rows, the "
            f"last {comparison.test_size:.0%} of the rows are held out, and every model "
            "forecasts each held-out step from the true values before it. Errors are negated "
            "(neg_rmse: greater is better). The `holdout` intervals resample moving blocks of "
            "consecutive held-out rows (block length ceil(n^(1/3))), since consecutive "
            "forecast errors are correlated; `mcnemar_p` does not apply. The tuned and the "
            "baseline model keep the names `tuned MLP` and `baseline MLP` of the stored results; "
            "here they are the tuned and the unoptimized LSTM."
        )
    figures = leaderboard_figures(results.frame, budget=comparison.trials)
    objectives = _objectives(comparison)
    if len(objectives) > 1:
        notes.append(
            f"Several objectives: {objectives[0]} "
            f"({'maximised' if directions(objectives)[0] == 'maximize' else 'minimised'}) "
            f"against {', '.join(objectives[1:])} (minimised). The tables before `pareto` read "
            "the first objective alone; `pareto` is the comparison's front, and the studies "
            "compare by the hypervolume of their fronts (`hypervolume` and the `hv_` tables, "
            "where a column's 'final score' or 'CV score' is the hypervolume), with the tests "
            "of the single-objective tables."
        )
        figures |= pareto_figures(results.frame, objectives, budget=comparison.trials)
    return write_leaderboard(
        comparison_tables(results), directory, comparison.name, notes, figures
    )[0]


def load_holdout(storage: str, study: str) -> dict[str, dict[str, Any]]:
    """Read the held-out results a study stored when it ran: nothing is trained.

    What a reader (the generated notebook, a script) needs to show a refitted
    model's held-out results exactly as they were measured: training is
    seeded, but not bit-reproducible across processors, so numbers that must
    rebuild exactly come from here.

    Parameters
    ----------
    storage : str
        The study's storage URL (a local SQLite file must exist: it is only read).
    study : str
        The study name.

    Returns
    -------
    dict
        ``{model name: entry}`` in stored order, the tuned model first; each entry
        holds ``scores`` (every metric on every held-out row), ``labels`` (the
        class order of ``proba``), ``predicted`` and ``proba`` (per stored
        held-out row, in test order), ``y_true`` (their true labels) and
        ``confusion``; see :func:`harness.study.ledger.stored_holdout`.

    Raises
    ------
    ConfigError
        If the storage or the study does not exist or has no held-out results.
    """
    if storage.startswith("sqlite:///") and not Path(storage.removeprefix("sqlite:///")).is_file():
        raise ConfigError(f"no storage file {storage.removeprefix('sqlite:///')!r}: check the path")
    holdout = ledger.stored_holdout(load_stored_study(storage, study))
    if not holdout:
        raise ConfigError(f"study {study!r} has no held-out results: run it to the end first")
    return holdout
