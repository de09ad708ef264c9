"""Errors the harness reports to users as one clear line."""

from __future__ import annotations


class HarnessError(Exception):
    """A problem with the user's input that the user can fix.

    The command line prints the message on one line (no traceback) and exits
    with status 2. The message names the problem and how to fix it.
    """


class DataError(HarnessError, ValueError):
    """A dataset cannot be found, read or used as given."""


class SpaceError(HarnessError, ValueError):
    """A search-space file is malformed or names something unknown."""


class StrategyError(HarnessError, ValueError):
    """An unknown strategy, or a strategy that cannot search the given space."""


class ConfigError(HarnessError, ValueError):
    """An invalid option or study/comparison definition."""


class WorkerError(RuntimeError):
    """A worker process of a study crashed: not the user's input, so not a :class:`HarnessError`.

    The command line prints it on one line and exits with status 1; the
    finished trials are stored, so running the command again resumes.
    """
