"""Population training: q configurations x K folds trained as one batched network.

The fold trainer (:mod:`harness.model.fold_trainer`) trains the K fold models of one
trial as one network; :func:`train_population` does the same one level up, for the
members of a population, each a configuration on a fold. Every member keeps what it
has in the fold trainer: its own rows (preprocessed, resampled), batch order, initial
weights, class weights, optimizer state, learning-rate schedule, early stopping and
number of epochs. What may differ between members that share a network:

- the hidden widths: each layer is padded to the widest member's width with zero
  weights that stay zero (activations map 0 to 0; no gradient reaches them); with ReLU
  and no batch norm also the depth (frozen identity layers after a shallower member's
  last hidden layer: ReLU of a ReLU output is itself);
- the optimizer and its settings (learning rate and schedule, weight decay, momentum,
  Nesterov, betas): the parameters are one ``(M, P)`` tensor, and the members with the
  same update this step are one call of torch's fused kernel on their rows;
- dropout (a per-member keep probability), focal gamma, class weights, patience,
  ``max_epochs``.

Members that cannot share a network (another activation, batch size, loss, batch norm
or early stopping) are grouped, and a key's members are split where padding a narrow
member to a wide network would cost more than another network's overhead
(:func:`group_members`). The groups train one after the other. A member that finishes
(its ``max_epochs``, early stopping) or is stopped by ``on_epoch`` (pruned, diverged,
out of time) leaves the stack and costs nothing after.

The common network (ReLU, no batch norm, cross-entropy: all of ``mlp-small``) steps
without autograd: a hand-written backward pass runs the matrix products autograd would
run, without building its graph, and the logits are computed transposed, where the
softmax over a few classes is fast; the others step through autograd. In the stack the
members that drop units come first and the members of one configuration sit next to each
other, so that dropout masks cover only the first members and one fused optimizer call
covers a run of consecutive rows (:func:`train_population` orders them).

Without dropout each member's result is what the fold trainer (and
:meth:`harness.MLPClassifier.fit`) computes for it alone, to float32 rounding (the
optimizer steps are the same fused kernels; padding changes the order of the sums in
the matrix products, so the last bits differ). Dropout masks come from one generator per
network, seeded from its members' seeds, drawn for all members and a chunk of steps at
once, from 16-bit integers (a keep probability exact to 1/65536): they differ from the
fold trainer's (as the fold trainer's differ from the estimator's), and a member's masks
depend on its batch-mates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from harness.model import stacked_training
from harness.model.network import ACTIVATIONS
from harness.model.stacked_training import FoldData, FoldFit, ModelState, NetSpec

__all__ = [
    "Member",
    "group_members",
    "predict_proba_population",
    "share_key",
    "train_population",
]

EpochCallback = Callable[[int, list[int], np.ndarray, np.ndarray], "Iterable[int] | None"]
"""``on_epoch(epoch, members, train_losses, valid_acc)``: see :func:`train_population`."""


@dataclass
class Member:
    """One model of a population: a configuration's settings and one fold's data.

    Attributes
    ----------
    data : FoldData
        The fold's rows, initial weights and seed (``MLPClassifier.prepare_fit``).
    spec : NetSpec
        The configuration's network and training settings
        (``fold_trainer.net_spec_like_estimator``).
    betas : (float, float), default=(0.9, 0.999)
        Adam's and AdamW's coefficients (torch's defaults, what the estimator uses).
    """

    data: FoldData
    spec: NetSpec
    betas: tuple[float, float] = stacked_training.ADAM_BETAS


def share_key(spec: NetSpec) -> tuple:
    """What members must have in common to train in one network.

    Parameters
    ----------
    spec : NetSpec

    Returns
    -------
    tuple
        Members with equal keys share a network: the activation, the number of hidden
        layers (not with ReLU and no batch norm, where identity layers pad a shallower
        member), batch norm, batch size, loss, early stopping, and the input and output
        widths. The optimizer is not in it: each member keeps its own.
    """
    stackable = spec.activation == "relu" and not spec.batch_norm and len(spec.hidden) > 0
    return (
        spec.activation,
        "any depth" if stackable else len(spec.hidden),
        bool(spec.batch_norm),
        int(spec.batch_size),
        spec.loss,
        bool(spec.early_stopping),
        int(spec.n_features),
        int(spec.n_classes),
    )


_STEP_OVERHEAD = {"cpu": 1e6, "cuda": 1e9}
"""The fixed cost of one training step of a network, in multiply-adds (batch rows times
weights): about 0.12 ms of operator overhead against about 8 multiply-adds per
nanosecond of the padded members' products on one CPU core (fitted to steps of 5 to 40
members, 6 to 64 units wide, on the 2-core machine of BENCHMARKS.md); on a GPU the
overhead dominates any small MLP, so everything that can share a network does."""


def group_members(specs: Sequence[NetSpec], device: str = "cpu") -> list[list[int]]:
    """Partition members into networks: by :func:`share_key`, then by size.

    Members that share a key could all train in one network, padded to its widest
    layers; but a narrow member padded to a wide network costs what a wide one does.
    Within a key the members, sorted by their own cost, are cut into consecutive groups
    that minimise the estimated step cost: per group a fixed overhead plus, per member,
    ``batch_size`` times the padded network's weights.

    Parameters
    ----------
    specs : sequence of NetSpec
    device : str, default="cpu"
        Sets the overhead; on CUDA it is large, so a key is one group.

    Returns
    -------
    list of list of int
        Indices into ``specs``, each group sorted.
    """
    overhead = _STEP_OVERHEAD["cuda" if str(device).startswith("cuda") else "cpu"]
    by_key: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        by_key.setdefault(share_key(spec), []).append(index)
    groups = []
    for members in by_key.values():
        order = sorted(members, key=lambda i: (_cost([specs[i]]), i))
        chunk_cost = _chunk_costs([specs[i] for i in order])
        # best[j]: least cost of the first j members; cut[j]: where its last group starts
        best, cut = [0.0] + [math.inf] * len(order), [0] * (len(order) + 1)
        for stop in range(1, len(order) + 1):
            for start in range(stop):
                cost = best[start] + overhead + (stop - start) * chunk_cost[start][stop - 1]
                if cost < best[stop]:
                    best[stop], cut[stop] = cost, start
        stop = len(order)
        while stop:
            groups.append(sorted(order[cut[stop] : stop]))
            stop = cut[stop]
    return sorted(groups)


def _cost(specs: Sequence[NetSpec]) -> float:
    """Multiply-adds of one step of one member of a network padded to fit ``specs``."""
    return float(_chunk_costs(specs)[0][-1])


def _chunk_costs(specs: Sequence[NetSpec]) -> np.ndarray:
    """``costs[a, b]``: :func:`_cost` of ``specs[a : b + 1]`` (for a <= b), for all chunks
    at once: a network's widths are running maxima over its members' widths."""
    n, depth = len(specs), max(len(s.hidden) for s in specs)
    widths = np.array([_member_widths(s, depth) for s in specs], dtype=np.float64)
    depths = np.array([len(s.hidden) for s in specs])
    batches = np.array([s.batch_size for s in specs], dtype=np.float64)
    n_in, n_out = specs[0].n_features, specs[0].n_classes
    costs = np.zeros((n, n))
    for start in range(n):
        wide = np.maximum.accumulate(widths[start:], axis=0).reshape(n - start, depth)
        deep = np.maximum.accumulate(depths[start:])
        batch = np.maximum.accumulate(batches[start:])
        for k, d in enumerate(deep):
            sizes = [n_in, *wide[k, :d], n_out]
            weights = sum(a * b for a, b in itertools.pairwise(sizes))
            costs[start, start + k] = batch[k] * weights
    return costs


# ----------------------------------------------------------------------------- network


class _PopulationNet(stacked_training.StackedNetwork):
    """M MLPModules as one flat ``(M, P)`` parameter tensor, zero-padded to shared shapes.

    Layer ``l``'s weight is the view ``flat[:, a:b]`` shaped ``(M, in, out)``, so the
    forward pass (the base class's) is one ``torch.baddbmm`` per layer for all members
    and the optimizer updates every parameter of every member in a few operations on
    ``flat``. With ReLU and no batch norm, a member with fewer hidden layers than the
    network gets identity layers after its last hidden layer (ReLU of a ReLU output is
    itself); they are frozen (``trainable`` is 0 there) and skip dropout.
    """

    def __init__(self, members: Sequence[Member], device: str) -> None:
        specs = [m.spec for m in members]
        first = specs[0]
        M = len(members)
        self.depth = max(len(s.hidden) for s in specs)
        self.widths = [
            max(_member_widths(s, self.depth)[i] for s in specs) for i in range(self.depth)
        ]
        self.member_widths = [_member_widths(s, self.depth) for s in specs]
        self.real_layers = [len(s.hidden) for s in specs]
        self.batch_norm = bool(first.batch_norm)
        self.activation = ACTIVATIONS[first.activation]()
        self.alpha_dropout = first.activation == "selu"
        # ReLU, no batch norm, cross-entropy: the hand-written backward of loss_and_grad
        self.manual = first.activation == "relu" and not self.batch_norm
        self.manual = self.manual and first.loss == "cross_entropy"
        self.layouts = [stacked_training.module_layout(s) for s in specs]
        ins = [first.n_features, *self.widths]
        outs = [*self.widths, first.n_classes]
        # (name, layer, shape): the slices of the flat tensor
        slots: list[tuple[str, int, tuple[int, ...]]] = []
        for layer, (n_in, n_out) in enumerate(zip(ins, outs, strict=True)):
            slots += [("weight", layer, (n_in, n_out)), ("bias", layer, (1, n_out))]
            if self.batch_norm and layer < self.depth:
                slots += [("gamma", layer, (1, n_out)), ("beta", layer, (1, n_out))]
        self.slots: list[tuple[str, int, tuple[int, ...], int, int]] = []
        start = 0
        for name, layer, shape in slots:
            size = int(np.prod(shape))
            self.slots.append((name, layer, shape, start, start + size))
            start += size
        flat = torch.zeros(M, start)
        trainable = torch.ones(M, start)
        self.buffers: list[torch.Tensor] = []
        means = [torch.zeros(M, 1, w) for w in self.widths] if self.batch_norm else []
        variances = [torch.ones(M, 1, w) for w in self.widths] if self.batch_norm else []
        for k, member in enumerate(members):
            self._place(k, member.data.init_state, flat, trainable, means, variances)
        for mean, var in zip(means, variances, strict=True):
            self.buffers += [mean.to(device), var.to(device)]
        self.flat = flat.to(device)
        self._bind()
        self.trainable: torch.Tensor | None = None
        if not bool((trainable > 0).all()):
            self.trainable = trainable.to(device)
        self.batches_tracked = np.zeros(M, dtype=np.int64)
        dropout = torch.zeros(M, max(self.depth, 1))
        for k, spec in enumerate(specs):
            dropout[k, : len(spec.hidden)] = float(spec.dropout)
        self.dropout = dropout.to(device)
        # per hidden layer, a (M, 1, width) mask of each member's real units (None: all real)
        self.unit_masks: list[torch.Tensor | None] = []
        for layer, width in enumerate(self.widths):
            own = torch.tensor([w[layer] for w in self.member_widths], device=device)
            if bool((own == width).all()):
                self.unit_masks.append(None)
            else:
                units = torch.arange(width, device=device)
                self.unit_masks.append((units[None, :] < own[:, None]).float().unsqueeze(1))

    def _place(self, k, state, flat, trainable, means, variances) -> None:
        """Write member ``k``'s state dict into the padded tensors (identity where padded)."""
        n_real = self.real_layers[k]
        widths = self.member_widths[k]
        layout = self.layouts[k]
        for name, layer, shape, start, stop in self.slots:
            block = flat[k, start:stop].view(shape)
            if layer < n_real or layer == self.depth:
                linear, norm = layout[min(layer, n_real)]
                if name == "weight":
                    w = state[f"{linear}.weight"].detach().to(torch.float32).T
                    block[: w.shape[0], : w.shape[1]] = w
                elif name == "bias":
                    b = state[f"{linear}.bias"].detach()
                    block[0, : len(b)] = b
                else:
                    key = f"{norm}.weight" if name == "gamma" else f"{norm}.bias"
                    values = state[key].detach()
                    block[0, : len(values)] = values
                    if name == "gamma":
                        means[layer][k, 0, : len(values)] = state[f"{norm}.running_mean"]
                        variances[layer][k, 0, : len(values)] = state[f"{norm}.running_var"]
            else:  # a padded layer: identity on the member's last hidden width, frozen
                if name == "weight":
                    width = widths[layer]
                    block[:width, :width] = torch.eye(width)
                trainable[k, start:stop] = 0.0

    def _bind(self) -> None:
        """Make the per-layer parameters: leaf tensors that are views of ``flat``.

        Autograd sees one leaf per layer (no gradient of a slice of ``flat``, which
        would fill a whole ``(M, P)`` tensor per layer); the optimizer updates ``flat``
        in place, which updates them.
        """
        M = self.flat.shape[0]
        self.params = [
            self.flat[:, a:b].view(M, *shape).requires_grad_(True)
            for _, _, shape, a, b in self.slots
        ]
        # what loss_and_grad multiplies by, as plain views of flat (no autograd)
        weights = [
            self.flat[:, a:b].view(M, *shape)
            for name, _, shape, a, b in self.slots
            if name == "weight"
        ]
        self._weights = weights
        self._weights_t = [w.transpose(1, 2) for w in weights]
        self._biases = [
            self.flat[:, a:b].view(M, *shape)
            for name, _, shape, a, b in self.slots
            if name == "bias"
        ]
        self._last_bias_t = self._biases[-1].transpose(1, 2)

    def loss_and_grad(
        self,
        x: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        masks: Sequence[torch.Tensor | None] | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each member's weighted cross-entropy and its gradient, without autograd.

        The common network (``manual``: ReLU, no batch norm, cross-entropy) in a forward
        and a hand-written backward pass: per layer one ``baddbmm`` forward and two
        ``bmm`` backward, the ones autograd would run, without its graph (a fifth to a
        third of a small network's step on a CPU). The logits are computed transposed,
        ``(M, n_classes, B)``, where the softmax over a few classes is several times
        faster.

        Parameters
        ----------
        x : Tensor
            (M, B, n_features) rows.
        target : Tensor
            (M, n_classes, B): the one-hot labels times each row's weight (the weights
            of a member's batch sum to 1, or are all 0 where it has no batch).
        weight : Tensor
            (M, 1, B): each row's weight.
        masks : list of Tensor or None, or None
            Per hidden layer the (n, B, width) dropout masks of the first n members,
            already scaled by 1 / (1 - p) (None where no member drops units there); the
            other members keep every unit.

        Returns
        -------
        loss : Tensor
            (M,) each member's batch loss.
        grad : Tensor
            (M, P) its gradient with respect to ``flat``.
        """
        weights, weights_t, biases = self._weights, self._weights_t, self._biases
        M = x.shape[0]
        outputs = [x]
        h = x
        for layer in range(self.depth):
            h = torch.baddbmm(biases[layer], h, weights[layer]).relu_()
            if masks is not None and masks[layer] is not None:
                h[: len(masks[layer])].mul_(masks[layer])
            outputs.append(h)
        logits = torch.baddbmm(self._last_bias_t, weights_t[-1], h.transpose(1, 2))
        log_p = torch.log_softmax(logits, dim=1)
        loss = -(log_p * target).sum((1, 2))
        # d loss / d logits = weight * (softmax - one-hot)
        g = log_p.exp_().mul_(weight).sub_(target).transpose(1, 2)
        grads = [g.sum(1, keepdim=True), torch.bmm(h.transpose(1, 2), g)]
        for layer in range(self.depth, 0, -1):
            g_out = torch.bmm(g, weights_t[layer])
            if masks is not None and masks[layer - 1] is not None:
                g_out[: len(masks[layer - 1])].mul_(masks[layer - 1])
            # ReLU's backward: zero where the (masked) output is zero
            g = torch.ops.aten.threshold_backward(g_out, outputs[layer], 0)
            grads += [g.sum(1, keepdim=True), torch.bmm(outputs[layer - 1].transpose(1, 2), g)]
        return loss, torch.cat([t.reshape(M, -1) for t in reversed(grads)], dim=1)

    def flat_grad(self, loss: torch.Tensor) -> torch.Tensor:
        """The gradient of ``loss`` with respect to ``flat``, shape ``(M, P)``."""
        grads = torch.autograd.grad(loss, self.params)
        M = self.flat.shape[0]
        return torch.cat([g.reshape(M, -1) for g in grads], dim=1)

    def keep(self, positions: list[int]) -> None:
        """Keep only the members at ``positions`` of the stack, in that order."""
        index = torch.tensor(positions, device=self.flat.device)
        self.flat = self.flat.index_select(0, index)
        self._bind()
        if self.trainable is not None:
            self.trainable = self.trainable.index_select(0, index)
        self.buffers = [b.index_select(0, index) for b in self.buffers]
        self.dropout = self.dropout.index_select(0, index)
        self.unit_masks = [None if m is None else m.index_select(0, index) for m in self.unit_masks]
        self.batches_tracked = self.batches_tracked[positions]
        for name in ("member_widths", "real_layers", "layouts"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in positions])

    def layer_dropout(
        self, masks: Sequence[torch.Tensor | None] | None
    ) -> Callable[[torch.Tensor, int], torch.Tensor] | None:
        """The ``dropout`` of :meth:`forward` for one step's ``masks``: per hidden layer
        each member's 0/1 keep mask, or None where no member drops units there."""
        if masks is None:
            return None
        layer_masks = masks

        def drop(h: torch.Tensor, layer: int) -> torch.Tensor:
            keep = layer_masks[layer]
            if keep is None:
                return h
            p = self.dropout[:, layer].reshape(-1, 1, 1)
            h = stacked_training.apply_dropout(h, keep, p, alpha=self.alpha_dropout)
            if self.alpha_dropout and self.unit_masks[layer] is not None:
                h = h * self.unit_masks[layer]  # padded units stay 0
            return h

        return drop

    def state_dict(self, position: int) -> dict[str, torch.Tensor]:
        """The MLPModule state dict of the member at ``position`` (CPU tensors, unpadded)."""
        state: dict[str, torch.Tensor] = {}
        flat = self.flat[position]
        n_real = self.real_layers[position]
        widths = [*self.member_widths[position][:n_real], None]
        layout = self.layouts[position]
        for name, layer, shape, start, stop in self.slots:
            if n_real <= layer < self.depth:
                continue
            real = min(layer, n_real)
            linear, norm = layout[real]
            block = flat[start:stop].view(shape)
            n_out = widths[real] if widths[real] is not None else shape[1]
            if name == "weight":
                n_in = shape[0] if real == 0 else widths[real - 1]
                state[f"{linear}.weight"] = block[:n_in, :n_out].T.contiguous()
            elif name == "bias":
                state[f"{linear}.bias"] = block[0, :n_out]
            elif name == "gamma":
                state[f"{norm}.weight"] = block[0, :n_out]
            else:
                state[f"{norm}.bias"] = block[0, :n_out]
                state[f"{norm}.running_mean"] = self.buffers[2 * layer][position, 0, :n_out]
                state[f"{norm}.running_var"] = self.buffers[2 * layer + 1][position, 0, :n_out]
                tracked = int(self.batches_tracked[position])
                state[f"{norm}.num_batches_tracked"] = torch.tensor(tracked)
        return {key: value.cpu().clone() for key, value in state.items()}


def _member_widths(spec: NetSpec, depth: int) -> list[int]:
    """A member's hidden widths, its last width repeated for padded (identity) layers."""
    hidden = list(spec.hidden)
    return hidden + [hidden[-1]] * (depth - len(hidden)) if hidden else [0] * depth


# ----------------------------------------------------------------------------- optimizer


class _PopulationOptimizer:
    """Every member's own optimizer (SGD, Adam, AdamW or RMSprop) on its row of ``flat``.

    Members with the same update this step (optimizer, learning rate, weight decay,
    momentum, Nesterov, betas) are one call of torch's fused kernel (SGD, Adam, AdamW:
    what the estimator uses; RMSprop, which has none, the formulas of torch's
    multi-tensor implementation) on their rows: one fused update per distinct setting,
    whatever the number of members, on one tensor per run of consecutive members
    (:func:`train_population` puts a configuration's members next to each other). Each
    member has its own state and step count, so members of different optimizers share a
    network. A member without a batch in a step is left out; frozen entries
    (``trainable`` 0) never change.
    """

    def __init__(self, members: Sequence[Member], flat: torch.Tensor) -> None:
        self.kinds = [m.spec.optimizer for m in members]
        self.static = [
            (
                m.spec.optimizer,
                float(m.spec.weight_decay),
                float(m.spec.momentum) if m.spec.optimizer in ("sgd", "rmsprop") else 0.0,
                bool(m.spec.nesterov) and m.spec.optimizer == "sgd",
                tuple(m.betas) if m.spec.optimizer in ("adam", "adamw") else (),
            )
            for m in members
        ]
        kinds = set(self.kinds)
        names = []
        if kinds & {"adam", "adamw"}:
            names += ["exp_avg", "exp_avg_sq"]
        if kinds & {"sgd", "rmsprop"}:
            names += ["momentum"]
        if "rmsprop" in kinds:
            names += ["square_avg"]
        self.state = {name: torch.zeros_like(flat) for name in names}
        self.steps = torch.zeros(len(members), dtype=torch.float32, device=flat.device)
        self.frozen: torch.Tensor | None = None
        self._bind(flat)

    def _bind(self, flat: torch.Tensor) -> None:
        self.flat = flat
        self.counts = self.steps.cpu().numpy().astype(np.int64)
        self._plan_key: bytes | None = None
        self._cached_plan: list[tuple] = []

    def freeze(self, flat: torch.Tensor, trainable: torch.Tensor) -> None:
        """Keep the entries where ``trainable`` is 0 at their values in ``flat`` (when a
        member with frozen entries has weight decay, which would move them)."""
        decays = torch.tensor([key[1] > 0 for key in self.static], device=flat.device)
        if bool(((trainable == 0).any(1) & decays).any()):
            self.frozen = flat.clone()

    def keep(self, positions: list[int], flat: torch.Tensor) -> None:
        """Keep the members at ``positions``; ``flat`` is the network's new tensor."""
        index = torch.tensor(positions, device=flat.device)
        self.kinds = [self.kinds[i] for i in positions]
        self.static = [self.static[i] for i in positions]
        self.state = {name: t.index_select(0, index) for name, t in self.state.items()}
        self.steps = self.steps.index_select(0, index)
        if self.frozen is not None:
            self.frozen = self.frozen.index_select(0, index)
        self._bind(flat)

    def _plan(self, lr: np.ndarray, stepping: np.ndarray) -> list[tuple]:
        """One fused call per distinct update among the members at ``stepping``: the
        settings, and the runs of consecutive members (``(start, stop)`` rows of
        ``flat``) with their parameters, state and step count as one tensor each."""
        groups: dict[tuple, list[int]] = {}
        for k in stepping:
            key = (*self.static[k], float(lr[k]), int(self.counts[k]))
            groups.setdefault(key, []).append(int(k))
        plan = []
        for (*settings, _, _), members in groups.items():
            runs: list[tuple[int, int]] = []
            for k in members:  # ascending
                if runs and runs[-1][1] == k:
                    runs[-1] = (runs[-1][0], k + 1)
                else:
                    runs.append((k, k + 1))
            plan.append(
                (
                    *settings,
                    float(lr[members[0]]),
                    runs,
                    [self.flat[a:b] for a, b in runs],
                    {name: [t[a:b] for a, b in runs] for name, t in self.state.items()},
                    [self.steps[a] for a, _ in runs],
                )
            )
        return plan

    def step(
        self,
        flat: torch.Tensor,
        grad: torch.Tensor,
        lr: np.ndarray,
        stepping: np.ndarray | None,
        trainable: torch.Tensor | None,
    ) -> None:
        """Update every member whose ``stepping`` flag is set (None: all), member k with
        ``lr[k]``."""
        if trainable is not None:
            grad = grad * trainable
        everyone = stepping is None or bool(stepping.all())
        if everyone:
            self.steps.add_(1.0)
            self.counts += 1
        else:
            index = torch.as_tensor(np.flatnonzero(stepping), device=self.steps.device)
            self.steps.index_add_(0, index, torch.ones(len(index), device=self.steps.device))
            self.counts += stepping
        key = lr.tobytes()
        if not everyone or self._plan_key != key:
            plan = self._plan(lr, np.arange(len(lr)) if everyone else np.flatnonzero(stepping))
            # the same until the rates change (an epoch), a member leaves or skips a step
            self._plan_key, self._cached_plan = (key, plan) if everyone else (None, [])
        else:
            plan = self._cached_plan
        for kind, decay, momentum, nesterov, betas, rate, runs, params, state, steps in plan:
            grads = [grad[a:b] for a, b in runs]
            stacked_training.optimizer_update(
                kind,
                params,
                grads,
                state,
                steps,
                lr=rate,
                weight_decay=decay,
                momentum=momentum,
                nesterov=nesterov,
                betas=betas,
            )
        if self.frozen is not None and trainable is not None:
            flat.copy_(torch.where(trainable > 0, flat, self.frozen))


# ----------------------------------------------------------------------------- training


def train_population(
    members: Sequence[Member],
    *,
    device: str = "cpu",
    on_epoch: EpochCallback | None = None,
) -> list[FoldFit | None]:
    """Train every member, the members of each :func:`group_members` group as one network.

    Parameters
    ----------
    members : sequence of Member
        The population: typically q configurations x K folds.
    device : str, default="cpu"
        Torch device.
    on_epoch : callable or None, default=None
        Called after every epoch of a group as ``on_epoch(epoch, members, train_losses,
        valid_acc)``: ``members`` are the indices (into ``members``) still training,
        ``train_losses`` and ``valid_acc`` float64 arrays in that order (``valid_acc``
        NaN without early stopping). It returns the indices to stop now (pruned,
        diverged, out of time), or None; a stopped member's result is None.

    Returns
    -------
    list of FoldFit or None
        One per member, in order.

    Raises
    ------
    ValueError
        If a member's data does not fit its spec, or a spec has an unknown choice.
    """
    fits: list[FoldFit | None] = [None] * len(members)
    for group in group_members([m.spec for m in members], device):
        for index in group:
            _check_member(members[index])
        group = sorted(group, key=lambda i: _stack_order(members[i]))
        results = _train_group([members[i] for i in group], group, device, on_epoch)
        for index, fit in zip(group, results, strict=True):
            fits[index] = fit
    return fits


def _stack_order(member: Member) -> tuple:
    """Where a member goes in its network's stack: the members that drop units first,
    deeper ones first, so that at every layer the ones that drop there are the first
    (:func:`_epoch_masks`); then the members with the same optimizer settings next to
    each other, so that one fused update covers them (:class:`_PopulationOptimizer`)."""
    spec = member.spec
    return (
        spec.dropout == 0,
        -len(spec.hidden),
        spec.optimizer,
        float(spec.lr),
        str(spec.lr_schedule),
        float(spec.weight_decay),
        float(spec.momentum),
        bool(spec.nesterov),
        tuple(member.betas),
    )


def _check_member(member: Member) -> None:
    spec, data = member.spec, member.data
    if spec.optimizer not in stacked_training.OPTIMIZERS or spec.activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown optimizer or activation: {spec.optimizer!r}, {spec.activation!r}."
        )
    stacked_training.check_model_data(data, spec, "member")


def _train_group(
    members: Sequence[Member],
    ids: list[int],
    device: str,
    on_epoch: EpochCallback | None,
) -> list[FoldFit | None]:
    first = members[0].spec
    M, B = len(members), first.batch_size
    state = [ModelState(m.data, m.spec) for m in members]
    net = _PopulationNet(members, device)
    optimizer = _PopulationOptimizer(members, net.flat)
    if net.trainable is not None:
        optimizer.freeze(net.flat, net.trainable)
    datas = [m.data for m in members]
    rows = stacked_training.TrainingRows(datas, state, first.n_features, device)
    dropout = None
    if any(m.spec.dropout > 0 for m in members):
        # one generator per network, seeded from its members' seeds
        seed = np.random.SeedSequence([int(m.data.seed) for m in members]).generate_state(1)[0]
        dropout = torch.Generator(device=device).manual_seed(int(seed))
    focal = first.loss == "focal"
    gammas = torch.tensor([float(m.spec.focal_gamma) for m in members], device=device)
    validation = stacked_training.Validation(datas, state, device) if first.early_stopping else None
    alive = list(range(M))
    fits: list[FoldFit | None] = [None] * M
    epoch = 0
    while alive:
        epoch += 1
        live = [state[i] for i in alive]
        gamma = gammas[torch.tensor(alive, device=device)].reshape(-1, 1) if focal else None
        batches = rows.epoch(alive, live, B)
        lrs = np.array([s.schedule.lr for s in live], dtype=np.float64)
        losses = np.zeros((0, len(alive)))
        if batches.n_steps:
            losses = _run_epoch(net, optimizer, live, batches, lrs, gamma, dropout)
        train_loss = batches.train_loss(losses)
        valid_acc = np.full(len(alive), np.nan)
        finished: list[int] = []
        if validation is not None:
            valid_loss, valid_acc = validation.score(net, gamma)
        for k, member in enumerate(live):
            valid = (valid_loss[k], valid_acc[k]) if validation is not None else (None, None)
            stop = member.end_epoch(net, k, epoch, train_loss[k], lrs[k], *valid)
            if stop or epoch == member.spec.max_epochs:
                finished.append(k)
        stopped: set[int] = set()
        if on_epoch is not None:
            chosen = on_epoch(epoch, [ids[i] for i in alive], train_loss, valid_acc)
            wanted = set(chosen or ())
            stopped = {k for k in range(len(alive)) if ids[alive[k]] in wanted}
        for k in finished:
            if k not in stopped:
                fits[alive[k]] = state[alive[k]].finish(net, k)
        leaving = set(finished) | stopped
        if leaving:
            keep = [k for k in range(len(alive)) if k not in leaving]
            alive = [alive[k] for k in keep]
            if alive:
                net.keep(keep)
                optimizer.keep(keep, net.flat)
                if validation is not None:
                    validation.keep(keep)
    return fits


def _run_epoch(
    net: _PopulationNet,
    optimizer: _PopulationOptimizer,
    members: Sequence[ModelState],
    batches: stacked_training.EpochRows,
    lrs: np.ndarray,
    gamma: torch.Tensor | None,
    dropout: torch.Generator | None,
) -> np.ndarray:
    """One epoch of batch steps on ``batches``; the batch losses, shape (n_steps, M).

    The common network (``net.manual``) steps through :meth:`_PopulationNet.loss_and_grad`,
    the others through autograd.
    """
    X_epoch, y_epoch, real = batches.X, batches.y, batches.real
    n_steps, M, B = y_epoch.shape
    n_batches = np.array([m.n_batches for m in members])
    n_used = np.array([m.n_used for m in members])
    w_epoch = stacked_training.batch_weights(batches.weight)
    manual = net.manual and gamma is None
    if manual:  # the weighted one-hot labels (n_steps, M, n_classes, B), for the epoch
        n_classes = net.params[-1].shape[-1]
        weight = w_epoch.unsqueeze(2)
        target = torch.zeros(n_steps, M, n_classes, B, device=y_epoch.device)
        target.scatter_(2, y_epoch.unsqueeze(2), weight)
    masks = None if dropout is None else _epoch_masks(net, dropout, n_steps, B, scaled=manual)
    step_losses = []
    everyone = n_batches.min(initial=n_steps)  # the steps where every member has a batch
    for step in range(n_steps):
        stepping = None if step < everyone else n_batches > step
        step_masks = None if masks is None else next(masks)
        if manual:
            loss, grad = net.loss_and_grad(X_epoch[step], target[step], weight[step], step_masks)
        else:
            full = bool((n_used >= (step + 1) * B).all())
            rows = None if full else real[step].unsqueeze(-1)
            stepping_t = None
            if stepping is not None:
                stepping_t = torch.as_tensor(stepping, device=real.device).reshape(M, 1, 1)
            drop = net.layer_dropout(step_masks)
            logits = net.forward(
                X_epoch[step], train=True, rows=rows, stepping=stepping_t, dropout=drop
            )
            loss = (
                stacked_training.per_row_loss(logits, y_epoch[step], gamma) * w_epoch[step]
            ).sum(-1)
            grad = net.flat_grad(loss.sum())
            loss = loss.detach()
        with torch.no_grad():
            optimizer.step(net.flat, grad, lrs, stepping, net.trainable)
        if net.batch_norm:
            net.batches_tracked += 1 if stepping is None else stepping
        step_losses.append(loss)
    return torch.stack(step_losses).double().cpu().numpy()


_MASK_CHUNK = 1 << 18
"""Dropout mask entries drawn at once (4 MiB of random bits): an epoch's masks come in
chunks of steps, so that a long epoch of a large population does not hold them all."""


def _epoch_masks(
    net: _PopulationNet, generator: torch.Generator, n_steps: int, batch: int, *, scaled: bool
) -> Iterator[list[torch.Tensor | None]]:
    """Dropout masks for each step of an epoch: per hidden layer a tensor, or None.

    Member k keeps a unit with probability 1 - its dropout (to 1/65536: the draws are
    16-bit integers, four from each 64-bit draw of ``generator``, twice as fast as
    ``torch.rand``); members without dropout at a layer keep every unit. The masks of a
    chunk of steps are drawn at once for every member, so a member's masks depend on its
    batch-mates.

    With ``scaled`` (the hand-written backward) a layer's masks are 0 or 1 / (1 - p)
    (inverted dropout, ready to multiply) and cover only the first members, when the
    members that drop there come first (:func:`train_population` orders them so):
    ``(n, B, width)`` for the first n members. Otherwise they are 0/1, ``(M, B, width)``.
    """
    M = net.flat.shape[0]
    device = net.flat.device
    p = net.dropout.cpu()
    droppers = [torch.nonzero(p[:, layer] > 0).flatten() for layer in range(net.depth)]
    chunk = max(1, _MASK_CHUNK // max(1, M * batch * sum(net.widths)))
    for start in range(0, n_steps, chunk):
        size = min(chunk, n_steps - start)
        layers: list[torch.Tensor | None] = []
        for layer, (rows, width) in enumerate(zip(droppers, net.widths, strict=True)):
            if not len(rows):
                layers.append(None)
                continue
            keep = 1.0 - p[rows, layer]
            # keep a unit where a uniform int16 is below -32768 + 65536 * keep
            below = torch.clamp(torch.round(keep * 65536.0) - 32768.0, max=32767.0)
            below = below.to(device=device, dtype=torch.int16).reshape(1, -1, 1, 1)
            shape = (size, len(rows), batch, width)
            n = math.prod(shape)
            bits = torch.empty(-(-n // 4), dtype=torch.int64, device=device)
            bits.random_(-(2**63), None, generator=generator)
            # 0/1 written as float at once: several times faster than bool, then float
            values = torch.lt(
                bits.view(torch.int16)[:n].reshape(shape),
                below,
                out=torch.empty(shape, device=device),
            )
            if scaled:
                values.mul_((1.0 / keep).to(device).reshape(1, -1, 1, 1))
                if bool((rows == torch.arange(len(rows))).all()):  # the first members
                    layers.append(values)
                    continue
            full = torch.ones((size, M, batch, width), device=device)
            layers.append(full.index_copy_(1, rows.to(device), values))
        for step in range(size):
            yield [None if t is None else t[step] for t in layers]


# ----------------------------------------------------------------------------- prediction


def predict_proba_population(
    fits: Sequence[FoldFit],
    specs: Sequence[NetSpec],
    X_list: Sequence[np.ndarray],
    device: str = "cpu",
) -> list[np.ndarray]:
    """Class probabilities of each member's model on its rows, grouped into stacked passes.

    :func:`~harness.model.fold_trainer.predict_proba_folds` with one spec per member.

    Parameters
    ----------
    fits, specs : sequence of FoldFit, sequence of NetSpec
        The trained members (:func:`train_population`) and their settings.
    X_list : sequence of ndarray
        The rows each member predicts, an ``(n_i, n_features)`` array per member.
    device : str, default="cpu"
        Torch device to compute on.

    Returns
    -------
    list of ndarray
        Float64 softmax probabilities, an ``(n_i, n_classes)`` array per member.
    """
    if not (len(fits) == len(specs) == len(X_list)):
        raise ValueError(f"{len(fits)} fits, {len(specs)} specs and {len(X_list)} row arrays.")
    out: list[np.ndarray] = [np.empty(0)] * len(fits)
    for group in group_members(specs, device):
        members = [
            Member(FoldData(None, None, None, None, fits[i].state, 0), specs[i]) for i in group
        ]
        net = _PopulationNet(members, device)
        rows = [X_list[i] for i in group]
        probas = stacked_training.predict_proba_stacked(
            net, rows, specs[group[0]].n_features, device
        )
        for i, proba in zip(group, probas, strict=True):
            out[i] = proba
    return out
