"""CNNClassifier: a small torch convolutional network on images, trained by skorch.

It derives from :class:`harness.model.torch_base.TorchClassifierBase`, as the MLP
does: the tensor-slicing batches, seeding, optimizers, learning-rate schedules,
early stopping, class weights and focal loss, and the ``callbacks`` parameter
that the study loop's trial guard uses, live there once. What it adds is the network
(:class:`CNNModule`), the image shape of the rows and the shift augmentation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import validate_data
from torch import nn
from torch.nn import functional as F

from harness.model.cnn_vocabulary import cnn_blocks, square_image
from harness.model.network import ACTIVATIONS
from harness.model.torch_base import (
    ClassifierNet,
    TensorBatches,
    TensorDataset,
    TorchClassifierBase,
    is_int,
    require,
    to_dataset,
)

__all__ = ["CNNClassifier", "CNNModule", "image_shape_for"]

SHIFT_PIXELS = 1
"""How far the ``augment`` option shifts a training image, at most, along each axis."""


class _Block(nn.Module):
    """``conv -> [batch norm] -> activation -> [+ residual] -> [2x2 max-pool]``."""

    def __init__(
        self,
        channels_in: int,
        channels_out: int,
        kernel_size: int,
        batch_norm: bool,
        residual: bool,
        activation: str,
        pooled: bool,
    ) -> None:
        super().__init__()
        # Batch norm's shift makes a convolution bias redundant.
        self.conv = nn.Conv2d(
            channels_in, channels_out, kernel_size, padding=kernel_size // 2, bias=not batch_norm
        )
        self.norm = nn.BatchNorm2d(channels_out) if batch_norm else nn.Identity()
        self.activation = ACTIVATIONS[activation]()
        self.skip: nn.Module | None = None
        if residual:
            # A 1x1 projection where the block changes the number of channels.
            same = channels_in == channels_out
            self.skip = nn.Identity() if same else nn.Conv2d(channels_in, channels_out, 1)
        self.pool = nn.MaxPool2d(2) if pooled else nn.Identity()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        out = self.activation(self.norm(self.conv(X)))
        if self.skip is not None:
            out = out + self.skip(X)
        return self.pool(out)


class CNNModule(nn.Module):
    """Convolutional blocks, then a dense head, from images to class logits.

    Block ``i`` has ``channels * 2**i`` output channels (see
    :func:`harness.model.cnn_vocabulary.cnn_blocks`); the head is
    ``flatten -> [dropout] -> Linear(dense_units) -> activation -> [dropout] ->
    Linear(n_classes)``, or ``flatten -> [dropout] -> Linear(n_classes)`` when
    ``dense_units`` is 0.

    Parameters
    ----------
    image_shape : (channels, height, width)
        The input images.
    n_classes : int
        Number of output logits.
    n_blocks, channels, kernel_size, batch_norm, residual, activation, dense_units, dropout
        See :class:`CNNClassifier`, which passes every one of them (their defaults are
        its own, and :data:`~harness.model.cnn_vocabulary.CNN_DEFAULTS`).
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        n_classes: int,
        n_blocks: int,
        channels: int,
        kernel_size: int,
        batch_norm: bool,
        residual: bool,
        activation: str,
        dense_units: int,
        dropout: float,
    ) -> None:
        super().__init__()
        blocks = cnn_blocks(tuple(image_shape), n_blocks, channels)
        self.blocks = nn.Sequential(
            *(
                _Block(
                    b.channels_in,
                    b.channels_out,
                    kernel_size,
                    batch_norm,
                    residual,
                    activation,
                    b.pooled,
                )
                for b in blocks
            )
        )
        last = blocks[-1]
        width = last.channels_out * last.height * last.width
        head: list[nn.Module] = [nn.Flatten()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        if dense_units:
            head += [nn.Linear(width, dense_units), ACTIVATIONS[activation]()]
            if dropout > 0:
                head.append(nn.Dropout(dropout))
            width = dense_units
        head.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*head)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the logits of shape ``(n_images, n_classes)``."""
        return self.head(self.blocks(X))


def shift_images(X: torch.Tensor, generator: torch.Generator, most: int = SHIFT_PIXELS):
    """Shift each image by a random whole number of pixels in ``[-most, most]`` on each axis.

    The pixels shifted in repeat the image's edge (replicate padding): after
    per-pixel standardisation a zero is not the background.

    Parameters
    ----------
    X : tensor of shape (n_images, channels, height, width)
    generator : torch.Generator
        Draws the offsets (on the CPU).
    most : int
        Largest shift in pixels.
    """
    n_images, _, height, width = X.shape
    offsets = torch.randint(0, 2 * most + 1, (2, n_images), generator=generator)
    padded = F.pad(X, (most, most, most, most), mode="replicate")
    shifted = torch.empty_like(X)
    for dy in range(2 * most + 1):
        for dx in range(2 * most + 1):
            rows = ((offsets[0] == dy) & (offsets[1] == dx)).nonzero().squeeze(1).to(X.device)
            if len(rows):
                shifted[rows] = padded[rows, :, dy : dy + height, dx : dx + width]
    return shifted


class _ShiftedBatches(TensorBatches):
    """The MLP's training batches, each image shifted by :func:`shift_images` when ``shift``.

    Only the training iterator is this class; validation and prediction batches are
    plain :class:`~harness.model.torch_base.TensorBatches`, so augmentation never
    reaches a scored row. The offsets have their own generator (seeded from
    ``seed``), so the batch order is the same with and without augmentation.
    """

    def __init__(
        self, dataset: TensorDataset, batch_size: int, shift: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(dataset, batch_size, **kwargs)
        self.shift = shift
        self._offsets = torch.Generator().manual_seed(kwargs.get("seed", 0) + 1)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for X, y in super().__iter__():
            yield (shift_images(X, self._offsets) if self.shift else X), y


def image_shape_for(
    n_columns: int, image_shape: Sequence[int] | None = None
) -> tuple[int, int, int]:
    """The ``(channels, height, width)`` of rows with ``n_columns`` pixel columns.

    Parameters
    ----------
    n_columns : int
        Number of columns of the flat rows.
    image_shape : sequence of 3 int or None
        The shape asked for; None infers a square single-channel image.

    Raises
    ------
    ValueError
        If ``image_shape`` does not hold ``n_columns`` pixels, or, without one,
        ``n_columns`` is not a square number.
    """
    if image_shape is None:
        shape = square_image(n_columns)
        if shape is None:
            raise ValueError(
                f"X has {n_columns} columns, not a square number, so no square image fits: "
                "pass image_shape=(channels, height, width)."
            )
        return shape
    shape = tuple(int(side) for side in image_shape)
    if int(np.prod(shape)) != n_columns:
        raise ValueError(
            f"image_shape {shape} holds {int(np.prod(shape))} pixels but X has {n_columns} "
            f"columns; give an image_shape whose channels x height x width is {n_columns}."
        )
    return shape


def _flat_rows(X: Any) -> tuple[Any, tuple[int, ...] | None]:
    """Flatten a 3-D ``(n, height, width)`` or 4-D ``(n, channels, height, width)`` array."""
    if getattr(X, "ndim", None) not in (3, 4):
        return X, None
    X = np.asarray(X)
    shape = X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])
    return X.reshape(len(X), -1), tuple(int(side) for side in shape)


class CNNClassifier(TorchClassifierBase):
    """A PyTorch convolutional network classifier on small images, trained by skorch.

    Rows are flat pixel vectors (or images, see ``fit``), reshaped to
    ``image_shape``. The network is ``n_blocks`` blocks of ``conv (same padding) ->
    [batch norm] -> activation -> [+ residual] -> [2x2 max-pool while the map is at
    least 2 px]``, block ``i`` with ``channels * 2**i`` channels, then a dense head
    (:class:`CNNModule`). Everything else trains as :class:`harness.MLPClassifier`
    does; the shared parameters mean the same.

    Parameters
    ----------
    image_shape : (channels, height, width) or None, default=None
        Shape of one image; its product must be the number of columns. None infers
        a square single-channel image (64 columns: 1 x 8 x 8).
    n_blocks : int, default=2
        Number of convolutional blocks, >= 1.
    channels : int, default=16
        Output channels of the first block, >= 1; each next block doubles them.
    kernel_size : int, default=3
        Side of the square convolution kernels: odd, >= 1 (same padding).
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    residual : bool, default=False
        Add each block's input (through a 1x1 convolution where the channels
        change) to its activations, before pooling.
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "silu", "tanh"}, \
default="relu"
        Activation of the blocks and the head.
    dense_units : int, default=64
        Width of the head's hidden layer; 0 for a linear head.
    dropout : float, default=0.0
        Dropout probability in the head (before each of its linear layers), in [0, 0.5).
    augment : bool, default=False
        Shift every training image by a random -1, 0 or +1 pixels along each axis
        (edges replicated), drawn anew each epoch from ``random_state``. Never applied
        to validation rows or in ``predict``.
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default="adam"
    lr : float, default=1e-3
    momentum : float, default=0.9
    nesterov : bool, default=False
    weight_decay : float, default=0.0
    lr_schedule : {None, "cosine", "step", "plateau"}, default=None
    batch_size : int, default=32
    max_epochs : int, default=30
    early_stopping : bool, default=False
    patience : int, default=10
    validation_fraction : float, default=0.1
    class_weight : None, "balanced" or dict, default=None
    loss : {"cross_entropy", "focal"}, default="cross_entropy"
    focal_gamma : float, default=2.0
    callbacks : list of skorch callbacks or None, default=None
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weight initialisation, dropout, the batch
        order and the augmentation shifts.
    device : str, default="cpu"
    verbose : int, default=0
        As for :class:`harness.MLPClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Number of pixel columns (channels x height x width).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    image_shape_ : tuple of int
        The ``(channels, height, width)`` trained on.
    n_parameters_ : int
        Number of trainable parameters of the network.
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.history`` has one row per epoch.
    n_iter_ : int
        Number of epochs trained.
    """

    def __init__(
        self,
        image_shape: Sequence[int] | None = None,
        n_blocks: int = 2,
        channels: int = 16,
        kernel_size: int = 3,
        batch_norm: bool = True,
        residual: bool = False,
        activation: str = "relu",
        dense_units: int = 64,
        dropout: float = 0.0,
        augment: bool = False,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        lr_schedule: str | None = None,
        batch_size: int = 32,
        max_epochs: int = 30,
        early_stopping: bool = False,
        patience: int = 10,
        validation_fraction: float = 0.1,
        class_weight: str | dict | None = None,
        loss: str = "cross_entropy",
        focal_gamma: float = 2.0,
        callbacks: list | None = None,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.image_shape = image_shape
        self.n_blocks = n_blocks
        self.channels = channels
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.residual = residual
        self.activation = activation
        self.dense_units = dense_units
        self.dropout = dropout
        self.augment = augment
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
        self.class_weight = class_weight
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.callbacks = callbacks
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> CNNClassifier:
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or an array of shape \
(n_samples, height, width) or (n_samples, channels, height, width)
            Pixel values without NaN or inf; flat rows are reshaped to ``image_shape``.
        y : array-like of shape (n_samples,)
            Class labels of any type, at least two distinct.

        Returns
        -------
        CNNClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter is out of range, the rows do not fit ``image_shape`` (or,
            without one, are not square images), X holds NaN/inf, or y has one class.
        """
        self._check_params()
        device = self._resolve_device()
        X, array_shape = _flat_rows(X)
        X, y = validate_data(self, X, y, dtype=np.float32)
        y = self._encode_labels(y)
        if array_shape is not None and self.image_shape is not None:
            require(
                tuple(self.image_shape) == array_shape,
                "image_shape",
                f"the shape of the images passed, {array_shape}",
                self.image_shape,
            )
        self.image_shape_ = image_shape_for(self.n_features_in_, array_shape or self.image_shape)
        split_seed, torch_seed = self._seeds(2)
        valid = None
        if self.early_stopping:
            X, X_valid, y, y_valid = self._validation_split(X, y, split_seed)
            valid = to_dataset(self._images(X_valid), y_valid, device)
        net = self._build_net(y, valid, torch_seed, device)
        self._fit_net(net, self._images(X), y, torch_seed, device)
        return self

    def _net_input(self, X: Any) -> np.ndarray:
        """Flat rows or images (of the shape trained on) as the network's images."""
        X, array_shape = _flat_rows(X)
        if array_shape is not None:
            require(
                array_shape == self.image_shape_,
                "the images' shape",
                f"{self.image_shape_}, the shape trained on",
                array_shape,
            )
        return self._images(super()._net_input(X))

    def _images(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X.reshape(len(X), *self.image_shape_))

    def _check_params(self) -> None:
        """Validate every parameter."""
        super()._check_params()
        for name in ("n_blocks", "channels"):
            value = getattr(self, name)
            require(is_int(value) and value >= 1, name, "an integer >= 1", value)
        require(
            is_int(self.kernel_size) and self.kernel_size >= 1 and self.kernel_size % 2 == 1,
            "kernel_size",
            "an odd integer >= 1 (same padding needs an odd kernel)",
            self.kernel_size,
        )
        require(
            is_int(self.dense_units) and self.dense_units >= 0,
            "dense_units",
            "an integer >= 0",
            self.dense_units,
        )
        shape = self.image_shape
        require(
            shape is None
            or (
                isinstance(shape, (list, tuple))
                and len(shape) == 3
                and all(is_int(side) and side >= 1 for side in shape)
            ),
            "image_shape",
            "None or (channels, height, width), three integers >= 1",
            shape,
        )

    def _build_net(
        self, y: np.ndarray, valid: TensorDataset | None, seed: int, device: str
    ) -> ClassifierNet:
        return ClassifierNet(
            module=CNNModule,
            module__image_shape=self.image_shape_,
            module__n_classes=len(self.classes_),
            module__n_blocks=self.n_blocks,
            module__channels=self.channels,
            module__kernel_size=self.kernel_size,
            module__batch_norm=bool(self.batch_norm),
            module__residual=bool(self.residual),
            module__activation=self.activation,
            module__dense_units=self.dense_units,
            module__dropout=self.dropout,
            **self._training_settings(
                y, valid, seed, device, _ShiftedBatches, shift=bool(self.augment)
            ),
        )
