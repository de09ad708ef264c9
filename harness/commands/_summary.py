"""What ``run`` prints and saves when the search is over."""

from __future__ import annotations

import json
import shlex
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
from harness.study.metrics import get_metric
from harness.study.objectives import best_trial, pareto_front, stored_objectives


def require_complete_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """Return the best trial, or raise when no trial completed, with the most common failure."""
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.COMPLETE for t in trials):
        return best_trial(study)
    reasons = [t.user_attrs.get(ledger.FAIL_REASON, "unknown") for t in trials]
    if not reasons:
        raise HarnessError(f"study {study.study_name!r} ran no trial: raise --trials or --timeout")
    common = max(set(reasons), key=reasons.count)
    raise HarnessError(
        f"all {len(trials)} trials of study {study.study_name!r} failed or were pruned; "
        f"most often ({reasons.count(common)}x): {common}"
    )


MODEL_FORMAT = "harness-model/1"
"""The ``format`` entry of a model card; ``predict`` refuses a model file without it."""
CARD_ATTRIBUTE = "harness_card_"
"""The saved pipeline's attribute holding its card, so the pickle describes itself."""
PICKLE_WARNING = (
    "a joblib pickle: loading it runs code from the file, so load only model files you trust"
)
_VERSIONED = ("torch", "skorch", "sklearn", "optuna", "numpy", "pandas", "imblearn")


def save_model(model: Any, path: Path, card: dict[str, Any] | None = None) -> Path:
    """Save a fitted pipeline with joblib and return its path.

    With a ``card`` (see :func:`model_card`), the card is attached to the
    pipeline as ``harness_card_`` and written beside it as ``<name>.json``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if card is not None:
        setattr(model, CARD_ATTRIBUTE, card)
        path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    joblib.dump(model, path)
    return path


def versions() -> dict[str, str]:
    """Python's and the main libraries' versions, for a model card."""
    import importlib
    import platform

    from harness._version import __version__

    found = {"harness": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        found[name] = str(getattr(importlib.import_module(name), "__version__", "unknown"))
    return found


def data_checksums(dataset: Any) -> dict[str, Any]:
    """The training rows' identity: name, source, row count, sha256 of the rows (and the file)."""
    import hashlib

    import pandas as pd

    from harness.data.datasets import file_sha256

    frame = pd.concat([dataset.X, dataset.y], axis=1)
    rows = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    found: dict[str, Any] = {
        "name": dataset.name,
        "source": dataset.source,
        "train_rows": dataset.n_samples,
        "train_rows_sha256": rows.hexdigest(),
    }
    if Path(dataset.source).is_file():
        found["file_sha256"] = file_sha256(dataset.source)
    return found


def model_card(
    which: str,
    study: optuna.Study,
    spec: Any,
    holdout: dict[str, Any],
    config: dict[str, Any],
    cv: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON card saved beside a model: what it is, how it scored, what it was trained on.

    Parameters
    ----------
    which : str
        The model's name in the held-out results (``"tuned MLP"``, ``"baseline MLP"``).
    study : optuna.Study
        The study the model comes from.
    spec : StudySpec
        The study's specification (its ``dataset`` is the training part).
    holdout : dict
        The model's entry of the held-out results.
    config : dict
        The configuration the model was built from.
    cv : dict or None
        ``{"metric", "mean", "std", "folds", "trial"}`` of its cross-validation, None
        when it was not cross-validated.
    """
    from datetime import UTC, datetime

    from harness.data.schema import FeatureSchema
    from harness.study.storage import redact_password

    return {
        "format": MODEL_FORMAT,
        "model": which,
        "warning": PICKLE_WARNING,
        "study": study.study_name,
        "storage": redact_password(spec.storage),
        "strategy": spec.strategy,
        "seed": spec.seed,
        "config": ledger.config_to_json(config),
        "cv": cv,
        "holdout": {
            "scores": holdout["scores"],
            "train_rows": holdout.get("train_rows", spec.dataset.n_samples),
            "test_size": spec.test_size,
        },
        "schema": FeatureSchema.of(spec.dataset).to_json(),
        "data": data_checksums(spec.dataset),
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save_models(study: optuna.Study, spec: Any, refit: Any, directory: Path) -> dict[str, Path]:
    """Save the tuned and the baseline pipeline of ``run``, each with its card.

    Returns ``{"tuned MLP": path, "baseline MLP": path}``; the baseline is
    ``<study>-baseline.joblib`` beside ``<study>.joblib``.
    """
    from harness.model.families import family_of
    from harness.study.holdout import BASELINE, TUNED

    best = best_trial(study)
    folds = best.user_attrs.get(ledger.FOLD_SCORES, {}).get(spec.metric, [])
    cv = {
        "metric": spec.metric,
        "mean": float(np.mean(folds)) if folds else None,
        "std": float(np.std(folds)) if folds else None,
        "folds": folds,
        "trial": best.number,
    }
    tuned_card = model_card(
        TUNED, study, spec, refit.results[TUNED], ledger.effective_config(best), cv
    )
    paths = {TUNED: save_model(refit.tuned, directory / f"{study.study_name}.joblib", tuned_card)}
    if refit.baseline_model is not None:
        card = model_card(
            BASELINE,
            study,
            spec,
            refit.results[BASELINE],
            family_of(ledger.stored_config(best)).baseline_config(),
            None,
        )
        path = directory / f"{study.study_name}-baseline.joblib"
        paths[BASELINE] = save_model(refit.baseline_model, path, card)
    return paths


SUMMARY_STATES = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def state_counts(study: optuna.Study) -> str:
    """Every trial of ``study`` counted by state, e.g. ``28 complete, 0 pruned, 2 fail (2 lost
    with their worker and queued again), 0 running, 0 waiting``."""
    trials = study.get_trials(deepcopy=False)
    states = [t.state for t in trials]
    lost = len(ledger.lost_numbers(trials))
    counts = []
    for state in SUMMARY_STATES:
        text = f"{states.count(state)} {state.name.lower()}"
        if state == TrialState.FAIL and lost:
            text += f" ({lost} lost with their worker and queued again)"
        counts.append(text)
    return ", ".join(counts)


def shown_name(name: str, family: str = "mlp") -> str:
    """A stored model name as printed: ``tuned MLP`` is ``tuned LSTM`` for the lstm family."""
    return name.replace("MLP", family.upper()) if family != "mlp" else name


def holdout_table(holdout: dict[str, dict[str, Any]], family: str = "mlp") -> str:
    """Return the before/after table of held-out test scores (GitHub Markdown)."""
    frame = ledger.holdout_frame(holdout)
    rows = [
        [shown_name(name, family), *scores, holdout[name].get("train_rows")]
        for name, scores in zip(frame.index, frame.to_numpy().tolist(), strict=True)
    ]
    headers = ["model", *frame.columns, "fit rows"]
    return tabulate(rows, headers=headers, tablefmt="github", floatfmt=".4f", missingval="-")


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
    rows = {name: result.get("train_rows") for name, result in holdout.items()}
    most = max((n for n in rows.values() if n is not None), default=None)
    for count in sorted({n for n in rows.values() if n is not None and n != most}):
        names = [name for name, n in rows.items() if n == count]
        notes.append(
            f"Fitted on a stratified, seeded subsample of {count:,} of the {most:,} training "
            f"rows: {', '.join(names)}."
        )
    tables = {
        "best-trials": study_leaderboard(frame, k=k),
        "held-out-test": baselines_table(ledger.holdout_frame(holdout)),
    }
    figures = {}
    objectives = stored_objectives(study)
    if len(objectives) > 1:
        from harness.results.pareto import front_table, pareto_figure

        notes.append(
            f"Several objectives: {', '.join(objectives)}; `best-trials` ranks by the first. "
            f"The tuned model is trial {best_trial(study).number}, the front's best by it."
        )
        tables["pareto_front"] = front_table(frame, objectives)
        figures["pareto_front"] = pareto_figure(
            frame, objectives, title=f"{study.study_name}: {objectives[0]} against {objectives[1]}"
        )
    return write_leaderboard(tables, directory, study.study_name, notes, figures)[0]


def _interval(low: float, high: float) -> str:
    return "" if np.isnan(low) else f" [{low:.4f}, {high:.4f}]"


def model_lines(study: optuna.Study, metric: str, family: str = "mlp") -> list[str]:
    """Tuned, baseline and best reference on the held-out rows, paired, and the model to deploy.

    The best reference is the one with the best CV score on the study's folds
    (held-out scores where none was cross-validated). The model to deploy is
    :func:`harness.study.holdout.model_choice`'s: chosen by CV, confirmed (or not)
    by the held-out rows. Where the tuned model is not better, the lines say so.
    """
    from harness.results.generalization import holdout_confirmation, holdout_table
    from harness.study.holdout import BASELINE, TUNED, model_choice

    holdout = ledger.stored_holdout(study)
    if TUNED not in holdout:
        return []
    sign = 1.0 if get_metric(metric).greater_is_better else -1.0
    choice = model_choice(study)
    references = [n for n in holdout if n not in (TUNED, BASELINE)]
    if choice is not None and any(n in choice.cv for n in references):
        best = next(n for n in choice.cv if n in references)
        how = "best reference by CV"
    else:
        best = max(references, key=lambda n: sign * holdout[n]["scores"][metric], default=None)
        how = "best reference on the held-out rows (no reference was cross-validated)"
    table = holdout_table(holdout, TUNED, (metric,)).set_index("model")
    shown = [TUNED, BASELINE, *([best] if best else [])]
    n_rows = int(table.loc[TUNED, "rows"]) if not np.isnan(table.loc[TUNED, "rows"]) else None
    lines = [
        f"\nheld-out {metric}"
        + (f" on {n_rows} rows" if n_rows else "")
        + " (95% bootstrap intervals over the rows; differences paired on the same rows):"
    ]
    for name in shown:
        row = table.loc[name]
        label = shown_name(name, family) + (f" ({how})" if name == best else "")
        text = f"  {label}: {row['score']:.4f}{_interval(row['ci_low'], row['ci_high'])}"
        if name != TUNED and not np.isnan(row["tuned_minus"]):
            text += (
                f"; tuned minus it {row['tuned_minus']:+.4f}"
                f"{_interval(row['tuned_minus_low'], row['tuned_minus_high'])}"
            )
        lines.append(text)
    tuned_name = shown_name(TUNED, family)
    refitted = study.user_attrs.get(ledger.HOLDOUT_TRIAL)
    is_baseline = any(t.number == refitted for t in ledger.baseline_points(study))
    if is_baseline:
        lines.append(
            f"The {tuned_name} is the baseline configuration: no trial beat the baseline point "
            "in CV, so the search kept it."
        )
    for name in shown[1 if not is_baseline else 2 :]:
        row = table.loc[name]
        difference = sign * (holdout[TUNED]["scores"][metric] - row["score"])
        if difference <= 0:
            separated = not np.isnan(row["tuned_minus_low"]) and (
                row["tuned_minus_high"] < 0 if sign > 0 else row["tuned_minus_low"] > 0
            )
            lines.append(
                f"The {tuned_name} is not better than the {shown_name(name, family)} on the "
                f"held-out rows ({metric} {difference * sign:+.4f}"
                + ("; the paired interval excludes 0" if separated else "; within the noise")
                + ")."
            )
    if choice is not None:
        chosen = shown_name(choice.chosen, family)
        lines.append(
            f"deploy: {chosen}, the best mean {len(choice.folds[choice.chosen])}-fold CV "
            f"{metric} on the search rows ({choice.cv[choice.chosen]:.4f}) among "
            f"{len(choice.cv)} candidates (the tuned model, the baseline, the references and "
            "the ensembles with trees); the held-out rows play no part in the choice."
        )
        confirmation = holdout_confirmation(holdout, choice.chosen, list(choice.cv), metric)
        if confirmation is not None:
            lines.append(confirmation.sentence(lambda name: shown_name(name, family)))
        if choice.chosen == TUNED:
            lines.append(f"The {tuned_name} is the best model of any kind in CV.")
        else:
            lines.append(
                f"The {tuned_name} is {choice.gap:.4f} behind it in CV ({choice.cv[TUNED]:.4f})."
            )
    return lines


def front_text(study: optuna.Study) -> str:
    """The Pareto front of a study of several objectives, as printed after a run.

    One row per trial on the front (:func:`harness.study.objectives.pareto_front`),
    by the first objective (best first): each objective's value, the metric's fold
    SD, and the searched parameters (the leaderboard's table has the fixed ones too).
    """
    from harness.results.pareto import front_table

    objectives = stored_objectives(study)
    front = pareto_front(study)
    table = front_table(ledger.trials_frame([study]), objectives)
    searched = {f"param_{name}" for trial in front for name in trial.params}
    table = table[[c for c in table.columns if not c.startswith("param_") or c in searched]]
    table.columns = [c.removeprefix("param_") for c in table.columns]
    directions = ", ".join(
        f"{name} {'max' if d == optuna.study.StudyDirection.MAXIMIZE else 'min'}"
        for name, d in zip(objectives, study.directions, strict=True)
    )
    return (
        f"Pareto front ({directions}): {len(front)} of "
        f"{sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))} "
        "complete trials, none beaten on every objective by another\n"
        + tabulate(table, headers="keys", tablefmt="github", showindex=False, floatfmt=".4g")
    )


def print_summary(
    study: optuna.Study,
    spec: Any,
    holdout: dict[str, dict[str, Any]],
    wall_seconds: float,
    model_paths: dict[str, Path],
    leaderboard_path: Path,
) -> None:
    """Print the end-of-run summary: best configuration, CV and test scores, baselines."""
    best = best_trial(study)
    folds = best.user_attrs.get(ledger.FOLD_SCORES, {}).get(spec.metric, [])
    config = ledger.effective_config(best)  # the imbalance strategy that ran (issue 20)
    print(f"\nstudy {study.study_name!r} ({spec.strategy}, seed {spec.seed}) in {spec.storage}")
    print(f"trials: {state_counts(study)}; this run took {wall_seconds:.1f} s")
    if len(study.directions) > 1:
        print(front_text(study))
    print(
        f"best trial #{best.number}: CV {spec.metric} {np.mean(folds):.4f} "
        f"+/- {np.std(folds):.4f} over {len(folds)} folds"
        + (" (the front's most accurate: refitted below)" if len(study.directions) > 1 else "")
    )
    print(tabulate(sorted(config.items()), headers=["parameter", "value"], tablefmt="github"))
    print(f"\nheld-out test split ({len(spec.dataset.y)} training rows searched):")
    family = config.get("family", "mlp")
    print(holdout_table(holdout, family))
    baseline = study.user_attrs.get(ledger.BASELINE_CV, {}).get(spec.metric)
    if baseline:
        print(
            f"baseline in CV (same folds): {spec.metric} {np.mean(baseline):.4f}; "
            + (
                "the search evaluated it first, so the tuned CV score is at least it"
                if ledger.baseline_points(study)
                else "the space does not hold the baseline configuration, so the search may "
                "end below it"
            )
        )
    for line in model_lines(study, spec.metric, family):
        print(line)
    print(f"\nleaderboard: {leaderboard_path}")
    for which, path in model_paths.items():
        print(f"{shown_name(which, family)}: {path} (card: {path.with_suffix('.json')})")
    first = next(iter(model_paths.values()))
    if spec.dataset.task == "regression":
        print(
            "forecast: joblib.load(path).predict(X) on the rows that directly follow the "
            "training rows, each forecast from the rows before it (model files are pickles: "
            "load only files you trust)"
        )
    else:
        print(
            f"score new rows: python -m harness predict --model {shlex.quote(str(first))} "
            "--data new.csv; "
            f"or joblib.load(path).predict(X) on raw features (model files are pickles: "
            "load only files you trust)"
        )
    print(f"dashboard: optuna-dashboard {shlex.quote(spec.storage)}")
