"""MLPClassifier: a torch MLP trained by skorch, usable as a scikit-learn classifier."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
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
from skorch import NeuralNetClassifier
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

from harness.model.network import ACTIVATIONS, FocalLoss, MLPModule
from harness.model.vocabulary import layer_sizes

__all__ = ["MLPClassifier"]

_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}
# torch 2.x has no fused RMSprop; the others have fused kernels on CPU and CUDA.
_FUSED = {"sgd", "adam", "adamw"}
_CHOICES: dict[str, tuple] = {
    "activation": tuple(ACTIVATIONS),
    "optimizer": tuple(_OPTIMIZERS),
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
# Prediction runs in eval mode, where rows do not interact, so any batch size gives the
# same outputs; a large one keeps per-batch overhead low.
_PREDICT_BATCH_SIZE = 4096


class _TensorDataset:
    """Rows held as two tensors (``y`` may be None); skorch scoring reads ``X`` and ``y``."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None) -> None:
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.X)


class _TensorBatches:
    """Mini-batches sliced from whole tensors, with no per-row collation.

    A replacement for skorch's default ``DataLoader``, which builds every batch row by
    row. With ``shuffle`` the rows are permuted once per epoch by a generator seeded
    from ``seed``; with ``drop_single`` a last batch of one row is skipped (batch norm
    cannot train on a single row).
    """

    def __init__(
        self,
        dataset: _TensorDataset,
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


class _Net(NeuralNetClassifier):
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

    def partial_fit(self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any) -> _Net:
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

    def get_dataset(self, X: Any, y: Any = None) -> _TensorDataset:
        if isinstance(X, _TensorDataset):
            return X
        return _to_dataset(X, y, self.device)


def _to_dataset(X: np.ndarray, y: np.ndarray | None, device: str) -> _TensorDataset:
    # torch cannot wrap read-only arrays (such as joblib's memmaps) safely: copy those.
    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.require(array, requirements="W"), device=device)

    return _TensorDataset(tensor(X), None if y is None else tensor(y))


@contextmanager
def _seeded_torch(seed: int, device: str) -> Iterator[None]:
    """Seed torch's default generators for the block, then restore the caller's state."""
    on_cuda = torch.device(device).type == "cuda"
    cuda_devices = [torch.device(device).index or 0] if on_cuda else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.default_generator.manual_seed(seed)
        if on_cuda:
            torch.cuda.manual_seed(seed)
        yield


def _require(condition: bool, name: str, expected: str, value: Any) -> None:
    if not condition:
        raise ValueError(f"{name} must be {expected}; got {value!r}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


_NOTHING_TO_RESAMPLE = ("No samples will be generated",)
"""Messages of imbalanced-learn samplers that found no row to generate (ADASYN)."""


def _fit_neighbors(sampler: Any, classes: np.ndarray, y: np.ndarray) -> None:
    """Cap a SMOTE-family sampler's neighbours by the rarest class of the rows it resamples.

    SMOTE, borderline SMOTE and ADASYN interpolate a row with ``k`` of its nearest
    neighbours in its own class, so ``k`` must stay below that class's row count. A
    pipeline sizes ``k`` for the rows it is built for; a model refitted on fewer rows
    (the inner folds of a stacking ensemble) may see fewer, so ``k`` shrinks to fit them.
    Other samplers (and a SMOTE inside SMOTEENN or SMOTETomek, capped here) are unchanged.

    Raises
    ------
    ValueError
        If the rarest class has a single row: nothing to interpolate with.
    """
    counts = np.bincount(y, minlength=len(classes))
    present = np.flatnonzero(counts)
    rarest = present[np.argmin(counts[present])]
    limit = int(counts[rarest]) - 1
    params = sampler.get_params(deep=False)
    # ADASYN's n_neighbors counts neighbours within a class; ENN's counts all rows (not capped).
    adasyn = type(sampler).__name__ == "ADASYN"
    names = ("k_neighbors", "n_neighbors") if adasyn else ("k_neighbors",)
    for name in names:
        value = params.get(name)
        if isinstance(value, Integral) and not isinstance(value, bool) and value > limit:
            if limit < 1:
                label, kind = classes[rarest].item(), type(sampler).__name__
                raise ValueError(
                    f"class {label!r} has 1 training row where {kind} "
                    "resamples, and it needs at least 2; handle the imbalance with class_weight "
                    "or focal, or use fewer folds."
                )
            sampler.set_params(**{name: limit})
    for value in params.values():
        if hasattr(value, "fit_resample"):
            _fit_neighbors(value, classes, y)


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A PyTorch multi-layer perceptron classifier trained by skorch.

    Every knob is a plain parameter, so a search space can address all of them and
    the estimator works with ``clone``, pipelines, ``GridSearchCV`` and ``joblib``.
    ``fit`` validates the parameters and the data, encodes the labels, takes the
    early-stopping validation split from the real rows, resamples the rest, and trains
    a skorch ``NeuralNetClassifier`` (kept as ``net_``).

    Parameters
    ----------
    hidden_layer_sizes : sequence of int or None, default=None
        Explicit hidden layer widths; when given, the sizing parameters below are
        ignored. An empty sequence gives a linear (softmax regression) model.
    neuron_pct : float, default=0.5
        Width/shrink sizing, see :func:`harness.model.vocabulary.layer_sizes`: the first hidden
        layer's width as a fraction of ``max_neurons``, in [0.01, 1.0].
    neuron_shrink : float, default=0.5
        Each next layer's width as a fraction of the previous one, in [0.01, 1.0].
    max_neurons : int, default=128
        Width that ``neuron_pct`` is a fraction of.
    min_neurons : int, default=8
        A next layer narrower than this is not added.
    max_layers : int, default=2
        Largest number of hidden layers. The defaults give layers (64, 32).
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "silu", "tanh"}, \
default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, in [0, 0.5).
    batch_norm : bool, default=False
        Batch normalisation of each hidden layer's pre-activations.
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default="adam"
        Torch optimizer; the fused implementation where torch has one.
    lr : float, default=1e-3
        Learning rate, > 0.
    momentum : float, default=0.9
        Momentum of "sgd" and "rmsprop", in [0, 1); ignored by "adam" and "adamw".
    nesterov : bool, default=False
        Nesterov momentum for "sgd" (needs ``momentum > 0``); ignored otherwise.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for "adamw"), >= 0.
    lr_schedule : {None, "cosine", "step", "plateau"}, default=None
        Per-epoch learning rate schedule: "cosine" anneals to 0 over ``max_epochs``;
        "step" multiplies the rate by 0.1 every ``max(1, max_epochs // 3)`` epochs;
        "plateau" multiplies it by 0.1 when the monitored loss (``valid_loss`` with
        early stopping, else ``train_loss``) has not improved for
        ``max(1, patience // 2)`` epochs, so the rate drops before early stopping ends
        the fit.
    batch_size : int, default=32
        Training mini-batch size; training rows are reshuffled every epoch.
    max_epochs : int, default=100
        Number of epochs (the most, with early stopping).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the rows passed to ``fit``,
        stop when ``valid_loss`` has not improved for ``patience`` epochs, and restore
        the weights of the best epoch. The history then has, per epoch, ``valid_loss``
        and ``valid_acc`` (accuracy on the held-out rows) besides ``train_loss``:
        monitor one of these with an epoch-level pruning callback.
    patience : int, default=10
        Epochs without improvement before early stopping.
    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping, in (0, 1); at least one row
        per class is held out.
    resampler : imbalanced-learn sampler or None, default=None
        Applied (as a clone) to the training rows only, after the validation split, so
        validation rows are always real rows. A sampler whose ``random_state`` is None
        gets one drawn from ``random_state``.
    class_weight : None, "balanced" or dict, default=None
        Per-class loss weights; a dict maps original labels to weights (missing labels
        weigh 1). "balanced" is computed on the rows trained on, after resampling.
    loss : {"cross_entropy", "focal"}, default="cross_entropy"
        Training loss; "focal" is :class:`harness.model.network.FocalLoss` with the class
        weights as its alpha.
    focal_gamma : float, default=2.0
        Focusing parameter of the focal loss, >= 0.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks, e.g. ``optuna_integration.SkorchPruningCallback``. ``clone``
        passes the same callback objects on (like scikit-learn's own callbacks): they
        may hold handles, such as an Optuna trial, that must not be copied.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the resampler, the weight initialisation, dropout
        and the batch order. The caller's global torch random state is left untouched.
    device : str, default="cpu"
        "cpu", "cuda" (or "cuda:N"), or "auto" for CUDA when available.
    verbose : int, default=0
        0 is silent; otherwise skorch prints a line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.history`` has one row per epoch.
    resampling_ : str
        What the resampler did: ``"none"`` (no resampler), ``"applied: <sampler>"``, or
        ``"skipped: <sampler>: <reason>"`` when the sampler had no row to generate
        (ADASYN on nearly balanced classes): the fit then trains on the real rows
        instead of failing, and the evaluation can record the reason.
    n_iter_ : int
        Number of epochs trained.
    n_parameters_ : int
        Number of trainable parameters of the network.
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | None = None,
        neuron_pct: float = 0.5,
        neuron_shrink: float = 0.5,
        max_neurons: int = 128,
        min_neurons: int = 8,
        max_layers: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        lr_schedule: str | None = None,
        batch_size: int = 32,
        max_epochs: int = 100,
        early_stopping: bool = False,
        patience: int = 10,
        validation_fraction: float = 0.1,
        resampler: Any = None,
        class_weight: str | dict | None = None,
        loss: str = "cross_entropy",
        focal_gamma: float = 2.0,
        callbacks: list | None = None,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.neuron_pct = neuron_pct
        self.neuron_shrink = neuron_shrink
        self.max_neurons = max_neurons
        self.min_neurons = min_neurons
        self.max_layers = max_layers
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.resampler = resampler
        self.class_weight = class_weight
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.callbacks = callbacks
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_clone__(self) -> MLPClassifier:
        params = self.get_params(deep=False)
        callbacks = params.pop("callbacks")
        params = {name: clone(value, safe=False) for name, value in params.items()}
        return type(self)(**params, callbacks=None if callbacks is None else list(callbacks))

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (array, DataFrame or nested lists), without NaN or inf.
        y : array-like of shape (n_samples,)
            Class labels of any type, at least two distinct.

        Returns
        -------
        MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter is out of range, X holds NaN/inf, y is continuous or has a
            single class.
        """
        hidden = self._check_params()
        device = self._resolve_device()
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_.tolist()[0]!r}); a classifier needs at least 2."
            )
        y = encoder.transform(y).astype(np.int64)
        split_seed, resample_seed, torch_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=3
        )
        valid = None
        if self.early_stopping:
            X, X_valid, y, y_valid = self._validation_split(X, y, int(split_seed))
            valid = _to_dataset(X_valid, y_valid, device)
        X, y = self._resample(X, y, int(resample_seed))
        net = self._build_net(hidden, y, valid, int(torch_seed), device)
        with _seeded_torch(int(torch_seed), device):
            net.fit(X, y)
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.n_parameters_ = sum(p.numel() for p in net.module_.parameters() if p.requires_grad)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Float64 probabilities; each row sums to 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        logits = self.net_.forward(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, as original labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def _check_params(self) -> tuple[int, ...]:
        """Validate every parameter; return the hidden layer widths."""
        for name, choices in _CHOICES.items():
            _require(getattr(self, name) in choices, name, f"one of {choices}", getattr(self, name))
        for name, (expected, accepts) in _NUMBER_RANGES.items():
            value = getattr(self, name)
            _require(isinstance(value, Real) and accepts(value), name, expected, value)
        for name in ("batch_size", "max_epochs", "patience"):
            value = getattr(self, name)
            _require(_is_int(value) and value >= 1, name, "an integer >= 1", value)
        _require(
            not (self.optimizer == "sgd" and self.nesterov and self.momentum == 0),
            "momentum",
            "> 0 when nesterov=True",
            self.momentum,
        )
        _require(
            not (self.batch_norm and self.batch_size == 1),
            "batch_size",
            ">= 2 with batch_norm=True (batch norm cannot train on one row)",
            self.batch_size,
        )
        _require(
            self.resampler is None or hasattr(self.resampler, "fit_resample"),
            "resampler",
            "None or an imbalanced-learn sampler (with fit_resample)",
            self.resampler,
        )
        _require(
            self.class_weight in (None, "balanced") or isinstance(self.class_weight, dict),
            "class_weight",
            'None, "balanced" or a dict {label: weight}',
            self.class_weight,
        )
        _require(
            self.callbacks is None or isinstance(self.callbacks, (list, tuple)),
            "callbacks",
            "None or a list of skorch callbacks",
            self.callbacks,
        )
        if self.hidden_layer_sizes is None:
            return layer_sizes(
                self.neuron_pct,
                self.neuron_shrink,
                self.max_neurons,
                self.min_neurons,
                self.max_layers,
            )
        hidden = tuple(self.hidden_layer_sizes)
        _require(
            all(_is_int(width) and width >= 1 for width in hidden),
            "hidden_layer_sizes",
            "None or a sequence of integers >= 1",
            self.hidden_layer_sizes,
        )
        return hidden

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

    def _resample(self, X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Apply a clone of the resampler, seen with original labels, to training rows."""
        if self.resampler is None:
            self.resampling_ = "none"
            return X, y
        sampler = clone(self.resampler)
        params = sampler.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            sampler.set_params(random_state=seed)
        _fit_neighbors(sampler, self.classes_, y)
        try:
            X_res, labels = sampler.fit_resample(X, self.classes_[y])
        except ValueError as error:
            # ADASYN on nearly balanced classes has no row to generate and raises; that is
            # "nothing to do", not a broken configuration: train on the real rows and say so.
            if not any(marker in str(error) for marker in _NOTHING_TO_RESAMPLE):
                raise
            self.resampling_ = f"skipped: {type(sampler).__name__}: {error}"
            return X, y
        self.resampling_ = f"applied: {type(sampler).__name__}"
        y_res = np.searchsorted(self.classes_, labels).astype(np.int64)
        return np.asarray(X_res, dtype=np.float32), y_res

    def _build_net(
        self,
        hidden: tuple[int, ...],
        y: np.ndarray,
        valid: _TensorDataset | None,
        seed: int,
        device: str,
    ) -> _Net:
        return _Net(
            module=MLPModule,
            module__n_features=self.n_features_in_,
            module__n_classes=len(self.classes_),
            module__hidden_layer_sizes=hidden,
            module__activation=self.activation,
            module__dropout=self.dropout,
            module__batch_norm=bool(self.batch_norm),
            **self._training_settings(y, valid, seed, device),
        )

    def _training_settings(
        self,
        y: np.ndarray,
        valid: _TensorDataset | None,
        seed: int,
        device: str,
        iterator_train: type = _TensorBatches,
        **iterator_train_params: Any,
    ) -> dict[str, Any]:
        """The skorch settings of everything but the module: loss, optimizer, batches, split,
        callbacks (shared with :class:`harness.CNNClassifier`, whose batches augment)."""
        criterion, criterion_params = self._criterion(y)
        return {
            "criterion": criterion,
            **{f"criterion__{name}": value for name, value in criterion_params.items()},
            "optimizer": _OPTIMIZERS[self.optimizer],
            "lr": self.lr,
            **{f"optimizer__{name}": value for name, value in self._optimizer_params().items()},
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "train_split": None if valid is None else predefined_split(valid),
            "iterator_train": iterator_train,
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            "iterator_train__drop_single": bool(self.batch_norm),
            **{f"iterator_train__{name}": value for name, value in iterator_train_params.items()},
            "iterator_valid": _TensorBatches,
            "iterator_valid__batch_size": _PREDICT_BATCH_SIZE,
            "callbacks": self._net_callbacks(valid is not None),
            "device": device,
            "verbose": self.verbose,
        }

    def _criterion(self, y: np.ndarray) -> tuple[type[torch.nn.Module], dict[str, Any]]:
        """The loss class and its parameters: class weights from the encoded labels ``y``."""
        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[y])
        weight = None if self.class_weight is None else torch.tensor(weights, dtype=torch.float32)
        if self.loss == "focal":
            return FocalLoss, {"gamma": self.focal_gamma, "weight": weight}
        return torch.nn.CrossEntropyLoss, {"weight": weight}

    def _optimizer_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"weight_decay": self.weight_decay}
        if self.optimizer in ("sgd", "rmsprop"):
            params["momentum"] = self.momentum
        if self.optimizer == "sgd":
            params["nesterov"] = bool(self.nesterov)
        if self.optimizer in _FUSED:
            params["fused"] = True
        return params

    def _net_callbacks(self, validating: bool) -> list:
        callbacks = list(self.callbacks or [])
        monitor = "valid_loss" if validating else "train_loss"
        if self.lr_schedule == "cosine":
            callbacks.append(LRScheduler(CosineAnnealingLR, T_max=self.max_epochs))
        elif self.lr_schedule == "step":
            step = max(1, self.max_epochs // 3)
            callbacks.append(LRScheduler(StepLR, step_size=step, gamma=0.1))
        elif self.lr_schedule == "plateau":
            patience = max(1, self.patience // 2)
            callbacks.append(
                LRScheduler(ReduceLROnPlateau, monitor=monitor, factor=0.1, patience=patience)
            )
        if validating:
            stopper = _EarlyStopping(monitor=monitor, patience=self.patience, load_best=True)
            callbacks.append(("EarlyStopping", stopper))
        return callbacks
