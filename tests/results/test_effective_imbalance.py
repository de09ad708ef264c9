"""Issue 20.1: credit only for the imbalance strategy that ran; factors compared like with like."""

from __future__ import annotations

import optuna
import pytest
from helpers import random_search_trials

from harness.errors import ConfigError
from harness.report.tuned_model import effective_trials
from harness.results.factors import factor_effects
from harness.study import ledger


def _trial(config, skipped=(), value=0.5, folds=3):
    attrs = {
        ledger.CONFIG: config,
        ledger.FOLD_SCORES: {"f1_macro": [value] * folds},
    }
    if skipped:
        attrs[ledger.RESAMPLING_SKIPPED] = list(skipped)
    return optuna.trial.create_trial(
        params={"imbalance": config["imbalance"]},
        distributions={
            "imbalance": optuna.distributions.CategoricalDistribution(["none", "adasyn", "smote"])
        },
        value=value,
        user_attrs=attrs,
    )


def test_a_resampler_skipped_on_every_fold_is_credited_as_none():
    config = {"lr": 0.01, "imbalance": "adasyn"}
    skipped = [f"fold {k}: skipped: ADASYN: No samples will be generated" for k in range(3)]
    trial = _trial(config, skipped)
    assert ledger.imbalance_ran(config, trial.user_attrs) == ["none"] * 3
    assert ledger.effective_imbalance(config, trial.user_attrs) == "none"
    assert ledger.effective_config(trial) == {"lr": 0.01, "imbalance": "none"}


def test_partly_skipped_and_old_unindexed_records_are_read():
    config = {"imbalance": "adasyn"}
    partly = _trial(config, ["fold 1: skipped: ADASYN: no rows"])
    assert ledger.imbalance_ran(config, partly.user_attrs) == ["adasyn", "none", "adasyn"]
    assert ledger.effective_imbalance(config, partly.user_attrs) == "adasyn (2 of 3 folds)"
    assert ledger.effective_config(partly)["imbalance"] == "adasyn"
    # Stored before the fold index existed: three reasons for three folds still mean "none".
    old = _trial(config, ["skipped: ADASYN: No samples will be generated"] * 3)
    assert ledger.effective_imbalance(config, old.user_attrs) == "none"
    ran = _trial({"imbalance": "smote"})
    assert ledger.effective_imbalance({"imbalance": "smote"}, ran.user_attrs) == "smote"


def test_trial_rows_and_importances_read_the_strategy_that_ran():
    study = optuna.create_study(direction="maximize")
    skipped = [f"fold {k}: skipped: ADASYN: nothing" for k in range(3)]
    study.add_trials(
        [_trial({"imbalance": "adasyn"}, skipped, 0.6), _trial({"imbalance": "smote"}, (), 0.5)]
    )
    study.set_user_attr(ledger.STRATEGY, "random")
    rows = ledger.trial_rows(study)
    assert [r["param_imbalance"] for r in rows] == ["none", "smote"]
    assert [r["proposed_imbalance"] for r in rows] == ["adasyn", "smote"]
    assert [t.params["imbalance"] for t in effective_trials(study.trials)] == ["none", "smote"]


def _frame(seeds=4, n=40):
    """Trials where 'adam' adds 0.1 to the score on every configuration, and 'sgd' is proposed
    four times as often (so a 'best of each value' table would favour it by count alone)."""
    return random_search_trials(
        "optimizer",
        lambda position: "adam" if position % 5 == 0 else "sgd",
        lambda optimizer, lr: 0.5 - 0.3 * (lr - 0.5) ** 2 + (0.1 if optimizer == "adam" else 0.0),
        seeds=seeds,
        trials=n,
        noise=0.01,
        rng_seed=0,
    )


def test_factor_effects_compare_values_on_the_same_configurations():
    table = factor_effects(_frame(), "optimizer")
    assert table["optimizer"].tolist() == ["adam", "sgd"]
    adam, sgd = (row for _, row in table.iterrows())
    assert (adam["trials"], sgd["trials"], adam["seeds"]) == (32, 128, 4)
    assert adam["vs_top"] == 0.0
    # The surrogate recovers most of the 0.1 effect, paired over seeds, with an interval below 0.
    assert -0.12 < sgd["vs_top"] < -0.05 and sgd["vs_top_high"] < 0
    assert sgd["ci_low"] <= sgd["effect"] <= sgd["ci_high"]
    with pytest.raises(ConfigError, match="parameters: lr, optimizer"):
        factor_effects(_frame(), "imbalance")


def test_factor_effects_group_list_values():
    frame = _frame(seeds=2, n=10)
    frame["param_sizes"] = [[64, 32] if i % 2 else [64] for i in range(len(frame))]
    table = factor_effects(frame, "sizes")
    assert sorted(table["sizes"].tolist()) == [(64,), (64, 32)]
