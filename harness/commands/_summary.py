"""What ``run`` prints and saves when the search is over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import optuna
from optuna.trial import TrialState
from tabulate import tabulate

from harness.errors import HarnessError
from harness.results.leaderboard import baselines_table, study_leaderboard, write_leaderboard
from harness.study import ledger


def require_complete_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """Return the best trial, or raise when no trial completed, with the most common failure."""
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.COMPLETE for t in trials):
        return study.best_trial
    reasons = [t.user_attrs.get(ledger.FAIL_REASON, "unknown") for t in trials]
    if not reasons:
        raise HarnessError(f"study {study.study_name!r} ran no trial: raise --trials or --timeout")
    common = max(set(reasons), key=reasons.count)
    raise HarnessError(
        f"all {len(trials)} trials of study {study.study_name!r} failed or were pruned; "
        f"most often ({reasons.count(common)}x): {common}"
    )


def save_model(model: Any, path: Path) -> Path:
    """Save a fitted pipeline with joblib and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def _counts(study: optuna.Study) -> str:
    states = [t.state for t in study.get_trials(deepcopy=False)]
    return ", ".join(
        f"{states.count(state)} {state.name.lower()}"
        for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    )


def holdout_table(holdout: dict[str, dict[str, Any]]) -> str:
    """Return the before/after table of held-out test scores (GitHub Markdown)."""
    frame = ledger.holdout_frame(holdout)
    rows = [
        [name, *scores] for name, scores in zip(frame.index, frame.to_numpy().tolist(), strict=True)
    ]
    return tabulate(rows, headers=["model", *frame.columns], tablefmt="github", floatfmt=".4f")


def write_study_leaderboard(
    study: optuna.Study, holdout: dict[str, dict[str, Any]], directory: Path, k: int = 10
) -> Path:
    """Write the study's best trials and the held-out comparison to ``directory``.

    Returns the Markdown file's path; CSV files are written beside it.
    """
    frame = ledger.trials_frame([study])
    states = frame["state"].value_counts().to_dict()
    attrs = study.user_attrs
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(states.items()))
    notes = [
        f"Study `{study.study_name}`: strategy {attrs.get(ledger.STRATEGY)}, "
        f"seed {attrs.get(ledger.SEED)}, dataset {attrs.get(ledger.DATASET)}, "
        f"{attrs.get(ledger.N_FOLDS)}-fold CV of {attrs.get(ledger.METRIC)}; "
        f"{len(frame)} trials ({counts}).",
        "Test scores are on the held-out split that the search never saw.",
    ]
    tables = {
        "best-trials": study_leaderboard(frame, k=k),
        "held-out-test": baselines_table(ledger.holdout_frame(holdout)),
    }
    return write_leaderboard(tables, directory, study.study_name, notes)[0]


def print_summary(
    study: optuna.Study,
    spec: Any,
    holdout: dict[str, dict[str, Any]],
    wall_seconds: float,
    model_path: Path,
    leaderboard_path: Path,
) -> None:
    """Print the end-of-run summary: best configuration, CV and test scores, baselines."""
    best = study.best_trial
    folds = best.user_attrs.get(ledger.FOLD_SCORES, {}).get(spec.metric, [])
    config = ledger.stored_config(best)
    print(f"\nstudy {study.study_name!r} ({spec.strategy}, seed {spec.seed}) in {spec.storage}")
    print(f"trials: {_counts(study)}; this run took {wall_seconds:.1f} s")
    print(
        f"best trial #{best.number}: CV {spec.metric} {np.mean(folds):.4f} "
        f"+/- {np.std(folds):.4f} over {len(folds)} folds"
    )
    print(tabulate(sorted(config.items()), headers=["parameter", "value"], tablefmt="github"))
    print(f"\nheld-out test split ({len(spec.dataset.y)} training rows searched):")
    print(holdout_table(holdout))
    print(f"\nleaderboard: {leaderboard_path}")
    print(
        f"best pipeline: {model_path} (load with joblib.load(path); predict(X) takes raw features)"
    )
    print(f"dashboard: optuna-dashboard {spec.storage}")
