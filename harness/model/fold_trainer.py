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

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import torch

from harness.model import stacked_training
from harness.model.network import ACTIVATIONS
from harness.model.stacked_training import FoldData, FoldFit, ModelState, NetSpec

__all__ = [
    "FoldData",
    "FoldFit",
    "NetSpec",
    "fold_data_like_estimator",
    "net_spec_like_estimator",
    "predict_proba_folds",
    "train_folds",
]


# ----------------------------------------------------------------------------- checks


def _check_spec(spec: NetSpec) -> None:
    choices = {
        "activation": tuple(ACTIVATIONS),
        "optimizer": stacked_training.OPTIMIZERS,
        "lr_schedule": (None, "cosine", "step", "plateau"),
        "loss": ("cross_entropy", "focal"),
    }
    for name, allowed in choices.items():
        if getattr(spec, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}; got {getattr(spec, name)!r}.")
    if spec.batch_size < 1 or spec.max_epochs < 1 or spec.patience < 1:
        raise ValueError("batch_size, max_epochs and patience must be >= 1.")


# ----------------------------------------------------------------------------- network


class _StackedNet(stacked_training.StackedNetwork):
    """K MLPModules as stacked per-layer tensors: layer ``l``'s weights are one
    ``(K, in, out)`` tensor; the forward pass is the base class's."""

    def __init__(self, spec: NetSpec, states: Sequence[dict[str, torch.Tensor]], device: str):
        self.spec = spec
        self.layers: list[stacked_training.LayerKeys] = stacked_training.module_layout(spec)
        self.depth = len(spec.hidden)
        self.batch_norm = bool(spec.batch_norm)
        self.activation = ACTIVATIONS[spec.activation]()

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
        stacked_training.optimizer_update(
            spec.optimizer,
            params,
            grads,
            state,
            steps,
            lr=lr,
            weight_decay=spec.weight_decay,
            momentum=spec.momentum,
            nesterov=bool(spec.nesterov),
            betas=stacked_training.ADAM_BETAS,
        )


# ----------------------------------------------------------------------------- per fold


class _Fold(ModelState):
    """A fold's bookkeeping (:class:`~harness.model.stacked_training.ModelState`) and its
    dropout generator, seeded from the fold's seed."""

    def __init__(self, data: FoldData, spec: NetSpec, device: str) -> None:
        super().__init__(data, spec)
        self.dropout_generator: torch.Generator | None = None
        if spec.dropout > 0:
            self.dropout_generator = torch.Generator(device=device)
            self.dropout_generator.manual_seed(int(data.seed) ^ 0x5DEECE66D)


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
        stacked_training.check_model_data(data, spec, "fold")
    K = len(folds)
    state = [_Fold(data, spec, device) for data in folds]
    net = _StackedNet(spec, [d.init_state for d in folds], device)
    optimizer = _StackedOptimizer(spec, net.params)
    rows = stacked_training.TrainingRows(folds, state, spec.n_features, device)
    gamma = spec.focal_gamma if spec.loss == "focal" else None
    validation = stacked_training.Validation(folds, state, device) if spec.early_stopping else None
    alive = list(range(K))  # original index of each fold still in the stack
    fits: list[FoldFit | None] = [None] * K
    last_train_loss = np.full(K, np.nan)

    for epoch in range(1, spec.max_epochs + 1):
        fold_state = [state[i] for i in alive]
        batches = rows.epoch(alive, fold_state, spec.batch_size)
        lrs = [f.schedule.lr for f in fold_state]
        losses = np.zeros((0, len(alive)))
        if batches.n_steps:
            losses = _run_epoch(net, optimizer, spec, fold_state, batches, lrs, gamma)
        train_loss = batches.train_loss(losses)

        valid_acc_all = np.full(K, np.nan)
        stopping: list[int] = []
        if validation is not None:
            valid_loss, valid_acc = validation.score(net, gamma)
        for k, fold in enumerate(fold_state):
            valid = (valid_loss[k], valid_acc[k]) if validation is not None else (None, None)
            if fold.end_epoch(net, k, epoch, train_loss[k], lrs[k], *valid):
                stopping.append(k)
            if validation is not None:
                valid_acc_all[alive[k]] = valid_acc[k]
            last_train_loss[alive[k]] = train_loss[k]
        if on_epoch is not None:
            on_epoch(epoch, last_train_loss.copy(), valid_acc_all)
        if epoch == spec.max_epochs:
            stopping = list(range(len(alive)))
        for k in stopping:
            fits[alive[k]] = state[alive[k]].finish(net, k)
        if len(stopping) == len(alive):
            break
        if stopping:
            keep = [k for k in range(len(alive)) if k not in stopping]
            net.keep(keep)
            optimizer.keep(keep, net.params)
            if validation is not None:
                validation.keep(keep)
            alive = [alive[k] for k in keep]
    assert all(fit is not None for fit in fits)
    return fits  # type: ignore[return-value]


def _run_epoch(
    net: _StackedNet,
    optimizer: _StackedOptimizer,
    spec: NetSpec,
    folds: Sequence[_Fold],
    batches: stacked_training.EpochRows,
    lrs: list[float],
    gamma: float | None,
) -> np.ndarray:
    """One epoch of batch steps on ``batches``; return the batch losses, shape (n_steps, K)."""
    B = spec.batch_size
    K = len(folds)
    X_epoch, y_epoch, real = batches.X, batches.y, batches.real
    # each fold's loss is sum(w * l) / sum(w) over its batch: normalise the weights once
    w_epoch = stacked_training.batch_weights(batches.weight)
    step_losses = []
    for step in range(batches.n_steps):
        stepping_folds = [k for k, f in enumerate(folds) if f.n_batches > step]
        full = all(f.n_used >= (step + 1) * B for f in folds)
        rows = None if full else real[step].unsqueeze(-1)
        stepping = None
        if len(stepping_folds) < K:
            flags = [f.n_batches > step for f in folds]
            stepping = torch.tensor(flags, device=real.device).reshape(K, 1, 1)
        dropout = _dropout(folds, stepping_folds, spec) if spec.dropout > 0 else None
        logits = net.forward(
            X_epoch[step], train=True, rows=rows, stepping=stepping, dropout=dropout
        )
        loss = (stacked_training.per_row_loss(logits, y_epoch[step], gamma) * w_epoch[step]).sum(-1)
        grads = torch.autograd.grad(loss.sum(), net.params)
        with torch.no_grad():
            optimizer.step(grads, stepping_folds, [lrs[k] for k in stepping_folds])
        for counts in net.batches_tracked:
            for k in stepping_folds:
                counts[k] += 1
        step_losses.append(loss.detach())
    return torch.stack(step_losses).double().cpu().numpy()


def _dropout(
    folds: Sequence[_Fold], stepping: Sequence[int], spec: NetSpec
) -> Callable[[torch.Tensor, int], torch.Tensor]:
    """Dropout for one step: each stepping fold's keep mask drawn from its own generator
    (the other folds keep every unit)."""
    keep, alpha = 1.0 - spec.dropout, spec.activation == "selu"

    def drop(h: torch.Tensor, layer: int) -> torch.Tensor:
        mask = torch.ones_like(h)
        for k in stepping:
            mask[k].bernoulli_(keep, generator=folds[k].dropout_generator)
        return stacked_training.apply_dropout(h, mask, spec.dropout, alpha=alpha)

    return drop


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
    return stacked_training.predict_proba_stacked(net, X_list, spec.n_features, device)


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
