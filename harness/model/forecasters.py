"""Look-back windows of a time series, and the two reference forecasters built on them.

One owner of the windowing rule that :class:`harness.LSTMRegressor` and the
references share: the rows are consecutive time steps, in time order, and
row t is predicted from the ``window`` rows before it, never from row t
itself. ``fit`` learns from the windows inside its rows and keeps the last
``window`` rows as ``context_``; ``predict(X)`` takes X as the rows that follow
the training rows and predicts row j of X from the ``window`` rows before it in
``[context_, X]`` (a one-step-ahead forecast). Torch-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_is_fitted, validate_data

from harness.errors import DataError

__all__ = ["LastValueForecaster", "WindowedRegressor", "check_window", "windows"]


def windows(rows: np.ndarray, window: int) -> np.ndarray:
    """Every run of ``window`` consecutive rows: shape (len(rows) - window + 1, window, n_features).

    Window i is ``rows[i:i + window]``; it predicts the row after it, ``i + window``.
    """
    view = np.lib.stride_tricks.sliding_window_view(rows, window, axis=0)
    return np.ascontiguousarray(view.transpose(0, 2, 1))


def check_window(window: int, n_rows: int) -> None:
    """Raise a one-line :class:`DataError` unless ``n_rows`` training rows hold a window.

    Parameters
    ----------
    window : int
        The look-back length.
    n_rows : int
        The rows a model is fitted on.
    """
    if n_rows <= window:
        raise DataError(
            f"window={window} is longer than the series: {n_rows} training rows "
            f"(n_samples = {n_rows}) leave no window to learn from; use a window below "
            f"{n_rows}, or fewer folds (longer training folds)"
        )


def past_windows(context: np.ndarray, X: np.ndarray, window: int) -> np.ndarray:
    """The window before each row of ``X`` in ``[context, X]``: (len(X), window, n_features)."""
    return windows(np.concatenate([context[-window:], X]), window)[:-1]


class WindowedRegressor(RegressorMixin, BaseEstimator):
    """A scikit-learn regressor on the flattened look-back window: a linear autoregression.

    With the default :class:`~sklearn.linear_model.Ridge` and X holding the
    target's own values, it is an AR(``window``) model with the extra
    features' lags as regressors.

    Parameters
    ----------
    window : int, default=12
        Look-back length.
    estimator : regressor or None, default=None
        Fitted on the flattened windows; None is ``Ridge(alpha=1.0)``.

    Attributes
    ----------
    estimator_ : regressor
        The fitted clone.
    context_ : ndarray of shape (window, n_features)
        The last ``window`` training rows.
    n_features_in_ : int
    """

    def __init__(self, window: int = 12, estimator: Any = None) -> None:
        self.window = window
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> WindowedRegressor:
        """Fit on every window inside ``X`` and the target of the row after it."""
        X, y = validate_data(self, X, y, y_numeric=True)
        if not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"window must be an integer >= 1; got {self.window!r}.")
        check_window(self.window, len(X))
        inputs = windows(X, self.window)[:-1].reshape(len(X) - self.window, -1)
        estimator = Ridge(alpha=1.0) if self.estimator is None else clone(self.estimator)
        self.estimator_ = estimator.fit(inputs, y[self.window :])
        self.context_ = X[-self.window :].copy()
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Forecast each row of ``X`` (rows that follow the training rows) from its window."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        inputs = past_windows(self.context_, X, self.window).reshape(len(X), -1)
        return np.asarray(self.estimator_.predict(inputs), dtype=float)


class LastValueForecaster(RegressorMixin, BaseEstimator):
    """The naive forecast: each row's prediction is one column's value in the row before it.

    Parameters
    ----------
    column : int or str, default=0
        The column holding the target's own values (a name where X is a
        DataFrame, such as a time series dataset's target name).

    Attributes
    ----------
    last_ : float
        That column's value in the last training row.
    """

    def __init__(self, column: int | str = 0) -> None:
        self.column = column

    def _values(self, X: Any) -> np.ndarray:
        if hasattr(X, "columns"):
            if self.column not in X.columns:
                raise ValueError(f"column {self.column!r} is not in X ({list(X.columns)}).")
            return np.asarray(X[self.column], dtype=float)
        return np.asarray(X, dtype=float)[:, self.column]

    def fit(self, X: Any, y: Any) -> LastValueForecaster:
        """Remember the last training row's value of ``column``."""
        values = self._values(X)
        if len(values) == 0:
            raise ValueError("no training rows")
        self.last_ = float(values[-1])
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The value of ``column`` one row earlier (the last training row's for the first)."""
        check_is_fitted(self)
        values = self._values(X)
        return np.concatenate([[self.last_], values[:-1]])
