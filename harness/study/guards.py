"""skorch callbacks that stop a trial: divergence, a time limit, epoch-level pruning."""

from __future__ import annotations

import math
import time

import numpy as np
from skorch.callbacks import Callback

#: A training loss above this is treated as exploding.
EXPLODING_LOSS = 1e6


class TrialStopped(RuntimeError):
    """A trial was stopped by a guard; its message is the stored failure reason.

    Not a :class:`~harness.errors.HarnessError`: nothing the user gave is wrong, the
    trial's training diverged or ran out of time, and the study records it and goes on.
    """


def check_progress(losses, epoch: int, deadline: float | None) -> None:
    """Raise :class:`TrialStopped` when a training loss diverged or the deadline passed.

    Parameters
    ----------
    losses : float or array of float
        This epoch's training loss of each model being trained (one per fold).
    epoch : int
        The epoch, from 1.
    deadline : float or None
        A :func:`time.monotonic` value, or None.
    """
    values = np.atleast_1d(np.asarray(losses, dtype=float))
    for index, loss in enumerate(values):
        if not math.isfinite(loss) or loss > EXPLODING_LOSS:
            where = f" in fold {index + 1}" if len(values) > 1 else ""
            raise TrialStopped(f"training loss diverged ({loss:.3g}) at epoch {epoch}{where}")
    if deadline is not None and time.monotonic() > deadline:
        raise TrialStopped(f"trial time limit exceeded at epoch {epoch}")


class TrialGuard(Callback):
    """Stop training when the loss is NaN or explodes, or when a deadline passes.

    Parameters
    ----------
    deadline : float or None
        A :func:`time.monotonic` value after which training stops, or None.
    """

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline

    def on_epoch_end(self, net, **kwargs) -> None:
        check_progress(net.history[-1, "train_loss"], len(net.history), self.deadline)


class EpochPruning(Callback):
    """Report each epoch's validation accuracy to an Optuna trial and stop when it is pruned.

    The score comes from the estimator's early-stopping split of real training
    rows, never from the outer validation fold.

    Parameters
    ----------
    trial : optuna.Trial
        The trial to report to (step = epoch index).
    monitor : str, default="valid_acc"
        The history column reported.
    """

    def __init__(self, trial, monitor: str = "valid_acc") -> None:
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, net, **kwargs) -> None:
        import optuna

        epoch = len(net.history)
        self.trial.report(float(net.history[-1, self.monitor]), epoch - 1)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} of the first fold")
