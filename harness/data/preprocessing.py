"""Preprocessing that is fitted inside each training fold.

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
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from harness.data.datasets import Dataset
from harness.data.splits import holdout_split as holdout_split  # its home; kept for old imports
from harness.data.validation import check_impute


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
