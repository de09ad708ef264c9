"""A skorch callback that stops a trial that diverges or runs past its time limit."""

from __future__ import annotations

import math
import time

from skorch.callbacks import Callback

from harness.errors import HarnessError

#: A training loss above this is treated as exploding.
EXPLODING_LOSS = 1e6


class TrialStopped(HarnessError):
    """A trial was stopped by a guard; its message is the stored failure reason."""


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
        epoch = len(net.history)
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss) or loss > EXPLODING_LOSS:
            raise TrialStopped(f"training loss diverged ({loss:.3g}) at epoch {epoch}")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TrialStopped(f"trial time limit exceeded at epoch {epoch}")
