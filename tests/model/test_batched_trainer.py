"""harness.model.fold_trainer trains K folds as one network, computing what K fits compute."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from harness.model import stacked_training
from harness.model.estimator import MLPClassifier
from harness.model.fold_trainer import (
    FoldData,
    NetSpec,
    fold_data_like_estimator,
    net_spec_like_estimator,
    predict_proba_folds,
    train_folds,
)
from harness.model.network import FocalLoss, MLPModule

N_FEATURES, N_CLASSES, HIDDEN = 5, 3, (8, 6)
SIZES = (50, 37, 61)  # ragged: 4, 3 and 4 batches of 16, each with a partial last batch
ATOL = 1e-5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _spec(**changes) -> NetSpec:
    base = NetSpec(
        N_FEATURES,
        N_CLASSES,
        HIDDEN,
        optimizer="adam",
        lr=0.01,
        weight_decay=0.01,
        batch_size=16,
        max_epochs=5,
    )
    return replace(base, **changes)


def _folds(
    spec: NetSpec,
    sizes=SIZES,
    seed: int = 0,
    class_weight: bool = False,
    n_valid: int = 0,
) -> list[FoldData]:
    rng = np.random.default_rng(seed)
    folds = []
    for k, n in enumerate(sizes):
        X = rng.normal(size=(n + n_valid, spec.n_features)).astype(np.float32)
        y = rng.integers(0, spec.n_classes, n + n_valid)
        X[:, 0] += y  # learnable, so the loss moves
        torch.manual_seed(100 + k + 10 * seed)
        module = MLPModule(
            spec.n_features,
            spec.n_classes,
            spec.hidden,
            spec.activation,
            spec.dropout,
            spec.batch_norm,
        )
        weights = rng.uniform(0.5, 2.0, spec.n_classes).astype(np.float32)
        folds.append(
            FoldData(
                X_train=X[:n],
                y_train=y[:n],
                X_valid=X[n:] if n_valid else None,
                y_valid=y[n:] if n_valid else None,
                init_state=module.state_dict(),
                seed=1000 + k + 10 * seed,
                class_weight=weights if class_weight else None,
            )
        )
    return folds


def _reference(fold: FoldData, spec: NetSpec) -> tuple[MLPModule, list[float], list[float]]:
    """One fold trained by a plain torch loop; returns the model, train losses and lrs."""
    model = MLPModule(
        spec.n_features, spec.n_classes, spec.hidden, spec.activation, 0.0, spec.batch_norm
    )
    model.load_state_dict(fold.init_state)
    params, lr, wd = model.parameters(), spec.lr, spec.weight_decay
    optimizer = {
        "sgd": lambda: torch.optim.SGD(
            params, lr=lr, momentum=spec.momentum, nesterov=spec.nesterov, weight_decay=wd
        ),
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=wd),
        "adamw": lambda: torch.optim.AdamW(params, lr=lr, weight_decay=wd),
        "rmsprop": lambda: torch.optim.RMSprop(
            params, lr=lr, momentum=spec.momentum, weight_decay=wd
        ),
    }[spec.optimizer]()
    scheduler = None
    if spec.lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec.max_epochs)
    elif spec.lr_schedule == "step":
        step = max(1, spec.max_epochs // 3)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=0.1)
    elif spec.lr_schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.1, patience=max(1, spec.patience // 2)
        )
    weight = None if fold.class_weight is None else torch.tensor(fold.class_weight)
    if spec.loss == "focal":
        criterion = FocalLoss(spec.focal_gamma, weight)
    else:
        criterion = torch.nn.CrossEntropyLoss(weight=weight)
    X, y = torch.tensor(fold.X_train), torch.tensor(fold.y_train)
    generator = torch.Generator().manual_seed(fold.seed)
    n, B = len(X), spec.batch_size
    n_batches = math.ceil(n / B) - (1 if spec.batch_norm and n % B == 1 else 0)
    losses, lrs = [], []
    for _ in range(spec.max_epochs):
        order = torch.randperm(n, generator=generator)
        X_epoch, y_epoch = X[order], y[order]
        model.train()
        batch_losses, sizes = [], []
        for step in range(n_batches):
            rows = slice(step * B, (step + 1) * B)
            optimizer.zero_grad()
            loss = criterion(model(X_epoch[rows]), y_epoch[rows])
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            sizes.append(len(X_epoch[rows]))
        losses.append(float(np.average(batch_losses, weights=sizes)))
        lrs.append(optimizer.param_groups[0]["lr"])
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(losses[-1])
        elif scheduler is not None:
            scheduler.step()
    model.eval()
    return model, losses, lrs


def _assert_states_close(state, expected, atol=ATOL, skip=()):
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        if key in skip:
            continue
        np.testing.assert_allclose(
            state[key].double().numpy(), value.double().numpy(), atol=atol, rtol=0, err_msg=key
        )


def _assert_match_reference(spec: NetSpec, folds: list[FoldData], skip=()) -> list:
    fits = train_folds(folds, spec)
    for fit, fold in zip(fits, folds, strict=True):
        model, losses, lrs = _reference(fold, spec)
        _assert_states_close(fit.state, model.state_dict(), skip=skip)
        np.testing.assert_allclose([r["train_loss"] for r in fit.history], losses, rtol=1e-5)
        if spec.lr_schedule is not None:
            np.testing.assert_allclose([r["event_lr"] for r in fit.history], lrs, rtol=1e-12)
        assert fit.n_epochs == spec.max_epochs and fit.best_epoch is None
    return fits


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize(
    "optimizer",
    [
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.0},
        {"optimizer": "adam"},
        {"optimizer": "adamw", "weight_decay": 0.1},
        {"optimizer": "rmsprop", "lr": 0.003, "momentum": 0.9},
        {"optimizer": "rmsprop", "lr": 0.003, "momentum": 0.0},
    ],
    ids=lambda params: "-".join(f"{value}" for value in params.values()),
)
def test_each_fold_matches_a_plain_torch_loop(optimizer):
    spec = _spec(**optimizer)
    _assert_match_reference(spec, _folds(spec))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_batch_norm_matches_a_plain_torch_loop(optimizer):
    # 49 and 33 rows leave a last batch of one row, which batch norm skips (drop_single).
    # Adam(W)-type updates turn the rounding noise in the gradient of a bias right before
    # batch norm (zero in exact arithmetic) into steps of size lr, so no two implementations
    # agree on those biases; a coupled weight decay keeps their gradient away from zero.
    spec = _spec(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01, batch_norm=True)
    fits = _assert_match_reference(spec, _folds(spec, sizes=(49, 33, 61)))
    assert int(fits[0].state["layers.1.num_batches_tracked"]) == 5 * 3  # 4 batches - 1


def test_batch_norm_with_adamw_predicts_like_a_plain_torch_loop():
    spec = _spec(optimizer="adamw", batch_norm=True, weight_decay=0.1)
    folds = _folds(spec, sizes=(49, 33, 61))
    fits = train_folds(folds, spec)
    X = np.random.default_rng(3).normal(size=(40, N_FEATURES)).astype(np.float32)
    probas = predict_proba_folds(fits, spec, [X] * 3)
    for proba, fold in zip(probas, folds, strict=True):
        model, _, _ = _reference(fold, spec)
        with torch.no_grad():
            expected = torch.softmax(model(torch.tensor(X)).double(), dim=1).numpy()
        np.testing.assert_allclose(proba, expected, atol=0.05)  # see the test above


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_focal_loss_with_class_weights_matches_a_plain_torch_loop(optimizer):
    spec = _spec(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01, loss="focal")
    _assert_match_reference(spec, _folds(spec, class_weight=True))


def test_cross_entropy_with_class_weights_matches_a_plain_torch_loop():
    spec = _spec(optimizer="rmsprop", lr=0.003)
    _assert_match_reference(spec, _folds(spec, class_weight=True))


@pytest.mark.parametrize("schedule", ["cosine", "step", "plateau"])
def test_lr_schedules_match_a_plain_torch_loop(schedule):
    # plateau (patience 1 here) on the train loss; lr 0.3 makes it bounce, so it fires
    spec = _spec(
        lr_schedule=schedule, max_epochs=8, patience=2, lr=0.3 if schedule == "plateau" else 0.01
    )
    fits = _assert_match_reference(spec, _folds(spec))
    lrs = [[r["event_lr"] for r in fit.history] for fit in fits]
    if schedule == "plateau":
        assert len({tuple(fold_lrs) for fold_lrs in lrs}) > 1, lrs  # the folds' rates differ
    else:
        assert all(fold_lrs[-1] < spec.lr for fold_lrs in lrs)


# ----------------------------------------------------------------------------- estimator

_ESTIMATOR_CASES = [
    {"optimizer": "adam"},
    {"optimizer": "sgd", "lr": 0.05, "nesterov": True, "weight_decay": 1e-3},
    {"optimizer": "rmsprop", "weight_decay": 1e-3},
    {"optimizer": "adamw", "weight_decay": 0.1, "lr_schedule": "cosine"},
    {
        "optimizer": "adam",
        "lr": 0.05,
        "early_stopping": True,
        "patience": 2,
        "max_epochs": 30,
        "lr_schedule": "plateau",
        "class_weight": "balanced",
    },
    {
        "optimizer": "sgd",
        "lr": 0.05,
        "batch_norm": True,
        "lr_schedule": "step",
        "loss": "focal",
        "class_weight": "balanced",
    },
]


@pytest.mark.parametrize("params", _ESTIMATOR_CASES, ids=lambda p: "-".join(map(str, p.values())))
def test_folds_match_mlpclassifier(params):
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=1)
    X = X.astype(np.float32)
    labels = np.array(["a", "b", "c"])[y]  # the helper encodes labels as the estimator does
    train = [np.arange(300) % 3 != k for k in range(3)]
    train[1] &= np.arange(300) < 250  # ragged folds
    params = {"hidden_layer_sizes": (16, 8), "max_epochs": 5, "batch_size": 16} | params
    estimators, folds = [], []
    for k, rows in enumerate(train):
        estimator = MLPClassifier(**params, random_state=7 + k)
        folds.append(fold_data_like_estimator(estimator, X[rows], labels[rows]))
        estimators.append(estimator.fit(X[rows], labels[rows]))
    spec = net_spec_like_estimator(estimators[0], 6, 3)
    fits = train_folds(folds, spec)
    probas = predict_proba_folds(fits, spec, [X[~rows] for rows in train])
    for fit, proba, estimator, rows in zip(fits, probas, estimators, train, strict=True):
        np.testing.assert_allclose(proba, estimator.predict_proba(X[~rows]), atol=ATOL)
        history = estimator.net_.history
        assert fit.n_epochs == estimator.n_iter_
        for key in fit.history[0]:
            np.testing.assert_allclose(
                [r[key] for r in fit.history], history[:, key], rtol=1e-5, err_msg=key
            )
    if params.get("early_stopping"):
        assert len({fit.n_epochs for fit in fits}) > 1


# ----------------------------------------------------------------------------- ragged folds


def test_a_fold_trains_on_its_own_rows_only():
    spec = _spec(optimizer="adam", momentum=0.9, weight_decay=0.05, batch_norm=True)
    folds = _folds(spec, sizes=(70, 20, 45))
    poisoned = _folds(spec, sizes=(70, 20, 45))
    poisoned[1].X_train = np.full_like(poisoned[1].X_train, 1e6)
    poisoned[2].y_train = (poisoned[2].y_train + 1) % N_CLASSES
    fits = train_folds(folds, spec)
    fits_poisoned = train_folds(poisoned, spec)
    _assert_states_close(fits_poisoned[0].state, fits[0].state, atol=1e-6)
    assert not torch.allclose(
        fits_poisoned[2].state["layers.0.weight"], fits[2].state["layers.0.weight"]
    )
    for k in range(3):  # each fold alone gives the same result as in the stack
        alone = train_folds([folds[k]], spec)[0]
        _assert_states_close(alone.state, fits[k].state)
        np.testing.assert_allclose(
            [r["train_loss"] for r in alone.history],
            [r["train_loss"] for r in fits[k].history],
            rtol=1e-6,
        )


def test_a_fold_without_a_batch_in_a_step_is_not_updated():
    # with Adam, momentum-like state and weight decay, a zero-gradient step still moves the
    # weights: the 20-row fold (2 batches) must see 2 updates per epoch, not 5
    spec = _spec(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.1, max_epochs=3)
    folds = _folds(spec, sizes=(70, 20))
    fit = train_folds(folds, spec)[1]
    model, _, _ = _reference(folds[1], spec)
    _assert_states_close(fit.state, model.state_dict())


# ----------------------------------------------------------------------------- early stopping


def test_early_stopping_per_fold_keeps_each_folds_best_weights():
    spec = _spec(optimizer="adam", lr=0.05, early_stopping=True, patience=3, max_epochs=40)
    folds = _folds(spec, sizes=(60, 45, 80, 30), n_valid=25)
    fits = train_folds(folds, spec)
    n_epochs = [fit.n_epochs for fit in fits]
    assert len(set(n_epochs)) > 1, n_epochs  # the folds stop at different epochs
    for fit, fold in zip(fits, folds, strict=True):
        losses = [r["valid_loss"] for r in fit.history]
        assert fit.best_epoch == 1 + int(np.argmin(losses))  # no near-ties in this data
        if fit.n_epochs < spec.max_epochs:
            assert fit.n_epochs == fit.best_epoch + spec.patience
        # the best weights are those after best_epoch epochs of training
        plain = replace(spec, early_stopping=False, max_epochs=fit.best_epoch)
        best = train_folds([fold], plain)[0]
        _assert_states_close(fit.state, best.state)
        # and a stopped fold is unchanged by the folds that go on training
        alone = train_folds([fold], spec)[0]
        _assert_states_close(fit.state, alone.state)
        assert alone.n_epochs == fit.n_epochs


def test_early_stopping_ignores_improvements_below_the_relative_threshold():
    # skorch's rule: an epoch improves only if valid_loss < best * (1 - 1e-4); with a tiny
    # learning rate the loss still falls, but by far less than that
    spec = _spec(optimizer="sgd", lr=1e-5, momentum=0.0, weight_decay=0.0)
    spec = replace(spec, early_stopping=True, patience=2, max_epochs=10)
    fits = train_folds(_folds(spec, n_valid=20), spec)
    first = [fit.history[0]["valid_loss"] for fit in fits]
    later = [min(r["valid_loss"] for r in fit.history[1:]) for fit in fits]
    assert any(b < a for a, b in zip(first, later, strict=True))  # some fold did improve
    for fit in fits:
        assert fit.n_epochs == 3 and fit.best_epoch == 1


def test_without_improvement_the_last_weights_are_kept():
    spec = _spec(early_stopping=True, patience=2, max_epochs=4, lr=0.01)
    folds = _folds(spec, n_valid=10)
    for fold in folds:
        fold.X_valid = np.full_like(fold.X_valid, np.nan)  # valid_loss NaN: never improves
    fits = train_folds(folds, spec)
    plain = train_folds(folds, replace(spec, early_stopping=False, max_epochs=2))
    for fit, expected in zip(fits, plain, strict=True):
        assert fit.n_epochs == 2 and fit.best_epoch is None
        _assert_states_close(fit.state, expected.state)


# ----------------------------------------------------------------------------- on_epoch


def test_on_epoch_gets_each_folds_loss_and_accuracy():
    spec = _spec(early_stopping=True, patience=2, max_epochs=30, lr=0.05)
    folds = _folds(spec, sizes=(60, 45, 80), n_valid=25)
    calls = []
    fits = train_folds(folds, spec, on_epoch=lambda *args: calls.append(args))
    assert [epoch for epoch, _, _ in calls] == list(range(1, len(calls) + 1))
    assert len(calls) == max(fit.n_epochs for fit in fits)
    for epoch, losses, accuracy in calls:
        assert losses.shape == accuracy.shape == (3,)
        for k, fit in enumerate(fits):
            row = fit.history[min(epoch, fit.n_epochs) - 1]
            assert losses[k] == pytest.approx(row["train_loss"])
            if epoch <= fit.n_epochs:
                assert accuracy[k] == pytest.approx(row["valid_acc"])
            else:
                assert np.isnan(accuracy[k])  # stopped in an earlier epoch


def test_on_epoch_without_early_stopping_reports_nan_accuracy():
    spec = _spec(max_epochs=2)
    seen = []
    train_folds(_folds(spec), spec, on_epoch=lambda e, losses, acc: seen.append(acc))
    assert len(seen) == 2 and all(np.isnan(acc).all() for acc in seen)


def test_an_exception_from_on_epoch_propagates():
    class Diverged(Exception):
        pass

    def check(epoch, losses, accuracy):
        if epoch == 2:
            raise Diverged(epoch)

    spec = _spec(max_epochs=5)
    with pytest.raises(Diverged):
        train_folds(_folds(spec), spec, on_epoch=check)


# ----------------------------------------------------------------------------- dropout, misc


@pytest.mark.parametrize("activation", ["relu", "selu"])
def test_dropout_is_seeded_per_fold(activation):
    spec = _spec(dropout=0.3, activation=activation, max_epochs=3)
    folds = _folds(spec)
    first, again = train_folds(folds, spec), train_folds(folds, spec)
    alone = train_folds([folds[0]], spec)[0]
    no_dropout = replace(spec, dropout=0.0)
    without = train_folds(_folds(no_dropout), no_dropout)
    _assert_states_close(first[0].state, again[0].state, atol=0)
    _assert_states_close(first[0].state, alone.state)  # masks independent of other folds
    assert not torch.allclose(
        first[0].state["layers.0.weight"], without[0].state["layers.0.weight"]
    )
    # the state dict keys include the dropout layers' positions, like MLPModule's
    module = MLPModule(N_FEATURES, N_CLASSES, HIDDEN, activation, 0.3)
    module.load_state_dict(first[0].state)


def test_alpha_dropout_matches_torch_in_distribution():
    h = torch.randn(1, 200_000, 1)
    keep = torch.empty_like(h).bernoulli_(0.8)
    ours = stacked_training.apply_dropout(h, keep, 0.2, alpha=True)
    theirs = torch.nn.functional.alpha_dropout(h, 0.2, training=True)
    assert float(ours.mean()) == pytest.approx(float(theirs.mean()), abs=0.01)
    assert float(ours.std()) == pytest.approx(float(theirs.std()), abs=0.01)
    # a kept unit is an affine map of its input, a dropped one a constant, as in torch
    dropped = ours[keep == 0].unique()
    assert len(dropped) == 1


@pytest.mark.parametrize("alpha", [False, True])
def test_dropout_with_a_rate_per_model_is_dropout_at_each_models_rate(alpha):
    # the fold trainer passes one rate, the population trainer a (K, 1, 1) tensor of rates
    h = torch.randn(3, 50, 4)
    keep = torch.empty_like(h).bernoulli_(0.7)
    rates = (0.1, 0.3, 0.5)
    together = stacked_training.apply_dropout(
        h, keep, torch.tensor(rates).reshape(-1, 1, 1), alpha=alpha
    )
    for k, p in enumerate(rates):
        alone = stacked_training.apply_dropout(h[k], keep[k], p, alpha=alpha)
        torch.testing.assert_close(together[k], alone, rtol=1e-6, atol=1e-6)


def test_focal_loss_with_a_gamma_per_model_is_the_focal_loss_at_each_models_gamma():
    logits, target = torch.randn(3, 20, N_CLASSES), torch.randint(0, N_CLASSES, (3, 20))
    gammas = (0.5, 2.0, 3.0)
    together = stacked_training.per_row_loss(logits, target, torch.tensor(gammas).reshape(-1, 1))
    for k, gamma in enumerate(gammas):
        alone = stacked_training.per_row_loss(logits[k : k + 1], target[k : k + 1], gamma)
        torch.testing.assert_close(together[k : k + 1], alone)
        torch.testing.assert_close(alone[0].mean(), FocalLoss(gamma)(logits[k], target[k]))
    cross_entropy = stacked_training.per_row_loss(logits, target, None)
    torch.testing.assert_close(
        cross_entropy[1], torch.nn.functional.cross_entropy(logits[1], target[1], reduction="none")
    )


def test_predict_proba_folds_is_the_modules_eval_softmax():
    spec = _spec(batch_norm=True)
    folds = _folds(spec)
    fits = train_folds(folds, spec)
    X = [
        np.random.default_rng(k).normal(size=(n, N_FEATURES)).astype(np.float32)
        for k, n in enumerate((5, 17, 1))
    ]
    probas = predict_proba_folds(fits, spec, X)
    for fit, proba, rows in zip(fits, probas, X, strict=True):
        module = MLPModule(N_FEATURES, N_CLASSES, HIDDEN, batch_norm=True)
        module.load_state_dict(fit.state)
        module.eval()
        with torch.no_grad():
            expected = torch.softmax(module(torch.tensor(rows)).double(), dim=1).numpy()
        assert proba.dtype == np.float64 and proba.shape == (len(rows), N_CLASSES)
        np.testing.assert_allclose(proba, expected, atol=1e-6)


def test_bad_inputs_are_refused():
    spec = _spec()
    with pytest.raises(ValueError, match="optimizer"):
        train_folds(_folds(spec), replace(spec, optimizer="lbfgs"))
    folds = _folds(spec)
    folds[1].y_train = folds[1].y_train + N_CLASSES
    with pytest.raises(ValueError, match="class indices"):
        train_folds(folds, spec)
    with pytest.raises(ValueError, match="early_stopping"):
        train_folds(_folds(spec), replace(spec, early_stopping=True))
    assert train_folds([], spec) == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    spec = _spec(
        optimizer="sgd", batch_norm=True, early_stopping=True, patience=2, max_epochs=10, lr=0.05
    )
    folds = _folds(spec, n_valid=20)
    cpu = train_folds(folds, spec)
    cuda = train_folds(folds, spec, device="cuda")
    for a, b in zip(cpu, cuda, strict=True):
        assert a.n_epochs == b.n_epochs
        _assert_states_close(b.state, a.state, atol=1e-4)
    X = [f.X_train for f in folds]
    for p, q in zip(
        predict_proba_folds(cpu, spec, X),
        predict_proba_folds(cuda, spec, X, device="cuda"),
        strict=True,
    ):
        np.testing.assert_allclose(p, q, atol=1e-3)
