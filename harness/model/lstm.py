"""LSTMRegressor: a torch LSTM trained by skorch on look-back windows of a time series.

How rows become windows (the one rule that keeps every evaluation honest, owned by
:mod:`harness.model.forecasters` and shared with the reference forecasters): the
rows of ``X`` are consecutive time steps, in time order, and the value of row
t is predicted from the ``window`` rows *before* it, never from row t itself.
A time series :class:`~harness.data.datasets.Dataset` keeps the target's own
values as a column of ``X``, so each window holds the features and the target
of the ``window`` previous steps: the lagged target.

- ``fit(X, y)`` trains on the ``len(X) - window`` windows that lie inside X
  (the first ``window`` rows are only context, never a training target) and
  keeps the last ``window`` rows of X as ``context_``.
- ``predict(X)`` takes X as the rows that follow the training rows in time (a
  forward-chaining validation fold, the held-out final 20%) and returns one
  prediction per row: row j is predicted from the ``window`` rows before it in
  ``[context_, X]``, so the first rows of X use the end of the training series
  and later rows the earlier rows of X (a one-step-ahead forecast, which has
  seen the true values up to the step before). ``predict(X, context=rows)``
  predicts rows that follow other rows. Nothing of X's own row, nor any later
  row, enters its prediction.

Every knob is an ``__init__`` parameter; the target is standardised inside
``fit`` on the training rows only (the pipeline's preprocessor scales X on
them), and undone in ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from harness.model.forecasters import check_window, past_windows, windows
from harness.model.torch_base import RegressorNet, TorchEstimatorBase, is_int, require

__all__ = ["LSTMModule", "LSTMRegressor"]


class LSTMModule(torch.nn.Module):
    """Stacked LSTM over a window, then a linear head on the last step's hidden state.

    Parameters
    ----------
    n_features : int
        Columns per time step.
    hidden_size : int
        Units per LSTM layer.
    n_layers : int
        Stacked LSTM layers.
    dropout : float
        Dropout between LSTM layers and before the head.
    """

    def __init__(self, n_features: int, hidden_size: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(
            n_features,
            hidden_size,
            num_layers=n_layers,
            dropout=dropout if n_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden_size, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` of shape (batch, window, n_features) -> predictions of shape (batch, 1)."""
        output, _ = self.lstm(X)
        return self.head(self.dropout(output[:, -1, :]))


class LSTMRegressor(RegressorMixin, TorchEstimatorBase):
    """A torch LSTM forecaster, trained by skorch, usable as a scikit-learn regressor.

    See the module docstring for how ``fit`` and ``predict`` turn rows into
    windows: X's rows are consecutive time steps, each predicted from the
    ``window`` rows before it.

    Parameters
    ----------
    window : int, default=12
        Look-back length: time steps per input sequence.
    hidden_size : int, default=32
        Units per LSTM layer.
    n_layers : int, default=1
        Stacked LSTM layers.
    dropout : float, default=0.0
        Dropout in [0, 0.5) between layers and before the output layer.
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default="adam"
        The torch optimizer.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty of the optimizer.
    batch_size : int, default=32
        Windows per mini-batch (shuffled every epoch).
    max_epochs : int, default=50
        Training epochs.
    random_state : int, RandomState or None, default=None
        Seeds the weights and the batch order.
    callbacks : list or None, default=None
        Extra skorch callbacks (the study's trial guard is one).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    verbose : int, default=0
        skorch's per-epoch log.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained network (``net_.history`` holds the training loss per epoch).
    context_ : ndarray of shape (window, n_features)
        The last ``window`` training rows: the past of the rows ``predict`` gets.
    y_mean_, y_scale_ : float
        The training target's mean and standard deviation (the network learns
        the standardised target).
    n_features_in_ : int
    n_iter_ : int
        Epochs trained.
    """

    def __init__(
        self,
        window: int = 12,
        hidden_size: int = 32,
        n_layers: int = 1,
        dropout: float = 0.0,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 32,
        max_epochs: int = 50,
        random_state: Any = None,
        callbacks: list | None = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.window = window
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.random_state = random_state
        self.callbacks = callbacks
        self.device = device
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> LSTMRegressor:
        """Train on every window inside ``X`` (rows in time order) and its next target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Consecutive time steps, oldest first; numeric, without NaN or inf.
        y : array-like of shape (n_samples,)
            The target of each step; ``y[t]`` is learnt from ``X[t - window:t]``.

        Returns
        -------
        LSTMRegressor

        Raises
        ------
        ValueError
            For a parameter out of range or NaN/inf input; a
            :class:`~harness.errors.DataError` (a ValueError) when ``window``
            is not shorter than the series.
        """
        self._check_params()
        device = self._resolve_device()
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        check_window(self.window, len(X))
        y = y.astype(np.float64)
        self.y_mean_ = float(y.mean())
        scale = float(y.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        targets = ((y[self.window :] - self.y_mean_) / self.y_scale_).astype(np.float32)
        inputs = windows(X, self.window)[:-1]
        (torch_seed,) = self._seeds(1)
        net = self._build_net(X.shape[1], torch_seed, device)
        self._fit_net(net, inputs, targets.reshape(-1, 1), torch_seed, device)
        self.context_ = X[-self.window :].copy()
        return self

    def predict(self, X: Any, context: Any = None) -> np.ndarray:
        """Forecast each row of ``X`` from the ``window`` rows before it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Consecutive time steps that follow ``context`` in time.
        context : array-like of shape (window, n_features), optional
            The rows just before X's first row; default ``context_``, the end
            of the training rows (right for a validation fold or test period
            that follows them).

        Returns
        -------
        ndarray of shape (n_samples,)
            Float64 forecasts, none NaN.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        if context is None:
            context = self.context_
        else:
            context = validate_data(self, context, reset=False, dtype=np.float32)
            if len(context) < self.window:
                raise ValueError(
                    f"context has {len(context)} rows; predict needs the {self.window} rows "
                    "before X (window)"
                )
        inputs = past_windows(context, X, self.window)
        with torch.no_grad():
            scaled = self.net_.forward(inputs).double().numpy().ravel()
        return scaled * self.y_scale_ + self.y_mean_

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("window", "hidden_size", "n_layers"):
            value = getattr(self, name)
            require(is_int(value) and value >= 1, name, "an integer >= 1", value)

    def _build_net(self, n_features: int, seed: int, device: str) -> RegressorNet:
        return RegressorNet(
            module=LSTMModule,
            module__n_features=n_features,
            module__hidden_size=self.hidden_size,
            module__n_layers=self.n_layers,
            module__dropout=self.dropout,
            **self._training_settings(None, None, seed, device),
        )
