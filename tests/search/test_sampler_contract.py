"""Every strategy honours Optuna's sampler contract.

Checked for each registered strategy on a small conditional space with grid
values: wrapped in Optuna's ``PartialFixedSampler`` no trial fails and the fixed
value is used; the relative search space handed out is a copy; enqueued trials
keep their values; failed and pruned trials in the history do not stop the
search; ``reseed_rng`` reaches the inner random sampler; the same seed gives the
same proposals; trials without parameters (reference trials of the untuned
baseline) are left out of a rebuilt optimiser's history; bayesian-optimization
prints nothing on repeated points.
"""

from __future__ import annotations

import math

import optuna
import pytest
from helpers import sgd_or_adam_space
from optuna.distributions import FloatDistribution
from optuna.samplers import PartialFixedSampler
from optuna.trial import TrialState, create_trial

from harness.errors import StrategyError
from harness.search._rebuilding import RebuildingSampler
from harness.search.strategies import STRATEGIES, create_sampler

N_TRIALS = 6
N_STARTUP = 2
REBUILDING = ("bayesopt", "skopt", "skopt-rf", "skopt-et")

SPACE = sgd_or_adam_space("contract")


@pytest.fixture(autouse=True)
def _quiet_optuna():
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    yield
    optuna.logging.set_verbosity(verbosity)


def _score(config: dict) -> float:
    return -((math.log10(config["lr"]) + 2) ** 2) + (config["optimizer"] == "adam")


def _run(study: optuna.Study, n_trials: int = N_TRIALS) -> list[dict]:
    """Run ``n_trials`` ask/tell trials; return the configurations evaluated."""
    configs = []
    for _ in range(n_trials):
        trial = study.ask()
        config = SPACE.suggest(trial)
        study.tell(trial, _score(config))
        configs.append(config)
    return configs


def _study(name: str, seed: int = 0, **kwargs) -> optuna.Study:
    sampler = create_sampler(name, SPACE, seed, n_startup_trials=N_STARTUP)
    return optuna.create_study(direction="maximize", sampler=sampler, **kwargs)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_partial_fixed_sampler_runs_every_trial(name):
    inner = create_sampler(name, SPACE, 0, n_startup_trials=N_STARTUP)
    sampler = PartialFixedSampler({"optimizer": "adam"}, inner)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    configs = _run(study)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * N_TRIALS
    assert {c["optimizer"] for c in configs} == {"adam"}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_partial_fixed_sampler_activating_a_conditional_parameter(name):
    # Fixing sgd activates momentum, which half the grid points lack.
    inner = create_sampler(name, SPACE, 0, n_startup_trials=N_STARTUP)
    study = optuna.create_study(
        direction="maximize", sampler=PartialFixedSampler({"optimizer": "sgd"}, inner)
    )
    configs = _run(study)
    assert all(c["optimizer"] == "sgd" and "momentum" in c for c in configs)


@pytest.mark.parametrize("name", (*REBUILDING, "grid"))
def test_relative_search_space_is_a_copy(name):
    sampler = create_sampler(name, SPACE, 0)
    study = optuna.create_study(sampler=sampler)
    trial = study.ask()
    handed_out = sampler.infer_relative_search_space(study, study.trials[-1])
    handed_out.clear()
    assert set(SPACE.distributions) == {"optimizer", "lr", "momentum"}
    study.tell(trial, 0.0)
    # A sampler built later from the same space still samples every parameter.
    assert len(_run(_study(name), n_trials=3)) == 3


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_enqueued_trial_keeps_its_values(name):
    study = _study(name)
    _run(study, n_trials=3)
    study.enqueue_trial({"optimizer": "sgd", "lr": 0.01, "momentum": 0.9})
    config = _run(study, n_trials=1)[0]
    assert config["optimizer"] == "sgd" and config["lr"] == 0.01 and config["momentum"] == 0.9
    assert len(_run(study, n_trials=2)) == 2


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_failed_and_pruned_trials_do_not_stop_the_search(name):
    study = _study(name)
    for state in (TrialState.FAIL, TrialState.PRUNED, TrialState.FAIL):
        trial = study.ask()
        SPACE.suggest(trial)
        study.tell(trial, state=state)
    _run(study, n_trials=N_TRIALS - 3)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == N_TRIALS - 3


@pytest.mark.parametrize("name", REBUILDING)
def test_failed_configuration_is_not_proposed_again(name):
    study = _study(name)
    trial = study.ask()
    failed = SPACE.suggest(trial)
    study.tell(trial, state=TrialState.FAIL)
    configs = _run(study, n_trials=N_TRIALS)
    assert all(SPACE.active(c) != SPACE.active(failed) for c in configs)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_same_seed_same_proposals(name):
    assert _run(_study(name, seed=3)) == _run(_study(name, seed=3))


@pytest.mark.parametrize("name", REBUILDING)
def test_reseed_rng_reaches_the_inner_random_sampler(name):
    outside = FloatDistribution(0.0, 1.0)

    def draw(reseed: bool) -> float:
        sampler = create_sampler(name, SPACE, 0)
        if reseed:
            sampler.reseed_rng()
        study = optuna.create_study(sampler=sampler)
        study.ask()
        return sampler.sample_independent(study, study.trials[-1], "extra", outside)

    assert draw(reseed=False) == draw(reseed=False)
    assert draw(reseed=True) != draw(reseed=False)


@pytest.mark.parametrize("name", REBUILDING)
def test_trials_without_params_are_left_out_of_the_history(name):
    study = _study(name)
    _run(study, n_trials=3)
    study.add_trial(create_trial(value=100.0, params={}, distributions={}))
    sampler = study.sampler
    assert isinstance(sampler, RebuildingSampler)
    trial = study.ask()
    history = sampler._history(study, study.trials[-1])
    assert len(history.y) == 3 and 100.0 not in history.y
    SPACE.suggest(trial)


def test_bayesopt_prints_nothing_on_repeated_points(capfd):
    study = _study("bayesopt")
    point = {"optimizer": "adam", "lr": 0.01}
    distributions = {k: v for k, v in SPACE.distributions.items() if k in point}
    for value in (0.1, 0.2, 0.3):
        study.add_trial(create_trial(value=value, params=point, distributions=distributions))
    _run(study, n_trials=3)
    assert "not unique" not in capfd.readouterr().out


@pytest.mark.parametrize(
    ("low", "high"),
    [(20.0, 30.0), (1e-3, 1e-2)],
    ids=["outside the space", "inside the space"],
)
def test_grid_refuses_a_range_other_than_the_spaces(low, high):
    # Used as a plain Optuna sampler, an objective asking for another range must not get a
    # grid value of the space's range (it once stored lr = 0.1 for [20, 30]).
    study = _study("grid")

    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("lr", low, high, log=True)

    with pytest.raises(StrategyError, match="searches it as"):
        for _ in range(4):  # some grid point lies outside [1e-3, 1e-2]
            study.optimize(objective, n_trials=1)
    assert all(low <= t.params["lr"] <= high for t in study.trials if t.params)
