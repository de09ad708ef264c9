"""The model's torch-free vocabulary matches the estimator and the pipeline it describes."""

from __future__ import annotations

import subprocess
import sys

from harness.model.estimator import MLPClassifier
from harness.model.pipeline import RESAMPLERS
from harness.model.vocabulary import (
    ESTIMATOR_DEFAULTS,
    IMBALANCE_STRATEGIES,
    NOT_SEARCHABLE,
    RESAMPLER_NAMES,
    SEARCHABLE_PARAMS,
    hidden_layers,
)


def test_searchable_parameters_are_the_estimators_except_the_declared_ones():
    params = MLPClassifier().get_params()
    assert set(SEARCHABLE_PARAMS) == set(params) - set(NOT_SEARCHABLE)
    assert set(NOT_SEARCHABLE) <= set(params)


def test_defaults_are_the_estimators_defaults():
    params = MLPClassifier().get_params()
    assert dict(ESTIMATOR_DEFAULTS) == {name: params[name] for name in SEARCHABLE_PARAMS}


def test_resampler_names_are_the_pipelines_samplers():
    assert tuple(RESAMPLERS) == RESAMPLER_NAMES
    assert set(RESAMPLER_NAMES) < set(IMBALANCE_STRATEGIES)


def test_hidden_layers_follow_the_estimators_sizing_rule():
    assert hidden_layers({}) == (64, 32)
    assert hidden_layers({"hidden_layer_sizes": [16]}) == (16,)
    assert hidden_layers({"neuron_pct": 0.25, "max_layers": 3}) == (32, 16, 8)


def test_the_vocabulary_and_the_search_layer_do_not_import_torch():
    code = (
        "import sys, harness.model.vocabulary, harness.search.space; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
