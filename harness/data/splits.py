"""Every split of the rows, in one place: the held-out test split, the CV folds, subsamples.

The committed studies depend on these row assignments, so they must stay
bit-identical from one release to the next (tests pin them):

- :func:`holdout_split`: a stratified test split fixed by the seed (a time
  series: its last rows, :func:`chronological_split`);
- :func:`make_folds`: stratified K-fold (repeated where asked) of the search
  rows, fixed by the labels and the task seed only, so every strategy gets the
  same folds (a time series: forward-chaining folds, :func:`forward_folds`);
- :func:`stratified_subsample`: a seeded stratified subsample of training rows
  (reference models above a row cap);
- :func:`sample_positions`: a seeded sorted sample of row positions (the
  held-out rows whose predictions are stored).

The splits inside one fit stay with the estimator: the early-stopping split
(:mod:`harness.model.torch_base`) and the stacking folds of the ensemble with
trees (:mod:`harness.model.ensemble`) are part of fitting a model, not of the task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    train_test_split,
)

from harness.data.datasets import Dataset
from harness.errors import ConfigError, DataError, listed

Fold = tuple[np.ndarray, np.ndarray]
"""One cross-validation fold: (training positions, validation positions)."""


def holdout_split(
    dataset: Dataset, test_size: float = 0.2, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """Split off a stratified held-out test set, fixed by the seed.

    A time series (``dataset.task == "regression"``) is split in time instead:
    the last ``test_size`` of its rows are the test set (:func:`chronological_split`).

    Parameters
    ----------
    dataset : Dataset
        The data to split.
    test_size : float
        Fraction of rows in the test set, strictly between 0 and 1.
    seed : int
        The same seed always gives the same split.

    Returns
    -------
    train, test : Dataset
        Disjoint row subsets with (up to rounding) the class proportions of
        ``dataset``; the index labels of the original rows are kept.

    Raises
    ------
    ConfigError
        If ``test_size`` is not between 0 and 1.
    DataError
        If a class has fewer than 2 rows, or either part would be too small
        to hold every class.
    """
    if not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    if dataset.task == "regression":
        return chronological_split(dataset, test_size)
    counts = dataset.class_counts
    single = counts[counts < 2]
    if not single.empty and len(single) == len(counts):
        raise DataError(
            f"{dataset.name}: each of the {len(counts):,} labels of {dataset.target!r} "
            f"({listed(map(repr, single.index), limit=3)}) has a single row; a classifier "
            "learns labels that rows share: choose the class label column as the target"
        )
    if not single.empty:
        raise DataError(
            f"{dataset.name}: class(es) {listed(map(repr, single.index))} have a single row; "
            "a stratified test split needs at least 2 per class: merge or drop them"
        )
    n_test = int(np.ceil(test_size * dataset.n_samples))
    if min(n_test, dataset.n_samples - n_test) < dataset.n_classes:
        raise DataError(
            f"{dataset.name}: {n_test} test and {dataset.n_samples - n_test} training rows "
            f"cannot both hold all {dataset.n_classes} classes; change test_size"
        )
    rows = np.arange(dataset.n_samples)
    train, test = train_test_split(
        rows, test_size=test_size, random_state=seed, stratify=dataset.y.to_numpy()
    )
    return dataset.take(np.sort(train)), dataset.take(np.sort(test))


def chronological_split(dataset: Dataset, test_size: float = 0.2) -> tuple[Dataset, Dataset]:
    """The first rows of a time series for training, the last ``test_size`` of them for test.

    The rows are in time order already; nothing is shuffled, so there is no
    seed. The test set has ``ceil(test_size * n)`` rows, as :func:`holdout_split`'s.

    Raises
    ------
    DataError
        If either part would have fewer than 2 rows.
    """
    n_test = int(np.ceil(test_size * dataset.n_samples))
    n_train = dataset.n_samples - n_test
    if min(n_test, n_train) < 2:
        raise DataError(
            f"{dataset.name}: {n_train} training and {n_test} test rows; change test_size"
        )
    rows = np.arange(dataset.n_samples)
    return dataset.take(rows[:n_train]), dataset.take(rows[n_train:])


def check_class_counts(y: Iterable[Hashable], n_folds: int) -> None:
    """Check that every class has enough rows for stratified ``n_folds``-fold CV.

    Stratified folds put every class in every validation fold only when each
    class has at least ``n_folds`` rows.

    Parameters
    ----------
    y : iterable of labels
        The labels that are split into folds (the training split's, when there is a test split).
    n_folds : int
        The number of folds, at least 2.

    Raises
    ------
    ConfigError
        If ``n_folds`` is below 2.
    DataError
        Naming each class with fewer than ``n_folds`` rows and its count.
    """
    if n_folds < 2:
        raise ConfigError(f"n_folds must be at least 2, got {n_folds}")
    small = sorted((count, str(label)) for label, count in Counter(y).items() if count < n_folds)
    if small:
        described = listed(
            f"{label} ({count} row{'' if count == 1 else 's'})" for count, label in small
        )
        fewer = f"use at most {small[0][0]} folds, or " if small[0][0] >= 2 else ""
        raise DataError(
            f"class(es) {described} have fewer rows than the {n_folds} folds need; "
            f"{fewer}merge or drop those classes"
        )


def make_folds(y: Dataset | Sequence[Any], n_folds: int, seed: int, repeats: int = 1) -> list[Fold]:
    """Return stratified folds that depend on the labels and the seed only.

    Every strategy of a comparison gets the same folds, which makes their
    scores comparable trial by trial. A time series (a :class:`Dataset` whose
    ``task`` is ``"regression"``) gets forward-chaining folds instead
    (:func:`forward_folds`).

    Parameters
    ----------
    y : Dataset or sequence
        The search rows, or their labels.
    n_folds : int
        Folds per repeat.
    seed : int
        The task seed.
    repeats : int, default=1
        Repeated stratified K-fold: ``repeats`` differently shuffled K-fold
        splits, ``n_folds * repeats`` folds in all, first repeat first. It cuts
        the noise of the CV estimate at ``repeats`` times the training cost.

    Raises
    ------
    DataError
        If a class has fewer rows than ``n_folds``.
    ConfigError
        For repeats of a time series' folds.
    """
    if isinstance(y, Dataset):
        if y.task == "regression":
            return forward_folds(y.n_samples, n_folds, repeats)
        y = y.y
    y = np.asarray(y)
    check_class_counts(y, n_folds)
    if repeats == 1:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        splitter = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=repeats, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def forward_folds(n_rows: int, n_folds: int, repeats: int = 1) -> list[Fold]:
    """Forward-chaining folds of a time series: each fold trains on every row before it.

    Expanding windows as :class:`sklearn.model_selection.TimeSeriesSplit`: the
    rows (in time order) are cut into ``n_folds + 1`` consecutive blocks; fold k
    validates on block k + 1 and trains on blocks 1..k. No fold trains on a row
    later than one it validates on, and nothing is shuffled, so there is no seed.

    Raises
    ------
    ConfigError
        If ``n_folds`` is below 2, ``repeats`` is not 1 (the folds are fixed), or
        the rows cannot make that many folds.
    """
    if n_folds < 2:
        raise ConfigError(f"n_folds must be at least 2, got {n_folds}")
    if repeats != 1:
        raise ConfigError(
            "time series folds are fixed by time order, so repeating them repeats the same "
            "folds: use repeats = 1"
        )
    if n_rows < 2 * (n_folds + 1):
        raise ConfigError(
            f"{n_rows} rows cannot make {n_folds} forward-chaining folds of at least 2 rows; "
            "use fewer folds"
        )
    return list(TimeSeriesSplit(n_splits=n_folds).split(np.zeros(n_rows)))


def stratified_subsample(train: Dataset, rows: int, seed: int) -> Dataset:
    """A stratified, seeded subsample of ``rows`` training rows, in their original order."""
    positions = np.arange(train.n_samples)
    kept, _ = train_test_split(
        positions, train_size=rows, stratify=train.y.to_numpy(), random_state=seed
    )
    return train.take(np.sort(kept))


def sample_positions(n_rows: int, most: int, seed: int) -> np.ndarray:
    """Positions of at most ``most`` of ``n_rows`` rows: all of them, or a seeded sorted sample."""
    if n_rows <= most:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=most, replace=False))
