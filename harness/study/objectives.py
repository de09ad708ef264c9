"""Several objectives: a score against costs, and the Pareto front of the trials.

A study has one objective (a metric, as before) or several: the first is a
metric, the others costs of the configuration that ran (:data:`COSTS`), each
minimised. Directions follow from the objectives, never from the user. The
study is an Optuna multi-objective study (``directions=``); every trial stores
its objective values, and the Pareto front is :attr:`optuna.Study.best_trials`.

Examples
--------
>>> parse_objectives("f1_macro,fit_seconds", "classification")
('f1_macro', 'fit_seconds')
>>> directions(("f1_macro", "fit_seconds"))
['maximize', 'minimize']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from harness.errors import ConfigError, StrategyError, listed
from harness.study.metrics import get_metric

COSTS: dict[str, str] = {
    "fit_seconds": "wall seconds the trial spent fitting, summed over its folds",
    "predict_seconds": "wall seconds the trial spent predicting, summed over its folds",
    "n_params": "trainable weights of the configuration's network on the search rows",
}
"""The costs a study may minimise beside its metric, with what each one counts."""


def parse_objectives(text: str | Sequence[str], task: str | None = None) -> tuple[str, ...]:
    """Return the objectives named in ``text`` (``"f1_macro,fit_seconds"``), checked.

    Parameters
    ----------
    text : str or sequence of str
        Comma-separated names, or the names: first a metric of ``task``, then
        any of :data:`COSTS`, each at most once.
    task : {"classification", "regression"} or None, default=None
        The dataset's task (the metric must be one of its metrics); None: any task.

    Raises
    ------
    ConfigError
        For an empty list, an unknown or repeated name, a cost first or a
        metric after the first.
    """
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    if not names or any(not n for n in names):
        raise ConfigError(
            f"objectives {text!r} name no objective: give a metric first, then costs, "
            "e.g. --objectives f1_macro,fit_seconds"
        )
    if names[0] in COSTS:
        raise ConfigError(
            f"the first objective must be a metric, got the cost {names[0]!r}: "
            f"e.g. --objectives f1_macro,{names[0]}"
        )
    get_metric(names[0], task)  # an unknown metric raises, naming the valid ones
    others = [n for n in names[1:] if n not in COSTS]
    if others:
        raise ConfigError(
            f"objectives after the first must be costs, got {listed(map(repr, others))}: "
            f"choose from {', '.join(COSTS)}"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(
            f"objective(s) {listed(map(repr, repeated))} given twice: name each objective once"
        )
    return tuple(names)


def directions(objectives: Sequence[str]) -> list[str]:
    """Optuna's direction of each objective: the metric's own, ``"minimize"`` for a cost."""
    return [
        "minimize" if name in COSTS or not get_metric(name).greater_is_better else "maximize"
        for name in objectives
    ]


def is_multi_objective(objectives: Sequence[str]) -> bool:
    """Whether ``objectives`` holds more than the metric."""
    return len(objectives) > 1


def check_multi_objective(
    objectives: Sequence[str],
    strategy: Any,
    *,
    batch: int = 1,
    pruner: str = "none",
    family: str = "mlp",
) -> None:
    """Refuse what cannot run with several objectives, before anything is stored.

    Parameters
    ----------
    objectives : sequence of str
        From :func:`parse_objectives`.
    strategy : Strategy
        The registered strategy (its ``multi_objective`` flag).
    batch : int, default=1
        ``run --batch``: a population batch tells one value per trial, so only 1.
    pruner : str, default="none"
        Optuna's pruners compare one intermediate value: only ``"none"``.
    family : str, default="mlp"
        ``n_params`` is counted for the MLP family only.

    Raises
    ------
    StrategyError
        For a strategy that searches one objective only.
    ConfigError
        For a batch, a pruner, or ``n_params`` of another family; each message names
        the problem and the fix.
    """
    if not is_multi_objective(objectives):
        return
    if not strategy.multi_objective:
        from harness.search.strategies import list_strategies

        able = [s.name for s in list_strategies() if s.multi_objective]
        raise StrategyError(
            f"strategy {strategy.name!r} cannot search {len(objectives)} objectives: use one "
            f"of {', '.join(able)} (see `harness strategies`), or one objective"
        )
    if batch != 1:
        raise ConfigError(
            f"--batch {batch} does not run with several objectives (a batch tells one value "
            "per trial): leave --batch at 1, or use one objective"
        )
    if pruner != "none":
        raise ConfigError(
            f"pruner {pruner!r} compares one objective and Optuna cannot prune a "
            "multi-objective study: use --pruner none, or one objective"
        )
    if "n_params" in objectives and family != "mlp":
        raise ConfigError(
            f"n_params is counted for the mlp family's network, not {family!r}: "
            "use fit_seconds or predict_seconds"
        )


def objective_values(
    objectives: Sequence[str],
    fold_scores: Mapping[str, Sequence[float]],
    fit_seconds: Sequence[float],
    predict_seconds: Sequence[float],
    n_params: int | None,
) -> list[float]:
    """The values a trial reports: the metric's mean over folds, then each cost.

    Parameters
    ----------
    objectives : sequence of str
        The study's objectives.
    fold_scores : mapping
        ``{metric: [score per fold]}``.
    fit_seconds, predict_seconds : sequence of float
        Per-fold timings (summed).
    n_params : int or None
        The network's weight count (needed when ``n_params`` is an objective).
    """
    costs = {
        "fit_seconds": float(np.sum(fit_seconds)),
        "predict_seconds": float(np.sum(predict_seconds)),
        "n_params": float("nan") if n_params is None else float(n_params),
    }
    metric, *rest = objectives
    return [float(np.mean(fold_scores[metric])), *(costs[name] for name in rest)]


def network_size(config: Mapping[str, Any], n_features: int, n_classes: int) -> int:
    """Trainable weights of ``config``'s network for ``n_features`` inputs and ``n_classes``.

    Counted from the configuration that ran (the MLP family's
    :meth:`harness.MLPClassifier.n_parameters`), without training.
    """
    from harness.model.families import family_of, without_family

    estimator = family_of(config).estimator_class()
    params = {k: v for k, v in without_family(config).items() if k != "imbalance"}
    return estimator(**params).n_parameters(n_features, n_classes)


def preprocessed_width(dataset: Any) -> int:
    """Columns of ``dataset``'s rows after preprocessing (scaling, one-hot encoding), fitted
    on all its rows: the input width of the network every fold trains."""
    from harness.data.preprocessing import build_preprocessor

    return int(build_preprocessor(dataset).fit_transform(dataset.X).shape[1])


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """The complete trials no other complete trial beats on every objective, by number.

    :attr:`optuna.Study.best_trials` (Optuna's own dominance); a single-objective
    study's front is its best trial.
    """
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return []
    return sorted(study.best_trials, key=lambda t: t.number)


def best_trial(study: optuna.Study) -> FrozenTrial:
    """The trial a study's tuned model is refitted from.

    With one objective, :attr:`optuna.Study.best_trial`. With several, the
    member of the Pareto front with the best first objective (the metric; the
    lowest number among ties): the most accurate configuration that nothing
    beats on every objective.

    Raises
    ------
    ValueError
        When no trial is complete (as :attr:`optuna.Study.best_trial` does).
    """
    if len(study.directions) == 1:
        return study.best_trial
    front = pareto_front(study)
    if not front:
        raise ValueError("no trial is complete")
    sign = 1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return max(front, key=lambda t: (sign * t.values[0], -t.number))


def stored_objectives(study: optuna.Study) -> tuple[str, ...]:
    """The objectives a study was made with: its ``objectives`` attribute, else its metric."""
    from harness.study import ledger

    stored = study.user_attrs.get(ledger.OBJECTIVES)
    if stored:
        return tuple(stored)
    return (study.user_attrs.get(ledger.METRIC, "f1_macro"),)
