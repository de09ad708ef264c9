"""A one-line progress display with the best score so far."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import optuna
from optuna.trial import TrialState

from harness.study.objectives import best_trial


class StatusLine:
    """A status line: rewritten in place on a terminal, one line per update elsewhere.

    Redirected to a file or a pipe, ``\r`` rewrites would leave one endless line;
    there every update is a line of its own.

    Parameters
    ----------
    stream : text stream, default=sys.stderr
    quiet : bool, default=False
        Print nothing.
    """

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interactive = self.stream.isatty()
        self.shown = False

    def show(self, line: str) -> None:
        """Replace the line (terminal) or print it as the next line (file, pipe)."""
        if self.quiet:
            return
        if self.interactive:
            print(f"\r\033[K{line}", end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)
        self.shown = True

    def close(self) -> None:
        """End an in-place line that was shown."""
        if self.interactive and self.shown and not self.quiet:
            print(file=self.stream)
        self.shown = False


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
        self.line = StatusLine(stream, quiet)
        self.started = time.monotonic()

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Show the study's state after ``trial`` finished."""
        if self.quiet:
            return
        trials = study.get_trials(deepcopy=False)
        done = sum(t.state.is_finished() for t in trials)
        failed = sum(t.state == TrialState.FAIL for t in trials)
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = last = None
        if len(study.directions) > 1:  # the front's best metric, and the front's size
            if complete:
                best = f"{best_trial(study).values[0]:.4f}, front {len(study.best_trials)}"
            if trial.values:
                last = " / ".join(f"{v:.4g}" for v in trial.values)
        else:
            best = f"{study.best_value:.4f}" if complete else None
            last = f"{trial.value:.4f}" if trial.value is not None else None
        best = best or "-"
        last = last or trial.state.name.lower()
        width = len(str(self.total))
        line = (
            f"{self.label}[{done:>{width}}/{self.total}] best {self.metric} {best} | "
            f"trial {trial.number}: {last} | failed {failed}, pruned {pruned} | "
            f"{time.monotonic() - self.started:.0f} s"
        )
        self.line.show(line)

    def close(self) -> None:
        """End the in-place line."""
        self.line.close()
