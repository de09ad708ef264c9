"""Preprocessing that is fitted inside each training fold, and the held-out test split.

:func:`build_preprocessor` returns an unfitted scikit-learn transformer meant
to be the first step of a pipeline: cross-validation clones and fits it on each
training fold, so the scaling means, imputed values and one-hot categories
never see the validation rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from harness.data.datasets import Dataset
from harness.data.validation import check_impute
from harness.errors import ConfigError, DataError, listed


def column_preprocessor(
    numeric: Sequence[str], categorical: Sequence[str] = (), impute: str | None = None
) -> ColumnTransformer:
    """Scale numeric columns and one-hot encode categorical ones.

    Parameters
    ----------
    numeric : sequence of str
        Columns standardised with :class:`~sklearn.preprocessing.StandardScaler`.
    categorical : sequence of str
        Columns one-hot encoded; a category first seen at predict time encodes as all zeros.
    impute : {"median", "most_frequent"} or None
        Fill missing numeric values with the training fold's median or most
        frequent value, and missing categories with the most frequent one.
        None adds no imputer.

    Returns
    -------
    ColumnTransformer
        Unfitted; its output is a dense float64 array, numeric columns first.
        Other columns are dropped.

    Raises
    ------
    ConfigError
        If ``impute`` is not one of :data:`~harness.data.datasets.IMPUTE_STRATEGIES`.
    """
    check_impute(impute)
    numeric_steps = [("scale", StandardScaler())]
    categorical_steps = [
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64))
    ]
    if impute is not None:
        numeric_steps.insert(0, ("impute", SimpleImputer(strategy=impute)))
        categorical_steps.insert(0, ("impute", SimpleImputer(strategy="most_frequent")))
    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), list(numeric)))
    if categorical:
        transformers.append(("categorical", Pipeline(categorical_steps), list(categorical)))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def build_preprocessor(dataset: Dataset) -> ColumnTransformer:
    """Return the unfitted preprocessor for a dataset's columns.

    Parameters
    ----------
    dataset : Dataset
        Supplies the numeric and categorical columns and the impute strategy.

    Returns
    -------
    ColumnTransformer
        See :func:`column_preprocessor`. Fit it on training rows only.
    """
    return column_preprocessor(dataset.numeric, dataset.categorical, dataset.impute)


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
