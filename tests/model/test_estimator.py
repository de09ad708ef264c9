"""Tests of harness.model.network and harness.MLPClassifier with real (small) fits."""

from __future__ import annotations

import math
from typing import ClassVar

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from helpers import single_torch_thread
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline as ImbPipeline
from optuna_integration import SkorchPruningCallback
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Callback

from harness.model.estimator import MLPClassifier
from harness.model.network import ACTIVATIONS, FocalLoss, MLPModule
from harness.model.vocabulary import layer_sizes

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def four_classes() -> tuple[np.ndarray, np.ndarray]:
    """A learnable 4-class problem; labels are strings to exercise label encoding."""
    X, y = make_classification(400, 11, n_informative=6, n_classes=4, random_state=0)
    return X, np.array(["north", "east", "south", "west"])[y]


@pytest.fixture(scope="module")
def imbalanced() -> tuple[np.ndarray, np.ndarray]:
    """Two classes, 90% / 10%, overlapping."""
    X, y = make_classification(
        300, 6, n_informative=3, weights=[0.9], class_sep=0.5, flip_y=0, random_state=1
    )
    return X, y


def small(**params) -> MLPClassifier:
    """A quick-to-train estimator: 30 epochs, a larger learning rate, seeded."""
    return MLPClassifier(**({"max_epochs": 30, "lr": 0.01, "random_state": 0} | params))


# --- layer_sizes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0.5, 0.5, 128, 8, 2), (64, 32)),  # the estimator's defaults
        ((0.5, 0.5, 128, 8, 10), (64, 32, 16, 8)),  # next width 4 < min_neurons stops
        ((0.5, 0.5, 128, 16, 10), (64, 32, 16)),  # a width equal to min_neurons is kept
        ((1.0, 1.0, 10, 1, 3), (10, 10, 10)),  # no shrink: max_layers stops
        ((0.5, 0.5, 5, 1, 3), (3, 2, 1)),  # 2.5 -> 3, 1.5 -> 2, 1.0 -> 1: halves round up
        ((0.05, 0.5, 64, 8, 3), (3,)),  # a first layer below min_neurons is still kept
        ((0.01, 0.5, 10, 2, 3), (1,)),  # 0.1 rounds to 0: the first layer has >= 1 unit
        ((0.5, 0.01, 100, 1, 3), (50, 1)),  # 0.5 rounds up to 1, then 0.01 -> 0 < 1 stops
        ((0.5, 0.5, 128, 8, 1), (64,)),
    ],
)
def test_layer_sizes_rule(args, expected):
    assert layer_sizes(*args) == expected


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0.0, 0.5, 128, 8, 2), "neuron_pct"),
        ((1.5, 0.5, 128, 8, 2), "neuron_pct"),
        ((0.5, 0.001, 128, 8, 2), "neuron_shrink"),
        ((0.5, 1.01, 128, 8, 2), "neuron_shrink"),
        ((0.5, 0.5, 0, 8, 2), "max_neurons"),
        ((0.5, 0.5, 128, 0, 2), "min_neurons"),
        ((0.5, 0.5, 128, 8, 0), "max_layers"),
        ((0.5, 0.5, 128, 8, 2.0), "max_layers"),
    ],
)
def test_layer_sizes_rejects_out_of_range(args, name):
    with pytest.raises(ValueError, match=name):
        layer_sizes(*args)


# --- MLPModule and FocalLoss ----------------------------------------------------------------


def test_module_layers_follow_the_options():
    module = MLPModule(5, 3, (8, 4), activation="selu", dropout=0.2, batch_norm=True)
    kinds = [type(layer).__name__ for layer in module.layers]
    assert kinds == ["Linear", "BatchNorm1d", "SELU", "AlphaDropout"] * 2 + ["Linear"]
    assert module(torch.zeros(2, 5)).shape == (2, 3)
    linear = MLPModule(5, 3, ())
    assert [type(layer).__name__ for layer in linear.layers] == ["Linear"]
    with pytest.raises(ValueError, match="activation"):
        MLPModule(5, 3, (8,), activation="swish")


@pytest.mark.parametrize("weight", [None, torch.tensor([0.2, 1.0, 3.0])])
def test_focal_loss_with_gamma_zero_is_cross_entropy(weight):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 3, generator=generator)
    target = torch.randint(0, 3, (16,), generator=generator)
    expected = torch.nn.CrossEntropyLoss(weight=weight)(logits, target)
    torch.testing.assert_close(FocalLoss(gamma=0.0, weight=weight)(logits, target), expected)


def test_focal_loss_matches_its_formula():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 0])
    p_t = torch.softmax(logits, dim=1)[:, 0]
    alpha = torch.tensor([0.25, 1.0])
    per_row = -alpha[0] * (1 - p_t) ** 2 * torch.log(p_t)
    expected = per_row.sum() / (2 * alpha[0])
    torch.testing.assert_close(FocalLoss(gamma=2.0, weight=alpha)(logits, target), expected)
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1.0)


# --- learning, labels and input types -------------------------------------------------------


def test_learns_well_above_chance_and_returns_original_labels(four_classes):
    X, y = four_classes
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = small().fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.6  # chance is 0.25
    assert list(model.classes_) == ["east", "north", "south", "west"]
    assert set(model.predict(X_test)) <= set(model.classes_)
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 4)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.n_features_in_ == 11
    assert model.n_iter_ == 30


def test_accepts_frames_lists_and_any_numeric_dtype(iris):
    X, y = iris
    labels = y + 1  # the integers 1..3
    reference = small(max_epochs=5).fit(X, labels)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    from_frame = small(max_epochs=5).fit(frame, labels)
    assert list(from_frame.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(from_frame.predict(frame), reference.predict(X))
    from_list = small(max_epochs=5).fit(X.tolist(), labels.tolist())
    np.testing.assert_array_equal(from_list.predict(X.tolist()), reference.predict(X))
    assert set(reference.predict(X)) <= {1, 2, 3}
    integers = small(max_epochs=2).fit((X * 10).astype(np.int16), labels)
    assert integers.predict((X * 10).astype(np.int16)).shape == (150,)


def test_hidden_layer_sizes_wins_over_the_sizing_rule(iris):
    X, y = iris

    def widths(model):
        linear = [layer for layer in model.net_.module_.layers if hasattr(layer, "out_features")]
        return [layer.out_features for layer in linear[:-1]]

    sized = small(max_epochs=1, neuron_pct=0.25, max_neurons=64, min_neurons=8, max_layers=3)
    assert widths(sized.fit(X, y)) == [16, 8]
    explicit = small(max_epochs=1, hidden_layer_sizes=[7, 5, 3], neuron_pct=0.25)
    assert widths(explicit.fit(X, y)) == [7, 5, 3]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_lowers_the_loss(iris, optimizer):
    X, y = iris
    model = small(optimizer=optimizer, max_epochs=15, nesterov=optimizer == "sgd").fit(X, y)
    losses = model.net_.history[:, "train_loss"]
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_lowers_the_loss(iris, activation):
    X, y = iris
    model = small(activation=activation, max_epochs=15, dropout=0.1, batch_norm=True).fit(X, y)
    losses = model.net_.history[:, "train_loss"]
    assert losses[-1] < 0.8 * losses[0]


def test_lr_schedules_change_the_learning_rate(iris):
    X, y = iris

    def final_lr(model):
        return model.net_.optimizer_.param_groups[0]["lr"]

    assert final_lr(small(max_epochs=10).fit(X, y)) == 0.01
    assert final_lr(small(max_epochs=10, lr_schedule="cosine").fit(X, y)) < 1e-4
    assert final_lr(small(max_epochs=9, lr_schedule="step").fit(X, y)) == pytest.approx(1e-5)
    plateau = small(max_epochs=40, lr=0.05, lr_schedule="plateau", patience=2).fit(X, y)
    assert final_lr(plateau) < 0.05


def test_batch_norm_survives_a_last_batch_of_one_row(iris):
    X, y = iris
    # 150 = 149 + 1 rows: batch norm cannot normalise one row in training mode.
    model = small(batch_norm=True, batch_size=149, max_epochs=2).fit(X, y)
    assert model.n_iter_ == 2 and np.isfinite(model.net_.history[:, "train_loss"]).all()


def test_verbose_prints_one_line_per_epoch_and_zero_is_silent(iris, capsys):
    X, y = iris
    small(max_epochs=3).fit(X, y)
    assert capsys.readouterr().out == ""
    small(max_epochs=3, verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_predictions_and_leaves_torch_rng_alone(imbalanced):
    X, y = imbalanced
    params = {"dropout": 0.3, "early_stopping": True, "resampler": SMOTE(), "max_epochs": 10}
    torch.manual_seed(123)
    rng_state = torch.get_rng_state()
    first = small(**params).fit(X, y).predict_proba(X)
    assert torch.equal(torch.get_rng_state(), rng_state)
    second = small(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other_seed = small(random_state=1, **params).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other_seed)


# --- early stopping, validation rows and resampling -----------------------------------------


class SpySampler(RandomOverSampler):
    """Records every (X, y) it resamples; class-level because the estimator clones it."""

    seen: ClassVar[list[tuple[np.ndarray, np.ndarray]]] = []

    def fit_resample(self, X, y, **params):
        SpySampler.seen.append((X.copy(), np.asarray(y).copy()))
        return super().fit_resample(X, y, **params)


class ValidationRecorder(Callback):
    """Records the validation rows (X, encoded y) skorch scores each epoch."""

    def initialize(self):
        self.rows = []
        return self

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.rows.append((dataset_valid.X.numpy().copy(), dataset_valid.y.numpy().copy()))


def as_row_set(X: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(row) for row in np.asarray(X, dtype=np.float32)}


def test_validation_rows_are_real_rows_the_resampler_never_sees(imbalanced):
    X, y = imbalanced
    labels = np.where(y == 1, "rare", "common")
    SpySampler.seen.clear()
    recorder = ValidationRecorder()
    spy = SpySampler()
    model = small(
        early_stopping=True,
        validation_fraction=0.2,
        resampler=spy,
        callbacks=[recorder],
        max_epochs=3,
    ).fit(X, labels)
    assert not hasattr(spy, "sampling_strategy_")  # the estimator resampled a clone
    (seen_X, seen_y), *_ = SpySampler.seen
    assert set(seen_y) == {"rare", "common"}  # the resampler sees the original labels
    valid, _ = recorder.rows[0]
    assert len(valid) == math.ceil(0.2 * len(X))
    assert all(np.array_equal(rows, valid) for rows, _ in recorder.rows)
    assert as_row_set(valid) <= as_row_set(X)
    assert as_row_set(valid).isdisjoint(as_row_set(seen_X))
    assert as_row_set(valid) | as_row_set(seen_X) == as_row_set(X)
    n_trained = sum(model.net_.history[0, "batches", :, "train_batch_size"])
    assert n_trained == 2 * np.sum(seen_y == "common")  # oversampled to balance


def test_smote_output_trains_the_net(imbalanced):
    X, y = imbalanced
    model = small(resampler=SMOTE(k_neighbors=3), max_epochs=2).fit(X, y)
    n_trained = sum(model.net_.history[0, "batches", :, "train_batch_size"])
    assert n_trained == 2 * np.sum(y == 0)


def test_adasyn_with_nothing_to_generate_trains_on_the_real_rows_and_says_so():
    # 100 against 104 rows: ADASYN raises "No samples will be generated ..." on its own.
    X, _ = make_classification(204, 6, n_informative=3, random_state=0)
    y = np.repeat([0, 1], [100, 104])
    with pytest.raises(ValueError, match="No samples will be generated"):
        ADASYN(random_state=0).fit_resample(X, y)
    model = small(resampler=ADASYN(random_state=0), max_epochs=2).fit(X, y)
    assert model.resampling_.startswith("skipped: ADASYN: No samples will be generated")
    n_trained = sum(model.net_.history[0, "batches", :, "train_batch_size"])
    assert n_trained == len(y)
    plain = small(max_epochs=2).fit(X, y)
    assert plain.resampling_ == "none"
    np.testing.assert_allclose(model.predict_proba(X), plain.predict_proba(X))


def test_resampler_errors_other_than_nothing_to_do_still_fail(imbalanced):
    X, y = imbalanced
    # (Too many neighbours is no such error: they shrink to the rarest class, see test_pipeline.)
    with pytest.raises(ValueError, match="number of samples in a class should be greater"):
        small(resampler=SMOTE(sampling_strategy={0: 1}), max_epochs=1).fit(X, y)
    applied = small(resampler=SMOTE(k_neighbors=3), max_epochs=1).fit(X, y)
    assert applied.resampling_ == "applied: SMOTE"


def test_early_stopping_stops_and_restores_the_best_epoch(four_classes):
    X, y = four_classes
    recorder = ValidationRecorder()
    model = small(
        early_stopping=True, patience=3, lr=0.05, max_epochs=200, callbacks=[recorder]
    ).fit(X, y)
    history = model.net_.history
    stopper = dict(model.net_.callbacks_)["EarlyStopping"]
    assert model.n_iter_ == stopper.best_epoch_ + 3 < 200
    assert set(history[-1]) >= {"train_loss", "valid_loss", "valid_acc"}
    valid_X, valid_y = recorder.rows[0]
    restored = torch.nn.functional.cross_entropy(
        model.net_.forward(valid_X), torch.from_numpy(valid_y)
    ).item()
    assert restored == pytest.approx(history[stopper.best_epoch_ - 1, "valid_loss"], rel=1e-5)
    assert restored < history[-1, "valid_loss"]


def test_pruning_callback_reports_every_epoch(iris):
    X, y = iris
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    pruning = SkorchPruningCallback(trial, "valid_acc")
    model = small(early_stopping=True, max_epochs=5, callbacks=[pruning])
    assert clone(model).callbacks[0] is pruning  # clone shares, never copies, the trial
    model.fit(X, y)
    study.tell(trial, 1.0)
    assert len(study.trials[0].intermediate_values) == model.n_iter_ == 5


# --- imbalance inside the loss --------------------------------------------------------------


def test_class_weight_shifts_predictions_to_the_weighted_class(imbalanced):
    X, y = imbalanced
    plain = small().fit(X, y).predict(X)
    weighted = small(class_weight={1: 10.0}).fit(X, y).predict(X)
    assert np.sum(weighted == 1) > np.sum(plain == 1) + 10


def test_balanced_class_weight_equals_its_explicit_dict(imbalanced):
    X, y = imbalanced
    labels = np.where(y == 1, "rare", "common")
    weights = compute_class_weight("balanced", classes=np.array(["common", "rare"]), y=labels)
    explicit = small(max_epochs=5, class_weight={"common": weights[0], "rare": weights[1]})
    balanced = small(max_epochs=5, class_weight="balanced")
    np.testing.assert_array_equal(
        explicit.fit(X, labels).predict_proba(X), balanced.fit(X, labels).predict_proba(X)
    )
    with pytest.raises(ValueError, match="not in class_weight"):
        small(class_weight={"rare": 2.0, "unknown": 1.0}).fit(X, labels)


def test_focal_loss_changes_the_fit(imbalanced):
    X, y = imbalanced
    cross_entropy = small(max_epochs=10).fit(X, y)
    focal = small(max_epochs=10, loss="focal", focal_gamma=2.0).fit(X, y)
    assert isinstance(focal.net_.criterion_, FocalLoss)
    assert not np.allclose(cross_entropy.predict_proba(X), focal.predict_proba(X), atol=1e-3)
    weighted = small(max_epochs=10, loss="focal", class_weight="balanced").fit(X, y)
    assert weighted.net_.criterion_.weight is not None
    assert np.sum(weighted.predict(X) == 1) > np.sum(focal.predict(X) == 1)


# --- bad input and bad parameters -----------------------------------------------------------


def test_bad_data_raises_value_errors_that_name_the_problem(iris):
    X, y = iris
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(X_nan, y)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        small().fit(X_inf, y)
    with pytest.raises(ValueError, match="continuous"):
        small().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="1 class"):
        small().fit(X, np.zeros(len(X)))
    model = small(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="3 features, but MLPClassifier is expecting 4"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(X_nan)
    one_rare = np.r_[np.zeros(20), 1]
    with pytest.raises(ValueError, match="early_stopping needs at least 2 rows"):
        small(early_stopping=True).fit(X[:21], one_rare)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
        ({"neuron_pct": 2.0}, "neuron_pct"),
        ({"activation": "swish"}, "activation"),
        ({"dropout": 0.5}, "dropout"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"optimizer": "sgd", "nesterov": True, "momentum": 0.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"lr_schedule": "linear"}, "lr_schedule"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1, "batch_norm": True}, "batch_size"),
        ({"max_epochs": 2.5}, "max_epochs"),
        ({"patience": 0}, "patience"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"resampler": StandardScaler()}, "resampler"),
        ({"class_weight": "auto"}, "class_weight"),
        ({"loss": "hinge"}, "loss"),
        ({"focal_gamma": -0.5}, "focal_gamma"),
        ({"callbacks": "print"}, "callbacks"),
        ({"device": "abacus"}, "device"),
    ],
)
def test_bad_parameters_raise_at_fit_naming_the_parameter(iris, params, name):
    X, y = iris
    model = MLPClassifier(**params)  # never at construction: the scikit-learn contract
    with pytest.raises(ValueError, match=name):
        model.fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the message of a CPU-only machine")
def test_cuda_without_a_gpu_is_refused_and_auto_falls_back_to_cpu(iris):
    X, y = iris
    with pytest.raises(ValueError, match="CUDA is not available"):
        small(device="cuda").fit(X, y)
    assert small(device="auto", max_epochs=1).fit(X, y).net_.device == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_matches_the_cpu_labels_closely(four_classes):
    X, y = four_classes
    cpu = small().fit(X, y).predict(X)
    cuda = small(device="cuda").fit(X, y)
    assert next(cuda.net_.module_.parameters()).is_cuda
    assert np.mean(cuda.predict(X) == cpu) > 0.9


# --- scikit-learn and imbalanced-learn integration ------------------------------------------


def test_works_in_sklearn_and_imblearn_pipelines(imbalanced):
    X, y = imbalanced
    plain = Pipeline([("scale", StandardScaler()), ("mlp", small(max_epochs=5))]).fit(X, y)
    assert plain.score(X, y) > 0.85
    resampled = ImbPipeline(
        [("scale", StandardScaler()), ("smote", SMOTE(random_state=0)), ("mlp", small())]
    ).fit(X, y)
    assert resampled.predict(X).shape == (len(X),)
    assert np.sum(resampled.predict(X) == 1) > np.sum(plain.predict(X) == 1)


@pytest.mark.slow
def test_grid_search_and_cross_validate_in_two_processes(four_classes):
    X, y = four_classes
    search = GridSearchCV(
        small(max_epochs=10, resampler=RandomOverSampler()),
        {"optimizer": ["adam", "sgd"], "resampler__shrinkage": [None, 0.1]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert search.best_score_ > 0.5
    assert search.best_estimator_.resampler.shrinkage == search.best_params_["resampler__shrinkage"]
    pipeline = ImbPipeline([("smote", SMOTE(random_state=0)), ("mlp", small(max_epochs=10))])
    scores = cross_validate(pipeline, X, y, cv=3, n_jobs=2, scoring="balanced_accuracy")
    assert np.all(scores["test_score"] > 0.5)


def test_clone_gives_an_unfitted_twin_with_the_same_parameters(iris):
    X, y = iris
    model = small(resampler=SMOTE(), early_stopping=True, callbacks=[ValidationRecorder()])
    model.fit(X, y)
    twin = clone(model)
    assert not hasattr(twin, "net_")
    assert twin.resampler is not model.resampler
    assert twin.callbacks is not model.callbacks
    assert twin.callbacks[0] is model.callbacks[0]
    params = twin.get_params(deep=False)
    assert {k: v for k, v in params.items() if k not in ("resampler", "callbacks")} == {
        k: v for k, v in model.get_params(deep=False).items() if k not in ("resampler", "callbacks")
    }


def test_joblib_round_trip_keeps_predictions(tmp_path, four_classes):
    X, y = four_classes
    model = small(early_stopping=True, batch_norm=True, max_epochs=5).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


class _Interrupt(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


def test_ctrl_c_during_training_reaches_the_caller():
    # skorch alone would swallow it and return a half-trained net.
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        MLPClassifier(max_epochs=10, callbacks=[_Interrupt()]).fit(X, y)
