"""What the fold trainer and the population trainer share: many models trained as one stack.

:func:`harness.model.fold_trainer.train_folds` stacks the K fold models of one trial,
:func:`harness.model.population.train_population` the members of a population (several
configurations x K folds); both reproduce, model by model, what
:meth:`harness.MLPClassifier.fit` computes. Their networks and optimizers differ (stacked
per-layer tensors against one flat, zero-padded tensor with a hand-written backward);
everything else has its one owner here:

- the settings and result of one model (:class:`NetSpec`, :class:`FoldFit`) and the layout
  of its state dict (:func:`module_layout`);
- each model's rows, zero-padded into one stack, and an epoch's batches
  (:func:`pad_rows`, :class:`TrainingRows`, :class:`EpochRows`);
- the forward pass both networks run (:class:`StackedNetwork`, their base), layer by
  layer: batch norm over real rows only, dropout and alpha dropout
  (:func:`batch_norm_train`, :func:`batch_norm_eval`, :func:`apply_dropout`), and the
  eval-mode probabilities (:func:`predict_proba_stacked`);
- the loss (cross-entropy or focal, :func:`per_row_loss`, :func:`weighted_mean`,
  :func:`batch_weights`) and torch's update rules (:func:`optimizer_update`);
- the per-model bookkeeping: learning-rate schedule, history, skorch's
  ``EarlyStopping(load_best=True)`` and the final :class:`FoldFit`
  (:class:`LRSchedule`, :class:`ModelState`), and the early-stopping rows scored as skorch
  scores them (:class:`Validation`).

Where the two trainers differ only by a value, the shared code takes it as a parameter: a
focal gamma is one float for all folds of a trial, a ``(M, 1)`` tensor for a population;
a dropout rate likewise.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.nn import functional as F

from harness.model.torch_base import PreparedFit

__all__ = [
    "ADAM_BETAS",
    "OPTIMIZERS",
    "EpochRows",
    "FoldData",
    "FoldFit",
    "LRSchedule",
    "LayerKeys",
    "ModelState",
    "NetSpec",
    "StackedNetwork",
    "TrainingRows",
    "Validation",
    "apply_dropout",
    "batch_norm_eval",
    "batch_norm_train",
    "batch_weights",
    "check_model_data",
    "module_layout",
    "optimizer_update",
    "pad_rows",
    "per_row_loss",
    "predict_proba_stacked",
    "weighted_mean",
]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
"""The optimizers both trainers implement (torch's update rules)."""

ADAM_BETAS = (0.9, 0.999)
"""Adam's and AdamW's coefficients: torch's defaults, what the estimator uses."""

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1
# skorch scores the early-stopping rows in batches of the estimator's predict batch size and
# averages the batch losses weighted by batch size; the same chunking gives the same number.
_VALID_BATCH = 4096
_ES_THRESHOLD = 1e-4  # skorch EarlyStopping's default, relative mode
_ADAM_EPS = 1e-8
_RMSPROP_ALPHA = 0.99
_RMSPROP_EPS = 1e-8
_SELU_ALPHA = 1.7580993408473766


FoldData = PreparedFit
"""One model's training data, already preprocessed, resampled and label-encoded: what
:meth:`harness.MLPClassifier.prepare_fit` returns (see
:class:`harness.model.torch_base.PreparedFit` for the fields). The number of rows may
differ between the models of a stack; ``seed`` also seeds the model's dropout masks."""


@dataclass
class NetSpec:
    """Network, optimizer and training settings of one model.

    The fields mean what the :class:`harness.MLPClassifier` parameters of the
    same names mean; ``hidden`` is its resolved ``hidden_layer_sizes``.
    """

    n_features: int
    n_classes: int
    hidden: tuple[int, ...]
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    lr_schedule: str | None = None
    batch_size: int = 32
    max_epochs: int = 100
    early_stopping: bool = False
    patience: int = 10
    loss: str = "cross_entropy"
    focal_gamma: float = 2.0


@dataclass
class FoldFit:
    """The result of training one model (a fold of a trial, a member of a population).

    Attributes
    ----------
    state : dict of str to Tensor
        Final weights as a :class:`harness.model.network.MLPModule` state dict (CPU tensors); with
        early stopping, the weights of the best epoch.
    history : list of dict
        One dict per epoch trained: ``epoch`` (from 1) and ``train_loss``, plus
        ``valid_loss`` and ``valid_acc`` with early stopping and ``event_lr`` (the rate
        the epoch trained with) with a learning-rate schedule, as in the estimator's
        ``net_.history``.
    n_epochs : int
        Number of epochs trained.
    best_epoch : int or None
        Epoch (from 1) whose weights ``state`` holds with early stopping, else None.
    """

    state: dict[str, torch.Tensor]
    history: list[dict] = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int | None = None


# ----------------------------------------------------------------------------- layout


class LayerKeys(NamedTuple):
    """State-dict prefixes of one hidden or output layer of an MLPModule."""

    linear: str
    """Prefix of the ``nn.Linear``."""
    norm: str | None
    """Prefix of the ``nn.BatchNorm1d``; None without batch norm and for the output layer."""


def module_layout(spec: NetSpec) -> list[LayerKeys]:
    """Where MLPModule's ``nn.Sequential`` puts each layer's parameters.

    Parameters
    ----------
    spec : NetSpec

    Returns
    -------
    list of LayerKeys
        One per hidden layer, then the output layer.
    """
    layers, index = [], 0
    for _ in spec.hidden:
        linear = f"layers.{index}"
        index += 1
        norm = None
        if spec.batch_norm:
            norm = f"layers.{index}"
            index += 1
        index += 1 + (spec.dropout > 0)  # activation, dropout
        layers.append(LayerKeys(linear, norm))
    layers.append(LayerKeys(f"layers.{index}", None))
    return layers


def check_model_data(data: FoldData, spec: NetSpec, what: str = "fold") -> None:
    """Refuse training data that does not fit the model's settings.

    Parameters
    ----------
    data : FoldData
    spec : NetSpec
    what : str, default="fold"
        What one model is called in the message ("fold", "member").

    Raises
    ------
    ValueError
        If the rows are not ``(n, n_features)`` with ``n`` labels, a label is not a class
        index, or early stopping has no early-stopping rows.
    """
    X, y = np.asarray(data.X_train), np.asarray(data.y_train)
    if X.ndim != 2 or X.shape[1] != spec.n_features or len(y) != len(X):
        raise ValueError(
            f"X_train must have shape (n, {spec.n_features}) and y_train length n; "
            f"got {X.shape} and {y.shape}."
        )
    if len(y) and (y.min() < 0 or y.max() >= spec.n_classes):
        raise ValueError(f"y_train must hold class indices in [0, {spec.n_classes}).")
    if spec.early_stopping and (data.X_valid is None or len(data.X_valid) == 0):
        raise ValueError(f"early_stopping needs X_valid and y_valid in every {what}.")


# ----------------------------------------------------------------------------- rows


def pad_rows(arrays: Sequence[np.ndarray], dtype: np.dtype, width: int | None) -> np.ndarray:
    """Stack ragged arrays along a new first axis, zero-padding their rows.

    Parameters
    ----------
    arrays : sequence of ndarray
        Each ``(n_k,)`` (``width`` None) or ``(n_k, width)``.
    dtype : numpy dtype
    width : int or None

    Returns
    -------
    ndarray
        ``(len(arrays), max(1, max n_k))`` or ``(len(arrays), max(1, max n_k), width)``.
    """
    n_max = max(1, max(len(a) for a in arrays))
    shape = (len(arrays), n_max) if width is None else (len(arrays), n_max, width)
    out = np.zeros(shape, dtype=dtype)
    for k, array in enumerate(arrays):
        out[k, : len(array)] = array
    return out


@dataclass
class EpochRows:
    """One epoch's batches of the models still training, laid out ``(n_steps, K, B)``.

    Each step's batch is one contiguous block. A model with fewer batches than
    ``n_steps`` has rows of zero weight (``real`` 0) where it has none.

    Attributes
    ----------
    X : Tensor
        ``(n_steps, K, B, n_features)`` rows.
    y : Tensor
        ``(n_steps, K, B)`` class indices.
    weight : Tensor
        ``(n_steps, K, B)`` each row's class weight, 0 on padding.
    real : Tensor
        ``(n_steps, K, B)`` 1 for real rows, 0 for padding.
    used : list of int
        How many rows each model trains on this epoch.
    batch_size : int
    """

    X: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor
    real: torch.Tensor
    used: list[int]
    batch_size: int

    @property
    def n_steps(self) -> int:
        """Batch steps in the epoch: the most batches any model has."""
        return int(self.y.shape[0])

    def train_loss(self, losses: np.ndarray) -> np.ndarray:
        """skorch's ``train_loss``: the batch losses averaged with batch sizes as weights.

        Parameters
        ----------
        losses : ndarray of shape (n_steps, K)
            Each step's batch loss of each model.

        Returns
        -------
        ndarray of shape (K,)
            float64; NaN for a model without a row.
        """
        B = self.batch_size
        sizes = np.clip(np.array(self.used)[None, :] - B * np.arange(self.n_steps)[:, None], 0, B)
        totals = sizes.sum(0)
        train_loss = np.full(len(self.used), np.nan)
        nonzero = totals > 0
        train_loss[nonzero] = (losses * sizes).sum(0)[nonzero] / totals[nonzero]
        return train_loss


class TrainingRows:
    """Every model's training rows and class weights, zero-padded into one stack on the device.

    Parameters
    ----------
    datas : sequence of FoldData
        The models' data, in stack order.
    models : sequence of ModelState
        Their bookkeeping (class weights).
    n_features : int
    device : str
    """

    def __init__(
        self,
        datas: Sequence[FoldData],
        models: Sequence[ModelState],
        n_features: int,
        device: str,
    ) -> None:
        X = pad_rows([np.asarray(d.X_train, np.float32) for d in datas], np.float32, n_features)
        y = pad_rows([np.asarray(d.y_train, np.int64) for d in datas], np.int64, None)
        X_all, y_all = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
        self.n_max = X_all.shape[1]
        # one flat (K * n_max) row axis: an epoch's rows are one index_select
        self.X = X_all.reshape(len(datas) * self.n_max, -1)
        self.y = y_all.reshape(-1)
        self.class_weight = torch.stack([m.class_weight for m in models]).to(device)
        self.device = device

    def epoch(
        self, alive: Sequence[int], models: Sequence[ModelState], batch_size: int
    ) -> EpochRows:
        """This epoch's batches: each model's rows in the order of its next ``randperm``.

        Parameters
        ----------
        alive : sequence of int
            Stack positions (in the order of ``datas``) of the models still training.
        models : sequence of ModelState
            Their bookkeeping, in the same order; each model's batch-order generator
            advances by one permutation.
        batch_size : int

        Returns
        -------
        EpochRows
        """
        device, B, K = self.device, batch_size, len(alive)
        n_steps = max(m.n_batches for m in models)
        # this epoch's batch order of every model, padded to n_steps batches
        index = torch.zeros((K, n_steps * B), dtype=torch.int64)
        used = []
        for k, model in enumerate(models):
            order = torch.randperm(model.n_rows, generator=model.order)
            index[k, : model.n_used] = order[: model.n_used]
            used.append(model.n_used)
        # laid out (n_steps, K, B) so that each step's batch is one contiguous block
        index = index.reshape(K, n_steps, B).transpose(0, 1).to(device)
        rows_at = torch.arange(n_steps * B, device=device).reshape(n_steps, 1, B)
        real = (rows_at < torch.tensor(used, device=device).reshape(1, -1, 1)).float()
        alive_t = torch.tensor(list(alive), device=device).reshape(1, -1, 1)
        rows_of = (alive_t * self.n_max + index).reshape(-1)  # into the flat rows
        X = self.X.index_select(0, rows_of).reshape(n_steps, K, B, -1)
        y = self.y.index_select(0, rows_of).reshape(n_steps, K, B)
        weight = self.class_weight[alive_t, y] * real
        return EpochRows(X, y, weight, real, used, B)


# ----------------------------------------------------------------------------- layers


def batch_norm_train(
    h: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    mean_buf: torch.Tensor,
    var_buf: torch.Tensor,
    rows: torch.Tensor | None,
    stepping: torch.Tensor | None,
) -> torch.Tensor:
    """Training-mode batch norm of each model over its real rows; updates the running stats.

    Parameters
    ----------
    h : Tensor
        ``(K, B, C)`` pre-activations.
    gamma, beta : Tensor
        ``(K, 1, C)`` affine parameters.
    mean_buf, var_buf : Tensor
        ``(K, 1, C)`` running mean and (unbiased) variance, updated in place as
        ``torch.nn.BatchNorm1d`` updates them.
    rows : Tensor or None
        ``(K, B, 1)`` 1 for real rows and 0 for padding; None when every row is real.
    stepping : Tensor or None
        ``(K, 1, 1)`` True for the models whose running statistics this step updates;
        None for all.

    Returns
    -------
    Tensor
        ``(K, B, C)`` normalised with the batch statistics.
    """
    if rows is None:
        n = torch.full((h.shape[0], 1, 1), float(h.shape[1]), device=h.device)
        var, mean = torch.var_mean(h, dim=1, keepdim=True, correction=0)
    else:
        n = rows.sum(1, keepdim=True)
        n_safe = n.clamp_min(1.0)  # a model without a batch this step: no NaN
        mean = (h * rows).sum(1, keepdim=True) / n_safe
        centred = (h - mean) * rows
        var = (centred * centred).sum(1, keepdim=True) / n_safe
    with torch.no_grad():
        # torch keeps the unbiased variance in running_var
        unbiased = var * (n / (n - 1).clamp_min(1.0))
        new_mean = (1 - _BN_MOMENTUM) * mean_buf + _BN_MOMENTUM * mean
        new_var = (1 - _BN_MOMENTUM) * var_buf + _BN_MOMENTUM * unbiased
        if stepping is not None:
            new_mean = torch.where(stepping, new_mean, mean_buf)
            new_var = torch.where(stepping, new_var, var_buf)
        mean_buf.copy_(new_mean)
        var_buf.copy_(new_var)
    return (h - mean) * torch.rsqrt(var + _BN_EPS) * gamma + beta


def batch_norm_eval(
    h: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    mean_buf: torch.Tensor,
    var_buf: torch.Tensor,
) -> torch.Tensor:
    """Eval-mode batch norm: ``h`` normalised with the running statistics.

    Parameters
    ----------
    h : Tensor
        ``(K, B, C)``.
    gamma, beta, mean_buf, var_buf : Tensor
        ``(K, 1, C)``.

    Returns
    -------
    Tensor
    """
    return (h - mean_buf) * torch.rsqrt(var_buf + _BN_EPS) * gamma + beta


def apply_dropout(
    h: torch.Tensor, keep: torch.Tensor, p: float | torch.Tensor, *, alpha: bool
) -> torch.Tensor:
    """Inverted dropout, or torch's alpha dropout (for SELU), with a given keep mask.

    Parameters
    ----------
    h : Tensor
        Activations.
    keep : Tensor
        1 where a unit is kept, 0 where dropped; broadcastable to ``h``.
    p : float or Tensor
        The drop probability: one for every model, or a tensor that broadcasts to
        ``h`` (a rate per model).
    alpha : bool
        Alpha dropout (ATen ``Dropout.cpp``): dropped units go to SELU's negative
        saturation, then an affine map restores zero mean and unit variance.

    Returns
    -------
    Tensor
    """
    if not alpha:
        return h * keep * (1.0 / (1.0 - p))
    sqrt = torch.sqrt if isinstance(p, torch.Tensor) else math.sqrt
    a = 1.0 / sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    return h * keep * a + (keep - 1) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p


def predict_proba_stacked(
    net: StackedNetwork, X_list: Sequence[np.ndarray], n_features: int, device: str
) -> list[np.ndarray]:
    """Class probabilities of each stacked model on its own rows, in eval mode.

    Parameters
    ----------
    net : StackedNetwork
        K models.
    X_list : sequence of ndarray
        ``X_list[k]`` of shape (n_k, n_features): the rows model ``k`` predicts.
    n_features : int
    device : str

    Returns
    -------
    list of ndarray
        ``(n_k, n_classes)`` float64 softmax probabilities, one array per model.
    """
    arrays = [np.asarray(X, dtype=np.float32).reshape(-1, n_features) for X in X_list]
    X = torch.as_tensor(pad_rows(arrays, np.float32, n_features), device=device)
    with torch.no_grad():
        logits = net.forward(X, train=False)
        proba = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    return [proba[k, : len(a)] for k, a in enumerate(arrays)]


class StackedNetwork(ABC):
    """K MLPModules as stacked tensors (models along dim 0): the base of both networks.

    A subclass lays out the parameters, sets the attributes below and writes a model's
    weights back as a state dict; the forward pass is this class's, one
    ``torch.baddbmm`` per layer for all models.

    Attributes
    ----------
    params : list of Tensor
        Per layer the weight ``(K, in, out)`` and bias ``(K, 1, out)``, then with batch
        norm (hidden layers) its weight and bias ``(K, 1, out)``.
    buffers : list of Tensor
        With batch norm, per hidden layer the running mean and variance ``(K, 1, out)``.
    depth : int
        Hidden layers.
    batch_norm : bool
    activation : callable
        The hidden layers' activation module.
    """

    params: list[torch.Tensor]
    buffers: list[torch.Tensor]
    depth: int
    batch_norm: bool
    activation: Callable[[torch.Tensor], torch.Tensor]

    def forward(
        self,
        x: torch.Tensor,
        *,
        train: bool,
        rows: torch.Tensor | None = None,
        stepping: torch.Tensor | None = None,
        dropout: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits ``(K, B, n_classes)`` of the rows ``x`` ``(K, B, n_features)``.

        Parameters
        ----------
        x : Tensor
        train : bool
            Training mode: batch statistics (which update the running ones) and dropout.
        rows : Tensor or None, default=None
            ``(K, B, 1)`` 1 for real rows and 0 for padding; None when every row is real.
        stepping : Tensor or None, default=None
            ``(K, 1, 1)`` True for the models whose batch-norm running statistics this
            step updates; None for all.
        dropout : callable or None, default=None
            ``dropout(h, layer)``: hidden layer ``layer``'s activations after dropout;
            None without dropout.

        Returns
        -------
        Tensor
        """
        h = x
        param, buffer = iter(self.params), iter(self.buffers)
        for layer in range(self.depth + 1):
            weight, bias = next(param), next(param)
            h = torch.baddbmm(bias, h, weight)
            if layer == self.depth:
                break
            if self.batch_norm:
                gamma, beta = next(param), next(param)
                mean_buf, var_buf = next(buffer), next(buffer)
                if train:
                    h = batch_norm_train(h, gamma, beta, mean_buf, var_buf, rows, stepping)
                else:
                    h = batch_norm_eval(h, gamma, beta, mean_buf, var_buf)
            h = self.activation(h)
            if train and dropout is not None:
                h = dropout(h, layer)
        return h

    @abstractmethod
    def state_dict(self, position: int) -> dict[str, torch.Tensor]:
        """The MLPModule state dict (CPU tensors) of the model at ``position``."""


# ----------------------------------------------------------------------------- loss


def per_row_loss(
    logits: torch.Tensor, target: torch.Tensor, gamma: float | torch.Tensor | None
) -> torch.Tensor:
    """Unweighted per-row loss: cross-entropy, or the focal loss with ``gamma``.

    Parameters
    ----------
    logits : Tensor
        ``(K, B, C)``.
    target : Tensor
        ``(K, B)`` class indices.
    gamma : float, Tensor or None
        The focal loss's gamma: one for every model, or ``(K, 1)``, one per model;
        None for cross-entropy.

    Returns
    -------
    Tensor
        ``(K, B)``.
    """
    if gamma is not None:
        log_p_t = F.log_softmax(logits, dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return -((1.0 - log_p_t.exp()) ** gamma) * log_p_t
    n_classes = logits.shape[-1]
    flat = F.cross_entropy(logits.reshape(-1, n_classes), target.reshape(-1), reduction="none")
    return flat.reshape(target.shape)


def weighted_mean(loss: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-model ``sum(w * l) / sum(w)`` over dim 1: torch's weighted mean (0 without rows).

    Parameters
    ----------
    loss, weight : Tensor
        ``(K, B)``.

    Returns
    -------
    Tensor
        ``(K,)``.
    """
    total = weight.sum(1)
    return (weight * loss).sum(1) / torch.where(total > 0, total, torch.ones_like(total))


def batch_weights(weight: torch.Tensor) -> torch.Tensor:
    """Row weights normalised per batch: a batch's loss is then ``sum(w * l)``.

    Parameters
    ----------
    weight : Tensor
        ``(..., B)`` each row's class weight (0 on padding).

    Returns
    -------
    Tensor
        The same shape; each batch's weights sum to 1, or stay 0 where it has no row.
    """
    totals = weight.sum(-1, keepdim=True)
    return weight / torch.where(totals > 0, totals, torch.ones_like(totals))


# ----------------------------------------------------------------------------- optimizer


def optimizer_update(
    kind: str,
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    state: dict[str, list[torch.Tensor]],
    steps: list[torch.Tensor],
    *,
    lr: float,
    weight_decay: float,
    momentum: float,
    nesterov: bool,
    betas: tuple[float, float] = ADAM_BETAS,
) -> None:
    """One update of ``params`` in place, by torch.optim's rule for ``kind``.

    SGD, Adam and AdamW are torch's fused kernels (what the estimator uses); RMSprop,
    which has none, the formulas of torch's multi-tensor implementation
    (``centered=False``).

    Parameters
    ----------
    kind : {"sgd", "adam", "adamw", "rmsprop"}
    params, grads : list of Tensor
        Parameters and their gradients, pairwise of one shape.
    state : dict of str to list of Tensor
        The optimizer state, one tensor per parameter: ``exp_avg`` and ``exp_avg_sq``
        (Adam, AdamW), ``momentum`` (SGD and RMSprop with momentum > 0), ``square_avg``
        (RMSprop).
    steps : list of Tensor
        Adam's step counts (already advanced), one per parameter; unused otherwise.
    lr, weight_decay, momentum : float
    nesterov : bool
        SGD only.
    betas : (float, float), default=ADAM_BETAS
        Adam and AdamW only.
    """
    if kind in ("adam", "adamw"):
        fused = torch._fused_adam_ if kind == "adam" else torch._fused_adamw_
        fused(
            params,
            grads,
            state["exp_avg"],
            state["exp_avg_sq"],
            [],
            steps,
            lr=lr,
            beta1=betas[0],
            beta2=betas[1],
            weight_decay=weight_decay,
            eps=_ADAM_EPS,
            amsgrad=False,
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )
    elif kind == "sgd":
        # zero-initialised momentum buffers make the first step buf = grad, as in torch
        torch._fused_sgd_(
            params,
            grads,
            state["momentum"] if momentum > 0 else [],
            weight_decay=weight_decay,
            momentum=momentum,
            lr=lr,
            dampening=0.0,
            nesterov=nesterov,
            maximize=False,
            is_first_step=False,
            grad_scale=None,
            found_inf=None,
        )
    else:
        if weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
        square_avg = state["square_avg"]
        torch._foreach_mul_(square_avg, _RMSPROP_ALPHA)
        torch._foreach_addcmul_(square_avg, grads, grads, value=1 - _RMSPROP_ALPHA)
        avg = torch._foreach_sqrt(square_avg)
        torch._foreach_add_(avg, _RMSPROP_EPS)
        if momentum > 0:
            buffers = state["momentum"]
            torch._foreach_mul_(buffers, momentum)
            torch._foreach_addcdiv_(buffers, grads, avg)
            torch._foreach_add_(params, buffers, alpha=-lr)
        else:
            torch._foreach_addcdiv_(params, grads, avg, value=-lr)


# ----------------------------------------------------------------------------- per model


class LRSchedule:
    """One model's learning rate: torch's scheduler on a stand-in optimizer.

    skorch's ``LRScheduler`` builds the scheduler at the start of training (``last_epoch``
    -1) and steps it at each epoch end, so epoch ``e`` trains with the scheduler's rate
    after ``e - 1`` steps; a stand-in optimizer reproduces those rates exactly.

    Parameters
    ----------
    spec : NetSpec
        Reads ``lr``, ``lr_schedule``, ``max_epochs`` and ``patience``.
    """

    def __init__(self, spec: NetSpec) -> None:
        from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

        self._lr = float(spec.lr)
        self._plateau = spec.lr_schedule == "plateau"
        self._scheduler: Any = None
        if spec.lr_schedule is None:
            return  # no stand-in: building a torch optimizer first imports torch._dynamo (s)
        self._optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=spec.lr)
        self._optimizer.step()  # no gradient: a no-op that keeps the schedulers from warning
        if spec.lr_schedule == "cosine":
            self._scheduler = CosineAnnealingLR(self._optimizer, T_max=spec.max_epochs)
        elif spec.lr_schedule == "step":
            step = max(1, spec.max_epochs // 3)
            self._scheduler = StepLR(self._optimizer, step_size=step, gamma=0.1)
        elif self._plateau:
            patience = max(1, spec.patience // 2)
            self._scheduler = ReduceLROnPlateau(self._optimizer, factor=0.1, patience=patience)

    @property
    def lr(self) -> float:
        """The rate the next epoch trains with."""
        if self._scheduler is None:
            return self._lr
        return float(self._optimizer.param_groups[0]["lr"])

    def epoch_end(self, monitored: float) -> None:
        """Step the schedule at an epoch's end (``monitored``: what plateau watches)."""
        if self._scheduler is None:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if self._plateau:
                self._scheduler.step(monitored)
            else:
                self._scheduler.step()


class ModelState:
    """One model's bookkeeping in a stack: batches, batch order, class weights, learning
    rate, history and early stopping.

    Parameters
    ----------
    data : FoldData
        The model's rows and seed (the seed starts its batch-order generator).
    spec : NetSpec
        Its settings.

    Attributes
    ----------
    n_rows, n_batches, n_used : int
        Training rows; batches per epoch (the estimator's ``drop_single``: with batch norm
        a last batch of one row is dropped); rows trained on per epoch.
    order : torch.Generator
        One ``randperm`` per epoch, as the estimator's batch iterator.
    class_weight : Tensor
        ``(n_classes,)`` float32, ones without class weights.
    schedule : LRSchedule
    history : list of dict
        As :attr:`FoldFit.history`.
    best_epoch : int or None
    best_state : dict or None
        The weights of the best epoch so far (early stopping).
    """

    def __init__(self, data: FoldData, spec: NetSpec) -> None:
        self.spec = spec
        self.n_rows = len(data.X_train)
        batch = spec.batch_size
        n_batches = math.ceil(self.n_rows / batch)
        if spec.batch_norm and self.n_rows % batch == 1:
            n_batches -= 1  # the estimator's drop_single: batch norm cannot train on one row
        self.n_batches = n_batches
        self.n_used = min(self.n_rows, n_batches * batch)
        self.order = torch.Generator().manual_seed(int(data.seed))
        weights = np.ones(spec.n_classes, dtype=np.float32)
        if data.class_weight is not None:
            weights = np.asarray(data.class_weight, dtype=np.float32)
        self.class_weight = torch.as_tensor(weights)
        self.schedule = LRSchedule(spec)
        self.history: list[dict] = []
        self.misses = 0
        self.threshold = math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None

    def end_epoch(
        self,
        net: StackedNetwork,
        position: int,
        epoch: int,
        train_loss: float,
        lr: float,
        valid_loss: float | None = None,
        valid_acc: float | None = None,
    ) -> bool:
        """Record an epoch, step the learning-rate schedule and early stopping.

        Parameters
        ----------
        net : StackedNetwork
            The network; the model is at ``position`` of its stack.
        position : int
        epoch : int
            From 1.
        train_loss, lr : float
            The epoch's train loss and the rate it trained with.
        valid_loss, valid_acc : float or None
            Its scores on the early-stopping rows; None without early stopping.

        Returns
        -------
        bool
            Whether early stopping ends the model's training now.
        """
        record = {"epoch": epoch, "train_loss": float(train_loss)}
        if self.spec.lr_schedule is not None:
            record["event_lr"] = float(lr)  # skorch's LRScheduler records the epoch's rate
        monitored = float(train_loss)
        if valid_loss is not None:
            record["valid_loss"] = float(valid_loss)
            record["valid_acc"] = float(valid_acc)  # type: ignore[arg-type]
            monitored = float(valid_loss)
        self.history.append(record)
        self.schedule.epoch_end(monitored)
        return valid_loss is not None and self.early_stop(net, position, monitored, epoch)

    def early_stop(self, net: StackedNetwork, position: int, score: float, epoch: int) -> bool:
        """skorch's ``EarlyStopping(monitor="valid_loss", load_best=True)``: one epoch.

        Parameters
        ----------
        net : StackedNetwork
        position : int
            The model's place in ``net``'s stack (its weights are kept when it improves).
        score : float
            The epoch's valid loss.
        epoch : int

        Returns
        -------
        bool
            True when ``patience`` epochs in a row have not improved by the relative
            threshold.
        """
        if score < self.threshold:
            self.misses = 0
            self.threshold = score - _ES_THRESHOLD * score
            self.best_epoch = epoch
            self.best_state = net.state_dict(position)
        else:
            self.misses += 1
        return self.misses == self.spec.patience

    def finish(self, net: StackedNetwork, position: int) -> FoldFit:
        """The model's :class:`FoldFit`: its last weights, or its best with early stopping.

        Parameters
        ----------
        net : StackedNetwork
        position : int

        Returns
        -------
        FoldFit
        """
        state = net.state_dict(position)
        if self.spec.early_stopping and self.best_state is not None:
            state = self.best_state  # skorch's load_best, a no-op when the last epoch was best
        return FoldFit(
            state=state,
            history=self.history,
            n_epochs=len(self.history),
            best_epoch=self.best_epoch if self.spec.early_stopping else None,
        )


class Validation:
    """The early-stopping rows of the models still training, padded, on the device.

    Parameters
    ----------
    datas : sequence of FoldData
        The models' data (``X_valid``, ``y_valid``), in stack order.
    models : sequence of ModelState
        Their bookkeeping (class weights).
    device : str
    """

    def __init__(
        self, datas: Sequence[FoldData], models: Sequence[ModelState], device: str
    ) -> None:
        X = [np.asarray(d.X_valid, dtype=np.float32) for d in datas]
        y = [np.asarray(d.y_valid, dtype=np.int64) for d in datas]
        n = [len(a) for a in y]
        self.X = torch.as_tensor(pad_rows(X, np.float32, X[0].shape[1]), device=device)
        self.y = torch.as_tensor(pad_rows(y, np.int64, None), device=device)
        position = torch.arange(self.y.shape[1], device=device)
        self.real = (position[None, :] < torch.tensor(n, device=device)[:, None]).float()
        weights = torch.stack([m.class_weight for m in models]).to(device)
        self.weight = weights.gather(1, self.y) * self.real
        self.n_chunks = max(1, math.ceil(max(n) / _VALID_BATCH))

    def keep(self, positions: list[int]) -> None:
        """Keep only the models at ``positions``, in that order."""
        index = torch.tensor(positions, device=self.X.device)
        self.X, self.y = self.X.index_select(0, index), self.y.index_select(0, index)
        self.real = self.real.index_select(0, index)
        self.weight = self.weight.index_select(0, index)

    def score(
        self, net: StackedNetwork, gamma: float | torch.Tensor | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-model ``valid_loss`` and ``valid_acc``, as skorch computes them.

        skorch scores the rows in batches of the predict batch size and averages the batch
        losses weighted by batch size; the same chunking gives the same number.

        Parameters
        ----------
        net : StackedNetwork
            In the stack order of the rows kept.
        gamma : float, Tensor or None
            As :func:`per_row_loss`'s.

        Returns
        -------
        valid_loss, valid_acc : ndarray of shape (K,)
            float64.
        """
        with torch.no_grad():
            logits = net.forward(self.X, train=False)
            loss = per_row_loss(logits, self.y, gamma)
            correct = (logits.argmax(-1) == self.y).float() * self.real
            accuracy = correct.sum(1) / self.real.sum(1)
            K, n = loss.shape
            if self.n_chunks > 1:
                pad = self.n_chunks * _VALID_BATCH - n
                chunks = [F.pad(t, (0, pad)) for t in (loss, self.weight, self.real)]
                loss_c, weight_c, real_c = (t.reshape(K * self.n_chunks, -1) for t in chunks)
                chunk_loss = weighted_mean(loss_c, weight_c).reshape(K, -1)
                chunk_rows = real_c.sum(1).reshape(K, -1)
                valid_loss = (chunk_loss * chunk_rows).sum(1) / chunk_rows.sum(1)
            else:
                valid_loss = weighted_mean(loss, self.weight)
        return valid_loss.double().cpu().numpy(), accuracy.double().cpu().numpy()
