"""The batched and the sequential trainer behind ``evaluate_config`` compute the same thing."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from harness import evaluate_config, load_dataset, make_folds
from harness.errors import ConfigError
from harness.study.guards import TrialStopped

BASE = {"hidden_layer_sizes": (16,), "max_epochs": 6, "batch_size": 32}


def _scores(config, wine, wine_folds, trainer, **kwargs):
    evaluation = evaluate_config(
        config, wine, wine_folds, random_state=3, trainer=trainer, **kwargs
    )
    assert evaluation.trainer == trainer
    return np.array(evaluation.fold_scores()["log_loss"])


@pytest.mark.parametrize(
    "changes",
    [
        {"optimizer": "adam", "weight_decay": 1e-3},
        {"optimizer": "adamw", "weight_decay": 1e-2},
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        {"optimizer": "rmsprop", "lr": 1e-3, "momentum": 0.5},
        {"imbalance": "smote"},  # ragged folds: each resampled to its own row count
        {"imbalance": "class_weight", "batch_norm": True},
        {"imbalance": "focal", "lr_schedule": "cosine"},
        {"early_stopping": True, "patience": 2, "lr_schedule": "plateau", "max_epochs": 12},
    ],
)
def test_batched_and_sequential_agree_where_the_computation_is_the_same(wine, wine_folds, changes):
    config = {**BASE, **changes}
    batched = _scores(config, wine, wine_folds, "batched")
    sequential = _scores(config, wine, wine_folds, "sequential")
    # float32 rounding, compounded over the epochs (batch norm's running statistics most)
    np.testing.assert_allclose(batched, sequential, rtol=5e-4, atol=1e-5)


def test_with_dropout_they_differ_only_within_the_seed_to_seed_spread(wine, wine_folds):
    config = {**BASE, "dropout": 0.3, "max_epochs": 10}
    seeds = [
        evaluate_config(config, wine, wine_folds, random_state=s, trainer="sequential").mean(
            "f1_macro"
        )
        for s in range(4)
    ]
    batched = evaluate_config(config, wine, wine_folds, random_state=0, trainer="batched")
    spread = max(seeds) - min(seeds)
    assert abs(batched.mean("f1_macro") - np.mean(seeds)) <= max(2 * spread, 0.05)


def test_auto_is_batched_unless_skorch_callbacks_are_needed(wine, wine_folds):
    assert evaluate_config(BASE, wine, wine_folds).trainer == "batched"
    from skorch.callbacks import Callback

    with_callbacks = evaluate_config(BASE, wine, wine_folds, fold_callbacks=lambda i: [Callback()])
    assert with_callbacks.trainer == "sequential"
    with pytest.raises(ConfigError, match="trainer='sequential'"):
        evaluate_config(
            BASE, wine, wine_folds, fold_callbacks=lambda i: [Callback()], trainer="batched"
        )
    with pytest.raises(ConfigError, match="unknown trainer"):
        evaluate_config(BASE, wine, wine_folds, trainer="parallel")


def test_a_diverging_fold_fails_the_trial_with_the_reason(wine, wine_folds):
    config = {**BASE, "optimizer": "sgd", "lr": 1e6, "momentum": 0.9, "max_epochs": 30}
    with pytest.raises(TrialStopped, match=r"training loss diverged .* at epoch \d+ in fold \d"):
        evaluate_config(config, wine, wine_folds, trainer="batched")


def test_the_trial_time_limit_stops_the_batched_trainer(wine, wine_folds):
    with pytest.raises(TrialStopped, match="trial time limit exceeded at epoch 1"):
        evaluate_config(BASE, wine, wine_folds, trainer="batched", deadline=time.monotonic() - 1)


def test_on_epoch_gets_the_mean_early_stopping_accuracy_of_the_folds(wine, wine_folds):
    seen = []
    config = {**BASE, "early_stopping": True, "patience": 50, "max_epochs": 4}
    evaluate_config(config, wine, wine_folds, on_epoch=lambda e, acc: seen.append((e, acc)))
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    assert all(0.0 <= acc <= 1.0 for _, acc in seen)


def test_on_fold_sees_every_fold_in_order_and_may_stop(wine, wine_folds):
    seen = []

    def stop_after_two(index, result):
        seen.append(index)
        if index == 1:
            raise KeyError("stop")

    with pytest.raises(KeyError):
        evaluate_config(BASE, wine, wine_folds, on_fold=stop_after_two)
    assert seen == [0, 1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_batched_on_cuda_matches_cpu(wine, wine_folds):
    cpu = _scores({**BASE}, wine, wine_folds, "batched")
    cuda = _scores({**BASE, "device": "cuda"}, wine, wine_folds, "batched")
    np.testing.assert_allclose(cuda, cpu, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["teleconnect", "iris"])
def test_the_fold_preprocessor_equals_the_column_transformer(name):
    from harness import build_preprocessor
    from harness.study.evaluation import FoldPreprocessor

    dataset = load_dataset(name)
    train, test = make_folds(dataset.y, 3, seed=0)[1]
    fast_train, fast_test = FoldPreprocessor(dataset).fit_transform(train, test)
    reference = build_preprocessor(dataset).fit(dataset.X.iloc[train])
    np.testing.assert_array_equal(fast_train, reference.transform(dataset.X.iloc[train]))
    np.testing.assert_array_equal(fast_test, reference.transform(dataset.X.iloc[test]))


def test_the_fold_preprocessor_imputes_like_the_column_transformer(tmp_path):
    from harness import build_preprocessor, load_csv
    from harness.study.evaluation import FoldPreprocessor

    rng = np.random.default_rng(0)
    rows = [
        f"{a},{b},{c}"
        for a, b, c in zip(
            rng.normal(size=40), rng.choice(["x", "y"], 40), rng.integers(0, 2, 40), strict=True
        )
    ]
    rows[3] = ",x,1"
    rows[7] = "0.5,,0"
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    dataset = load_csv(tmp_path / "d.csv", "label", impute="median")
    train, test = np.arange(0, 30), np.arange(30, 40)
    fast_train, fast_test = FoldPreprocessor(dataset).fit_transform(train, test)
    reference = build_preprocessor(dataset).fit(dataset.X.iloc[train])
    np.testing.assert_array_equal(fast_train, reference.transform(dataset.X.iloc[train]))
    np.testing.assert_array_equal(fast_test, reference.transform(dataset.X.iloc[test]))


@pytest.mark.parametrize("trainer", ["batched", "sequential"])
def test_adasyn_runs_on_every_fold_of_nearly_balanced_classes(trainer):
    # Issue 20: ADASYN's default target generated no row on teleconnect and the trial trained
    # without resampling; its target now asks for rows it can generate, on both trainers.
    dataset = load_dataset("teleconnect")
    folds = make_folds(dataset.y, 3, seed=0)
    config = {**BASE, "max_epochs": 2, "imbalance": "adasyn"}
    evaluation = evaluate_config(config, dataset, folds, trainer=trainer)
    assert evaluation.skipped_resampling() == []
    assert [fold.resampling for fold in evaluation.folds] == ["applied: ADASYN"] * 3
    assert evaluation.imbalance_ran(config) == ["adasyn"] * 3
    assert np.isfinite(evaluation.mean("f1_macro"))
