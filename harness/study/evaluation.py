"""Evaluating one configuration: the same folds for everyone, every metric per fold.

:func:`evaluate_config` is the one entry point from a configuration and the
folds to per-fold results; the study loop and the held-out evaluation meet
here. It trains the K fold models as one batched network
(:mod:`harness.model.fold_trainer`) where it can, else one skorch fit per fold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import is_regressor

from harness.data.datasets import Dataset
from harness.data.splits import Fold
from harness.data.splits import make_folds as make_folds  # its home; kept for old imports
from harness.errors import ConfigError, choose
from harness.model.families import family_of
from harness.model.pipeline import build_pipeline
from harness.model.vocabulary import IMBALANCE
from harness.study.guards import TrialGuard, TrialStopped, check_progress
from harness.study.metrics import score_predictions, score_regression


@dataclass
class FoldResult:
    """Scores and timings of one fold."""

    scores: dict[str, float]
    fit_seconds: float
    predict_seconds: float
    resampling: str = "none"


@dataclass
class Evaluation:
    """Per-fold results of one configuration."""

    folds: list[FoldResult] = field(default_factory=list)
    trainer: str = "sequential"
    seconds: float = float("nan")

    def fold_scores(self) -> dict[str, list[float]]:
        """Return ``{metric: [score per fold]}``."""
        if not self.folds:
            return {}
        return {name: [f.scores[name] for f in self.folds] for name in self.folds[0].scores}

    def skipped_resampling(self) -> list[str]:
        """Why folds trained without their resampler, one entry each: ``"fold K: skipped: ..."``.

        The fold's index (from 0) leads each entry, so the ledger knows which folds
        ran the configured imbalance strategy (:func:`harness.study.ledger.imbalance_ran`).
        """
        return [
            f"fold {index}: {fold.resampling}"
            for index, fold in enumerate(self.folds)
            if fold.resampling.startswith("skipped")
        ]

    def imbalance_ran(self, config: Mapping[str, Any]) -> list[str]:
        """The imbalance strategy each fold trained with: the configured one, or ``"none"``
        where its resampler was skipped."""
        configured = config.get(IMBALANCE, "none")
        return [
            "none" if fold.resampling.startswith("skipped") else configured for fold in self.folds
        ]

    def mean(self, metric: str) -> float:
        """Return the mean of ``metric`` over the folds."""
        return float(np.mean([f.scores[metric] for f in self.folds]))


def fit_and_score(model, X_train, y_train, X_test, y_test) -> FoldResult:
    """Fit ``model`` on the training rows and score it on the test rows.

    A regressor is scored with the regression metrics (:func:`score_regression`).
    """
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fitted = time.perf_counter()
    if is_regressor(model):
        scores = score_regression(np.asarray(y_test), model.predict(X_test))
        return FoldResult(scores, fitted - start, time.perf_counter() - fitted)
    proba = model.predict_proba(X_test)
    classes = model.classes_
    y_pred = classes[np.argmax(proba, axis=1)]
    scores = score_predictions(np.asarray(y_test), y_pred, proba, classes)
    resampling = getattr(model[-1] if hasattr(model, "steps") else model, "resampling_", "none")
    return FoldResult(scores, fitted - start, time.perf_counter() - fitted, resampling)


TRAINERS = ("auto", "batched", "sequential")
"""``evaluate_config``'s trainers: ``"auto"`` is batched where it can be, else sequential."""


def evaluate_config(
    config: Mapping[str, Any],
    dataset: Dataset,
    folds: Sequence[Fold],
    *,
    random_state: int = 0,
    deadline: float | None = None,
    on_fold: Callable[[int, FoldResult], None] | None = None,
    fold_callbacks: Callable[[int], list] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    trainer: str = "auto",
) -> Evaluation:
    """Cross-validate one configuration on ``folds``.

    Two trainers compute the same thing. ``"batched"`` trains the K fold models
    at once as one batched network (:func:`harness.model.fold_trainer.train_folds`:
    each fold with its own preprocessing, resampling, rows, batches, initial
    weights, optimizer state and early stopping); ``"sequential"`` fits one
    :class:`~harness.MLPClassifier` per fold through skorch. Without dropout the
    two agree to float32 rounding; with dropout their masks come from different
    generators, so the scores differ like two seeds do.

    Parameters
    ----------
    config : mapping
        The configuration (see :func:`harness.build_pipeline`).
    dataset : Dataset
        The rows the folds index into.
    folds : sequence of (train_index, test_index)
        From :func:`make_folds`.
    random_state : int, default=0
        Seed of the estimator and resampler, the same for every fold.
    deadline : float, optional
        :func:`time.monotonic` value after which training stops with
        :class:`~harness.study.guards.TrialStopped`.
    on_fold : callable, optional
        Called as ``on_fold(index, result)`` after each fold, in fold order; it
        may raise (for example :class:`optuna.TrialPruned`) to stop early. With
        the batched trainer every fold has trained by then, so pruning on folds
        stops the scoring, not the training.
    fold_callbacks : callable, optional
        ``fold_callbacks(index)`` returns extra skorch callbacks for that
        fold's estimator; a configuration with callbacks trains sequentially.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch_index, valid_acc)`` after every epoch of the
        batched trainer with the mean over the still-training folds of their
        early-stopping accuracy; it may raise to stop (epoch-level pruning).
    trainer : {"auto", "batched", "sequential"}, default="auto"
        ``"auto"`` uses the batched trainer unless the configuration needs the
        sequential one (skorch callbacks); ``"batched"`` raises where it cannot.

    Returns
    -------
    Evaluation
        Its ``trainer`` says which trainer ran.
    """
    callbacks = [fold_callbacks(index) for index in range(len(folds))] if fold_callbacks else []
    run = _CrossValidation(config, dataset, folds, random_state, deadline, on_fold)
    if chosen_trainer(config, any(callbacks), trainer) == "sequential":
        return run.sequential(callbacks)
    return run.batched(on_epoch)


def chosen_trainer(config: Mapping[str, Any], fold_callbacks: bool, trainer: str = "auto") -> str:
    """The trainer :func:`evaluate_config` runs: ``"batched"`` or ``"sequential"``.

    Parameters
    ----------
    config : mapping
        The configuration; skorch callbacks in it, or a model family other
        than the MLP, need the sequential trainer.
    fold_callbacks : bool
        Whether extra skorch callbacks are given per fold (they need it too).
    trainer : {"auto", "batched", "sequential"}, default="auto"
        What was asked.

    Raises
    ------
    ConfigError
        For an unknown trainer, or ``"batched"`` where callbacks need the sequential one.
    """
    choose(trainer, TRAINERS, "trainer")
    family = family_of(config)
    if trainer == "batched" and not family.batched:
        raise ConfigError(
            f"the batched trainer trains MLPs only, not the {family.name!r} family: "
            "use trainer='sequential' or 'auto'"
        )
    needs_sequential = fold_callbacks or bool(config.get("callbacks")) or not family.batched
    if trainer == "batched" and needs_sequential:
        raise ConfigError("the batched trainer runs no skorch callbacks: use trainer='sequential'")
    return "sequential" if trainer == "sequential" or needs_sequential else "batched"


@dataclass(frozen=True)
class _CrossValidation:
    """One configuration's cross-validation: what both trainers are given."""

    config: Mapping[str, Any]
    dataset: Dataset
    folds: Sequence[Fold]
    random_state: int
    deadline: float | None
    on_fold: Callable[[int, FoldResult], None] | None

    def sequential(self, callbacks: Sequence[list]) -> Evaluation:
        """Fit one scikit-learn pipeline per fold, with its skorch callbacks."""
        X, y = self.dataset.X, self.dataset.y.to_numpy()
        evaluation = Evaluation(trainer="sequential")
        for index, (train, test) in enumerate(self.folds):
            model = build_pipeline(
                self.config, self.dataset, y[train], random_state=self.random_state
            )
            extra = callbacks[index] if callbacks else []
            if "callbacks" in model[-1].get_params(deep=False):
                model.set_params(model__callbacks=[TrialGuard(self.deadline), *extra])
            elif extra:
                raise ConfigError(
                    f"the {family_of(self.config).name!r} family reports no epochs to prune on: "
                    "use prune_on = 'folds'"
                )
            elif self.deadline is not None and time.monotonic() > self.deadline:
                # An estimator without callbacks cannot be stopped inside a fit: stop between folds.
                raise TrialStopped(f"trial time limit exceeded before fold {index + 1}")
            result = fit_and_score(model, X.iloc[train], y[train], X.iloc[test], y[test])
            evaluation.folds.append(result)
            if self.on_fold is not None:
                self.on_fold(index, result)
        return evaluation

    def batched(self, on_epoch: Callable[[int, float], None] | None) -> Evaluation:
        """Train the K folds as one stacked network (:mod:`harness.model.fold_trainer`)."""
        from harness.model import fold_trainer

        y = self.dataset.y.to_numpy()
        classes = np.unique(y)
        started = time.perf_counter()
        columns = FoldPreprocessor(self.dataset)
        prepared, X_tests, prep_seconds = [], [], []
        for train, test in self.folds:
            begun = time.perf_counter()
            # built per fold: the resampler is sized to the fold's labels
            model = build_pipeline(
                self.config, self.dataset, y[train], random_state=self.random_state
            )[-1]
            X_train, X_test = columns.fit_transform(train, test)
            prepared.append(model.prepare_fit(X_train, y[train], classes))
            X_tests.append(X_test)
            prep_seconds.append(time.perf_counter() - begun)
        spec = fold_trainer.net_spec_like_estimator(
            model, prepared[0].X_train.shape[1], len(classes)
        )
        device = _device(model.device)

        def each_epoch(epoch: int, losses: np.ndarray, valid_acc: np.ndarray) -> None:
            check_progress(losses, epoch, self.deadline)
            if on_epoch is not None and np.isfinite(valid_acc).any():
                on_epoch(epoch - 1, float(np.nanmean(valid_acc)))

        trained = time.perf_counter()
        fits = fold_trainer.train_folds(prepared, spec, device=device, on_epoch=each_epoch)
        train_share = (time.perf_counter() - trained) / len(self.folds)
        begun = time.perf_counter()
        probas = fold_trainer.predict_proba_folds(fits, spec, X_tests, device=device)
        predict_share = (time.perf_counter() - begun) / len(self.folds)
        evaluation = Evaluation(trainer="batched")
        for index, ((_, test), proba) in enumerate(zip(self.folds, probas, strict=True)):
            y_pred = classes[np.argmax(proba, axis=1)]
            scores = score_predictions(y[test], y_pred, proba, classes)
            result = FoldResult(
                scores, prep_seconds[index] + train_share, predict_share, prepared[index].resampling
            )
            evaluation.folds.append(result)
            if self.on_fold is not None:
                self.on_fold(index, result)
        evaluation.seconds = time.perf_counter() - started
        return evaluation


POPULATION = "population"
"""The trainer name :func:`evaluate_population` records for configurations it trained together."""


def evaluate_population(
    configs: Sequence[Mapping[str, Any]],
    dataset: Dataset,
    folds: Sequence[Fold],
    *,
    random_state: int = 0,
    deadline: float | None = None,
    on_epoch: Callable[[int, dict[int, float]], Mapping[int, Exception] | None] | None = None,
) -> list[Evaluation | Exception]:
    """Cross-validate several configurations at once: q configurations x K folds together.

    The configurations the batched trainer can train (see :func:`chosen_trainer`) are
    trained as one population (:func:`harness.model.population.train_population`): each
    member is one configuration on one fold, with everything it has in the batched
    trainer, and members that can share a network train in one. The others are
    evaluated one after the other by :func:`evaluate_config`. Without dropout each
    configuration's scores equal :func:`evaluate_config`'s to float32 rounding.

    Parameters
    ----------
    configs : sequence of mapping
        The configurations.
    dataset, folds, random_state, deadline
        As for :func:`evaluate_config`; the deadline applies to each configuration.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch_index, values)`` after every epoch of a network:
        ``values`` maps each configuration still training there (its index in
        ``configs``) to the mean over its still-training folds of their early-stopping
        accuracy. It returns ``{config_index: exception}`` for the configurations to
        stop now (epoch-level pruning, judged against each other), or None; a stopped
        configuration's result is its exception, as for a diverged loss or the deadline.

    Returns
    -------
    list of Evaluation or Exception
        One per configuration, in order: its evaluation (``trainer`` is
        ``"population"`` for those trained together), or what stopped it.
    """
    from harness.model import fold_trainer, population

    results: list[Evaluation | Exception | None] = [None] * len(configs)
    y = dataset.y.to_numpy()
    columns = FoldPreprocessor(dataset)
    task = _FoldTask(folds, [columns.fit_transform(train, test) for train, test in folds], y)
    classes = task.classes
    together = _Population()
    devices = set()
    for index, config in enumerate(configs):
        if chosen_trainer(config, False) != "batched":
            try:
                results[index] = evaluate_config(
                    config, dataset, folds, random_state=random_state, deadline=deadline
                )
            except Exception as error:  # stored as this configuration's failure
                results[index] = error
            continue
        begun = time.perf_counter()
        try:
            prepared = []
            for (train, _), (X_train, _) in zip(folds, task.fold_rows, strict=True):
                model = build_pipeline(config, dataset, y[train], random_state=random_state)[-1]
                prepared.append(model.prepare_fit(X_train, y[train], classes))
            spec = fold_trainer.net_spec_like_estimator(model, X_train.shape[1], len(classes))
        except Exception as error:
            results[index] = error
            continue
        devices.add(_device(model.device))
        together.prep_seconds[index] = (time.perf_counter() - begun) / len(folds)
        for data in prepared:
            together.members.append(population.Member(data, spec))
            together.owners.append(index)
    if together.members:
        device = devices.pop() if len(devices) == 1 else "cpu"
        _train_population(together, task, results, deadline, on_epoch, device)
    return results  # type: ignore[return-value]


@dataclass
class _FoldTask:
    """The folds of an :func:`evaluate_population` call, their preprocessed rows and labels."""

    folds: Sequence[Fold]
    fold_rows: list[tuple[np.ndarray, np.ndarray]]
    y: np.ndarray
    classes: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.classes = np.unique(self.y)


@dataclass
class _Population:
    """What of an :func:`evaluate_population` call trains as one population: one member
    per (configuration, fold), in fold order, the configuration's index in ``owners``, and
    each configuration's preparation seconds per fold."""

    members: list[Any] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    prep_seconds: dict[int, float] = field(default_factory=dict)


def _train_population(
    together: _Population,
    task: _FoldTask,
    results: list[Evaluation | Exception | None],
    deadline: float | None,
    on_epoch: Callable[[int, dict[int, float]], Mapping[int, Exception] | None] | None,
    device: str,
) -> None:
    """Train the members together and score each configuration's folds into ``results``."""
    from harness.model import population

    members, owners = together.members, together.owners
    folds, classes, y = task.folds, task.classes, task.y

    def each_epoch(epoch: int, alive: list[int], losses: np.ndarray, valid_acc: np.ndarray):
        values = {}
        for config in dict.fromkeys(owners[i] for i in alive):
            if isinstance(results[config], Exception):
                continue
            mine = [k for k, i in enumerate(alive) if owners[i] == config]
            try:
                check_progress(losses[mine], epoch, deadline)
            except Exception as error:
                results[config] = error
                continue
            if np.isfinite(valid_acc[mine]).any():
                values[config] = float(np.nanmean(valid_acc[mine]))
        if on_epoch is not None and values:
            for config, error in (on_epoch(epoch - 1, values) or {}).items():
                results[config] = error
        return [i for i in alive if isinstance(results[owners[i]], Exception)]

    started = time.perf_counter()
    fits = population.train_population(members, device=device, on_epoch=each_epoch)
    train_share = (time.perf_counter() - started) / len(members)
    done = [i for i, fit in enumerate(fits) if not isinstance(results[owners[i]], Exception)]
    begun = time.perf_counter()
    n_folds = len(folds)
    probas = population.predict_proba_population(
        [fits[i] for i in done],
        [members[i].spec for i in done],
        [task.fold_rows[i % n_folds][1] for i in done],
        device=device,
    )
    predict_share = (time.perf_counter() - begun) / max(1, len(done))
    for i, proba in zip(done, probas, strict=True):
        config, fold = owners[i], i % n_folds
        if results[config] is None:
            results[config] = Evaluation(trainer=POPULATION, seconds=0.0)
        test = folds[fold][1]
        y_pred = classes[np.argmax(proba, axis=1)]
        scores = score_predictions(y[test], y_pred, proba, classes)
        seconds = together.prep_seconds[config] + train_share
        result = FoldResult(scores, seconds, predict_share, members[i].data.resampling)
        results[config].folds.append(result)
        results[config].seconds += seconds + predict_share


class FoldPreprocessor:
    """The dataset's preprocessing fitted per fold, on numpy columns extracted once.

    It applies the transformers of :func:`harness.build_preprocessor` (cloned, so
    the definition stays there) to each block of columns and stacks the blocks in
    the same order, which is what the ``ColumnTransformer`` computes, without its
    per-call DataFrame validation (about 25 ms per fold on teleconnect, a fifth
    of a batched trial). ``tests/study/test_evaluation_trainers.py`` checks the output
    equals the ``ColumnTransformer``'s.

    Parameters
    ----------
    dataset : Dataset
        The rows the folds index into.
    """

    def __init__(self, dataset: Dataset) -> None:
        from harness.data.preprocessing import build_preprocessor

        self._blocks = [
            (transformer, dataset.X[list(columns)])
            for _, transformer, columns in build_preprocessor(dataset).transformers
        ]

    def fit_transform(self, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fit on the ``train`` rows; return the transformed ``train`` and ``test`` rows."""
        from sklearn.base import clone

        # The rows as arrays in the memory layout a DataFrame hands over: the same summation
        # order, so the same bits as the ColumnTransformer.
        fitted = [(clone(t).fit(frame.iloc[train].to_numpy()), frame) for t, frame in self._blocks]
        return tuple(  # type: ignore[return-value]
            np.hstack([t.transform(frame.iloc[rows].to_numpy()) for t, frame in fitted]).astype(
                np.float64
            )
            for rows in (train, test)
        )


def _device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
