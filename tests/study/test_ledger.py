"""The ledger's readers hand the held-out details to the tables and the report in one place."""

from __future__ import annotations

import optuna

from harness.study import ledger


def test_stored_holdout_joins_true_labels_and_importance_to_the_model_entries():
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    assert ledger.stored_holdout(study) == {}
    holdout = {
        "tuned MLP": {"scores": {"accuracy": 0.5}, "predicted": [1, 2], "proba": [[1, 0], [0, 1]]},
        "majority class": {"scores": {"accuracy": 0.5}, "predicted": [1, 1]},
    }
    ledger.record_holdout(study, holdout, 0)
    ledger.record_holdout_rows(study, [1, 1], [10, 11], 2)
    ledger.record_feature_importance(
        study, {"n_repeats": 10, "features": {"tenure": {"mean": 0.1, "std": 0.02}}}
    )
    stored = ledger.stored_holdout(study)
    assert stored["tuned MLP"]["y_true"] == [1, 1]
    assert stored["majority class"]["y_true"] == [1, 1]
    assert stored["tuned MLP"]["permutation_importance"]["tenure"] == {
        "mean": 0.1,
        "std": 0.02,
        "repeats": 10,
    }
    assert "y_true" not in study.user_attrs[ledger.HOLDOUT]["tuned MLP"]  # storage unchanged
