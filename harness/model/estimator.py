"""MLPClassifier: a torch MLP trained by skorch, usable as a scikit-learn classifier.

The MLP family's estimator. What every torch family shares (training settings,
seeding, device, the skorch net and its batches) lives in
:mod:`harness.model.torch_base`; this module adds the network's parameters, the
resampler, and :meth:`MLPClassifier.prepare_fit`, the public description of one fit
that the fold and population trainers train from.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from harness.model.network import MLPModule
from harness.model.torch_base import (
    ClassifierNet,
    PreparedFit,
    TensorDataset,
    TorchClassifierBase,
    is_int,
    require,
    seeded_torch,
    to_dataset,
)
from harness.model.vocabulary import layer_sizes

__all__ = ["MLPClassifier"]

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


class MLPClassifier(TorchClassifierBase):
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
        y = self._encode_labels(y)
        split_seed, resample_seed, torch_seed = self._seeds(3)
        valid = None
        if self.early_stopping:
            X, X_valid, y, y_valid = self._validation_split(X, y, split_seed)
            valid = to_dataset(X_valid, y_valid, device)
        X, y = self._resample(X, y, resample_seed)
        net = self._build_net(hidden, y, valid, torch_seed, device)
        self._fit_net(net, X, y, torch_seed, device)
        return self

    def training_settings(self) -> dict[str, Any]:
        """How this estimator trains, validated (see the base class), plus its network.

        Returns
        -------
        dict
            The shared settings of
            :meth:`harness.model.torch_base.TorchEstimatorBase.training_settings` and
            ``hidden`` (the resolved hidden layer widths), ``activation``, ``dropout``
            and ``batch_norm``.
        """
        settings = super().training_settings()
        settings.update(
            hidden=self._check_params(),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=bool(self.batch_norm),
        )
        return settings

    def prepare_fit(self, X: Any, y: Any, classes: Any = None) -> PreparedFit:
        """What ``fit(X, y)`` would train on, without training: the public form of a fit.

        The seeds drawn from ``random_state``, the stratified early-stopping split, the
        resampling, the class weights and the initial weights (an
        :class:`~harness.model.network.MLPModule` built under the torch seed, which also
        seeds the batch order), computed as ``fit`` computes them. The estimator is left
        unfitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The (preprocessed) training rows.
        y : array-like of shape (n_samples,)
            Their labels.
        classes : array-like or None, default=None
            Sorted labels that the class indices refer to; ``np.unique(y)`` (what
            ``fit`` sets as ``classes_``) when None. More labels than ``y`` holds give
            the network extra outputs, which ``fit`` would not have.

        Returns
        -------
        PreparedFit

        Notes
        -----
        With an int ``random_state`` the result is what ``fit`` trains from; a
        RandomState instance is advanced by each call, so two calls differ.
        """
        est = clone(self)
        hidden = est._check_params()
        X = np.asarray(X, dtype=np.float32)
        labels = np.asarray(y)
        est.classes_ = np.unique(labels) if classes is None else np.asarray(classes)
        y_enc = np.searchsorted(est.classes_, labels).astype(np.int64)
        split_seed, resample_seed, torch_seed = est._seeds(3)
        X_valid = y_valid = None
        if est.early_stopping:
            X, X_valid, y_enc, y_valid = est._validation_split(X, y_enc, split_seed)
        X, y_enc = est._resample(X, y_enc, resample_seed)
        with seeded_torch(torch_seed, "cpu"):
            module = MLPModule(
                X.shape[1],
                len(est.classes_),
                hidden,
                activation=est.activation,
                dropout=est.dropout,
                batch_norm=bool(est.batch_norm),
            )
        return PreparedFit(
            X_train=np.ascontiguousarray(X, dtype=np.float32),
            y_train=np.asarray(y_enc, dtype=np.int64),
            X_valid=None if X_valid is None else np.ascontiguousarray(X_valid, dtype=np.float32),
            y_valid=None if y_valid is None else np.asarray(y_valid, dtype=np.int64),
            init_state={key: value.detach().clone() for key, value in module.state_dict().items()},
            seed=torch_seed,
            class_weight=est._class_weights(y_enc),
            resampling=est.resampling_,
        )

    def n_parameters(self, n_features: int, n_classes: int) -> int:
        """The number of trainable weights of the network this estimator would train.

        The network's size for ``n_features`` input columns (after preprocessing)
        and ``n_classes`` outputs, counted without training: the same
        :class:`~harness.model.network.MLPModule` ``fit`` builds (batch-norm
        scales and shifts count, its running statistics do not).

        Parameters
        ----------
        n_features : int
            Width of the preprocessed rows.
        n_classes : int
            Number of output logits.

        Returns
        -------
        int
        """
        module = MLPModule(
            n_features,
            n_classes,
            self._check_params(),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=bool(self.batch_norm),
        )
        return int(sum(p.numel() for p in module.parameters() if p.requires_grad))

    def _check_params(self) -> tuple[int, ...]:
        """Validate every parameter; return the hidden layer widths."""
        super()._check_params()
        require(
            self.resampler is None or hasattr(self.resampler, "fit_resample"),
            "resampler",
            "None or an imbalanced-learn sampler (with fit_resample)",
            self.resampler,
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
        require(
            all(is_int(width) and width >= 1 for width in hidden),
            "hidden_layer_sizes",
            "None or a sequence of integers >= 1",
            self.hidden_layer_sizes,
        )
        return hidden

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
        valid: TensorDataset | None,
        seed: int,
        device: str,
    ) -> ClassifierNet:
        return ClassifierNet(
            module=MLPModule,
            module__n_features=self.n_features_in_,
            module__n_classes=len(self.classes_),
            module__hidden_layer_sizes=hidden,
            module__activation=self.activation,
            module__dropout=self.dropout,
            module__batch_norm=bool(self.batch_norm),
            **self._training_settings(y, valid, seed, device),
        )
