"""Errors the harness reports to users as one clear line, and how a message lists values."""

from __future__ import annotations

from collections.abc import Iterable

LISTED = 10
"""Most values a message lists before it says how many more there are."""


def listed(items: Iterable[object], limit: int = LISTED) -> str:
    """Join ``items`` for a message, showing at most ``limit``: ``"a, b, c and 4,520 more"``.

    Every message that lists values (labels, columns, names) goes through it, so a
    file with thousands of distinct labels still gets a one-line message.

    Parameters
    ----------
    items : iterable
        The values, as they should read (``map(repr, values)`` to quote them).
    limit : int, default=10
        The most values shown.

    Examples
    --------
    >>> listed(["a", "b", "c"])
    'a, b, c'
    >>> listed(range(4523), limit=3)
    '0, 1, 2 and 4,520 more'
    """
    values = [str(item) for item in items]
    if len(values) <= limit + 1:  # "and 1 more" would be no shorter
        return ", ".join(values)
    return f"{', '.join(values[:limit])} and {len(values) - limit:,} more"


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
