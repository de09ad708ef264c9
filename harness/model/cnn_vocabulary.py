"""The CNN family's vocabulary, torch-free: its parameters, defaults, baseline and block layout.

The family registry checks space files against :data:`CNN_PARAM_NAMES` and the
report describes a tuned CNN from :func:`cnn_blocks`, so neither imports torch;
``tests/model/test_cnn.py`` ties the defaults to :class:`harness.model.cnn.CNNClassifier`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from harness.model.vocabulary import IMBALANCE, TRAINING_DEFAULTS

CNN_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "image_shape": None,
        "n_blocks": 2,
        "channels": 16,
        "kernel_size": 3,
        "batch_norm": True,
        "residual": False,
        "activation": "relu",
        "dense_units": 64,
        "dropout": 0.0,
        "augment": False,
        **TRAINING_DEFAULTS,
        "max_epochs": 30,
    }
)
"""The searchable parameters of :class:`~harness.model.cnn.CNNClassifier` with their defaults."""

CNN_IMBALANCE: tuple[str, ...] = ("none", "class_weight", "focal")
"""The ``imbalance`` values the CNN pipeline accepts (it resamples no images)."""

CNN_PARAM_NAMES: tuple[str, ...] = (*CNN_DEFAULTS, IMBALANCE)
"""Every name a search space of the ``cnn`` family may use."""

CNN_BASELINE: MappingProxyType[str, Any] = MappingProxyType(
    {
        "n_blocks": 2,
        "channels": 16,
        "kernel_size": 3,
        "optimizer": "adam",
        "lr": 1e-3,
        "max_epochs": 30,
        IMBALANCE: "none",
    }
)
"""The unoptimized CNN: 2 blocks from 16 channels, 3x3 kernels, Adam 1e-3, 30 epochs."""


@dataclass(frozen=True)
class ConvBlock:
    """One convolutional block: its channels, output map size and whether it pools."""

    channels_in: int
    channels_out: int
    height: int
    width: int
    pooled: bool


def cnn_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every CNN parameter a configuration trains with: the defaults overridden by ``config``."""
    settings = {**CNN_DEFAULTS, **config}
    settings.setdefault(IMBALANCE, "none")
    return settings


def cnn_blocks(
    image_shape: tuple[int, int, int], n_blocks: int, channels: int
) -> tuple[ConvBlock, ...]:
    """The blocks of the network: block ``i`` has ``channels * 2**i`` output channels.

    Each block keeps the map size (same padding) and then halves it with a 2x2
    max-pool when both sides are still at least 2 pixels.

    Parameters
    ----------
    image_shape : (channels, height, width)
        The input image.
    n_blocks : int
        Number of blocks.
    channels : int
        Output channels of the first block.

    Examples
    --------
    >>> [(b.channels_out, b.height, b.pooled) for b in cnn_blocks((1, 8, 8), 4, 8)]
    [(8, 4, True), (16, 2, True), (32, 1, True), (64, 1, False)]
    """
    blocks = []
    channels_in, height, width = image_shape
    for index in range(n_blocks):
        channels_out = channels * 2**index
        pooled = min(height, width) >= 2
        if pooled:
            height, width = height // 2, width // 2
        blocks.append(ConvBlock(channels_in, channels_out, height, width, pooled))
        channels_in = channels_out
    return tuple(blocks)


def square_image(n_columns: int) -> tuple[int, int, int] | None:
    """``(1, s, s)`` when ``n_columns == s * s``, else None."""
    side = round(n_columns**0.5)
    return (1, side, side) if side >= 1 and side * side == n_columns else None
