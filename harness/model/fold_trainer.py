"""Fold-parallel training: the K fold models of one cross-validation trial as one network.

:func:`train_folds` trains K copies of :class:`harness.model.network.MLPModule` (one per fold) at
once. The weights of layer ``l`` are stacked as a ``(K, in, out)`` tensor and every batch
step is one ``torch.baddbmm`` per layer, but the computation is that of K separate fits,
each what :meth:`harness.MLPClassifier.fit` computes for its fold:

- each fold walks its own rows in its own order (one ``torch.randperm`` per epoch from a
  ``torch.Generator`` seeded with the fold's seed, like the estimator's batch iterator);
  folds with fewer rows have fewer batches, and in a step where a fold has no batch its
  parameters, optimizer state and step count stay unchanged;
- a fold's last, partial batch is padded with rows of zero loss weight that no statistic
  sees: the loss is the weighted mean over real rows and batch norm's statistics are over
  real rows only;
- the optimizers are torch's fused kernels (SGD, Adam, AdamW: what the estimator uses) or,
  for RMSprop, the formulas of torch's multi-tensor implementation, applied to the stacked
  tensors or to per-fold views of them, with a step count per fold; the learning-rate
  schedules are torch's schedulers, one per fold, stepped at the end of each epoch like
  skorch's ``LRScheduler``;
- early stopping follows skorch's ``EarlyStopping(load_best=True)`` per fold; a stopped
  fold leaves the stack and keeps its best weights.

Dropout masks come from a generator per fold, so they differ from the estimator's (which
draws them from torch's global generator); everything else matches to float32 rounding.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from harness.model.network import ACTIVATIONS
from harness.model.torch_base import PreparedFit

__all__ = [
    "FoldData",
    "FoldFit",
    "LRSchedule",
    "NetSpec",
    "fold_data_like_estimator",
    "net_spec_like_estimator",
    "pad_rows",
    "predict_proba_folds",
    "train_folds",
]

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1
# skorch scores the early-stopping rows in batches of the estimator's predict batch size and
# averages the batch losses weighted by batch size; the same chunking gives the same number.
_VALID_BATCH = 4096
_ES_THRESHOLD = 1e-4  # skorch EarlyStopping's default, relative mode
_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8
_RMSPROP_ALPHA = 0.99
_RMSPROP_EPS = 1e-8


FoldData = PreparedFit
"""One fold's training data, already preprocessed, resampled and label-encoded: what
:meth:`harness.MLPClassifier.prepare_fit` returns (see
:class:`harness.model.torch_base.PreparedFit` for the fields). The number of rows may
differ between folds; ``seed`` also seeds the fold's dropout masks here."""


@dataclass
class NetSpec:
    """Network, optimizer and training settings shared by all folds.

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
    """The result of training one fold.

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


@dataclass
class _Layer:
    """State-dict prefixes of one hidden or output layer of MLPModule."""

    linear: str
    norm: str | None  # batch norm prefix, None without batch norm or for the output layer
    n_in: int
    n_out: int


def _layers(spec: NetSpec) -> list[_Layer]:
    """Where MLPModule's ``nn.Sequential`` puts each layer's parameters."""
    layers, index, width_in = [], 0, spec.n_features
    for width in spec.hidden:
        linear = f"layers.{index}"
        index += 1
        norm = None
        if spec.batch_norm:
            norm = f"layers.{index}"
            index += 1
        index += 1  # activation
        if spec.dropout > 0:
            index += 1
        layers.append(_Layer(linear, norm, width_in, width))
        width_in = width
    layers.append(_Layer(f"layers.{index}", None, width_in, spec.n_classes))
    return layers


def _check_spec(spec: NetSpec) -> None:
    choices = {
        "activation": tuple(ACTIVATIONS),
        "optimizer": ("sgd", "adam", "adamw", "rmsprop"),
        "lr_schedule": (None, "cosine", "step", "plateau"),
        "loss": ("cross_entropy", "focal"),
    }
    for name, allowed in choices.items():
        if getattr(spec, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}; got {getattr(spec, name)!r}.")
    if spec.batch_size < 1 or spec.max_epochs < 1 or spec.patience < 1:
        raise ValueError("batch_size, max_epochs and patience must be >= 1.")


# ----------------------------------------------------------------------------- network


class _StackedNet:
    """K MLPModules as stacked tensors, with a masked forward for the (K, B, C) layout."""

    def __init__(self, spec: NetSpec, states: Sequence[dict[str, torch.Tensor]], device: str):
        self.spec = spec
        self.layers = _layers(spec)
        self.activation = ACTIVATIONS[spec.activation]()
        self.alpha_dropout = spec.activation == "selu"

        def stack(key: str, transform: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
            tensors = [transform(state[key].detach().to(torch.float32)) for state in states]
            return torch.stack(tensors).to(device).contiguous()

        # params: per layer weight (K, in, out), bias (K, 1, out), then batch norm weight and
        # bias (K, 1, C); buffers: per batch-norm layer running mean and var (K, 1, C)
        self.params: list[torch.Tensor] = []
        self.buffers: list[torch.Tensor] = []
        for layer in self.layers:
            self.params.append(stack(f"{layer.linear}.weight", lambda t: t.T))
            self.params.append(stack(f"{layer.linear}.bias", lambda t: t.reshape(1, -1)))
            if layer.norm is not None:
                self.params.append(stack(f"{layer.norm}.weight", lambda t: t.reshape(1, -1)))
                self.params.append(stack(f"{layer.norm}.bias", lambda t: t.reshape(1, -1)))
                self.buffers.append(stack(f"{layer.norm}.running_mean", lambda t: t.reshape(1, -1)))
                self.buffers.append(stack(f"{layer.norm}.running_var", lambda t: t.reshape(1, -1)))
        for param in self.params:
            param.requires_grad_(True)
        self.batches_tracked = [
            [int(state[f"{layer.norm}.num_batches_tracked"]) for state in states]
            for layer in self.layers
            if layer.norm is not None
        ]

    def keep(self, positions: list[int]) -> None:
        """Keep only the folds at ``positions`` of the stack, in that order."""
        index = torch.tensor(positions, device=self.params[0].device)
        self.params = [p.detach().index_select(0, index).requires_grad_(True) for p in self.params]
        self.buffers = [b.index_select(0, index) for b in self.buffers]
        self.batches_tracked = [[counts[i] for i in positions] for counts in self.batches_tracked]

    def forward(
        self,
        x: torch.Tensor,
        *,
        train: bool,
        rows: torch.Tensor | None = None,
        stepping: torch.Tensor | None = None,
        dropout_masks: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits (K, B, n_classes) of the rows ``x`` (K, B, n_features).

        In training mode ``rows`` (K, B, 1) is 1 for real rows and 0 for padding, or None
        when every row is real; ``stepping`` (K, 1, 1) is 1 for the folds whose batch norm
        running statistics this step updates, or None for all; ``dropout_masks(h)`` gives
        one fold-seeded keep mask shaped like ``h``.
        """
        h = x
        params = iter(self.params)
        buffers = iter(self.buffers)
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            weight, bias = next(params), next(params)
            h = torch.baddbmm(bias, h, weight)
            if index == last:
                break
            if layer.norm is not None:
                gamma, beta = next(params), next(params)
                mean_buf, var_buf = next(buffers), next(buffers)
                if train:
                    h = self._batch_norm_train(h, gamma, beta, mean_buf, var_buf, rows, stepping)
                else:
                    h = (h - mean_buf) * torch.rsqrt(var_buf + _BN_EPS) * gamma + beta
            h = self.activation(h)
            if train and dropout_masks is not None:
                h = self._dropout(h, dropout_masks(h))
        return h

    @staticmethod
    def _batch_norm_train(
        h: torch.Tensor,
        gamma: torch.Tensor,
        beta: torch.Tensor,
        mean_buf: torch.Tensor,
        var_buf: torch.Tensor,
        rows: torch.Tensor | None,
        stepping: torch.Tensor | None,
    ) -> torch.Tensor:
        if rows is None:
            n = torch.full((h.shape[0], 1, 1), float(h.shape[1]), device=h.device)
            var, mean = torch.var_mean(h, dim=1, keepdim=True, correction=0)
        else:
            n = rows.sum(1, keepdim=True)
            n_safe = n.clamp_min(1.0)  # a fold without a batch this step: no NaN
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

    def _dropout(self, h: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        p = self.spec.dropout
        if not self.alpha_dropout:
            return h * keep * (1.0 / (1.0 - p))
        # torch's alpha dropout (ATen Dropout.cpp): dropped units go to SELU's negative
        # saturation, then an affine map restores zero mean and unit variance.
        alpha = 1.7580993408473766
        a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
        return h * keep * a + (keep - 1) * (alpha * a) + alpha * a * p

    def state_dict(self, position: int) -> dict[str, torch.Tensor]:
        """The MLPModule state dict of the fold at ``position`` (CPU tensors)."""
        state: dict[str, torch.Tensor] = {}
        params = iter(self.params)
        buffers = iter(self.buffers)
        norms = 0
        for layer in self.layers:
            weight, bias = next(params), next(params)
            state[f"{layer.linear}.weight"] = weight[position].detach().T.contiguous().cpu()
            state[f"{layer.linear}.bias"] = bias[position].detach().reshape(-1).cpu()
            if layer.norm is not None:
                state[f"{layer.norm}.weight"] = next(params)[position].detach().reshape(-1).cpu()
                state[f"{layer.norm}.bias"] = next(params)[position].detach().reshape(-1).cpu()
                state[f"{layer.norm}.running_mean"] = next(buffers)[position].reshape(-1).cpu()
                state[f"{layer.norm}.running_var"] = next(buffers)[position].reshape(-1).cpu()
                count = self.batches_tracked[norms][position]
                state[f"{layer.norm}.num_batches_tracked"] = torch.tensor(count)
                norms += 1
        return {key: value.clone() for key, value in state.items()}


def _per_row_loss(logits: torch.Tensor, target: torch.Tensor, spec: NetSpec) -> torch.Tensor:
    """Unweighted per-row loss (K, B) of ``logits`` (K, B, C) against ``target`` (K, B)."""
    if spec.loss == "focal":
        log_p_t = F.log_softmax(logits, dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return -((1.0 - log_p_t.exp()) ** spec.focal_gamma) * log_p_t
    n_classes = logits.shape[-1]
    flat = F.cross_entropy(logits.reshape(-1, n_classes), target.reshape(-1), reduction="none")
    return flat.reshape(target.shape)


def _weighted_mean(loss: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-fold ``sum(w * l) / sum(w)`` over dim 1: torch's weighted mean (0 without rows)."""
    total = weight.sum(1)
    return (weight * loss).sum(1) / torch.where(total > 0, total, torch.ones_like(total))


# ----------------------------------------------------------------------------- optimizer


class _StackedOptimizer:
    """torch.optim's update rules applied to stacked parameters, fold by fold.

    Only the folds passed to :meth:`step` are updated, so a fold without a batch keeps its
    parameters, state and step count. SGD, Adam and AdamW use torch's fused kernels (what
    the estimator uses); RMSprop, which has none, the formulas of torch's multi-tensor
    implementation. When every fold steps with the same learning rate (and, for Adam, the
    same step count) the kernels run on the whole stacked tensors; otherwise on the
    per-fold views of the folds that step.
    """

    def __init__(self, spec: NetSpec, params: list[torch.Tensor]) -> None:
        self.spec = spec
        kind = spec.optimizer
        if kind in ("adam", "adamw"):
            names = ["exp_avg", "exp_avg_sq"]
        elif kind == "sgd":
            names = ["momentum"] if spec.momentum > 0 else []
        else:
            names = ["square_avg"] + (["momentum"] if spec.momentum > 0 else [])
        self.state = {name: [torch.zeros_like(p) for p in params] for name in names}
        n_folds = params[0].shape[0]
        # Adam's bias correction reads one step count per fold; the fused kernels take one
        # count tensor per parameter, so every parameter of a fold gets a view of its count.
        self.counts = [0] * n_folds
        self.steps = torch.zeros(n_folds, dtype=torch.float32, device=params[0].device)
        self._bind(params)

    def _bind(self, params: list[torch.Tensor]) -> None:
        n_folds = params[0].shape[0]
        self.params = [p.detach() for p in params]
        self.param_views = self._views(self.params, n_folds)
        self.state_views = {
            name: self._views(tensors, n_folds) for name, tensors in self.state.items()
        }
        self.step_views = list(self.steps.unbind(0))

    @staticmethod
    def _views(tensors: list[torch.Tensor], n_folds: int) -> list[list[torch.Tensor]]:
        unbound = [t.unbind(0) for t in tensors]
        return [[views[k] for views in unbound] for k in range(n_folds)]

    def keep(self, positions: list[int], params: list[torch.Tensor]) -> None:
        """Keep the folds at ``positions``; ``params`` are the network's new tensors."""
        index = torch.tensor(positions, device=params[0].device)
        self.state = {
            name: [t.index_select(0, index) for t in tensors]
            for name, tensors in self.state.items()
        }
        self.counts = [self.counts[i] for i in positions]
        self.steps = self.steps.index_select(0, index.to(self.steps.device))
        self._bind(params)

    def step(
        self, grads: Sequence[torch.Tensor], folds: Sequence[int], lrs: Sequence[float]
    ) -> None:
        """Update the folds at stack positions ``folds``, fold ``folds[i]`` with ``lrs[i]``."""
        n_folds = len(self.counts)
        everyone = len(folds) == n_folds
        if everyone:
            self.steps.add_(1.0)
        else:
            index = torch.tensor(list(folds), device=self.steps.device)
            self.steps.index_add_(0, index, torch.ones(len(folds), device=self.steps.device))
        for k in folds:
            self.counts[k] += 1
        if everyone and len(set(lrs)) == 1 and len(set(self.counts)) == 1:
            steps = [self.step_views[0]] * len(self.params)
            self._update(self.params, list(grads), self.state, steps, lrs[0])
            return
        grad_views = self._views(list(grads), n_folds)
        groups: dict[float, list[int]] = {}
        for fold, lr in zip(folds, lrs, strict=True):
            groups.setdefault(lr, []).append(fold)
        for lr, members in groups.items():
            params = [t for k in members for t in self.param_views[k]]
            grads_ = [t for k in members for t in grad_views[k]]
            state = {
                name: [t for k in members for t in views[k]]
                for name, views in self.state_views.items()
            }
            steps = [self.step_views[k] for k in members for _ in self.params]
            self._update(params, grads_, state, steps, lr)

    def _update(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        state: dict[str, list[torch.Tensor]],
        steps: list[torch.Tensor],
        lr: float,
    ) -> None:
        spec = self.spec
        if spec.optimizer == "sgd":
            # zero-initialised momentum buffers make the first step buf = grad, as in torch
            torch._fused_sgd_(
                params,
                grads,
                state.get("momentum", []),
                weight_decay=spec.weight_decay,
                momentum=spec.momentum,
                lr=lr,
                dampening=0.0,
                nesterov=bool(spec.nesterov),
                maximize=False,
                is_first_step=False,
                grad_scale=None,
                found_inf=None,
            )
        elif spec.optimizer in ("adam", "adamw"):
            fused = torch._fused_adam_ if spec.optimizer == "adam" else torch._fused_adamw_
            fused(
                params,
                grads,
                state["exp_avg"],
                state["exp_avg_sq"],
                [],
                steps,
                lr=lr,
                beta1=_ADAM_BETAS[0],
                beta2=_ADAM_BETAS[1],
                weight_decay=spec.weight_decay,
                eps=_ADAM_EPS,
                amsgrad=False,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )
        else:
            # torch.optim.RMSprop's update (centered=False), multi-tensor form
            if spec.weight_decay != 0:
                grads = torch._foreach_add(grads, params, alpha=spec.weight_decay)
            square_avg = state["square_avg"]
            torch._foreach_mul_(square_avg, _RMSPROP_ALPHA)
            torch._foreach_addcmul_(square_avg, grads, grads, value=1 - _RMSPROP_ALPHA)
            avg = torch._foreach_sqrt(square_avg)
            torch._foreach_add_(avg, _RMSPROP_EPS)
            if spec.momentum > 0:
                buffers = state["momentum"]
                torch._foreach_mul_(buffers, spec.momentum)
                torch._foreach_addcdiv_(buffers, grads, avg)
                torch._foreach_add_(params, buffers, alpha=-lr)
            else:
                torch._foreach_addcdiv_(params, grads, avg, value=-lr)


# ----------------------------------------------------------------------------- per fold


class LRSchedule:
    """One model's learning rate: torch's scheduler on a stand-in optimizer.

    skorch's ``LRScheduler`` builds the scheduler at the start of training (``last_epoch``
    -1) and steps it at each epoch end, so epoch ``e`` trains with the scheduler's rate
    after ``e - 1`` steps; a stand-in optimizer reproduces those rates exactly.
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
        if self._scheduler is None:
            return self._lr
        return float(self._optimizer.param_groups[0]["lr"])

    def epoch_end(self, monitored: float) -> None:
        if self._scheduler is None:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if self._plateau:
                self._scheduler.step(monitored)
            else:
                self._scheduler.step()


class _Fold:
    """Per-fold bookkeeping: batch counts and order, dropout generator, class weights,
    learning-rate schedule, history and early-stopping state."""

    def __init__(self, data: FoldData, spec: NetSpec, device: str) -> None:
        self.n_rows = len(data.X_train)
        batch = spec.batch_size
        n_batches = math.ceil(self.n_rows / batch)
        if spec.batch_norm and self.n_rows % batch == 1:
            n_batches -= 1  # the estimator's drop_single: batch norm cannot train on one row
        self.n_batches = n_batches
        self.n_used = min(self.n_rows, n_batches * batch)
        self.order = torch.Generator().manual_seed(int(data.seed))
        self.dropout_generator: torch.Generator | None = None
        if spec.dropout > 0:
            self.dropout_generator = torch.Generator(device=device)
            self.dropout_generator.manual_seed(int(data.seed) ^ 0x5DEECE66D)
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
        self.fit: FoldFit | None = None


def _check_fold(data: FoldData, spec: NetSpec) -> None:
    X, y = np.asarray(data.X_train), np.asarray(data.y_train)
    if X.ndim != 2 or X.shape[1] != spec.n_features or len(y) != len(X):
        raise ValueError(
            f"X_train must have shape (n, {spec.n_features}) and y_train length n; "
            f"got {X.shape} and {y.shape}."
        )
    if len(y) and (y.min() < 0 or y.max() >= spec.n_classes):
        raise ValueError(f"y_train must hold class indices in [0, {spec.n_classes}).")
    if spec.early_stopping and (data.X_valid is None or len(data.X_valid) == 0):
        raise ValueError("early_stopping needs X_valid and y_valid in every fold.")


def pad_rows(arrays: Sequence[np.ndarray], dtype: np.dtype, width: int | None) -> np.ndarray:
    """Stack ragged arrays along a new first axis, zero-padding their rows."""
    n_max = max(1, max(len(a) for a in arrays))
    shape = (len(arrays), n_max) if width is None else (len(arrays), n_max, width)
    out = np.zeros(shape, dtype=dtype)
    for k, array in enumerate(arrays):
        out[k, : len(array)] = array
    return out


class _Validation:
    """The early-stopping rows of the folds still training, padded, on the device."""

    def __init__(self, datas: Sequence[FoldData], folds: Sequence[_Fold], device: str) -> None:
        X = [np.asarray(d.X_valid, dtype=np.float32) for d in datas]
        y = [np.asarray(d.y_valid, dtype=np.int64) for d in datas]
        n = [len(a) for a in y]
        self.X = torch.as_tensor(pad_rows(X, np.float32, X[0].shape[1]), device=device)
        self.y = torch.as_tensor(pad_rows(y, np.int64, None), device=device)
        position = torch.arange(self.y.shape[1], device=device)
        self.real = (position[None, :] < torch.tensor(n, device=device)[:, None]).float()
        weights = torch.stack([f.class_weight for f in folds]).to(device)
        self.weight = weights.gather(1, self.y) * self.real
        self.n_chunks = max(1, math.ceil(max(n) / _VALID_BATCH))

    def keep(self, positions: list[int]) -> None:
        index = torch.tensor(positions, device=self.X.device)
        self.X, self.y = self.X.index_select(0, index), self.y.index_select(0, index)
        self.real = self.real.index_select(0, index)
        self.weight = self.weight.index_select(0, index)

    def score(self, net: _StackedNet, spec: NetSpec) -> tuple[np.ndarray, np.ndarray]:
        """Per-fold valid_loss and valid_acc, as skorch computes them."""
        with torch.no_grad():
            logits = net.forward(self.X, train=False)
            loss = _per_row_loss(logits, self.y, spec)
            correct = (logits.argmax(-1) == self.y).float() * self.real
            accuracy = correct.sum(1) / self.real.sum(1)
            K, n = loss.shape
            if self.n_chunks > 1:
                pad = self.n_chunks * _VALID_BATCH - n
                chunks = [F.pad(t, (0, pad)) for t in (loss, self.weight, self.real)]
                loss_c, weight_c, real_c = (t.reshape(K * self.n_chunks, -1) for t in chunks)
                chunk_loss = _weighted_mean(loss_c, weight_c).reshape(K, -1)
                chunk_rows = real_c.sum(1).reshape(K, -1)
                valid_loss = (chunk_loss * chunk_rows).sum(1) / chunk_rows.sum(1)
            else:
                valid_loss = _weighted_mean(loss, self.weight)
        return valid_loss.double().cpu().numpy(), accuracy.double().cpu().numpy()


# ----------------------------------------------------------------------------- training


def train_folds(
    folds: Sequence[FoldData],
    spec: NetSpec,
    *,
    device: str = "cpu",
    on_epoch: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> list[FoldFit]:
    """Train one network per fold, all folds as one batched network.

    Each fold's result is what :meth:`harness.MLPClassifier.fit` computes from
    the same data, initial weights and seed (up to float32 rounding; dropout masks differ).

    Parameters
    ----------
    folds : sequence of FoldData
        The folds; their numbers of rows may differ.
    spec : NetSpec
        Network and training settings shared by the folds.
    device : str, default="cpu"
        Torch device to train on ("cpu", "cuda", "cuda:N").
    on_epoch : callable or None, default=None
        Called after every epoch as ``on_epoch(epoch, train_losses, valid_acc)``: the epoch
        (from 1) and two float64 arrays of length K. ``train_losses[k]`` is fold k's train
        loss of that epoch, or of its last epoch if it stopped earlier; ``valid_acc[k]`` is
        its accuracy on the early-stopping rows that epoch, NaN if it stopped in an earlier
        epoch or without early stopping. Whatever it raises propagates (and ends training).

    Returns
    -------
    list of FoldFit
        One per fold, in the order of ``folds``.

    Raises
    ------
    ValueError
        If the spec has an unknown choice or a fold's data does not fit the spec.
    """
    _check_spec(spec)
    if not folds:
        return []
    for data in folds:
        _check_fold(data, spec)
    K = len(folds)
    state = [_Fold(data, spec, device) for data in folds]
    net = _StackedNet(spec, [d.init_state for d in folds], device)
    optimizer = _StackedOptimizer(spec, net.params)
    X_all = torch.as_tensor(
        pad_rows([np.asarray(d.X_train, np.float32) for d in folds], np.float32, spec.n_features),
        device=device,
    )
    y_all = torch.as_tensor(
        pad_rows([np.asarray(d.y_train, np.int64) for d in folds], np.int64, None), device=device
    )
    class_weight = torch.stack([f.class_weight for f in state]).to(device)
    validation = _Validation(folds, state, device) if spec.early_stopping else None
    alive = list(range(K))  # original index of each fold still in the stack
    last_train_loss = np.full(K, np.nan)
    B = spec.batch_size

    for epoch in range(1, spec.max_epochs + 1):
        fold_state = [state[i] for i in alive]
        n_steps = max(f.n_batches for f in fold_state)
        # this epoch's batch order of every fold, padded to n_steps batches
        index = torch.zeros((len(alive), n_steps * B), dtype=torch.int64)
        used = []
        for k, fold in enumerate(fold_state):
            order = torch.randperm(fold.n_rows, generator=fold.order)
            index[k, : fold.n_used] = order[: fold.n_used]
            used.append(fold.n_used)
        # laid out (n_steps, K, B) so that each step's batch is one contiguous block
        index = index.reshape(len(alive), n_steps, B).transpose(0, 1).to(device)
        rows_at = torch.arange(n_steps * B, device=device).reshape(n_steps, 1, B)
        real = (rows_at < torch.tensor(used, device=device).reshape(1, -1, 1)).float()
        alive_t = torch.tensor(alive, device=device).reshape(1, -1, 1)
        X_epoch = X_all[alive_t, index]
        y_epoch = y_all[alive_t, index]
        w_epoch = class_weight[alive_t, y_epoch] * real
        lrs = [f.schedule.lr for f in fold_state]
        losses = np.zeros((0, len(alive)))
        if n_steps:
            losses = _run_epoch(
                net, optimizer, spec, fold_state, X_epoch, y_epoch, w_epoch, real, lrs
            )

        # skorch's train_loss: batch losses averaged with batch sizes as weights
        sizes = np.clip(np.array(used)[None, :] - B * np.arange(n_steps)[:, None], 0, B)
        train_loss = np.full(len(alive), np.nan)
        totals = sizes.sum(0)
        nonzero = totals > 0
        train_loss[nonzero] = (losses * sizes).sum(0)[nonzero] / totals[nonzero]

        valid_acc_all = np.full(K, np.nan)
        stopping: list[int] = []
        if validation is not None:
            valid_loss, valid_acc = validation.score(net, spec)
        for k, fold in enumerate(fold_state):
            record = {"epoch": epoch, "train_loss": float(train_loss[k])}
            if spec.lr_schedule is not None:
                record["event_lr"] = lrs[k]  # skorch's LRScheduler records the epoch's rate
            monitored = float(train_loss[k])
            if validation is not None:
                record["valid_loss"] = float(valid_loss[k])
                record["valid_acc"] = float(valid_acc[k])
                monitored = float(valid_loss[k])
                valid_acc_all[alive[k]] = valid_acc[k]
            fold.history.append(record)
            last_train_loss[alive[k]] = train_loss[k]
            fold.schedule.epoch_end(monitored)
            if validation is not None and _early_stop(fold, net, k, monitored, epoch, spec):
                stopping.append(k)
        if on_epoch is not None:
            on_epoch(epoch, last_train_loss.copy(), valid_acc_all)
        if epoch == spec.max_epochs:
            stopping = list(range(len(alive)))
        for k in stopping:
            _finish(state[alive[k]], net, k, spec)
        if len(stopping) == len(alive):
            break
        if stopping:
            keep = [k for k in range(len(alive)) if k not in stopping]
            net.keep(keep)
            optimizer.keep(keep, net.params)
            if validation is not None:
                validation.keep(keep)
            alive = [alive[k] for k in keep]
    fits = [fold.fit for fold in state]
    assert all(fit is not None for fit in fits)
    return fits  # type: ignore[return-value]


def _run_epoch(
    net: _StackedNet,
    optimizer: _StackedOptimizer,
    spec: NetSpec,
    folds: Sequence[_Fold],
    X_epoch: torch.Tensor,
    y_epoch: torch.Tensor,
    w_epoch: torch.Tensor,
    real: torch.Tensor,
    lrs: list[float],
) -> np.ndarray:
    """One epoch of batch steps on rows laid out (n_steps, K, B, ...); return the batch
    losses, shape (n_steps, K)."""
    B = spec.batch_size
    K = len(folds)
    n_steps = X_epoch.shape[0]
    # each fold's loss is sum(w * l) / sum(w) over its batch: normalise the weights once
    totals = w_epoch.sum(-1, keepdim=True)
    w_epoch = w_epoch / torch.where(totals > 0, totals, torch.ones_like(totals))
    step_losses = []
    for step in range(n_steps):
        stepping_folds = [k for k, f in enumerate(folds) if f.n_batches > step]
        full = all(f.n_used >= (step + 1) * B for f in folds)
        rows = None if full else real[step].unsqueeze(-1)
        stepping = None
        if len(stepping_folds) < K:
            flags = [f.n_batches > step for f in folds]
            stepping = torch.tensor(flags, device=real.device).reshape(K, 1, 1)
        masks = _dropout_masks(folds, stepping_folds, spec) if spec.dropout > 0 else None
        logits = net.forward(
            X_epoch[step], train=True, rows=rows, stepping=stepping, dropout_masks=masks
        )
        loss = (_per_row_loss(logits, y_epoch[step], spec) * w_epoch[step]).sum(-1)
        grads = torch.autograd.grad(loss.sum(), net.params)
        with torch.no_grad():
            optimizer.step(grads, stepping_folds, [lrs[k] for k in stepping_folds])
        for counts in net.batches_tracked:
            for k in stepping_folds:
                counts[k] += 1
        step_losses.append(loss.detach())
    return torch.stack(step_losses).double().cpu().numpy()


def _dropout_masks(
    folds: Sequence[_Fold], stepping: Sequence[int], spec: NetSpec
) -> Callable[[torch.Tensor], torch.Tensor]:
    keep = 1.0 - spec.dropout

    def masks(h: torch.Tensor) -> torch.Tensor:
        out = torch.ones_like(h)
        for k in stepping:
            out[k].bernoulli_(keep, generator=folds[k].dropout_generator)
        return out

    return masks


def _early_stop(
    fold: _Fold, net: _StackedNet, position: int, score: float, epoch: int, spec: NetSpec
) -> bool:
    """skorch's EarlyStopping(monitor="valid_loss", load_best=True) for one fold."""
    if score < fold.threshold:
        fold.misses = 0
        fold.threshold = score - _ES_THRESHOLD * score
        fold.best_epoch = epoch
        fold.best_state = net.state_dict(position)
    else:
        fold.misses += 1
    return fold.misses == spec.patience


def _finish(fold: _Fold, net: _StackedNet, position: int, spec: NetSpec) -> None:
    state = net.state_dict(position)
    if spec.early_stopping and fold.best_state is not None:
        state = fold.best_state  # skorch's load_best, a no-op when the last epoch was best
    fold.fit = FoldFit(
        state=state,
        history=fold.history,
        n_epochs=len(fold.history),
        best_epoch=fold.best_epoch if spec.early_stopping else None,
    )


# ----------------------------------------------------------------------------- prediction


def predict_proba_folds(
    fits: Sequence[FoldFit],
    spec: NetSpec,
    X_list: Sequence[np.ndarray],
    device: str = "cpu",
) -> list[np.ndarray]:
    """Class probabilities of each fold's model on that fold's rows, in eval mode.

    Parameters
    ----------
    fits : sequence of FoldFit
        Trained folds, as returned by :func:`train_folds`.
    spec : NetSpec
        The spec they were trained with.
    X_list : sequence of ndarray
        ``X_list[k]`` of shape (n_k, n_features): the rows fold ``k`` predicts.
    device : str, default="cpu"
        Torch device to compute on.

    Returns
    -------
    list of ndarray
        ``(n_k, n_classes)`` float64 softmax probabilities, one array per fold.
    """
    if len(fits) != len(X_list):
        raise ValueError(f"{len(fits)} fits but {len(X_list)} row arrays.")
    if not fits:
        return []
    net = _StackedNet(spec, [fit.state for fit in fits], device)
    arrays = [np.asarray(X, dtype=np.float32).reshape(-1, spec.n_features) for X in X_list]
    X = torch.as_tensor(pad_rows(arrays, np.float32, spec.n_features), device=device)
    with torch.no_grad():
        logits = net.forward(X, train=False)
        proba = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    return [proba[k, : len(a)] for k, a in enumerate(arrays)]


# ----------------------------------------------------------------------------- estimator


def net_spec_like_estimator(estimator: Any, n_features: int, n_classes: int) -> NetSpec:
    """The :class:`NetSpec` of an estimator's public training settings.

    Parameters
    ----------
    estimator : harness.MLPClassifier
        An (unfitted) estimator; only its
        :meth:`~harness.MLPClassifier.training_settings` are read.
    n_features, n_classes : int
        Width of the rows and number of classes.

    Returns
    -------
    NetSpec
    """
    settings = estimator.training_settings()
    names = {f.name for f in fields(NetSpec)} - {"n_features", "n_classes"}
    values = {name: value for name, value in settings.items() if name in names}
    return NetSpec(n_features=n_features, n_classes=n_classes, **values)


def fold_data_like_estimator(
    estimator: Any, X: np.ndarray, y: np.ndarray, classes: np.ndarray | None = None
) -> FoldData:
    """The :class:`FoldData` that ``estimator.fit(X, y)`` would train on.

    :meth:`harness.MLPClassifier.prepare_fit`: the seeds drawn from ``random_state``,
    the stratified early-stopping split, the resampling, the class weights, and the
    initial weights, computed as ``fit`` computes them.

    Parameters
    ----------
    estimator : harness.MLPClassifier
        An (unfitted) estimator with an int ``random_state`` (a RandomState instance would
        be advanced by the real fit, so the two would differ).
    X : array-like of shape (n_samples, n_features)
        The fold's (preprocessed) training rows.
    y : array-like of shape (n_samples,)
        Their labels.
    classes : array-like or None, default=None
        Sorted labels that the class indices refer to; ``np.unique(y)`` when None.

    Returns
    -------
    FoldData
    """
    return estimator.prepare_fit(X, y, classes)
