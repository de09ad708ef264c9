"""Issue 24.2: scores placed against published numbers, with their source and protocol."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from harness.data.datasets import CORTEZ_2009, get_spec, load_dataset
from harness.report.sections import published_text


def test_the_wine_registry_entries_keep_cortez_et_al_with_their_source():
    red, white = get_spec("wine-red"), get_spec("wine-white")
    assert [(r.metric, r.value) for r in red.published] == [
        ("accuracy", 0.591),
        ("accuracy", 0.624),
    ]
    assert [r.value for r in white.published] == [0.526, 0.646]
    assert all(r.source == CORTEZ_2009 and "tolerance 0.5" in r.protocol for r in red.published)
    assert get_spec("teleconnect").published == ()
    assert "no published result" in get_spec("teleconnect").published_note


def _ctx(name: str, dataset) -> SimpleNamespace:
    holdout = {
        "tuned MLP": {"scores": {"accuracy": 0.62, "f1_macro": 0.3}},
        "random forest": {"scores": {"accuracy": 0.71, "f1_macro": 0.4}},
    }
    return SimpleNamespace(
        dataset=dataset,
        train=SimpleNamespace(y=pd.Series(range(1279))),
        test=SimpleNamespace(y=pd.Series(range(320))),
        comparison=SimpleNamespace(task_seed=0),
        holdout=holdout,
    )


def test_the_report_shows_published_numbers_beside_the_studys_and_the_majority_rate(data_dir):
    dataset = load_dataset("wine-red", data_dir)
    text = published_text(_ctx("wine-red", dataset))
    majority = dataset.class_counts.max() / dataset.n_samples
    assert CORTEZ_2009 in text and "0.591 " in text and "0.624 " in text
    assert f"{majority:.4f}" in text and "majority class (all rows)" in text
    assert "| tuned MLP" in text and "| random forest" in text and "0.71 " in text
    assert "The protocols differ" in text and "one hold-out split of 320 rows" in text


def test_teleconnect_says_it_has_no_published_number(data_dir):
    text = published_text(_ctx("teleconnect", load_dataset("teleconnect", data_dir)))
    assert text.startswith("Published results on teleconnect: no published result")


def test_a_csv_dataset_gets_no_published_section():
    dataset = SimpleNamespace(name="my-file")
    assert published_text(SimpleNamespace(dataset=dataset)) is None


@pytest.mark.parametrize("name", ["wine-red", "wine-white"])
def test_published_metrics_are_harness_metrics(name):
    from harness.study.metrics import METRICS

    assert all(r.metric in METRICS for r in get_spec(name).published)
