"""Issue 20.3: the model to deploy is chosen by CV on the study's folds among every kind."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from helpers import FIXTURES, study_spec

from harness.commands._summary import model_lines
from harness.data.datasets import load_dataset
from harness.data.splits import holdout_split
from harness.model.ensemble_pipeline import TREES, VOTING
from harness.results import generalization
from harness.results.generalization import holdout_confirmation
from harness.search.space import load_space
from harness.study import ledger
from harness.study.holdout import BASELINE, MAJORITY, TUNED, model_choice, refit_best
from harness.study.loop import run_study


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
    path = FIXTURES / "with-baseline.toml"
    dataset = load_dataset("iris")
    train, test = holdout_split(dataset, 0.2, 0)
    spec = study_spec(
        tmp_path, dataset=train, space=load_space(path), n_trials=2, metric="accuracy"
    )
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
    # The stored rows give every stored score, so every held-out interval describes it
    # (probabilities rounded to 6 decimals once turned a confident baseline's smallest into 0).
    holdout = ledger.stored_holdout(study)
    for name, entry in holdout.items():
        for metric in entry["scores"]:
            interval = generalization.holdout_interval(holdout, name, metric)
            assert interval is not None, (name, metric)


def _held_out(predicted: list[int], truth: list[int]) -> dict:
    accuracy = float(np.mean(np.asarray(predicted) == np.asarray(truth)))
    proba = [[1.0, 0.0] if p == 0 else [0.0, 1.0] for p in predicted]
    return {
        "scores": {"accuracy": accuracy},
        "labels": [0, 1],
        "predicted": predicted,
        "proba": proba,
    }


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
    study.set_user_attr(
        ledger.HOLDOUT_ROWS, {"true": truth, "index": list(range(100)), "n_test": 100}
    )
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


def test_run_says_when_the_tuned_model_is_the_baseline_point():
    truth = [0, 1] * 50
    study = optuna.create_study(direction="maximize")
    study.add_trial(
        optuna.trial.create_trial(
            value=0.6,
            user_attrs={ledger.FOLD_SCORES: {"accuracy": [0.6, 0.6]}, ledger.BASELINE_POINT: True},
        )
    )
    study.set_user_attr(ledger.METRIC, "accuracy")
    study.set_user_attr(ledger.HOLDOUT_TRIAL, 0)
    study.set_user_attr(ledger.BASELINE_CV, {"accuracy": [0.6, 0.6]})
    study.set_user_attr(ledger.REFERENCE_CV, {MAJORITY: {"accuracy": [0.5, 0.5]}})
    same = _held_out(truth[:60] + [1 - t for t in truth[60:]], truth)
    study.set_user_attr(
        ledger.HOLDOUT, {TUNED: same, BASELINE: same, MAJORITY: _held_out([0] * 100, truth)}
    )
    study.set_user_attr(
        ledger.HOLDOUT_ROWS, {"true": truth, "index": list(range(100)), "n_test": 100}
    )
    text = "\n".join(model_lines(study, "accuracy"))
    assert "The tuned MLP is the baseline configuration" in text
    assert "not better than the baseline MLP" not in text
    assert "deploy: tuned MLP" in text and "best model of any kind in CV" in text


def _study_held_out(cv: dict[str, list[float]], correct: dict[str, int | range]):
    """A study whose models have these CV folds and these correct rows of 100 held out.

    ``correct``: the first n rows, or a range of rows, per model.
    """
    truth = [0, 1] * 50
    study = _study_with(
        {TUNED: cv[TUNED], BASELINE: cv[BASELINE]},
        {name: folds for name, folds in cv.items() if name not in (TUNED, BASELINE)},
    )
    wrong = [1 - t for t in truth]
    study.set_user_attr(
        ledger.HOLDOUT,
        {
            name: _held_out(
                [
                    t if i in (range(rows) if isinstance(rows, int) else rows) else w
                    for i, (t, w) in enumerate(zip(truth, wrong, strict=True))
                ],
                truth,
            )
            for name, rows in correct.items()
        },
    )
    study.set_user_attr(
        ledger.HOLDOUT_ROWS, {"true": truth, "index": list(range(100)), "n_test": 100}
    )
    return study


def test_the_held_out_rows_agree_with_the_cv_choice():
    study = _study_held_out(
        {TUNED: [0.6, 0.6], BASELINE: [0.5, 0.5], "random forest": [0.7, 0.7]},
        {TUNED: 60, BASELINE: 50, "random forest": 90},
    )
    text = "\n".join(model_lines(study, "accuracy"))
    assert "deploy: random forest" in text
    assert "The held-out rows agree: it also scores best there" in text
    assert "disagree" not in text


def test_the_held_out_rows_that_contradict_the_cv_choice_are_named_with_their_test():
    # CV picks the baseline; on the held-out rows the forest is 20 rows of 100 ahead.
    study = _study_held_out(
        {TUNED: [0.6, 0.6], BASELINE: [0.8, 0.8], "random forest": [0.7, 0.7]},
        {TUNED: 60, BASELINE: 70, "random forest": 90},
    )
    text = "\n".join(model_lines(study, "accuracy"))
    assert "deploy: baseline MLP" in text
    assert "only confirm" not in text and "rows agree:" not in text
    assert "The held-out rows disagree: random forest scores better there (0.9000 against " in text
    assert "0.7000 for baseline MLP; baseline MLP minus random forest -0.2000 [" in text
    assert "paired bootstrap over the 100 held-out rows, interval excluding 0" in text


def test_a_held_out_difference_within_the_noise_does_not_contradict_the_choice():
    study = _study_held_out(
        {TUNED: [0.8, 0.8], BASELINE: [0.7, 0.7], "random forest": [0.6, 0.6]},
        {TUNED: 60, BASELINE: range(3, 65), "random forest": 55},  # 0.60 and 0.62
    )
    confirmation = holdout_confirmation(
        ledger.stored_holdout(study), TUNED, [TUNED, BASELINE, "random forest"], "accuracy"
    )
    assert (confirmation.chosen, confirmation.best) == (TUNED, BASELINE)
    assert not confirmation.agrees and not confirmation.contradicted
    interval = confirmation.difference.difference
    assert interval.low < 0 < interval.high and interval.estimate == pytest.approx(-0.02)
    text = "\n".join(model_lines(study, "accuracy"))
    assert "baseline MLP scores better (0.6200 against 0.6000 for tuned MLP)" in text
    assert "within the noise" in text and "do not contradict the choice" in text
