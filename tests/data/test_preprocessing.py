"""Preprocessing is fitted on training rows only; the held-out split is stratified and seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset, load_dataset
from harness.data.preprocessing import build_preprocessor, column_preprocessor, holdout_split
from harness.data.splits import check_class_counts
from harness.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def teleconnect(data_dir):
    return load_dataset("teleconnect", data_dir=data_dir)


def test_output_is_dense_float_with_one_hot_region(teleconnect):
    out = build_preprocessor(teleconnect).fit_transform(teleconnect.X)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.shape == (1000, 10 + 3)
    np.testing.assert_allclose(out[:, :10].mean(axis=0), 0, atol=1e-12)
    assert set(np.unique(out[:, 10:])) == {0.0, 1.0}
    np.testing.assert_array_equal(out[:, 10:].sum(axis=1), 1)


def test_fitted_on_the_given_rows_only(teleconnect):
    subset = teleconnect.X.iloc[:100]
    preprocessor = build_preprocessor(teleconnect).fit(subset)
    scaler = preprocessor.named_transformers_["numeric"].named_steps["scale"]
    np.testing.assert_allclose(scaler.mean_, subset[list(teleconnect.numeric)].mean())
    assert not np.allclose(scaler.mean_, teleconnect.X[list(teleconnect.numeric)].mean())


def test_cross_validation_fits_it_per_fold(teleconnect):
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(teleconnect)), ("model", DummyClassifier())]
    )
    folds = list(
        StratifiedKFold(3, shuffle=True, random_state=0).split(teleconnect.X, teleconnect.y)
    )
    result = cross_validate(pipeline, teleconnect.X, teleconnect.y, cv=folds, return_estimator=True)
    numeric = list(teleconnect.numeric)
    for fitted, (train, _) in zip(result["estimator"], folds, strict=True):
        scaler = fitted.named_steps["preprocess"].named_transformers_["numeric"]["scale"]
        np.testing.assert_allclose(scaler.mean_, teleconnect.X.iloc[train][numeric].mean())


def test_clone_is_unfitted_with_the_same_parameters(teleconnect):
    preprocessor = build_preprocessor(teleconnect).fit(teleconnect.X)
    copy = clone(preprocessor)
    assert repr(copy) == repr(preprocessor)
    assert [columns for *_, columns in copy.transformers] == [list(teleconnect.numeric), ["region"]]
    with pytest.raises(NotFittedError):
        copy.transform(teleconnect.X)


def test_unseen_category_encodes_as_zeros():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    test = pd.DataFrame({"x": [2.0], "colour": ["green"]})
    preprocessor = column_preprocessor(["x"], ["colour"]).fit(train)
    np.testing.assert_array_equal(preprocessor.transform(test), [[0.0, 0.0, 0.0]])


@pytest.mark.parametrize(("impute", "filled"), [("median", 2.5), ("most_frequent", 1.0)])
def test_imputes_from_the_training_rows(impute, filled):
    train = pd.DataFrame({"x": [1.0, 1.0, 4.0, 10.0, np.nan], "c": ["a", "a", "b", np.nan, "b"]})
    preprocessor = column_preprocessor(["x"], ["c"], impute=impute).fit(train.iloc[:4])
    imputer = preprocessor.named_transformers_["numeric"].named_steps["impute"]
    assert imputer.statistics_[0] == filled
    assert not np.isnan(preprocessor.transform(train)).any()


def test_unknown_impute_is_rejected():
    with pytest.raises(ConfigError, match="median"):
        column_preprocessor(["x"], impute="mean")


def test_holdout_is_stratified_disjoint_and_seeded(teleconnect):
    train, test = holdout_split(teleconnect, test_size=0.2, seed=0)
    assert (train.n_samples, test.n_samples) == (800, 200)
    assert set(train.X.index).isdisjoint(test.X.index)
    assert set(train.X.index) | set(test.X.index) == set(teleconnect.X.index)
    share = test.class_counts / teleconnect.class_counts
    assert share.between(0.19, 0.21).all()
    assert train.y.equals(teleconnect.y.loc[train.X.index])
    again, _ = holdout_split(teleconnect, test_size=0.2, seed=0)
    other, _ = holdout_split(teleconnect, test_size=0.2, seed=1)
    assert list(again.X.index) == list(train.X.index)
    assert list(other.X.index) != list(train.X.index)


def test_holdout_leaves_too_few_rare_white_wines_for_five_folds(data_dir):
    train, test = holdout_split(load_dataset("wine-white", data_dir=data_dir), seed=0)
    assert (train.class_counts[9], test.class_counts[9]) == (4, 1)
    check_class_counts(train.y, 4)
    with pytest.raises(DataError, match="9 \\(4 rows\\)"):
        check_class_counts(train.y, 5)


def test_holdout_rejects_bad_sizes_and_singleton_classes():
    iris = load_dataset("iris")
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ConfigError, match="test_size"):
            holdout_split(iris, test_size=bad)
    with pytest.raises(DataError, match="cannot both hold all 3 classes"):
        holdout_split(iris, test_size=0.01)
    tiny = Dataset("tiny", iris.X.iloc[:51], iris.y.iloc[:51], "target")
    with pytest.raises(DataError, match="single row"):
        holdout_split(tiny)
