"""The torch network of :class:`harness.MLPClassifier` and its focal loss."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from harness.model.vocabulary import layer_sizes

__all__ = ["ACTIVATIONS", "FocalLoss", "MLPModule", "layer_sizes"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}
"""Activation names accepted by :class:`MLPModule`, mapped to their torch modules."""


class MLPModule(nn.Module):
    """A feed-forward network that maps feature rows to class logits.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the
    output layer is a plain ``Linear`` (logits, no softmax).

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty gives a linear (softmax regression) model.
    activation : str, default="relu"
        A key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation. With ``"selu"`` it is
        alpha dropout, which keeps SELU's self-normalisation.
    batch_norm : bool, default=False
        Whether to normalise each hidden layer's pre-activations.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_layer_sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}."
            )
        dropout_layer = nn.AlphaDropout if activation == "selu" else nn.Dropout
        layers: list[nn.Module] = []
        width_in = n_features
        for width in hidden_layer_sizes:
            layers.append(nn.Linear(width_in, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(dropout_layer(dropout))
            width_in = width
        layers.append(nn.Linear(width_in, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the logits of shape ``(n_rows, n_classes)``."""
        return self.layers(X)


class FocalLoss(nn.Module):
    """Multi-class focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection").

    For a row with true class ``t`` and predicted probability ``p_t``, the loss is
    ``-alpha_t * (1 - p_t) ** gamma * log(p_t)``, where ``alpha_t = weight[t]``
    (1 without weights). The batch loss is the weighted mean
    ``sum(loss_i) / sum(alpha_t_i)``, the same normalisation as
    :class:`torch.nn.CrossEntropyLoss`, so ``gamma=0`` gives exactly the
    (weighted) cross entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, >= 0: larger values down-weight well-classified rows.
    weight : torch.Tensor of shape (n_classes,) or None, default=None
        Per-class weights (the ``alpha`` of the paper).
    """

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"focal gamma must be >= 0; got {gamma!r}.")
        self.gamma = gamma
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the mean focal loss of ``logits`` (N, C) against class indices (N,)."""
        log_p_t = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -((1.0 - log_p_t.exp()) ** self.gamma) * log_p_t
        if self.weight is None:
            return loss.mean()
        alpha_t = self.weight[target]
        return (alpha_t * loss).sum() / alpha_t.sum()
