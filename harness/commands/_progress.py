"""A one-line progress display with the best score so far."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import optuna
from optuna.trial import TrialState


class Progress:
    """Print one status line per finished trial (rewritten in place on a terminal).

    Parameters
    ----------
    total : int
        The study's trial budget.
    metric : str
        Name of the objective, for the display.
    quiet : bool, default=False
        Print nothing.
    label : str, default=""
        Printed before the counts, e.g. which study of a comparison this is.
    stream : text stream, default=sys.stderr
    """

    def __init__(
        self,
        total: int,
        metric: str,
        quiet: bool = False,
        stream: TextIO | None = None,
        label: str = "",
    ) -> None:
        self.label = f"{label} " if label else ""
        self.total = total
        self.metric = metric
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.interactive = self.stream.isatty()

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Show the study's state after ``trial`` finished."""
        if self.quiet:
            return
        trials = study.get_trials(deepcopy=False)
        done = sum(t.state.is_finished() for t in trials)
        failed = sum(t.state == TrialState.FAIL for t in trials)
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = f"{study.best_value:.4f}" if complete else "-"
        last = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
        width = len(str(self.total))
        line = (
            f"{self.label}[{done:>{width}}/{self.total}] best {self.metric} {best} | "
            f"trial {trial.number}: {last} | failed {failed}, pruned {pruned} | "
            f"{time.monotonic() - self.started:.0f} s"
        )
        end = "" if self.interactive else "\n"
        prefix = "\r\033[K" if self.interactive else ""
        print(prefix + line, end=end, file=self.stream, flush=True)

    def close(self) -> None:
        """End the in-place line."""
        if self.interactive and not self.quiet:
            print(file=self.stream)
