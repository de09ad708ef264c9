"""Large data stays usable: references fit a capped subsample, named so; the scale benchmark."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import optuna
import pytest
from helpers import CHECKOUT
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from harness.data.datasets import load_dataset, make_synthetic
from harness.data.splits import holdout_split
from harness.study import ledger
from harness.study.holdout import BASELINE, MAJORITY, TUNED, baseline_models, score_on_holdout

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow

BENCHMARKS = CHECKOUT / "benchmarks"


def test_references_above_the_cap_fit_a_stratified_subsample_and_say_so():
    train, test = holdout_split(load_dataset("iris"), 0.2, 0)
    models = baseline_models(train, 0, reference_rows=60)
    assert list(models) == [
        BASELINE,
        MAJORITY,
        "logistic regression (60-row subsample)",
        "random forest (60-row subsample)",
        "k-nearest neighbours (60-row subsample)",
    ]
    results = score_on_holdout(models, train, test, seed=0)
    rows = {name: result["train_rows"] for name, result in results.items()}
    assert rows[MAJORITY] == 120
    assert rows[BASELINE] == 60 and all(rows[name] == 60 for name in list(models)[2:])
    # Scored on every held-out row, whatever they were fitted on.
    assert all(np.asarray(r["confusion"]).sum() == 30 for r in results.values())
    # Stratified: every class is in the subsample the references saw.
    assert all(len(r["labels"]) == 3 for r in results.values())


def test_below_the_cap_nothing_changes():
    train, _ = holdout_split(load_dataset("iris"), 0.2, 0)
    assert "random forest" in baseline_models(train, 0)
    assert not hasattr(baseline_models(train, 0)["random forest"], "subsample_rows_")


def test_synthetic_features_are_float32_without_copies_of_a_target_column():
    dataset = make_synthetic(500, 6, 3)
    assert set(dataset.X.dtypes) == {np.dtype(np.float32)}
    assert "target" not in dataset.X.columns and dataset.y.name == "target"
    assert dataset.X.memory_usage(index=False).sum() == 500 * 6 * 4


def test_the_scale_benchmark_runs_quickly_and_prints_its_table():
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "scale.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "| 2,000 |" in result.stdout and "peak MiB" in result.stdout


def test_above_the_cap_a_seeded_sample_of_held_out_rows_is_stored():
    from harness.data.splits import sample_positions

    assert sample_positions(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    sample = sample_positions(1000, 50, 3)
    assert len(set(sample)) == 50 and sample.tolist() == sorted(sample)
    assert sample.tolist() == sample_positions(1000, 50, 3).tolist()
    assert sample.max() > 500  # spread over the rows, not the first ones


class _Broken(ClassifierMixin, BaseEstimator):
    """A reference model whose fit fails, as the stacking refit once did on wine-red."""

    def fit(self, X, y):
        raise ValueError("Expected n_neighbors <= n_samples_fit,\n but n_neighbors = 6")


def test_a_failed_reference_keeps_the_others_results_and_records_its_reason():
    train, test = holdout_split(load_dataset("iris"), 0.2, 0)
    models = {"broken": _Broken(), MAJORITY: Pipeline([("model", DummyClassifier())])}
    failures: dict[str, str] = {}
    results = score_on_holdout(models, train, test, seed=0, failures=failures)
    assert list(results) == [MAJORITY]
    assert failures == {
        "broken": "ValueError: Expected n_neighbors <= n_samples_fit, but n_neighbors = 6"
    }


def test_a_failed_tuned_or_baseline_model_still_stops_the_refit():
    train, test = holdout_split(load_dataset("iris"), 0.2, 0)
    for name in (TUNED, BASELINE):
        with pytest.raises(ValueError, match="n_neighbors"):
            score_on_holdout({name: _Broken()}, train, test, seed=0, failures={})
    with pytest.raises(ValueError, match="n_neighbors"):  # without failures, nothing is optional
        score_on_holdout({"broken": _Broken()}, train, test, seed=0)


def test_reference_failures_are_stored_with_the_study_and_cleared_by_a_later_refit():
    study = optuna.create_study()
    ledger.record_holdout(study, {}, 0)
    assert ledger.HOLDOUT_FAILURES not in study.user_attrs  # nothing stored when nothing failed
    ledger.record_holdout(study, {}, 0, {"broken": "ValueError: no"})
    assert study.user_attrs[ledger.HOLDOUT_FAILURES] == {"broken": "ValueError: no"}
    ledger.record_holdout(study, {}, 1, {})
    assert study.user_attrs[ledger.HOLDOUT_FAILURES] == {}


def test_a_reference_failing_in_cross_validation_is_recorded_and_the_others_kept():
    from harness.data.splits import make_folds
    from harness.study.holdout import cross_validate

    train, _ = holdout_split(load_dataset("iris"), 0.2, 0)
    folds = make_folds(train, 3, 0, 1)
    models = {"broken": _Broken(), MAJORITY: Pipeline([("model", DummyClassifier())])}
    failures: dict[str, str] = {}
    scores = cross_validate(models, train, folds, failures=failures)
    assert list(scores) == [MAJORITY] and len(scores[MAJORITY]["accuracy"]) == 3
    assert failures["broken"].startswith("cross-validation: ValueError: Expected n_neighbors")
    with pytest.raises(ValueError, match="n_neighbors"):
        cross_validate(models, train, folds)
