"""The CNN family's pipeline: the dataset's preprocessing, then :class:`~.cnn.CNNClassifier`.

The preprocessing is the MLP's (:func:`harness.data.preprocessing.build_preprocessor`),
so a CNN and an MLP on the same task differ only in the model. On an image dataset
every column is a numeric pixel, and the preprocessor standardises them one by one
in column order: the pixel grid is kept, and a pixel that is constant in a training
fold scales to 0 (scikit-learn's scaler divides by 1 there), never to NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from harness.data.datasets import Dataset
from harness.data.preprocessing import build_preprocessor
from harness.errors import ConfigError, DataError
from harness.model.cnn import CNNClassifier, image_shape_for
from harness.model.cnn_vocabulary import CNN_IMBALANCE
from harness.model.pipeline import estimator_params
from harness.model.vocabulary import IMBALANCE


def cnn_pipeline(
    config: Mapping[str, Any], dataset: Dataset, y_fit: np.ndarray, random_state: int = 0
) -> Pipeline:
    """Return the unfitted ``preprocess -> CNNClassifier`` pipeline of a CNN configuration.

    Parameters are those of :func:`harness.build_pipeline`; ``config`` has no family entry.

    Raises
    ------
    DataError
        If the dataset has categorical columns (one-hot columns are no pixels).
    ConfigError
        If ``image_shape`` does not fit the dataset's columns, or ``imbalance``
        names a resampler.
    """
    if dataset.categorical:
        raise DataError(
            f"{dataset.name}: the CNN reads pixels, but columns "
            f"{', '.join(map(repr, dataset.categorical))} are categorical; use an image "
            "dataset of numeric pixel columns"
        )
    imbalance = config.get(IMBALANCE, "none")
    if imbalance not in CNN_IMBALANCE:
        raise ConfigError(
            f"imbalance {imbalance!r}: the CNN resamples no images; choose one of: "
            + ", ".join(CNN_IMBALANCE)
        )
    try:
        image_shape_for(len(dataset.numeric), config.get("image_shape"))
    except ValueError as error:
        raise ConfigError(f"{dataset.name}: {error}") from None
    model = CNNClassifier(**estimator_params(config, y_fit, random_state))
    return Pipeline([("preprocess", build_preprocessor(dataset)), ("model", model)])
