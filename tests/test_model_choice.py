"""Issue 20.3: the model to deploy is chosen by CV on the study's folds among every kind."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from harness.commands._summary import model_lines
from harness.data.datasets import load_dataset
from harness.data.preprocessing import holdout_split
from harness.model.ensemble import TREES, VOTING
from harness.search.space import load_space
from harness.study import ledger
from harness.study.holdout import BASELINE, MAJORITY, TUNED, model_choice, refit_best
from harness.study.loop import StudySpec, run_study

SPACE = """
[params.lr]
type = "categorical"
choices = [0.001, 0.05]

[params.max_epochs]
type = "categorical"
choices = [3, 100]

[fixed]
hidden_layer_sizes = [64, 64]
batch_size = 32
"""


def _study_with(folds: dict[str, list[float]], references: dict[str, list[float]]):
    study = optuna.create_study(direction="maximize")
    trial = optuna.trial.create_trial(
        value=float(np.mean(folds[TUNED])),
        user_attrs={ledger.FOLD_SCORES: {"accuracy": folds[TUNED]}},
    )
    study.add_trial(trial)
    study.set_user_attr(ledger.METRIC, "accuracy")
    study.set_user_attr(ledger.HOLDOUT_TRIAL, 0)
    study.set_user_attr(ledger.BASELINE_CV, {"accuracy": folds[BASELINE]})
    study.set_user_attr(
        ledger.REFERENCE_CV, {name: {"accuracy": v} for name, v in references.items()}
    )
    return study


def test_the_best_cv_score_of_any_kind_is_chosen_and_the_gap_is_stated():
    study = _study_with(
        {TUNED: [0.6, 0.62], BASELINE: [0.61, 0.6]},
        {"random forest": [0.7, 0.72], MAJORITY: [0.4, 0.4]},
    )
    choice = model_choice(study)
    assert choice.chosen == "random forest"
    assert list(choice.cv) == ["random forest", TUNED, BASELINE, MAJORITY]
    assert choice.gap == pytest.approx(0.1)


def test_a_tie_goes_to_the_tuned_model_and_no_reference_cv_means_no_choice():
    study = _study_with({TUNED: [0.7], BASELINE: [0.6]}, {"random forest": [0.7]})
    assert model_choice(study).chosen == TUNED
    study.set_user_attr(ledger.REFERENCE_CV, {})
    assert model_choice(study) is None


@pytest.mark.slow
def test_refit_cross_validates_the_references_on_the_studys_folds(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE)
    dataset = load_dataset("iris")
    train, test = holdout_split(dataset, 0.2, 0)
    spec = StudySpec(name="iris", storage=f"sqlite:///{tmp_path / 's.db'}", strategy="random",
                     dataset=train, space=load_space(path), n_folds=3, n_trials=2,
                     metric="accuracy")  # fmt: skip
    study = run_study(spec)
    refit_best(study, train, test, 0, importance=False)
    stored = study.user_attrs[ledger.REFERENCE_CV]
    assert {MAJORITY, TREES, VOTING} <= set(stored)
    assert all(len(scores["accuracy"]) == 3 for scores in stored.values())
    choice = model_choice(study)
    best = max(choice.cv.values())
    assert choice.cv[choice.chosen] == best and TUNED in choice.cv and BASELINE in choice.cv
    lines = model_lines(study, "accuracy")
    assert any(line.startswith("deploy: ") for line in lines)
    assert any("tuned minus it" in line for line in lines)
    if choice.chosen != TUNED:
        assert any("behind it in CV" in line for line in lines)


def _held_out(predicted: list[int], truth: list[int]) -> dict:
    accuracy = float(np.mean(np.asarray(predicted) == np.asarray(truth)))
    proba = [[1.0, 0.0] if p == 0 else [0.0, 1.0] for p in predicted]
    return {"scores": {"accuracy": accuracy}, "labels": [0, 1], "predicted": predicted,
            "proba": proba}  # fmt: skip


def test_run_says_when_the_tuned_model_is_not_better_and_what_to_deploy():
    truth = [0, 1] * 50
    study = _study_with(
        {TUNED: [0.6, 0.62], BASELINE: [0.6, 0.6]},
        {"random forest": [0.7, 0.72], MAJORITY: [0.5, 0.5]},
    )
    wrong = [1 - t for t in truth]
    study.set_user_attr(
        ledger.HOLDOUT,
        {
            TUNED: _held_out(truth[:60] + wrong[60:], truth),  # 0.60
            BASELINE: _held_out(truth[:70] + wrong[70:], truth),  # 0.70
            "random forest": _held_out(truth[:90] + wrong[90:], truth),  # 0.90
            MAJORITY: _held_out([0] * 100, truth),
        },
    )
    study.set_user_attr(ledger.HOLDOUT_ROWS, {"true": truth, "index": list(range(100)),
                                              "n_test": 100})  # fmt: skip
    lines = model_lines(study, "accuracy")
    text = "\n".join(lines)
    assert "held-out accuracy on 100 rows" in text
    assert "random forest (best reference by CV): 0.9000" in text
    assert "tuned minus it -0.1000 [" in text and "tuned minus it -0.3000 [" in text
    assert "The tuned MLP is not better than the baseline MLP on the held-out rows" in text
    assert "The tuned MLP is not better than the random forest" in text
    assert "the paired interval excludes 0" in text
    assert "deploy: random forest, the best mean 2-fold CV accuracy" in text
    assert "The tuned MLP is 0.1000 behind it in CV (0.6100)." in text
