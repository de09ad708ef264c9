"""After the search: the best configuration and the baselines, scored on the held-out test rows."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from sklearn.base import is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.data.splits import make_folds, sample_positions, stratified_subsample
from harness.errors import ConfigError
from harness.model.ensemble_pipeline import TREES, VOTING, ensemble_models
from harness.model.families import DEFAULT_FAMILY, family_of, get_family
from harness.model.forecasters import LastValueForecaster, WindowedRegressor
from harness.model.pipeline import build_pipeline
from harness.study import ledger
from harness.study.evaluation import fit_and_score
from harness.study.metrics import get_metric, score_predictions, score_regression
from harness.study.objectives import best_trial

TUNED = "tuned MLP"
BASELINE = "baseline MLP"
MAJORITY = "majority class"
NAIVE = "naive last value"
REQUIRED = (TUNED, BASELINE)
"""The held-out models whose failure stops the refit; the references and ensembles are optional."""

REFERENCE_ROW_CAP = 20_000
"""Most training rows the baseline MLP and the k-nearest-neighbours, random-forest and
logistic-regression references are fitted on: above it they get a stratified, seeded subsample
of that many rows; the references' names in every table say so (``"random forest (20,000-row
subsample)"``) and every entry stores its ``train_rows``. At a million rows they would otherwise
take far longer than the search (the baseline's 100 epochs at batch 32, k-NN's quadratic
scoring). The tuned MLP and the majority class always use every training row."""
STORED_ROWS = 10_000
"""Most held-out rows whose labels, predictions and probabilities are stored with the study
(above it, a seeded random sample of them, in test order); the scores use every row."""
IMPORTANCE_ROWS = 5_000
"""Most held-out rows the permutation importance is computed on (a seeded random sample)."""
IMPORTANCE_REPEATS = 10
PROBA_DECIMALS = 6
"""Decimals of the stored forecasts and permutation importances."""
PROBA_DIGITS = 7
"""Significant digits of the stored probabilities: a probability of 1e-9 stays 1e-9 (six
decimals made it 0, and the log loss of the stored rows then differed from the score)."""


def significant(values: np.ndarray, digits: int = PROBA_DIGITS) -> list:
    """``values`` as nested lists of floats rounded to ``digits`` significant digits."""
    array = np.asarray(values, dtype=float)
    rounded = np.array([float(f"{value:.{digits}g}") for value in array.ravel()])
    return rounded.reshape(array.shape).tolist()


def baseline_models(
    train: Dataset,
    seed: int,
    reference_rows: int | None = REFERENCE_ROW_CAP,
    family: str = DEFAULT_FAMILY,
) -> dict[str, Any]:
    """Return the unfitted baselines: the family's unoptimized model, then the references.

    Every one starts with the same per-fold preprocessing as the tuned pipeline.

    Parameters
    ----------
    train : Dataset
        The rows the models will be fitted on.
    seed : int
        Seed of every model.
    reference_rows : int or None
        With more training rows than this, the baseline MLP and the
        k-nearest-neighbours, random-forest and logistic-regression references
        are fitted by :func:`score_on_holdout` on a subsample of that many rows
        (see :data:`REFERENCE_ROW_CAP`); the references' names say so, the
        baseline keeps its name and ``train_rows`` records it. None fits them on
        every row.
    family : str, default="mlp"
        The model family whose baseline configuration is fitted.

    A time series gets :func:`regression_baselines` instead.
    """
    if train.task == "regression":
        return regression_baselines(train, seed, family)
    capped = reference_rows is not None and train.n_samples > reference_rows
    suffix = f" ({reference_rows:,}-row subsample)" if capped else ""
    references = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        f"logistic regression{suffix}": LogisticRegression(max_iter=5000),
        f"random forest{suffix}": RandomForestClassifier(
            n_estimators=300, random_state=seed, n_jobs=1
        ),
        f"k-nearest neighbours{suffix}": KNeighborsClassifier(n_neighbors=9),
    }
    baseline = build_pipeline(
        get_family(family).baseline_config(), train, train.y.to_numpy(), random_state=seed
    )
    if capped:
        # 100 epochs at batch 32 is 2.5 million steps on 800,000 rows: the baseline MLP gets the
        # subsample too, under its usual name (the report looks it up), with train_rows stored.
        baseline.subsample_rows_ = reference_rows
    models: dict[str, Any] = {BASELINE: baseline}
    for name, model in references.items():
        pipeline = Pipeline([("preprocess", build_preprocessor(train)), ("model", model)])
        if capped and name != MAJORITY:
            pipeline.subsample_rows_ = reference_rows
        models[name] = pipeline
    return models


def regression_baselines(train: Dataset, seed: int, family: str) -> dict[str, Any]:
    """The unfitted baselines of a time series: the family's unoptimized model and two forecasts.

    The naive forecast predicts each step with the value of the step before;
    the linear autoregression is a ridge regression on the same look-back
    window as the family's baseline (its ``window``, else 12 steps) over the
    same scaled columns. All three forecast each held-out step from the true
    values up to the step before, as the tuned model does. Time series are
    never subsampled.
    """
    config = get_family(family).baseline_config()
    window = int(config.get("window", 12))
    return {
        BASELINE: build_pipeline(config, train, train.y.to_numpy(), random_state=seed),
        NAIVE: Pipeline([("model", LastValueForecaster(column=train.target))]),
        f"linear autoregression (window {window})": Pipeline(
            [("preprocess", build_preprocessor(train)), ("model", WindowedRegressor(window))]
        ),
    }


def score_on_holdout(
    models: Mapping[str, Any],
    train: Dataset,
    test: Dataset,
    seed: int = 0,
    *,
    failures: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit each model on the training rows and score it on the held-out rows.

    A model carrying ``subsample_rows_`` (see :func:`baseline_models`) is fitted
    on a stratified subsample of that many training rows, seeded by ``seed``.

    With ``failures`` (a dict, filled in place), a model other than the tuned and
    the baseline one (:data:`REQUIRED`) whose fit or scoring raises is left out of
    the results and its reason stored there, ``{name: "ValueError: ..."}``: an
    optional reference never costs the others their results. Without it, the
    error propagates.

    Returns
    -------
    dict
        ``{model name: {"scores": {metric: value}, "labels": [...], "confusion": [[...]],
        "fit_seconds": float, "history": [{"epoch", "train_loss", ...}],
        "train_rows": int, "predicted": [...], "proba": [[...]], "n_parameters": int}}``
        in the order of ``models``; ``history`` is the networks' learning curve, empty
        for the other models; ``n_parameters`` (networks only) their trainable
        parameter count; ``predicted`` (labels) and ``proba`` (one row per held-out row,
        columns in the order of ``labels``, to 7 significant digits) cover the held-out
        rows of :func:`sample_positions` (every row up to :data:`STORED_ROWS`), in test
        order. The models are fitted in place.
    """
    results = {}
    stored = sample_positions(test.n_samples, STORED_ROWS, seed)
    for name, model in models.items():
        try:
            # One OpenMP thread, as trials train with one torch thread: gradient boosting's
            # OpenMP threads spin against the other processes of a busy machine (its 100 trees
            # on teleconnect took 21 s instead of 1.7 s at a load average of 12; the stacking
            # fits them six times). Per-tree and per-feature work: the same numbers.
            with threadpool_limits(limits=1, user_api="openmp"):
                results[name] = _fit_and_score(model, train, test, seed, stored)
        except Exception as error:  # any library's error: the reason is recorded, not lost
            if failures is None or name in REQUIRED:
                raise
            failures[name] = f"{type(error).__name__}: {' '.join(str(error).split())}"
    return results


def _fit_and_score(
    model: Any, train: Dataset, test: Dataset, seed: int, stored: np.ndarray
) -> dict[str, Any]:
    """One model's held-out entry (see :func:`score_on_holdout`); fits ``model`` in place."""
    rows = getattr(model, "subsample_rows_", None)
    fit_on = train if rows is None else stratified_subsample(train, rows, seed)
    # fit_and_score's steps, keeping the probabilities: k-NN scoring is the costly part.
    started = time.perf_counter()
    model.fit(fit_on.X, fit_on.y.to_numpy())
    fit_seconds = time.perf_counter() - started
    if is_regressor(model):
        return _forecast_result(model, test, fit_seconds, fit_on.n_samples, stored)
    y_test = test.y.to_numpy()
    labels = model.classes_
    proba = model.predict_proba(test.X)
    predicted = labels[np.argmax(proba, axis=1)]
    result = {
        "scores": score_predictions(y_test, predicted, proba, labels),
        "labels": [_plain(label) for label in labels],
        "confusion": confusion_matrix(y_test, predicted, labels=labels).tolist(),
        "fit_seconds": fit_seconds,
        "history": _history(model),
        "train_rows": fit_on.n_samples,
        "predicted": [_plain(label) for label in predicted[stored]],
        "proba": significant(proba[stored]),
    }
    n_parameters = getattr(model[-1], "n_parameters_", None)
    if n_parameters is not None:  # the networks' trainable parameter count
        result["n_parameters"] = int(n_parameters)
    return result


def _forecast_result(
    model: Any, test: Dataset, fit_seconds: float, train_rows: int, stored: np.ndarray
) -> dict[str, Any]:
    """A fitted regressor's held-out entry: scores, learning curve and per-row forecasts."""
    predicted = np.asarray(model.predict(test.X), dtype=float)
    return {
        "scores": score_regression(test.y.to_numpy(), predicted),
        "fit_seconds": fit_seconds,
        "history": _history(model),
        "train_rows": train_rows,
        "predicted": np.round(predicted[stored], PROBA_DECIMALS).tolist(),
    }


def holdout_importance(
    model: Any, test: Dataset, metric: str, seed: int, *, rows: int = IMPORTANCE_ROWS
) -> dict[str, Any]:
    """Permutation importance of a fitted pipeline's original feature columns on held-out rows.

    Each column of (at most ``rows``, :func:`sample_positions`) held-out rows is shuffled
    :data:`IMPORTANCE_REPEATS` times (seeded) and the drop of ``metric`` is
    measured (:func:`sklearn.inspection.permutation_importance`); a positive
    mean is a feature the model relies on.

    Returns
    -------
    dict
        ``{"metric", "n_repeats", "n_rows", "seed", "features": {column: {"mean", "std"}}}``,
        features in decreasing order of mean importance.
    """
    spec = get_metric(metric)
    sign = 1.0 if spec.greater_is_better else -1.0
    labels = model.classes_

    def scorer(estimator: Any, X: Any, y: Any) -> float:
        proba = estimator.predict_proba(X)
        predicted = labels[np.argmax(proba, axis=1)]
        return sign * score_predictions(np.asarray(y), predicted, proba, labels)[metric]

    positions = sample_positions(test.n_samples, rows, seed)
    X, y = test.X.iloc[positions], test.y.to_numpy()[positions]
    found = permutation_importance(
        model, X, y, scoring=scorer, n_repeats=IMPORTANCE_REPEATS, random_state=seed, n_jobs=1
    )
    order = np.argsort(-found.importances_mean, kind="stable")
    features = {
        str(X.columns[i]): {
            "mean": round(float(found.importances_mean[i]), PROBA_DECIMALS),
            "std": round(float(found.importances_std[i]), PROBA_DECIMALS),
        }
        for i in order
    }
    return {
        "metric": metric,
        "n_repeats": IMPORTANCE_REPEATS,
        "n_rows": len(y),
        "seed": seed,
        "features": features,
    }


HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "valid_acc")


def _history(model: Any) -> list[dict[str, float]]:
    """Per-epoch losses of an MLP pipeline's final step (empty for other models)."""
    net = getattr(model[-1], "net_", None)
    if net is None:
        return []
    return [{k: _plain(row[k]) for k in HISTORY_KEYS if k in row} for row in net.history]


def with_trees(
    config: Mapping[str, Any],
    train: Dataset,
    seed: int,
    reference_rows: int | None = REFERENCE_ROW_CAP,
) -> dict[str, Any]:
    """The tuned MLP with gradient boosting, and the trees alone (unfitted).

    :func:`harness.model.ensemble_pipeline.ensemble_models`: soft voting, stacking and the
    trees alone, the trees with fixed settings seeded by ``seed``. Above
    ``reference_rows`` training rows they are fitted on the references'
    subsample and named so, like the references of :func:`baseline_models`
    (stacking alone fits the network six times).
    """
    capped = reference_rows is not None and train.n_samples > reference_rows
    models = {}
    for name, model in ensemble_models(config, train, seed).items():
        if capped:
            model.subsample_rows_ = reference_rows
            name = f"{name} ({reference_rows:,}-row subsample)"
        models[name] = model
    return models


@dataclass
class HoldoutRefit:
    """What :func:`refit_best` produced.

    Attributes
    ----------
    results : dict
        See :func:`score_on_holdout`: the tuned MLP first, then the baselines, then
        (for an MLP study) the ensembles of :func:`with_trees`.
    tuned : Pipeline
        The tuned pipeline, fitted on all training rows.
    baselines : dict
        The baselines' part of ``results``; pass it to the next :func:`refit_best`
        of a comparison, whose studies share the task, so the baselines are fitted once.
    baseline_model : Pipeline or None
        The unoptimized baseline MLP, fitted on all training rows; None when the
        baselines came from an earlier refit.
    failures : dict
        ``{model: reason}`` of the optional models that could not be fitted or
        scored here (left out of ``results``, stored as ``holdout_failures``).
    """

    results: dict[str, dict[str, Any]]
    tuned: Pipeline
    baselines: dict[str, dict[str, Any]]
    baseline_model: Pipeline | None = None
    failures: dict[str, str] = field(default_factory=dict)


_REFERENCE_CV: dict[tuple, dict[str, dict[str, list[float]]]] = {}
"""The task-level references' CV scores, once per process (a comparison's studies share them)."""


def cross_validate(
    models: Mapping[str, Any],
    train: Dataset,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    failures: dict[str, str] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Each model's per-fold scores (every metric) on ``folds`` of ``train``: a clone per fold.

    With ``failures`` (filled in place), a model whose fit or scoring raises is
    left out and its reason stored there, as in :func:`score_on_holdout`.

    Returns
    -------
    dict
        ``{model name: {metric: [score of fold 0, fold 1, ...]}}``.
    """
    from sklearn.base import clone

    X, y = train.X, train.y.to_numpy()
    scores: dict[str, dict[str, list[float]]] = {}
    for name, model in models.items():
        try:
            # One OpenMP thread, for the reason given in score_on_holdout.
            with threadpool_limits(limits=1, user_api="openmp"):
                results = [
                    fit_and_score(clone(model), X.iloc[tr], y[tr], X.iloc[te], y[te])
                    for tr, te in folds
                ]
        except Exception as error:  # any library's error: the reason is recorded, not lost
            if failures is None:
                raise
            reason = " ".join(str(error).split())
            failures.setdefault(name, f"cross-validation: {type(error).__name__}: {reason}")
            continue
        scores[name] = {m: [float(r.scores[m]) for r in results] for m in results[0].scores}
    return scores


def reference_cv(
    study: optuna.Study,
    train: Dataset,
    seed: int,
    config: Mapping[str, Any] | None = None,
    *,
    failures: dict[str, str] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """The references (and, given the tuned ``config``, its voting ensemble with trees and the
    trees alone) cross-validated on the study's own folds.

    The folds are :func:`~harness.data.splits.make_folds` of the search rows with
    the study's fold count, task seed and repeats: the ones every trial and the
    baseline in CV were scored on, so the comparison is paired. The stacking
    ensemble (six network fits per fold) and the baseline (its ``baseline_cv`` is
    stored already) are not refitted here; above :data:`REFERENCE_ROW_CAP` rows
    nothing is (the references' held-out fits are subsampled there). ``failures`` is
    passed to :func:`cross_validate`.
    """
    if train.n_samples > REFERENCE_ROW_CAP or train.task != "classification":
        return {}
    attrs = study.user_attrs
    n_folds, repeats = int(attrs.get(ledger.N_FOLDS, 5)), int(attrs.get(ledger.REPEATS, 1))
    folds = make_folds(train, n_folds, seed, repeats)
    key = (train.name, train.n_samples, n_folds, seed, repeats)
    if key not in _REFERENCE_CV:
        models = {n: m for n, m in baseline_models(train, seed).items() if n != BASELINE}
        # The trees alone do not depend on the network's configuration: the baseline's will do.
        trees = ensemble_models(get_family(DEFAULT_FAMILY).baseline_config(), train, seed)[TREES]
        models = {**models, TREES: trees}
        _REFERENCE_CV[key] = cross_validate(models, train, folds, failures=failures)
    scores = dict(_REFERENCE_CV[key])
    if config is not None and family_of(config).name == DEFAULT_FAMILY:
        voting = {VOTING: ensemble_models(config, train, seed)[VOTING]}
        scores.update(cross_validate(voting, train, folds, failures=failures))
    return scores


def refit_best(
    study: optuna.Study,
    train: Dataset,
    test: Dataset,
    seed: int,
    *,
    baselines: dict[str, dict[str, Any]] | None = None,
    importance: bool = True,
    ensembles: bool = True,
) -> HoldoutRefit:
    """Refit the study's best configuration and the baselines, score them on the held-out rows,
    and record the results with the study.

    With ``ensembles``, an MLP study's results also get the tuned configuration
    combined with gradient boosting (:func:`with_trees`); other families' do not.
    A comparison refits every study without them and adds them to the study
    its report shows only (:func:`add_ensembles`): stacking alone fits the
    network six times.

    Stored: the held-out results (:func:`score_on_holdout`), the true labels of
    the stored held-out rows once (``holdout_rows``), and the tuned model's
    permutation importance (``feature_importance``). A reference or ensemble that
    fails is left out, with its reason stored (``holdout_failures``); the others'
    results are kept.

    The one held-out step: ``run`` and ``compare`` both call it.

    Parameters
    ----------
    study : optuna.Study
        A study with at least one complete trial.
    train, test : Dataset
        The search rows and the held-out rows (see :func:`harness.holdout_split`).
    seed : int
        Seed of every model (the task seed).
    baselines : dict, optional
        :attr:`HoldoutRefit.baselines` of an earlier refit on the same task; fitted
        here when None.
    importance : bool, default=True
        Also compute and store the tuned model's permutation importance on the
        held-out rows (:func:`holdout_importance`).
    ensembles : bool, default=True
        Also score the tuned configuration's ensembles with trees.

    Returns
    -------
    HoldoutRefit
    """
    best = best_trial(study)  # with several objectives: the front's best by the metric
    config = ledger.effective_config(best)  # what the trial trained with (issue 20)
    tuned = build_pipeline(config, train, train.y.to_numpy(), seed)
    baseline_model = None
    failures: dict[str, str] = {}
    if baselines is None:
        models = baseline_models(train, seed, family=family_of(config).name)
        baselines = score_on_holdout(models, train, test, seed, failures=failures)
        baseline_model = models[BASELINE]
    results = {**score_on_holdout({TUNED: tuned}, train, test, seed), **baselines}
    with_ensembles = ensembles and family_of(config).name == DEFAULT_FAMILY
    if with_ensembles:
        trees = with_trees(config, train, seed)
        results.update(score_on_holdout(trees, train, test, seed, failures=failures))
    # The references in CV on the study's folds: the deployed model is chosen by them.
    ledger.record_reference_cv(
        study,
        reference_cv(study, train, seed, config if with_ensembles else None, failures=failures),
    )
    ledger.record_holdout(study, results, best.number, failures)
    stored = sample_positions(test.n_samples, STORED_ROWS, seed)
    ledger.record_holdout_rows(
        study,
        [_plain(label) for label in test.y.to_numpy()[stored]],
        [_plain(index) for index in test.y.index[stored]],
        test.n_samples,
    )
    # Permuting a column of a time series would also scramble the past windows: no importance.
    if importance and train.task == "classification":
        metric = study.user_attrs.get(ledger.METRIC, "f1_macro")
        ledger.record_feature_importance(study, holdout_importance(tuned, test, metric, seed))
    return HoldoutRefit(results, tuned, baselines, baseline_model, failures)


def add_ensembles(study: optuna.Study, train: Dataset, test: Dataset, seed: int) -> list[str]:
    """Add the refitted configuration's ensemble rows to a study's stored held-out results.

    The tuned MLP of the stored refit (``holdout_trial``) with gradient boosting
    (:func:`with_trees`), scored as :func:`refit_best` scores them; rows already
    stored are not fitted again, and other families get none.

    Returns
    -------
    list of str
        The names of the rows added (empty when there was nothing to add); one
        that fails is left out, its reason stored in ``holdout_failures``.
    """
    holdout = study.user_attrs.get(ledger.HOLDOUT)
    number = study.user_attrs.get(ledger.HOLDOUT_TRIAL)
    if not holdout or number is None:
        raise ConfigError(
            f"study {study.study_name!r} has no held-out results to extend: refit it first"
        )
    trial = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    config = ledger.effective_config(trial)
    if family_of(config).name != DEFAULT_FAMILY:
        return []
    missing = {n: m for n, m in with_trees(config, train, seed).items() if n not in holdout}
    if missing:
        failures = dict(study.user_attrs.get(ledger.HOLDOUT_FAILURES) or {})
        for name in missing:
            failures.pop(name, None)
        added = score_on_holdout(missing, train, test, seed, failures=failures)
        ledger.record_holdout(study, {**holdout, **added}, number, failures)
        missing = added
    if VOTING not in (study.user_attrs.get(ledger.REFERENCE_CV) or {}):
        failures = dict(study.user_attrs.get(ledger.HOLDOUT_FAILURES) or {})
        scores = reference_cv(study, train, seed, config, failures=failures)
        ledger.record_reference_cv(study, scores)
        if failures:
            study.set_user_attr(ledger.HOLDOUT_FAILURES, failures)
    return list(missing)


def _plain(value: Any) -> Any:
    # numpy scalars are not JSON-serialisable in study attributes.
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class ModelChoice:
    """The model to deploy, chosen by cross-validation on the study's folds.

    Attributes
    ----------
    chosen : str
        The model's name, as in the held-out results.
    metric : str
        The objective it was chosen by.
    cv : dict
        ``{model: mean CV score}`` of every candidate, best first.
    folds : dict
        ``{model: [score per fold]}`` of every candidate (the same folds).
    tuned : str
        The tuned model's name.
    missing : list of str
        Held-out models without a CV score, so not candidates (stacking: six
        network fits per fold).
    """

    chosen: str
    metric: str
    cv: dict[str, float]
    folds: dict[str, list[float]]
    tuned: str = TUNED
    missing: list[str] | None = None

    @property
    def gap(self) -> float:
        """How far the tuned model's CV score is from the chosen one's (>= 0: behind it)."""
        sign = 1.0 if get_metric(self.metric).greater_is_better else -1.0
        return sign * (self.cv[self.chosen] - self.cv[self.tuned])


def model_choice(study: optuna.Study) -> ModelChoice | None:
    """Choose the model to deploy as an AutoML system does: by CV on the same folds.

    The candidates are the refitted trial's configuration (the tuned model, its
    folds as stored with the trial), the family's baseline (``baseline_cv``) and the
    references and ensembles cross-validated at refit time (``reference_cv``); the
    best mean CV score of the study's metric wins, an exact tie going to the
    candidate listed first (tuned, baseline, then the references). The held-out
    rows play no part in the choice; `run` and the report say whether they agree.

    Returns None for a study without held-out results or CV scores of references.
    """
    attrs = study.user_attrs
    metric = attrs.get(ledger.METRIC)
    number = attrs.get(ledger.HOLDOUT_TRIAL)
    references = attrs.get(ledger.REFERENCE_CV) or {}
    if metric is None or number is None or not references:
        return None
    trial = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    folds = {TUNED: trial.user_attrs.get(ledger.FOLD_SCORES, {}).get(metric)}
    folds[BASELINE] = (attrs.get(ledger.BASELINE_CV) or {}).get(metric)
    folds.update({name: scores.get(metric) for name, scores in references.items()})
    folds = {name: list(values) for name, values in folds.items() if values}
    if TUNED not in folds:
        return None
    sign = 1.0 if get_metric(metric).greater_is_better else -1.0
    means = {name: float(np.mean(values)) for name, values in folds.items()}
    order = sorted(means, key=lambda name: -sign * means[name])  # stable: ties keep the order
    holdout = attrs.get(ledger.HOLDOUT) or {}
    missing = [name for name in holdout if name not in folds]
    return ModelChoice(
        chosen=order[0],
        metric=metric,
        cv={name: means[name] for name in order},
        folds={name: folds[name] for name in order},
        missing=missing,
    )
