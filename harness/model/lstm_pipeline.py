"""The LSTM family's pipeline: per-fold scaling of X, then :class:`~.lstm.LSTMRegressor`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.model.lstm import LSTMRegressor


def lstm_pipeline(
    config: Mapping[str, Any], dataset: Dataset, y_fit: np.ndarray, random_state: int = 0
) -> Pipeline:
    """The LSTM family's pipeline: per-fold scaling of X, then :class:`LSTMRegressor`.

    Parameters are those of :func:`harness.build_pipeline`; ``config`` has no
    family entry. The scaler is fitted on the rows ``fit`` gets (the past of a
    fold), the target's scaling inside :meth:`LSTMRegressor.fit`.
    """
    model = LSTMRegressor(**{"random_state": random_state, **config})
    return Pipeline([("preprocess", build_preprocessor(dataset)), ("model", model)])
