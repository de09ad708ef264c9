"""The base of the torch estimators: what every network family trains with, once.

skorch's ``NeuralNet`` serves ``NeuralNetClassifier`` and ``NeuralNetRegressor``;
:class:`TorchEstimatorBase` serves :class:`harness.MLPClassifier`,
:class:`harness.CNNClassifier` and :class:`harness.LSTMRegressor` the same way. It
holds the training settings every family shares and their validation (optimizer,
learning rate and schedule, batches, epochs, early stopping, loss), seeding (the
seeds drawn from ``random_state``, torch's generators forked around a fit), the
device rule, the tensor batches, the skorch settings built from all that, and
``clone`` (callbacks passed on, not copied). :class:`TorchClassifierBase` adds the
label encoding, the stratified early-stopping split, class weights, ``predict_proba``
and ``predict``.

A family adds its module, its own parameters and their checks, and the module
arguments of ``_build_net``; see the README's architecture section for the
template a new family follows.

:meth:`TorchEstimatorBase.training_settings` is the public description of how an
estimator trains: the fold and population trainers (:mod:`harness.model.fold_trainer`,
:mod:`harness.model.population`) read it rather than the estimator's internals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import (
    EarlyStopping,
    EpochScoring,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
)
from skorch.helper import predefined_split
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from harness.model.network import ACTIVATIONS, FocalLoss

__all__ = [
    "FUSED_OPTIMIZERS",
    "OPTIMIZERS",
    "PREDICT_BATCH_SIZE",
    "ClassifierNet",
    "PreparedFit",
    "RegressorNet",
    "TensorBatches",
    "TensorDataset",
    "TorchClassifierBase",
    "TorchEstimatorBase",
    "is_int",
    "require",
    "seeded_torch",
    "to_dataset",
]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}
"""The ``optimizer`` names every family accepts, mapped to their torch classes."""
FUSED_OPTIMIZERS = frozenset({"sgd", "adam", "adamw"})
"""Optimizers with fused kernels on CPU and CUDA (torch 2.x has no fused RMSprop)."""
PREDICT_BATCH_SIZE = 4096
"""Rows per prediction batch. Prediction runs in eval mode, where rows do not interact,
so any batch size gives the same outputs; a large one keeps per-batch overhead low."""

_CHOICES: dict[str, tuple] = {
    "activation": tuple(ACTIVATIONS),
    "optimizer": tuple(OPTIMIZERS),
    "lr_schedule": (None, "cosine", "step", "plateau"),
    "loss": ("cross_entropy", "focal"),
}
# name -> (what the error message says is expected, test of a valid number)
_NUMBER_RANGES: dict[str, tuple[str, Callable[[Real], bool]]] = {
    "dropout": ("a number in [0, 0.5)", lambda value: 0 <= value < 0.5),
    "lr": ("a number > 0", lambda value: value > 0),
    "momentum": ("a number in [0, 1)", lambda value: 0 <= value < 1),
    "weight_decay": ("a number >= 0", lambda value: value >= 0),
    "validation_fraction": ("a number in (0, 1)", lambda value: 0 < value < 1),
    "focal_gamma": ("a number >= 0", lambda value: value >= 0),
}
_POSITIVE_INTEGERS = ("batch_size", "max_epochs", "patience")
_TRAINING_SETTINGS = (
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "lr_schedule",
    "batch_size",
    "max_epochs",
    "early_stopping",
    "patience",
    "validation_fraction",
    "loss",
    "focal_gamma",
)
# What a family without the parameter trains with (torch's and skorch's own defaults).
_ABSENT_SETTINGS: dict[str, Any] = {
    "momentum": 0.0,
    "nesterov": False,
    "lr_schedule": None,
    "early_stopping": False,
    "patience": 10,
    "validation_fraction": 0.1,
    "loss": None,
    "focal_gamma": 2.0,
}


def require(condition: bool, name: str, expected: str, value: Any) -> None:
    """Raise ``ValueError("<name> must be <expected>; got <value>.")`` unless ``condition``."""
    if not condition:
        raise ValueError(f"{name} must be {expected}; got {value!r}.")


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (a bool is not)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


class TensorDataset:
    """Rows held as two tensors (``y`` may be None); skorch scoring reads ``X`` and ``y``."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None) -> None:
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.X)


class TensorBatches:
    """Mini-batches sliced from whole tensors, with no per-row collation.

    A replacement for skorch's default ``DataLoader``, which builds every batch row by
    row. With ``shuffle`` the rows are permuted once per epoch by a generator seeded
    from ``seed``; with ``drop_single`` a last batch of one row is skipped (batch norm
    cannot train on a single row).
    """

    def __init__(
        self,
        dataset: TensorDataset,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_single: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_single = drop_single
        self._generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n_rows = len(self.dataset)
        n_batches = math.ceil(n_rows / self.batch_size)
        if self.drop_single and n_rows % self.batch_size == 1:
            n_batches -= 1
        return n_batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        X, y = self.dataset.X, self.dataset.y
        if self.shuffle:
            order = torch.randperm(len(X), generator=self._generator).to(X.device)
            X = X[order]
            y = None if y is None else y[order]
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], None if y is None else y[start:stop]


def to_dataset(X: np.ndarray, y: np.ndarray | None, device: str) -> TensorDataset:
    """``X`` and ``y`` as tensors on ``device`` (read-only arrays are copied first)."""

    # torch cannot wrap read-only arrays (such as joblib's memmaps) safely: copy those.
    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.require(array, requirements="W"), device=device)

    return TensorDataset(tensor(X), None if y is None else tensor(y))


@contextmanager
def seeded_torch(seed: int, device: str) -> Iterator[None]:
    """Seed torch's default generators for the block, then restore the caller's state."""
    on_cuda = torch.device(device).type == "cuda"
    cuda_devices = [torch.device(device).index or 0] if on_cuda else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.default_generator.manual_seed(seed)
        if on_cuda:
            torch.cuda.manual_seed(seed)
        yield


class _StopTraining(Exception):
    """Raised by :class:`_EarlyStopping` to end training."""


class _EarlyStopping(EarlyStopping):
    """skorch's early stopping, ending training with :class:`_StopTraining`.

    skorch's own raises ``KeyboardInterrupt``, which cannot be told apart from
    the user's Ctrl-C.
    """

    def on_epoch_end(self, net: NeuralNetClassifier, **kwargs: Any) -> None:
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ != self.patience:
                raise
            raise _StopTraining from None


class ClassifierNet(NeuralNetClassifier):
    """skorch classifier that trains on tensors and records only what it needs."""

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.train_split is not None:
            callbacks += [
                ("valid_loss", PassthroughScoring(name="valid_loss")),
                ("valid_acc", EpochScoring("accuracy", name="valid_acc", lower_is_better=False)),
            ]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> ClassifierNet:
        # skorch ends training quietly on KeyboardInterrupt and returns a half-trained net;
        # Ctrl-C must stop the caller (a study marks the trial interrupted and exits).
        if not self.initialized_:
            self.initialize()
        routing_method = fit_params.pop("_routing_method", "partial_fit")
        self.notify("on_train_begin", X=X, y=y)
        with suppress(_StopTraining):
            self.fit_loop(X, y, _routing_method=routing_method, **fit_params)
        self.notify("on_train_end", X=X, y=y)
        return self

    def get_dataset(self, X: Any, y: Any = None) -> TensorDataset:
        if isinstance(X, TensorDataset):
            return X
        return to_dataset(X, y, self.device)


class RegressorNet(NeuralNetRegressor):
    """skorch regressor that trains on tensors and records only the training loss."""

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def get_dataset(self, X: Any, y: Any = None) -> Any:
        if hasattr(X, "X") and hasattr(X, "y"):
            return X
        return to_dataset(X, y, self.device)


@dataclass
class PreparedFit:
    """What one fit trains from, up to the training loop: rows, seeds, initial weights.

    Returned by :meth:`harness.MLPClassifier.prepare_fit`; the fold and population
    trainers train from it (:class:`harness.model.fold_trainer.FoldData` is this class).

    Attributes
    ----------
    X_train : ndarray of shape (n_rows, n_features), float32
        Training rows (after the early-stopping split and resampling).
    y_train : ndarray of shape (n_rows,), int64
        Class indices in ``[0, n_classes)``.
    X_valid, y_valid : ndarray or None
        Early-stopping rows (real rows, never resampled), or None.
    init_state : dict of str to Tensor
        The module's initial weights (a state dict).
    seed : int
        The torch seed: it drew ``init_state`` and seeds the batch order (one
        ``randperm`` per epoch from ``torch.Generator().manual_seed(seed)``).
    class_weight : ndarray of shape (n_classes,) or None
        Per-class loss weights, or None for equal weights.
    resampling : str
        What the resampler did (see ``MLPClassifier.resampling_``); descriptive only.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray | None
    y_valid: np.ndarray | None
    init_state: dict[str, torch.Tensor]
    seed: int
    class_weight: np.ndarray | None = None
    resampling: str = "none"


class TorchEstimatorBase(BaseEstimator):
    """The shared part of the torch estimators: settings, seeding, device, skorch net.

    Not an estimator by itself. A subclass stores its parameters in ``__init__`` (any
    of ``optimizer``, ``lr``, ``momentum``, ``nesterov``, ``weight_decay``,
    ``lr_schedule``, ``batch_size``, ``max_epochs``, ``early_stopping``, ``patience``,
    ``validation_fraction``, ``loss``, ``focal_gamma``, ``dropout``, ``activation``,
    ``batch_norm``, ``class_weight``, ``callbacks``, ``random_state``, ``device`` and
    ``verbose`` mean the same in every family; a family without one of the optional
    training settings trains as torch's and skorch's defaults do), extends
    ``_check_params`` with its own parameters, and builds its net in ``_build_net``
    from :meth:`_training_settings`.
    """

    def __sklearn_clone__(self) -> TorchEstimatorBase:
        # ``callbacks`` are passed on as they are, like scikit-learn's own callbacks: they may
        # hold handles, such as an Optuna trial, that must not be copied.
        params = self.get_params(deep=False)
        callbacks = params.pop("callbacks")
        params = {name: clone(value, safe=False) for name, value in params.items()}
        return type(self)(**params, callbacks=None if callbacks is None else list(callbacks))

    def training_settings(self) -> dict[str, Any]:
        """How this estimator trains, validated: the settings a trainer needs.

        The names and meanings are the estimator's parameters: ``optimizer``, ``lr``,
        ``momentum``, ``nesterov`` (true only for SGD), ``weight_decay``,
        ``lr_schedule``, ``batch_size``, ``max_epochs``, ``early_stopping``,
        ``patience``, ``validation_fraction``, ``loss`` and ``focal_gamma``; a family
        without one of them gets what it trains with (momentum 0, no schedule, no
        early stopping, ``loss`` None for a regressor's squared error). Families add
        their network's settings (:meth:`harness.MLPClassifier.training_settings`).

        Returns
        -------
        dict

        Raises
        ------
        ValueError
            If a parameter is out of range.
        """
        self._check_params()
        settings = {
            name: getattr(self, name, _ABSENT_SETTINGS.get(name)) for name in _TRAINING_SETTINGS
        }
        settings["early_stopping"] = bool(settings["early_stopping"])
        settings["nesterov"] = bool(settings["nesterov"]) and settings["optimizer"] == "sgd"
        return settings

    def _check_params(self) -> Any:
        """Validate the shared parameters this estimator has; families extend it."""
        for name, choices in _CHOICES.items():
            if hasattr(self, name):
                value = getattr(self, name)
                require(value in choices, name, f"one of {choices}", value)
        for name, (expected, accepts) in _NUMBER_RANGES.items():
            if hasattr(self, name):
                value = getattr(self, name)
                require(isinstance(value, Real) and accepts(value), name, expected, value)
        for name in _POSITIVE_INTEGERS:
            if hasattr(self, name):
                value = getattr(self, name)
                require(is_int(value) and value >= 1, name, "an integer >= 1", value)
        require(
            not (
                getattr(self, "optimizer", None) == "sgd"
                and getattr(self, "nesterov", False)
                and self.momentum == 0
            ),
            "momentum",
            "> 0 when nesterov=True",
            getattr(self, "momentum", None),
        )
        require(
            not (getattr(self, "batch_norm", False) and self.batch_size == 1),
            "batch_size",
            ">= 2 with batch_norm=True (batch norm cannot train on one row)",
            self.batch_size,
        )
        class_weight = getattr(self, "class_weight", None)
        require(
            class_weight in (None, "balanced") or isinstance(class_weight, dict),
            "class_weight",
            'None, "balanced" or a dict {label: weight}',
            class_weight,
        )
        require(
            self.callbacks is None or isinstance(self.callbacks, (list, tuple)),
            "callbacks",
            "None or a list of skorch callbacks",
            self.callbacks,
        )

    def _resolve_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            kind = torch.device(self.device).type
        except (RuntimeError, TypeError) as error:
            raise ValueError(
                f'device must be "cpu", "cuda", "cuda:N" or "auto"; got {self.device!r}.'
            ) from error
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f'device={self.device!r} but CUDA is not available; use "cpu" or "auto".'
            )
        return self.device

    def _seeds(self, n: int) -> list[int]:
        """``n`` seeds drawn from ``random_state`` (the same ones for the same state)."""
        draws = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=n)
        return [int(seed) for seed in draws]

    def _fit_net(self, net: Any, X: Any, y: Any, seed: int, device: str) -> Any:
        """Train ``net`` under torch generators seeded with ``seed``; keep it as ``net_``."""
        with seeded_torch(seed, device):
            net.fit(X, y)
        self.net_ = net
        self.n_iter_ = len(net.history)
        return net

    def _criterion(self, y: np.ndarray) -> tuple[type[torch.nn.Module], dict[str, Any]]:
        """The loss class and its parameters (a regressor's squared error by default)."""
        return torch.nn.MSELoss, {}

    def _training_settings(
        self,
        y: np.ndarray | None,
        valid: TensorDataset | None,
        seed: int,
        device: str,
        iterator_train: type = TensorBatches,
        **iterator_train_params: Any,
    ) -> dict[str, Any]:
        """The skorch settings of everything but the module: loss, optimizer, batches, split,
        callbacks (a family's batches may add their own parameters, as the CNN's augment)."""
        criterion, criterion_params = self._criterion(y)
        return {
            "criterion": criterion,
            **{f"criterion__{name}": value for name, value in criterion_params.items()},
            "optimizer": OPTIMIZERS[self.optimizer],
            "lr": self.lr,
            **{f"optimizer__{name}": value for name, value in self._optimizer_params().items()},
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "train_split": None if valid is None else predefined_split(valid),
            "iterator_train": iterator_train,
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            "iterator_train__drop_single": bool(getattr(self, "batch_norm", False)),
            **{f"iterator_train__{name}": value for name, value in iterator_train_params.items()},
            "iterator_valid": TensorBatches,
            "iterator_valid__batch_size": PREDICT_BATCH_SIZE,
            "callbacks": self._net_callbacks(valid is not None),
            "device": device,
            "verbose": self.verbose,
        }

    def _optimizer_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"weight_decay": self.weight_decay}
        if hasattr(self, "momentum") and self.optimizer in ("sgd", "rmsprop"):
            params["momentum"] = self.momentum
        if hasattr(self, "nesterov") and self.optimizer == "sgd":
            params["nesterov"] = bool(self.nesterov)
        if self.optimizer in FUSED_OPTIMIZERS:
            params["fused"] = True
        return params

    def _net_callbacks(self, validating: bool) -> list:
        callbacks = list(self.callbacks or [])
        monitor = "valid_loss" if validating else "train_loss"
        schedule = getattr(self, "lr_schedule", None)
        if schedule == "cosine":
            callbacks.append(LRScheduler(CosineAnnealingLR, T_max=self.max_epochs))
        elif schedule == "step":
            step = max(1, self.max_epochs // 3)
            callbacks.append(LRScheduler(StepLR, step_size=step, gamma=0.1))
        elif schedule == "plateau":
            patience = max(1, self.patience // 2)
            callbacks.append(
                LRScheduler(ReduceLROnPlateau, monitor=monitor, factor=0.1, patience=patience)
            )
        if validating:
            stopper = _EarlyStopping(monitor=monitor, patience=self.patience, load_best=True)
            callbacks.append(("EarlyStopping", stopper))
        return callbacks


class TorchClassifierBase(ClassifierMixin, TorchEstimatorBase):
    """The shared part of the torch classifiers: labels, early-stopping split, class weights.

    ``classes_`` holds the sorted labels; the network learns their indices. A family
    whose network takes rows in another form than validated float32 rows (the CNN's
    images) overrides ``_net_input``.
    """

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, as original labels.

        Parameters
        ----------
        X : array-like
            Rows as ``predict_proba`` takes them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like
            Rows in any form ``fit`` takes.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Float64 probabilities; each row sums to 1.
        """
        check_is_fitted(self)
        logits = self.net_.forward(self._net_input(X))
        return torch.softmax(logits.double(), dim=1).numpy()

    def _net_input(self, X: Any) -> np.ndarray:
        """The rows ``X`` as the fitted network takes them: validated, float32."""
        return validate_data(self, X, reset=False, dtype=np.float32)

    def _fit_net(self, net: Any, X: Any, y: Any, seed: int, device: str) -> Any:
        """Train ``net`` as the base does; count its trainable weights as ``n_parameters_``."""
        super()._fit_net(net, X, y, seed, device)
        self.n_parameters_ = sum(p.numel() for p in net.module_.parameters() if p.requires_grad)
        return net

    def _encode_labels(self, y: Any) -> np.ndarray:
        """Set ``classes_`` from ``y`` (at least two) and return the class indices, int64."""
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_.tolist()[0]!r}); a classifier needs at least 2."
            )
        return encoder.transform(y).astype(np.int64)

    def _validation_split(
        self, X: np.ndarray, y: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stratified split of the real rows into training and early-stopping rows."""
        counts = np.bincount(y)
        if counts.min() < 2:
            rare = self.classes_.tolist()[counts.argmin()]
            raise ValueError(
                f"early_stopping needs at least 2 rows of every class for its stratified "
                f"validation split, but class {rare!r} has 1; set early_stopping=False."
            )
        n_valid = max(len(counts), math.ceil(self.validation_fraction * len(y)))
        return train_test_split(X, y, test_size=n_valid, stratify=y, random_state=seed)

    def _class_weights(self, y: np.ndarray) -> np.ndarray | None:
        """Per-class loss weights from the encoded labels ``y``, or None for equal weights."""
        if self.class_weight is None:
            return None
        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[y])
        return np.asarray(weights, dtype=np.float32)

    def _criterion(self, y: np.ndarray) -> tuple[type[torch.nn.Module], dict[str, Any]]:
        """The loss class and its parameters: class weights from the encoded labels ``y``."""
        weights = self._class_weights(y)
        weight = None if weights is None else torch.tensor(weights, dtype=torch.float32)
        if self.loss == "focal":
            return FocalLoss, {"gamma": self.focal_gamma, "weight": weight}
        return torch.nn.CrossEntropyLoss, {"weight": weight}
