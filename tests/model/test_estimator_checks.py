"""scikit-learn's estimator checks on harness.MLPClassifier.

Every check passes, with the defaults and with every option switched on, so no check
is declared as an expected failure. (A plain skorch NeuralNetClassifier subclass passes
12 of these 55 checks.) ``check_array_api_input`` is skipped unless SCIPY_ARRAY_API is
set, and is not counted.
"""

from __future__ import annotations

import warnings
from collections import Counter

import pytest
from helpers import single_torch_thread
from imblearn.over_sampling import RandomOverSampler
from sklearn.utils.estimator_checks import check_estimator

from harness.model.estimator import MLPClassifier

N_CHECKS = 55

INSTANCES = {
    "defaults": MLPClassifier(),
    "every option": MLPClassifier(
        neuron_pct=0.25,
        activation="gelu",
        dropout=0.1,
        batch_norm=True,
        optimizer="adamw",
        lr=0.01,
        weight_decay=1e-4,
        lr_schedule="cosine",
        early_stopping=True,
        resampler=RandomOverSampler(),
        class_weight="balanced",
        loss="focal",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("estimator", INSTANCES.values(), ids=INSTANCES.keys())
def test_every_sklearn_estimator_check_passes(estimator):
    with single_torch_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None, on_skip=None)
    counted = [r for r in results if r["check_name"] != "check_array_api_input"]
    not_passed = {r["check_name"]: repr(r["exception"]) for r in counted if r["status"] != "passed"}
    assert not_passed == {}
    assert Counter(r["status"] for r in counted) == {"passed": N_CHECKS}
