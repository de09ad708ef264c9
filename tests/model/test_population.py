"""Populations: q configurations x K folds trained as one network, and batch proposals."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import optuna
import pytest
import torch
from helpers import CHECKOUT, FIXTURES
from optuna.trial import TrialState
from postgres import postgres_server

from harness import evaluate_config, load_dataset
from harness.errors import ConfigError
from harness.model import population as population_module
from harness.model.fold_trainer import FoldData, NetSpec, predict_proba_folds, train_folds
from harness.model.network import MLPModule
from harness.model.population import (
    Member,
    group_members,
    predict_proba_population,
    share_key,
    train_population,
)
from harness.search.space import load_space
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.evaluation import POPULATION, evaluate_population
from harness.study.guards import TrialStopped
from harness.study.loop import StudySpec, run_study

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_FEATURES, N_CLASSES = 6, 3
SIZES = (50, 37, 61)  # ragged folds: partial last batches, different numbers of batches
ATOL = 2e-5
TINY = FIXTURES / "tiny.toml"
BENCHMARK = CHECKOUT / "benchmarks" / "population_speed.py"

BASE = NetSpec(
    N_FEATURES,
    N_CLASSES,
    (8, 6),
    optimizer="adam",
    lr=0.01,
    weight_decay=0.01,
    batch_size=16,
    max_epochs=5,
)
# Settings that differ between members of one network (widths, depth, optimizers,
# schedules, epochs), and ones that need their own network (batch norm, focal loss,
# early stopping, another activation).
SPECS = [
    BASE,
    replace(BASE, hidden=(12, 4), lr=0.003, optimizer="adamw"),
    replace(BASE, hidden=(5, 9), weight_decay=0.0, lr_schedule="cosine"),
    replace(BASE, optimizer="sgd", momentum=0.9, nesterov=True, lr=0.05),
    replace(BASE, optimizer="sgd", momentum=0.0, lr=0.05, hidden=(10, 3), max_epochs=3),
    replace(BASE, optimizer="rmsprop", momentum=0.5, lr=0.002, lr_schedule="step"),
    replace(BASE, hidden=(7,)),  # one hidden layer among two-layer members: identity padding
    replace(BASE, hidden=(4, 6, 5), optimizer="adamw", weight_decay=0.1),
    replace(BASE, batch_norm=True, hidden=(7, 5)),
    replace(BASE, batch_norm=True, hidden=(9, 5), lr=0.02, max_epochs=4),
    replace(BASE, early_stopping=True, patience=2, max_epochs=20, lr=0.05),
    replace(
        BASE,
        early_stopping=True,
        patience=3,
        max_epochs=20,
        hidden=(4, 4),
        lr_schedule="plateau",
        loss="focal",
        focal_gamma=1.5,
    ),
    replace(BASE, activation="tanh", hidden=(5,)),
]


def _folds(spec: NetSpec, seed: int, class_weight: bool) -> list[FoldData]:
    rng = np.random.default_rng(seed)
    n_valid = 12 if spec.early_stopping else 0
    folds = []
    for k, n in enumerate(SIZES):
        X = rng.normal(size=(n + n_valid, N_FEATURES)).astype(np.float32)
        y = rng.integers(0, N_CLASSES, n + n_valid)
        X[:, 0] += y  # learnable
        torch.manual_seed(100 + k + 10 * seed)
        module = MLPModule(
            N_FEATURES, N_CLASSES, spec.hidden, spec.activation, spec.dropout, spec.batch_norm
        )
        weights = rng.uniform(0.5, 2.0, N_CLASSES).astype(np.float32) if class_weight else None
        folds.append(
            FoldData(
                X[:n],
                y[:n],
                X[n:] if n_valid else None,
                y[n:] if n_valid else None,
                module.state_dict(),
                1000 + k + 10 * seed,
                weights,
            )
        )
    return folds


@pytest.fixture(scope="module")
def population():
    datas = [_folds(spec, seed, seed % 2 == 0) for seed, spec in enumerate(SPECS)]
    members = [
        Member(data, spec) for spec, folds in zip(SPECS, datas, strict=True) for data in folds
    ]
    return datas, members, train_population(members)


def test_without_dropout_each_member_is_what_training_it_alone_computes(population):
    datas, members, fits = population
    rng = np.random.default_rng(9)
    X_new = [rng.normal(size=(20, N_FEATURES)).astype(np.float32) for _ in members]
    together = predict_proba_population(fits, [m.spec for m in members], X_new)
    for index, (spec, folds) in enumerate(zip(SPECS, datas, strict=True)):
        alone = train_folds(folds, spec)
        rows = X_new[3 * index : 3 * index + 3]
        for k, (fit, expected) in enumerate(
            zip(alone, predict_proba_folds(alone, spec, rows), strict=True)
        ):
            mine = fits[3 * index + k]
            assert mine.n_epochs == fit.n_epochs and mine.best_epoch == fit.best_epoch
            assert sorted(mine.state) == sorted(fit.state)
            for key, value in fit.state.items():
                np.testing.assert_allclose(mine.state[key], value, atol=ATOL, err_msg=key)
            for name in fit.history[0]:
                ours, theirs = ([r[name] for r in h] for h in (mine.history, fit.history))
                np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=ATOL, err_msg=name)
            np.testing.assert_allclose(together[3 * index + k], expected, atol=ATOL)


def test_members_that_can_share_a_network_do_and_the_others_are_grouped():
    keys = {share_key(spec) for spec in SPECS}
    # ReLU without batch norm: one key whatever the depth, widths and optimizer
    assert share_key(SPECS[0]) == share_key(SPECS[6]) == share_key(SPECS[7])
    assert share_key(SPECS[0]) == share_key(SPECS[3]) == share_key(SPECS[5])
    assert len(keys) == 5  # plain ReLU, batch norm, early stopping, focal early stopping, tanh
    assert share_key(replace(SPECS[12], hidden=(5, 5))) != share_key(SPECS[12])  # tanh: depth
    assert share_key(replace(BASE, batch_size=32)) != share_key(BASE)
    tiny, huge = replace(BASE, hidden=(2,)), replace(BASE, hidden=(2048, 2048))
    # padding a tiny member to a huge network costs more than a second network, on a CPU
    assert group_members([tiny, huge, tiny]) == [[0, 2], [1]]
    assert group_members([tiny, huge, tiny], device="cuda") == [[0, 1, 2]]
    assert group_members([BASE, replace(BASE, hidden=(9, 5))]) == [[0, 1]]


def test_a_member_stopped_by_on_epoch_leaves_and_the_others_are_unaffected():
    folds = _folds(BASE, 0, False)
    members = [Member(data, BASE) for data in folds] + [
        Member(data, replace(BASE, lr=0.05)) for data in folds
    ]
    seen = []

    def on_epoch(epoch, alive, losses, valid_acc):
        seen.append(list(alive))
        assert np.isnan(valid_acc).all() and np.isfinite(losses).all()
        return [3, 4, 5] if epoch == 2 else None

    fits = train_population(members, on_epoch=on_epoch)
    assert seen[0] == list(range(6)) and seen[2] == [0, 1, 2]
    assert fits[3:] == [None, None, None]
    for mine, alone in zip(fits[:3], train_folds(folds, BASE), strict=True):
        np.testing.assert_allclose(
            mine.state["layers.0.weight"], alone.state["layers.0.weight"], atol=ATOL
        )


def test_dropout_trains_every_member_reproducibly():
    spec = replace(BASE, dropout=0.3)
    members = [Member(d, spec) for d in _folds(spec, 1, False)]
    selu = replace(BASE, activation="selu", dropout=0.2, hidden=(3, 9))
    members += [Member(d, selu) for d in _folds(selu, 2, False)]
    first, second = train_population(members), train_population(members)
    for a, b in zip(first, second, strict=True):
        assert np.isfinite(a.history[-1]["train_loss"])
        for key in a.state:
            assert torch.equal(a.state[key], b.state[key])
    plain = [Member(d, replace(BASE)) for d in _folds(BASE, 1, False)]
    without = train_population(plain)
    assert not torch.equal(first[0].state["layers.0.weight"], without[0].state["layers.0.weight"])


def test_the_hand_written_backward_computes_what_autograd_does(monkeypatch):
    # dropout in some members only, a shallower member (identity padding), weight decay
    specs = [
        replace(BASE, dropout=0.3),
        replace(BASE, hidden=(7,), dropout=0.2),
        replace(BASE, hidden=(12, 4), optimizer="sgd", momentum=0.9, lr=0.05),
        replace(BASE, hidden=(5, 9), dropout=0.5, optimizer="adamw"),
    ]
    members = [Member(d, spec) for seed, spec in enumerate(specs) for d in _folds(spec, seed, True)]
    by_hand = train_population(members)
    build = population_module._PopulationNet.__init__

    def autograd_only(self, *args, **kwargs):
        build(self, *args, **kwargs)
        assert self.manual
        self.manual = False

    monkeypatch.setattr(population_module._PopulationNet, "__init__", autograd_only)
    by_autograd = train_population(members)
    for mine, theirs in zip(by_hand, by_autograd, strict=True):
        for key, value in theirs.state.items():  # the same masks, the same steps
            np.testing.assert_allclose(mine.state[key], value, atol=ATOL, err_msg=key)
        losses = [[r["train_loss"] for r in fit.history] for fit in (mine, theirs)]
        np.testing.assert_allclose(*losses, rtol=1e-5)


def test_dropout_masks_keep_each_member_s_units_at_its_rate():
    specs = [replace(BASE, hidden=(40, 40), dropout=p) for p in (0.5, 0.2, 0.0)]
    members = [Member(_folds(spec, 0, False)[0], spec) for spec in specs]
    net = population_module._PopulationNet(members, "cpu")
    generator = torch.Generator().manual_seed(0)
    steps = list(population_module._epoch_masks(net, generator, 50, 16, scaled=True))
    assert len(steps) == 50
    for layer in range(2):
        masks = torch.stack([step[layer] for step in steps])  # the two dropping members only
        assert masks.shape == (50, 2, 16, 40)
        for k, p in enumerate((0.5, 0.2)):
            values = masks[:, k]
            assert values.unique().tolist() == pytest.approx([0.0, 1 / (1 - p)])
            assert (values > 0).float().mean().item() == pytest.approx(1 - p, abs=0.01)
    plain = list(population_module._epoch_masks(net, generator, 2, 16, scaled=False))
    assert plain[0][0].shape == (3, 16, 40) and bool((plain[0][0][2] == 1).all())


CONFIGS = [
    {"hidden_layer_sizes": (16,), "max_epochs": 4, "optimizer": "adam", "lr": 0.01},
    {
        "hidden_layer_sizes": (8, 4),
        "max_epochs": 6,
        "optimizer": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
        "imbalance": "class_weight",
    },
    {
        "hidden_layer_sizes": (12,),
        "max_epochs": 5,
        "optimizer": "rmsprop",
        "lr": 0.001,
        "imbalance": "smote",
    },
    {"hidden_layer_sizes": (6,), "max_epochs": 8, "early_stopping": True, "patience": 2},
]


def test_evaluate_population_scores_each_configuration_as_evaluate_config_does(wine, wine_folds):
    together = evaluate_population(CONFIGS, wine, wine_folds, random_state=3)
    for config, result in zip(CONFIGS, together, strict=True):
        assert result.trainer == POPULATION
        alone = evaluate_config(config, wine, wine_folds, random_state=3, trainer="batched")
        for metric in ("log_loss", "f1_macro"):
            np.testing.assert_allclose(
                result.fold_scores()[metric], alone.fold_scores()[metric], rtol=5e-4, atol=1e-5
            )
        assert len(result.folds) == 3 and all(f.fit_seconds > 0 for f in result.folds)


def test_a_failing_configuration_fails_alone(wine, wine_folds):
    diverging = {"hidden_layer_sizes": (16,), "max_epochs": 4, "optimizer": "sgd", "lr": 1e6}
    results = evaluate_population(
        [CONFIGS[0], diverging, {"optimizer": "nope"}, CONFIGS[3]], wine, wine_folds, random_state=3
    )
    assert isinstance(results[1], TrialStopped) and "diverged" in str(results[1])
    assert isinstance(results[2], ValueError)
    assert results[0].trainer == results[3].trainer == POPULATION
    alone = evaluate_config(CONFIGS[0], wine, wine_folds, random_state=3)
    np.testing.assert_allclose(
        results[0].fold_scores()["log_loss"], alone.fold_scores()["log_loss"], rtol=5e-4
    )


def test_epoch_pruning_stops_one_configuration_inside_the_population(wine, wine_folds):
    configs = [{**CONFIGS[3], "max_epochs": 6}, {**CONFIGS[3], "lr": 0.01, "max_epochs": 6}]
    reports = []

    def on_epoch(epoch, values):
        reports.append((epoch, sorted(values)))
        return {1: optuna.TrialPruned("pruned at epoch 2")} if epoch == 1 else None

    results = evaluate_population(configs, wine, wine_folds, random_state=3, on_epoch=on_epoch)
    assert isinstance(results[1], optuna.TrialPruned)
    assert results[0].trainer == POPULATION
    assert reports[:3] == [(0, [0, 1]), (1, [0, 1]), (2, [0])]


def test_a_batch_is_pruned_against_its_batch_mates_like_a_rung(tmp_path):
    space = tmp_path / "rung.toml"
    space.write_text(
        '[params.lr]\ntype = "categorical"\nchoices = [0.0001, 0.001, 0.01, 0.05]\n'
        '[params.optimizer]\ntype = "categorical"\nchoices = ["adam", "sgd"]\n'
        "[fixed]\nhidden_layer_sizes = [8]\nmax_epochs = 12\nearly_stopping = true\n"
        "patience = 12\n"
    )
    # grid: the 8 points, all different (grid search skips the points that are running)
    spec = _spec(
        tmp_path,
        strategy="grid",
        batch=8,
        n_trials=8,
        space=load_space(space),
        pruner="median",
        prune_on="epochs",
    )
    trials = run_study(spec).get_trials(deepcopy=False)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    # no trial had finished before: only the batch-mates' epochs can have pruned these
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 8
    assert pruned and len(pruned) < len(trials)
    assert all(t.user_attrs[ledger.FAIL_REASON].startswith("pruned at epoch") for t in pruned)
    assert all(max(t.intermediate_values) >= 5 for t in pruned)  # the median's warm-up


def _spec(tmp_path, **overrides) -> StudySpec:
    settings = {
        "name": "iris-batch",
        "storage": f"sqlite:///{tmp_path / 'studies.db'}",
        "strategy": "tpe",
        "dataset": load_dataset("iris"),
        "space": load_space(TINY),
        "n_folds": 3,
        "n_trials": 7,
    }
    return StudySpec(**{**settings, **overrides})


def test_a_batched_study_stores_ordinary_trials_with_their_batch_and_an_exact_budget(tmp_path):
    study = run_study(_spec(tmp_path, batch=3))
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 7 and all(t.state == TrialState.COMPLETE for t in trials)
    batches = [t.user_attrs[ledger.BATCH] for t in trials]
    assert [b["id"] for b in batches] == [0, 0, 0, 3, 3, 3, 6]
    assert [b["position"] for b in batches] == [0, 1, 2, 0, 1, 2, 0]
    assert [b["size"] for b in batches] == [3, 3, 3, 3, 3, 3, 1]  # never past the budget
    trained = [t for t in trials if ledger.DUPLICATE_OF not in t.user_attrs]
    assert all(t.user_attrs[ledger.TRAINER] == POPULATION for t in trained)
    for trial in trials:
        assert len(trial.user_attrs[ledger.FOLD_SCORES]["f1_macro"]) == 3
    # resuming with a larger budget goes on in batches
    resumed = run_study(_spec(tmp_path, batch=3, n_trials=9))
    assert len(resumed.trials) == 9


@pytest.mark.slow
def test_two_batching_workers_keep_the_budget_exact_on_postgresql(tmp_path):
    with postgres_server() as url:
        study = run_study(_spec(tmp_path, storage=url, batch=4, n_trials=7), workers=2)
        trials = study.get_trials(deepcopy=False)
        assert sorted(t.number for t in trials) == list(range(7))
        assert all(t.state == TrialState.COMPLETE for t in trials)
        assert sum(1 for t in trials if t.user_attrs[ledger.BATCH]["position"] == 0) >= 2


def test_repeats_inside_a_batch_are_trained_once(tmp_path):
    # random search on a 4-point space: a batch of 4 draws some point twice
    space = tmp_path / "four.toml"
    space.write_text(
        '[params.optimizer]\ntype = "categorical"\nchoices = ["adam", "sgd"]\n'
        '[params.lr]\ntype = "categorical"\nchoices = [0.01, 0.1]\n'
        "[fixed]\nhidden_layer_sizes = [8]\nmax_epochs = 5\n"
    )
    spec = _spec(tmp_path, strategy="random", batch=4, n_trials=8, space=load_space(space))
    study = run_study(spec)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 8
    repeats = [t for t in trials if ledger.DUPLICATE_OF in t.user_attrs]
    assert repeats, "a 4-point space with 8 random draws repeats a point"
    by_number = {t.number: t for t in trials}
    for trial in repeats:
        earlier = by_number[trial.user_attrs[ledger.DUPLICATE_OF]]
        assert earlier.params == trial.params and earlier.number < trial.number
        assert trial.value == earlier.value
    trained = [t for t in trials if ledger.DUPLICATE_OF not in t.user_attrs]
    assert len({tuple(sorted(t.params.items())) for t in trained}) == len(trained)


def test_batch_must_be_positive_and_is_a_training_key(tmp_path):
    with pytest.raises(ConfigError, match="batch must be at least 1"):
        _spec(tmp_path, batch=0)
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\nstrategies = ["tpe"]\nseeds = [0]\ntrials = 4\ndataset = "iris"\nbatch = 4\n'
    )
    assert load_comparison(path).batch == 4
    path.write_text(
        'name = "c"\nstrategies = ["tpe"]\nseeds = [0]\ntrials = 4\nbatch = 0\ndataset = "iris"\n'
    )
    with pytest.raises(ConfigError, match="batch must be at least 1"):
        load_comparison(path)


@pytest.mark.slow
def test_run_rejects_a_batch_below_one_before_writing(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--batch",
            "0",
            "--storage",
            f"sqlite:///{tmp_path / 's.db'}",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "batch must be at least 1" in result.stderr
    assert not (tmp_path / "s.db").exists()


def _run_benchmark(*options: str, timeout: float) -> subprocess.CompletedProcess:
    """Run the population benchmark in a child process; it must exit 0."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), *options],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_the_quick_benchmark_ends_with_the_speed_up_line():
    result = _run_benchmark("--quick", "--max-epochs", "3", timeout=600)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("population speed-up at q=8: ") and last.endswith("x")
    assert "| mlp-small | 8 |" in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device runs the benchmark")
def test_the_gpu_benchmark_skips_cleanly_without_cuda():
    result = _run_benchmark("--device", "cuda", "--quick", timeout=300)
    assert "skipped: --device cuda needs a CUDA GPU" in result.stdout
