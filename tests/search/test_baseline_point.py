"""Issue 20.2: each built-in space holds its family's baseline; every study evaluates it first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import FIXTURES

from harness.data.datasets import load_dataset
from harness.model.families import FAMILIES, resolved_settings
from harness.search.baseline import baseline_point
from harness.search.space import BUILTIN_SPACES, load_space
from harness.study import ledger
from harness.study.loop import StudySpec, run_study

BASELINE_SPACE = (FIXTURES / "with-baseline.toml").read_text()


def _builtin() -> list[Path]:
    """The built-in model spaces (not the analytic test functions under ``analytic/``)."""
    return sorted(BUILTIN_SPACES.glob("*.toml"))


@pytest.mark.parametrize("path", _builtin(), ids=lambda path: path.stem)
def test_each_builtin_space_holds_its_familys_baseline_on_its_grid(path):
    space = load_space(path)
    name = path.stem
    point = baseline_point(space)
    assert point is not None, f"{name} does not contain its family's baseline configuration"
    family = FAMILIES[space.family]
    assert resolved_settings(space.configuration(point)) == resolved_settings(
        family.baseline_config()
    )
    assert space.grid_index(point) is not None  # grid search covers it too
    # Training length is searched in every built-in space.
    assert {"max_epochs", "network__max_epochs", "early_stopping"} & set(space.params)


def test_a_space_without_the_baseline_has_no_baseline_point(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(BASELINE_SPACE.replace("[3, 100]", "[3, 30]"))
    assert baseline_point(load_space(path)) is None


def _spec(tmp_path: Path, **overrides) -> StudySpec:
    path = tmp_path / "with-baseline.toml"
    path.write_text(BASELINE_SPACE)
    settings = {
        "name": "iris-baseline",
        "storage": f"sqlite:///{tmp_path / 'studies.db'}",
        "strategy": "random",
        "dataset": load_dataset("iris"),
        "space": load_space(path),
        "seed": 3,
        "n_folds": 3,
        "n_trials": 3,
        "metric": "accuracy",
    }
    return StudySpec(**{**settings, **overrides})


@pytest.mark.slow
def test_the_search_starts_from_the_baseline_so_tuned_cv_is_never_below_it(tmp_path):
    study = run_study(_spec(tmp_path))
    first = study.trials[0]
    assert first.user_attrs[ledger.BASELINE_POINT] is True
    assert first.params == {"lr": 0.001, "max_epochs": 100}
    assert [t.number for t in ledger.baseline_points(study)] == [0]
    baseline = float(np.mean(study.user_attrs[ledger.BASELINE_CV]["accuracy"]))
    # The same model on the same folds as the baseline in CV: the same score ...
    assert first.value == pytest.approx(baseline, abs=1e-6)
    # ... so the tuned model's CV score is at least the baseline's, by construction.
    assert study.best_value >= baseline - 1e-6
    rows = ledger.trial_rows(study)
    assert [row[ledger.BASELINE_POINT] for row in rows] == [True, False, False]


@pytest.mark.slow
def test_grid_search_with_the_baseline_enqueued_covers_its_grid_in_a_budget_of_its_size(tmp_path):
    study = run_study(_spec(tmp_path, strategy="grid", n_trials=4, name="grid"))
    points = sorted((t.params["lr"], t.params["max_epochs"]) for t in study.trials)
    assert points == [(0.001, 3), (0.001, 100), (0.05, 3), (0.05, 100)]
    assert study.trials[0].user_attrs[ledger.BASELINE_POINT] is True
    assert not any(ledger.DUPLICATE_OF in t.user_attrs for t in study.trials)
