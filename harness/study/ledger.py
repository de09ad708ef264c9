"""The ledger: what every trial and study stores, and how to read it back.

Every trial of every strategy lands in an Optuna study. These keys are the
contract between the study loop that writes trials and the analysis,
leaderboard and report code that reads them; nothing else is needed to
rebuild a table.

Trial user attributes
---------------------
``config``           the full configuration evaluated (searched and fixed values)
``fold_scores``      ``{metric: [score of fold 0, fold 1, ...]}``
``fit_seconds``      per-fold fit wall time
``predict_seconds``  per-fold scoring wall time
``suggest_seconds``  time the strategy spent proposing this trial
``trial_seconds``    wall time of the whole trial, proposal included
``cpu_seconds``      process CPU time of the whole trial (``time.process_time``), proposal
                     included: unlike wall time, it does not grow when the machine is loaded
``load_average``     the machine's 1-minute load average when the trial ended (``os.getloadavg``),
                     to read its wall time by
``fail_reason``      why a failed or pruned trial stopped
``trainer``          ``"batched"`` (the K folds as one network), ``"population"`` (a batch's
                     trials and folds as one network) or ``"sequential"`` (skorch fits)
``resampling_skipped`` per fold whose resampler had nothing to generate, why it trained on
                     the real rows only (absent when every resampler ran); each entry starts
                     with ``fold K:`` (fold index from 0; entries stored before issue 20 lack it).
                     With ``config``'s ``imbalance`` it is the record of the strategy each fold
                     ran: :func:`imbalance_ran`, :func:`effective_imbalance`
``baseline_point``   true on the trial that evaluates the family's baseline configuration,
                     enqueued first in every study (see :func:`harness.study.loop.start_points`)
``sim_start_seconds`` replay only: simulated start of the trial (seconds from the study's start)
``sim_end_seconds``  replay only: simulated end; ``trial_rows`` reports it as ``elapsed_seconds``
``replay_of``        replay only: the table trial replayed, ``<study>#<number>``
``duplicate_of``     on a discrete space, a repeated proposal is not trained again: the number
                     of the earlier trial whose stored folds answer it (it counts against the
                     budget and stores no training time)
``worker``           who ran the trial: ``{"host", "pid", "started", "index"}`` (host name,
                     process id, process start time, worker number); lets a process on the
                     same host see at once that a trial's worker is gone
``retry_of``         on a trial queued again: the number of the trial whose worker was lost
                     (killed) before it finished; that trial is stored failed with the reason
                     and no longer counts against the budget, this one runs its configuration
``n_params``         with ``n_params`` among the study's objectives: the trainable weights of
                     the network of the configuration that ran, on the search rows
``batch``            with batch proposals (``run --batch q``): ``{"id": number of the batch's
                     first trial, "position": index in the batch, "size": trials in it}``

Study user attributes
---------------------
``strategy``, ``seed`` (the strategy's), ``task_seed`` (folds, test split, model
initialisation), ``dataset``, ``space``, ``metric``, ``n_folds``,
``test_size``, ``harness_version``, and after the final refit ``holdout``
(test-split metrics of the best configuration and the baselines) with
``holdout_trial``, the number of the trial it refitted, ``holdout_failures``
(``{model: reason}``) for reference models whose fit failed (left out of ``holdout``),
and ``reference_cv`` (the references' and ensembles' per-fold scores on the study's own
folds, which the deployed model is chosen by); for a study of a CSV file,
``data_source`` (``path``, ``target``, ``sep``, ``categorical``) to load it again;
``repeats`` (repeated K-fold) and ``initial_design`` (shared first trials) when set;
``objectives`` (the metric, then the costs it is traded against) for a study of several
objectives (see :mod:`harness.study.objectives`), and after the run ``pareto_front``, the
numbers of the trials on its Pareto front.

A replayed study (see :mod:`harness.study.replay`) also stores ``mode``
(``"replay"``), ``table`` (the table it looked trials up in, or the analytic
task), ``workers`` (simulated workers), ``charge_proposals`` (whether the
simulated clock charged the measured proposal time), ``optimum`` (the best
value of the objective: the table's best mean score, or an analytic task's
known optimum, in the stored objective's direction), and how the table was
made: ``table_trainer`` (the trainer of its trials: ``"batched"``,
``"sequential"``, ``"unrecorded"`` for tables stored before trials recorded it,
``"analytic"``) and ``table_harness_version``; with synchronous batches of
proposals, ``proposal_batch`` (q) and ``batch_speedup`` (what the clock divides
a batch's stored seconds by).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd

from harness.errors import ConfigError
from harness.model.vocabulary import IMBALANCE
from harness.study.metrics import headline_metrics, task_of

CONFIG = "config"
FOLD_SCORES = "fold_scores"
FIT_SECONDS = "fit_seconds"
PREDICT_SECONDS = "predict_seconds"
SUGGEST_SECONDS = "suggest_seconds"
TRIAL_SECONDS = "trial_seconds"
CPU_SECONDS = "cpu_seconds"
LOAD_AVERAGE = "load_average"
FAIL_REASON = "fail_reason"
SIM_START = "sim_start_seconds"
SIM_END = "sim_end_seconds"
REPLAY_OF = "replay_of"
DUPLICATE_OF = "duplicate_of"
WORKER = "worker"
RETRY_OF = "retry_of"
BATCH = "batch"
N_PARAMS = "n_params"

STRATEGY = "strategy"
SEED = "seed"
TASK_SEED = "task_seed"
DATASET = "dataset"
SPACE = "space"
METRIC = "metric"
N_FOLDS = "n_folds"
TEST_SIZE = "test_size"
HARNESS_VERSION = "harness_version"
HOLDOUT = "holdout"
HOLDOUT_TRIAL = "holdout_trial"
HOLDOUT_FAILURES = "holdout_failures"
STUDY_NAME = re.compile(r"[A-Za-z0-9_.-]+")
"""What a study name may hold: it names the study's leaderboard and model files."""
DATA_SOURCE = "data_source"
REPEATS = "repeats"
INITIAL_DESIGN = "initial_design"
MODE = "mode"
TABLE = "table"
WORKERS = "workers"
CHARGE_PROPOSALS = "charge_proposals"
OPTIMUM = "optimum"
PROPOSAL_BATCH = "proposal_batch"
BATCH_SPEEDUP = "batch_speedup"
OBJECTIVES = "objectives"
PARETO_FRONT = "pareto_front"

FINISHED_STATES = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.FAIL,
    optuna.trial.TrialState.PRUNED,
)


def config_to_json(config: dict[str, Any]) -> dict[str, Any]:
    """Return ``config`` with tuples as lists, as a study stores it."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def stored_config(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """Return the configuration a trial evaluated, with tuples restored.

    The inverse of :func:`config_to_json`.
    """
    config = trial.user_attrs.get(CONFIG, trial.params)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Return one flat record per finished trial of ``study``, in trial-number order.

    A trial lost with its worker and queued again (see :func:`lost_numbers`) has
    no row: it evaluated nothing, and the trial queued in its place has the row,
    so a study's rows match its budget.

    Parameters
    ----------
    study : optuna.Study
        A study written by the harness.

    Returns
    -------
    list of dict
        Keys: ``study``, ``strategy``, ``seed``, ``dataset``, ``n_folds``,
        ``trial`` (1-based position in the study), ``number``,
        ``state`` (``COMPLETE``, ``FAIL`` or ``PRUNED``),
        ``value`` (mean CV objective, NaN unless complete), ``elapsed_seconds``
        (from the study's first trial start to this trial's end; in a replay,
        the trial's simulated end),
        ``suggest_seconds``, ``trial_seconds``, ``fit_seconds`` (all folds),
        ``cpu_seconds`` and ``load_average`` (NaN for studies stored before they
        were recorded), ``elapsed_cpu_seconds`` (the study's CPU seconds up to
        and including this trial, in trial-number order; NaN once a trial before
        it lacks its CPU time),
        ``fail_reason``, ``duplicate`` (whether it repeated an earlier trial's
        configuration and was answered from it), ``baseline_point`` (whether it
        is the enqueued baseline configuration), one
        ``param_<name>`` per configuration entry (``param_imbalance`` is the
        strategy that ran, :func:`effective_imbalance`; ``proposed_imbalance``
        the one proposed) and one ``score_<metric>`` (mean over folds) per stored metric.
        A study of several objectives also has one ``objective_<name>`` per objective (NaN
        unless complete; ``value`` is the first) and ``pareto`` (whether the trial is on
        the study's Pareto front).
    """
    stored = study.get_trials(deepcopy=False)
    lost = lost_numbers(stored)  # queued again: the trial that ran in its place is the row
    trials = sorted(
        (t for t in stored if t.state in FINISHED_STATES and t.number not in lost),
        key=lambda t: t.number,
    )
    attrs = study.user_attrs
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    origin = min(starts) if starts else None
    rows = []
    cpu_total = 0.0
    objectives = attrs.get(OBJECTIVES) or []
    front = (
        {t.number for t in study.best_trials}
        if len(objectives) > 1 and any(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
        else set()
    )
    for position, trial in enumerate(trials, start=1):
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        end = trial.datetime_complete or trial.datetime_start
        elapsed = (end - origin).total_seconds() if origin and end else float("nan")
        row: dict[str, Any] = {
            "study": study.study_name,
            STRATEGY: attrs.get(STRATEGY),
            SEED: attrs.get(SEED),
            DATASET: attrs.get(DATASET),
            N_FOLDS: attrs.get(N_FOLDS),
            "trial": position,
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.values[0] if complete else float("nan"),
            "elapsed_seconds": trial.user_attrs.get(SIM_END, elapsed),
            "simulated": SIM_END in trial.user_attrs,
            SUGGEST_SECONDS: trial.user_attrs.get(SUGGEST_SECONDS, float("nan")),
            TRIAL_SECONDS: trial.user_attrs.get(TRIAL_SECONDS, float("nan")),
            CPU_SECONDS: trial.user_attrs.get(CPU_SECONDS, float("nan")),
            LOAD_AVERAGE: trial.user_attrs.get(LOAD_AVERAGE, float("nan")),
            FAIL_REASON: trial.user_attrs.get(FAIL_REASON, _default_reason(trial.state)),
            "duplicate": DUPLICATE_OF in trial.user_attrs,
        }
        cpu_total += row[CPU_SECONDS]  # NaN from the first trial without CPU time on
        row["elapsed_cpu_seconds"] = cpu_total
        config = trial.user_attrs.get(CONFIG, trial.params)
        row.update({f"param_{name}": value for name, value in config.items()})
        if IMBALANCE in config:  # the strategy that ran, not the one proposed (issue 20)
            row[f"param_{IMBALANCE}"] = effective_imbalance(config, trial.user_attrs)
            row[f"proposed_{IMBALANCE}"] = config[IMBALANCE]
        row[BASELINE_POINT] = bool(trial.user_attrs.get(BASELINE_POINT, False))
        if len(objectives) > 1:
            for index, name in enumerate(objectives):
                row[f"objective_{name}"] = trial.values[index] if complete else float("nan")
            row["pareto"] = trial.number in front
        row[FIT_SECONDS] = float(np.sum(trial.user_attrs.get(FIT_SECONDS, [])))
        for metric, scores in trial.user_attrs.get(FOLD_SCORES, {}).items():
            values = np.asarray([np.nan if s is None else s for s in scores], dtype=float)
            row[f"score_{metric}"] = float(np.nanmean(values)) if values.size else float("nan")
            row[f"std_{metric}"] = float(np.nanstd(values)) if values.size else float("nan")
        rows.append(row)
    return rows


def _default_reason(state: optuna.trial.TrialState) -> str | None:
    # A trial whose worker was killed is failed later by a heartbeat check that stores no reason.
    if state == optuna.trial.TrialState.FAIL:
        return "its worker stopped before the trial finished"
    return None


def trials_frame(studies: Iterable[optuna.Study]) -> pd.DataFrame:
    """Return :func:`trial_rows` of several studies as one DataFrame."""
    return pd.DataFrame([row for study in studies for row in trial_rows(study)])


def study_name(prefix: str, strategy: str, seed: int) -> str:
    """The one study-name rule: ``<prefix>-<strategy>-s<seed>``.

    ``run`` uses ``<dataset>-<space>`` as the prefix, a comparison its name.
    """
    return f"{prefix}-{strategy}-s{seed}"


def check_study_name(name: str, fix: str) -> str:
    """Return ``name`` if it can name the study's files (leaderboard, models), else raise.

    Parameters
    ----------
    name : str
        The study name.
    fix : str
        How the user changes the name, ending the message (e.g. "pass --study NAME").

    Raises
    ------
    ConfigError
        If ``name`` has a character other than :data:`STUDY_NAME`'s: found
        before any training, not after the search when the first file is written.
    """
    if not STUDY_NAME.fullmatch(name):
        raise ConfigError(
            f"study name {name!r} cannot name its leaderboard and model files: use letters, "
            f"digits, '.', '_' or '-'; {fix}"
        )
    return name


def record_identity(study: optuna.Study, identity: dict[str, Any], version: str) -> None:
    """Store what defines a new study (strategy, seeds, dataset, ...) and the harness version."""
    for key, value in identity.items():
        study.set_user_attr(key, value)
    study.set_user_attr(HARNESS_VERSION, version)


def record_proposal(trial: optuna.Trial, config: dict[str, Any], suggest_seconds: float) -> None:
    """Store the configuration a strategy proposed and how long proposing took."""
    trial.set_user_attr(CONFIG, config_to_json(config))
    trial.set_user_attr(SUGGEST_SECONDS, suggest_seconds)


def record_evaluation(
    trial: optuna.Trial,
    fold_scores: dict[str, list[float]],
    fit_seconds: list[float],
    predict_seconds: list[float],
    trial_seconds: float,
    reason: str | None = None,
    *,
    cpu_seconds: float | None = None,
    load_average: float | None = None,
) -> None:
    """Store a trial's per-fold scores and timings, and why it stopped when it did not finish.

    ``cpu_seconds`` and ``load_average`` are stored where given (a replay,
    whose seconds are simulated, gives neither).
    """
    trial.set_user_attr(FOLD_SCORES, fold_scores)
    trial.set_user_attr(FIT_SECONDS, fit_seconds)
    trial.set_user_attr(PREDICT_SECONDS, predict_seconds)
    trial.set_user_attr(TRIAL_SECONDS, trial_seconds)
    if cpu_seconds is not None:
        trial.set_user_attr(CPU_SECONDS, cpu_seconds)
    if load_average is not None:
        trial.set_user_attr(LOAD_AVERAGE, load_average)
    if reason is not None:
        trial.set_user_attr(FAIL_REASON, reason)


def record_replay(study: optuna.Study, settings: dict[str, Any]) -> None:
    """Store how a replayed study was simulated: mode, table and how it was made, workers,
    clock and optimum; batches (``proposal_batch``, ``batch_speedup``) where it has them."""
    for key in (MODE, TABLE, TABLE_TRAINER, TABLE_VERSION, WORKERS, CHARGE_PROPOSALS, OPTIMUM):
        study.set_user_attr(key, settings[key])
    for key in (PROPOSAL_BATCH, BATCH_SPEEDUP):
        if key in settings:
            study.set_user_attr(key, settings[key])


def record_simulated_time(
    trial: optuna.Trial, start: float, end: float, replay_of: str | None = None
) -> None:
    """Store a replayed trial's simulated start and end, and the table trial it replayed."""
    trial.set_user_attr(SIM_START, start)
    trial.set_user_attr(SIM_END, end)
    if replay_of is not None:
        trial.set_user_attr(REPLAY_OF, replay_of)


def record_worker(trial: optuna.Trial, identity: dict[str, Any]) -> None:
    """Store which worker runs the trial (see :func:`harness.study.processes.worker_identity`)."""
    trial.set_user_attr(WORKER, identity)


def lost_numbers(trials: Iterable[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of the trials whose worker was lost and whose configuration was queued again.

    They are failed trials that do not count against the budget: the trial that
    names them in ``retry_of`` runs their configuration instead.
    """
    return {t.user_attrs[RETRY_OF] for t in trials if RETRY_OF in t.user_attrs}


def record_duplicate(trial: optuna.Trial, earlier: int) -> None:
    """Mark a trial as a repeated proposal answered from trial number ``earlier``."""
    trial.set_user_attr(DUPLICATE_OF, earlier)


def record_objectives(study: optuna.Study, objectives: Sequence[str]) -> None:
    """Store a study's objectives (only when there are several: one is its ``metric``)."""
    study.set_user_attr(OBJECTIVES, list(objectives))


def record_network_size(trial: optuna.Trial, n_params: int) -> None:
    """Store the trainable weights of the network of the trial's configuration."""
    trial.set_user_attr(N_PARAMS, int(n_params))


def record_pareto_front(study: optuna.Study, numbers: Sequence[int]) -> None:
    """Store the numbers of the trials on a study's Pareto front (after a run)."""
    study.set_user_attr(PARETO_FRONT, sorted(int(n) for n in numbers))


def record_batch(trial: optuna.Trial, batch_id: int, position: int, size: int) -> None:
    """Mark a trial as proposed in a batch: its first trial's number, its index, its size."""
    trial.set_user_attr(BATCH, {"id": batch_id, "position": position, "size": size})


def record_holdout(
    study: optuna.Study,
    holdout: dict[str, dict[str, Any]],
    trial: int,
    failures: dict[str, str] | None = None,
) -> None:
    """Store the held-out results and the number of the trial whose configuration was refitted.

    ``failures`` (``{model: reason}``) names the reference models that could not be
    fitted or scored; stored when there are some, or to clear those of an earlier refit.
    """
    study.set_user_attr(HOLDOUT, holdout)
    study.set_user_attr(HOLDOUT_TRIAL, trial)
    if failures or HOLDOUT_FAILURES in study.user_attrs:
        study.set_user_attr(HOLDOUT_FAILURES, dict(failures or {}))


def holdout_is_current(study: optuna.Study, trial: int) -> bool:
    """Whether the stored held-out results are those of trial ``trial``."""
    return study.user_attrs.get(HOLDOUT_TRIAL) == trial and HOLDOUT in study.user_attrs


def record_data_source(
    study: optuna.Study,
    path: str,
    target: str,
    sep: str | None,
    categorical: list[str],
    time_column: str | None = None,
) -> None:
    """Store where a CSV study's data comes from, so a report can load it again.

    ``time_column`` (a time series) is stored only when set.
    """
    source = {"path": path, "target": target, "sep": sep, "categorical": categorical}
    if time_column is not None:
        source["time_column"] = time_column
    study.set_user_attr(DATA_SOURCE, source)


def holdout_frame(holdout: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Return stored held-out results as one row per model, one column per headline metric."""
    frame = pd.DataFrame({name: result["scores"] for name, result in holdout.items()}).T
    return frame[list(headline_metrics(task_of(frame.columns)))]


TRAINER = "trainer"
#: A replayed study: the trainer and harness version its lookup table was made with.
TABLE_TRAINER = "table_trainer"
TABLE_VERSION = "table_harness_version"
#: What a table's trainer is called when its trials did not record one.
UNRECORDED = "unrecorded"
RESAMPLING_SKIPPED = "resampling_skipped"
BASELINE_CV = "baseline_cv"
BASELINE_POINT = "baseline_point"
NO_IMBALANCE = "none"


def imbalance_ran(config: dict[str, Any], attrs: dict[str, Any]) -> list[str]:
    """The imbalance strategy each fold of a trial trained with, from what the trial stored.

    A fold ran the configured strategy unless ``resampling_skipped`` names it
    (``"fold K: ..."``), in which case it trained on the real rows without any
    imbalance handling: ``"none"``. Entries stored before the fold index was
    (issue 20) say only how many folds skipped: the first that many are marked.

    Parameters
    ----------
    config : dict
        The trial's configuration (``imbalance`` absent means ``"none"``).
    attrs : dict
        The trial's user attributes.
    """
    configured = config.get(IMBALANCE, NO_IMBALANCE)
    n_folds = max((len(v) for v in attrs.get(FOLD_SCORES, {}).values()), default=0)
    skipped = list(attrs.get(RESAMPLING_SKIPPED, ()))
    indexed = {
        int(entry.split(":", 1)[0].removeprefix("fold "))
        for entry in skipped
        if entry.startswith("fold ") and entry.split(":", 1)[0].removeprefix("fold ").isdigit()
    }
    if len(indexed) != len(skipped):  # stored without fold indices
        indexed = set(range(min(len(skipped), n_folds)))
    return [NO_IMBALANCE if fold in indexed else configured for fold in range(n_folds)]


def effective_imbalance(config: dict[str, Any], attrs: dict[str, Any]) -> str:
    """The imbalance strategy a trial is credited with: the one that ran on its folds.

    The configured strategy when it ran on every fold, ``"none"`` when it ran on
    none (a resampler that had nothing to generate trains on the real rows
    only), else ``"<strategy> (K of N folds)"``.
    """
    configured = config.get(IMBALANCE, NO_IMBALANCE)
    ran = imbalance_ran(config, attrs)
    count = sum(value == configured for value in ran)
    if not ran or count == len(ran):
        return configured
    if count == 0:
        return NO_IMBALANCE
    return f"{configured} ({count} of {len(ran)} folds)"


def effective_config(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """The configuration a trial trained with: :func:`stored_config` with the imbalance
    strategy that ran on every fold (:func:`effective_imbalance`).

    A strategy that ran on only some folds is kept as configured: no single
    configuration describes that trial.
    """
    config = stored_config(trial)
    if IMBALANCE in config and effective_imbalance(config, trial.user_attrs) == NO_IMBALANCE:
        config[IMBALANCE] = NO_IMBALANCE
    return config


def baseline_points(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's trials that evaluate the enqueued baseline configuration."""
    return [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(BASELINE_POINT)]


def record_baseline_cv(study: optuna.Study, fold_scores: dict[str, list[float]]) -> None:
    """Store the unoptimized baseline's per-fold scores on the study's own folds.

    The baseline (:data:`harness.BASELINE_CONFIG`) is evaluated once per task on the
    same folds as every trial, so "tuned against baseline" is a paired comparison in
    CV. It is a study attribute, so every study has it, also one whose space does not
    hold the baseline; where the space does, the baseline is also the study's first
    trial (enqueued and marked :data:`BASELINE_POINT`), so every strategy starts from
    it and ``best_trial`` is never below it.
    """
    study.set_user_attr(BASELINE_CV, fold_scores)


def record_training(
    trial: optuna.Trial, trainer: str | None, skipped_resampling: Sequence[str] = ()
) -> None:
    """Store which trainer runs the trial and, when a fold's resampler had nothing to do, why.

    ``trainer`` is ``"batched"`` or ``"sequential"`` (see :func:`harness.evaluate_config`;
    None: already stored); ``resampling_skipped`` lists one reason per fold that trained on
    its real rows only.
    """
    if trainer is not None:
        trial.set_user_attr(TRAINER, trainer)
    if skipped_resampling:
        trial.set_user_attr(RESAMPLING_SKIPPED, skipped_resampling)


# --- held-out and run settings (appended) ---
HOLDOUT_ROWS = "holdout_rows"
FEATURE_IMPORTANCE = "feature_importance"
RUN_SETTINGS = "run_settings"


def record_holdout_rows(
    study: optuna.Study, true_labels: list[Any], index: list[Any], n_test: int
) -> None:
    """Store the true labels of the held-out rows whose predictions the holdout entries keep.

    ``{"true": [...], "index": [...], "n_test": int}``: labels and original row
    index in test-split order; ``n_test`` counts every held-out row (more than
    ``len(true)`` when only a seeded sample of them is stored).
    """
    study.set_user_attr(HOLDOUT_ROWS, {"true": true_labels, "index": index, "n_test": n_test})


def record_feature_importance(study: optuna.Study, importance: dict[str, Any]) -> None:
    """Store the tuned model's permutation importance on the held-out rows.

    ``{"metric", "n_repeats", "n_rows", "seed", "features": {column: {"mean", "std"}}}``
    (see :func:`harness.study.holdout.holdout_importance`).
    """
    study.set_user_attr(FEATURE_IMPORTANCE, importance)


def record_run_settings(study: optuna.Study, settings: dict[str, Any]) -> None:
    """Store what a worker on another host needs to rebuild the study's specification.

    ``settings`` holds JSON values: the data source (``{"kind": "dataset", "name",
    ...}``, ``{"kind": "csv", "path", "target", ...}`` or ``{"kind": "synthetic",
    "options"}``), the space (its name and TOML text), ``n_trials``, ``timeout``,
    ``trial_timeout``, ``pruner``, ``prune_on``, ``class_names`` and the seeds.
    """
    study.set_user_attr(RUN_SETTINGS, settings)


def run_settings(study: optuna.Study) -> dict[str, Any] | None:
    """Return what :func:`record_run_settings` stored, or None for a study that has none."""
    return study.user_attrs.get(RUN_SETTINGS)


def stored_holdout(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The study's held-out results as readers use them, or ``{}`` when none are stored.

    Each model's entry gets the true labels of its stored rows (``y_true``, from
    :data:`HOLDOUT_ROWS`), and the tuned model's entry its permutation importances
    (``permutation_importance``: ``{feature: {"mean", "std", "repeats"}}``, from
    :data:`FEATURE_IMPORTANCE`), so a per-row comparison needs nothing else.
    """
    holdout = study.user_attrs.get(HOLDOUT)
    if not holdout:
        return {}
    rows = study.user_attrs.get(HOLDOUT_ROWS) or {}
    importance = study.user_attrs.get(FEATURE_IMPORTANCE) or {}
    merged = {}
    for name, entry in holdout.items():
        entry = dict(entry)
        if "true" in rows and "predicted" in entry:
            entry.setdefault("y_true", rows["true"])
        merged[name] = entry
    if importance.get("features") and merged:
        first = next(iter(merged))  # the tuned model: refit_best stores it first
        merged[first]["permutation_importance"] = {
            feature: {**values, "repeats": importance.get("n_repeats")}
            for feature, values in importance["features"].items()
        }
    return merged


# --- references in CV and the model choice (issue 20.3) ---
REFERENCE_CV = "reference_cv"


def record_reference_cv(study: optuna.Study, scores: dict[str, dict[str, list[float]]]) -> None:
    """Add per-fold scores of reference models, cross-validated on the study's own folds.

    ``{model name (as in the held-out results): {metric: [score per fold]}}``; merged
    with what is stored, so a later refit (the ensembles of a comparison's shown
    study) adds rows. With the tuned trial's folds and ``baseline_cv`` they are what
    the deployed model is chosen by (:func:`harness.study.holdout.model_choice`).
    """
    stored = dict(study.user_attrs.get(REFERENCE_CV) or {})
    stored.update(scores)
    study.set_user_attr(REFERENCE_CV, stored)
