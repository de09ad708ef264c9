"""The study loop: ledger contents, resume, failures, pruning, workers and storages."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from helpers import FIXTURES, TINY, start_random_search, study_spec
from optuna.trial import TrialState
from postgres import postgres_server

from harness.errors import ConfigError
from harness.search.pruners import PRUNERS, make_pruner
from harness.search.space import load_space
from harness.search.strategies import STRATEGIES
from harness.study import ledger
from harness.study.loop import run_study
from harness.study.metrics import task_metrics

FAILING = FIXTURES / "failing.toml"


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.get_trials(deepcopy=False)]


def test_every_trial_is_stored_with_folds_metrics_and_timings(tmp_path):
    study = run_study(study_spec(tmp_path))
    assert states(study) == ["COMPLETE"] * 3
    for trial in study.trials:
        folds = trial.user_attrs[ledger.FOLD_SCORES]
        assert set(folds) == set(task_metrics("classification"))
        assert all(len(scores) == 3 for scores in folds.values())
        assert trial.value == pytest.approx(sum(folds["f1_macro"]) / 3)
        assert len(trial.user_attrs[ledger.FIT_SECONDS]) == 3
        assert trial.user_attrs[ledger.SUGGEST_SECONDS] > 0
        assert trial.user_attrs[ledger.TRIAL_SECONDS] > sum(trial.user_attrs[ledger.FIT_SECONDS])
        assert trial.user_attrs[ledger.CONFIG]["hidden_layer_sizes"] == [8]
        # Process CPU time of the trial's work, and the load its wall time was measured under.
        cpu = trial.user_attrs[ledger.CPU_SECONDS]
        assert 0 < cpu < 10 * trial.user_attrs[ledger.TRIAL_SECONDS]
        assert trial.user_attrs[ledger.LOAD_AVERAGE] >= 0
    rows = ledger.trial_rows(study)
    cpu = [row[ledger.CPU_SECONDS] for row in rows]
    assert [row["elapsed_cpu_seconds"] for row in rows] == pytest.approx(np.cumsum(cpu))
    assert study.user_attrs[ledger.STRATEGY] == "random"
    assert study.best_value > 0.5  # iris: a 3-class problem the tiny MLP learns


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_runs_through_the_same_loop(tmp_path, strategy):
    study = run_study(study_spec(tmp_path, strategy=strategy, n_trials=3))
    assert states(study) == ["COMPLETE"] * 3
    assert study.user_attrs[ledger.STRATEGY] == strategy
    assert all(t.user_attrs[ledger.SUGGEST_SECONDS] > 0 for t in study.trials)


def test_rerunning_resumes_up_to_the_budget_without_touching_finished_trials(tmp_path):
    first = run_study(study_spec(tmp_path, n_trials=2))
    before = [(t.number, t.value, t.params) for t in first.trials]
    resumed = run_study(study_spec(tmp_path, n_trials=4))
    assert len(resumed.trials) == 4
    assert [(t.number, t.value, t.params) for t in resumed.trials[:2]] == before
    again = run_study(study_spec(tmp_path, n_trials=4))
    assert len(again.trials) == 4


@pytest.mark.parametrize("strategy", ["random", "qmc", "tpe"])
def test_a_resumed_study_does_not_repeat_the_draws_it_already_has(tmp_path, strategy):
    """A seeded stream restarted on resume would propose trials 1..k again."""
    run_study(study_spec(tmp_path, strategy=strategy, n_trials=3))
    resumed = run_study(study_spec(tmp_path, strategy=strategy, n_trials=6))
    lrs = [t.params["lr"] for t in resumed.trials]
    assert len(set(lrs)) == 6, lrs  # lr is continuous: a repeat is a restarted stream
    assert not any(ledger.DUPLICATE_OF in t.user_attrs for t in resumed.trials)


def test_a_study_name_reused_with_other_settings_is_refused_and_left_intact(tmp_path):
    run_study(study_spec(tmp_path, n_trials=1))
    with pytest.raises(ConfigError, match="strategy: stored 'random', asked 'tpe'"):
        run_study(study_spec(tmp_path, strategy="tpe", n_trials=2))
    stored = optuna.load_study(
        study_name="iris-tiny", storage=f"sqlite:///{tmp_path / 'studies.db'}"
    )
    assert len(stored.trials) == 1 and stored.user_attrs[ledger.STRATEGY] == "random"


def test_a_trial_over_its_time_limit_is_failed_with_its_reason_and_the_study_goes_on(tmp_path):
    study = run_study(study_spec(tmp_path, trial_timeout=1e-6, n_trials=2))
    assert states(study) == ["FAIL", "FAIL"]
    reasons = [t.user_attrs[ledger.FAIL_REASON] for t in study.trials]
    assert all("time limit exceeded" in reason for reason in reasons)


def test_an_exception_in_a_trial_is_stored_as_its_failure_reason(tmp_path):
    study = run_study(study_spec(tmp_path, space=load_space(FAILING), n_trials=2))
    assert states(study) == ["FAIL", "FAIL"]
    assert "activation" in study.trials[0].user_attrs[ledger.FAIL_REASON]


def test_fold_level_pruning_keeps_the_folds_a_pruned_trial_finished(tmp_path):
    spec = study_spec(tmp_path, pruner="median", n_trials=12, n_folds=4, strategy="random")
    study = run_study(spec)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, "sgd at lr 1e-3 for 5 epochs is hopeless on iris: the median pruner stops it"
    for trial in pruned:
        kept = len(trial.user_attrs[ledger.FOLD_SCORES]["f1_macro"])
        assert 1 <= kept < 4
        assert trial.user_attrs[ledger.FAIL_REASON].startswith("pruned after")


def test_epoch_level_pruning_stops_hopeless_trials_within_the_first_fold(tmp_path):
    spec = study_spec(tmp_path, pruner="median", prune_on="epochs", n_trials=12, n_folds=3)
    study = run_study(spec)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, "sgd at lr 1e-3 is hopeless on iris: the median pruner stops it"
    for trial in pruned:
        assert trial.user_attrs[ledger.FAIL_REASON].startswith("pruned at epoch")
        assert trial.user_attrs[ledger.FOLD_SCORES] == {}  # stopped inside the first fold
        assert max(trial.intermediate_values) < 10  # steps are epochs, not folds


@pytest.mark.parametrize("name", PRUNERS)
@pytest.mark.parametrize("level", ["folds", "epochs"])
def test_every_pruner_is_built_for_folds_and_epochs(name, level):
    if name == "wilcoxon" and level == "epochs":
        with pytest.raises(ConfigError, match="use --prune-on folds"):
            make_pruner(name, 5, level)
    else:
        assert isinstance(make_pruner(name, 5, level), optuna.pruners.BasePruner)


def test_an_unknown_pruner_or_level_names_the_valid_ones():
    with pytest.raises(ConfigError, match="none, median, wilcoxon, hyperband"):
        make_pruner("patient", 5)
    with pytest.raises(ConfigError, match="folds, epochs"):
        make_pruner("median", 5, "batches")


@pytest.mark.slow
def test_two_workers_share_one_study_without_losing_or_repeating_grid_points(tmp_path):
    study = run_study(study_spec(tmp_path, strategy="grid", n_trials=10), workers=2)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    configs = {tuple(sorted(t.params.items())) for t in complete}
    assert len(complete) == len(configs) == 4  # the grid has four points: it stops there
    # A worker that asked at the very moment the other took the last point stores why.
    for trial in study.trials:
        if trial.state != TrialState.COMPLETE:
            assert "is exhausted" in trial.user_attrs[ledger.FAIL_REASON]


@pytest.mark.slow
def test_two_workers_run_one_study_on_postgresql(tmp_path):
    with postgres_server() as url:
        study = run_study(study_spec(tmp_path, storage=url, n_trials=6), workers=2)
        assert states(study) == ["COMPLETE"] * 6
        numbers = sorted(t.number for t in study.trials)
        assert numbers == list(range(6))


def start_run(tmp_path: Path, name: str) -> tuple[subprocess.Popen, str]:
    storage = f"sqlite:///{tmp_path / (name + '.db')}"
    return start_random_search(TINY, storage, name, tmp_path, "--trials", "200"), storage


def wait_for_complete_trials(storage: str, name: str, count: int) -> list[optuna.trial.FrozenTrial]:
    deadline = time.monotonic() + 120
    finished: list[optuna.trial.FrozenTrial] = []
    while len(finished) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            study = optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            continue
        finished = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(finished) >= count, "the run finished too few trials in two minutes"
    return finished


@pytest.mark.slow
def test_a_run_killed_with_sigkill_loses_no_finished_trial(tmp_path):
    process, storage = start_run(tmp_path, "killed")
    try:
        finished = wait_for_complete_trials(storage, "killed", 3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    after = optuna.load_study(study_name="killed", storage=storage)
    kept = {t.number: t.value for t in after.get_trials(states=(TrialState.COMPLETE,))}
    assert all(kept[t.number] == t.value for t in finished)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_the_study_resumable(tmp_path):
    process, storage = start_run(tmp_path, "interrupted")
    try:
        wait_for_complete_trials(storage, "interrupted", 2)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; stored results are kept" in err and "Traceback" not in err
    study = optuna.load_study(study_name="interrupted", storage=storage)
    assert all(t.state != TrialState.RUNNING for t in study.trials)
    stopped = [t for t in study.trials if t.state == TrialState.FAIL]
    assert all(t.user_attrs[ledger.FAIL_REASON] == "interrupted by the user" for t in stopped)


def test_repeated_folds_evaluate_every_repeat_and_are_stored(tmp_path):
    study = run_study(study_spec(tmp_path, n_trials=2, repeats=2))
    for trial in study.trials:
        assert len(trial.user_attrs[ledger.FOLD_SCORES]["f1_macro"]) == 6
    assert study.user_attrs[ledger.REPEATS] == 2
    plain = run_study(study_spec(tmp_path, name="plain", n_trials=1))
    assert ledger.REPEATS not in plain.user_attrs  # stored only when set


def test_an_initial_design_is_shared_by_every_strategy_and_counts_against_the_budget(tmp_path):
    first = run_study(
        study_spec(
            tmp_path, name="a", strategy="random", seed=1, n_trials=3, initial_design=2, task_seed=7
        )
    )
    second = run_study(
        study_spec(
            tmp_path, name="b", strategy="tpe", seed=9, n_trials=3, initial_design=2, task_seed=7
        )
    )
    assert len(first.trials) == len(second.trials) == 3
    assert [t.params for t in first.trials[:2]] == [t.params for t in second.trials[:2]]
    assert first.user_attrs[ledger.INITIAL_DESIGN] == 2


def test_an_initial_design_larger_than_the_budget_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="initial_design between 0 and the budget"):
        study_spec(tmp_path, n_trials=2, initial_design=3)


def test_a_repeated_proposal_on_a_discrete_space_is_not_trained_again(tmp_path):
    space = tmp_path / "two.toml"
    space.write_text(
        '[params.optimizer]\ntype = "categorical"\nchoices = ["adam", "sgd"]\n'
        "[fixed]\nhidden_layer_sizes = [8]\nmax_epochs = 3\n"
    )
    study = run_study(study_spec(tmp_path, space=load_space(space), n_trials=5, seed=2))
    assert len(study.trials) == 5  # duplicates count against the budget
    duplicates = [t for t in study.trials if ledger.DUPLICATE_OF in t.user_attrs]
    assert len(duplicates) >= 3  # two points, five proposals
    for trial in duplicates:
        earlier = study.trials[trial.user_attrs[ledger.DUPLICATE_OF]]
        assert trial.params == earlier.params and trial.value == earlier.value
        assert sum(trial.user_attrs[ledger.FIT_SECONDS]) == 0
    assert sum(row["duplicate"] for row in ledger.trial_rows(study)) == len(duplicates)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 4])
def test_a_study_never_holds_more_trials_than_its_budget(tmp_path, workers):
    study = run_study(study_spec(tmp_path, n_trials=6), workers=workers)
    assert len(study.get_trials(deepcopy=False)) == 6
    assert states(study) == ["COMPLETE"] * 6
    again = run_study(study_spec(tmp_path, n_trials=8), workers=workers)  # a larger budget
    assert len(again.get_trials(deepcopy=False)) == 8


def test_each_trial_records_its_trainer(tmp_path):
    study = run_study(study_spec(tmp_path, n_trials=2))
    assert {t.user_attrs[ledger.TRAINER] for t in study.trials} == {"batched"}


@pytest.mark.slow
def test_epoch_pruning_uses_the_mean_over_folds(tmp_path):
    path = tmp_path / "es.toml"
    path.write_text(
        "[fixed]\nhidden_layer_sizes = [8]\nearly_stopping = true\nmax_epochs = 40\n"
        'patience = 40\n[params.lr]\ntype = "float"\nlow = 1e-6\nhigh = 0.1\nlog = true\n'
    )
    spec = study_spec(
        tmp_path, space=load_space(path), n_trials=12, pruner="median", prune_on="epochs"
    )
    study = run_study(spec)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned
    for trial in pruned:
        assert trial.user_attrs[ledger.FAIL_REASON].endswith("(mean of the folds)")
        assert trial.user_attrs[ledger.TRAINER] == "batched"


def test_every_study_stores_the_baseline_on_its_own_folds(tmp_path):
    from harness.data.splits import make_folds
    from harness.model.vocabulary import BASELINE_CONFIG
    from harness.study.evaluation import evaluate_config

    spec = study_spec(tmp_path, n_trials=1)
    study = run_study(spec)
    stored = study.user_attrs[ledger.BASELINE_CV]
    folds = make_folds(spec.dataset.y, spec.n_folds, spec.task_seed)
    expected = evaluate_config(
        dict(BASELINE_CONFIG), spec.dataset, folds, random_state=spec.task_seed
    ).fold_scores()
    assert stored["f1_macro"] == pytest.approx(expected["f1_macro"])
    assert len(stored["f1_macro"]) == spec.n_folds
    assert len(study.trials) == 1  # not a trial: the budget is the strategy's
