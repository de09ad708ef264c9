"""Errors the harness reports to users as one clear line, and how a message lists values."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar, overload

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


_T = TypeVar("_T")


@overload
def choose(
    name: object,
    choices: Mapping[str, _T],
    what: str,
    *,
    error: type[HarnessError] = ...,
    fix: str = ...,
) -> _T: ...
@overload
def choose(
    name: object,
    choices: Collection[str],
    what: str,
    *,
    error: type[HarnessError] = ...,
    fix: str = ...,
) -> str: ...
def choose(
    name: object,
    choices: Mapping[str, Any] | Collection[str],
    what: str,
    *,
    error: type[HarnessError] | None = None,
    fix: str = "",
) -> Any:
    """Look ``name`` up among ``choices``, or raise the one message for a wrong name.

    Every registry (strategies, pruners, datasets, families, metrics) and every
    option with a fixed set of values answers a wrong name with the same line:
    ``unknown <what> <name>; choose one of: <every choice>``.

    Parameters
    ----------
    name : object
        What was given; a value of any type (a number, a list from a file) is
        reported, not looked up.
    choices : mapping or collection of str
        A registry by name, or the allowed values, in the order to list them.
    what : str
        What a choice is (``"strategy"``, ``"pruning level"``).
    error : HarnessError subclass, default=ConfigError
        The exception raised.
    fix : str, default=""
        Appended to the message: another way out (``", or load a CSV file ..."``).

    Returns
    -------
    object
        ``choices[name]`` for a mapping, else ``name``.

    Examples
    --------
    >>> choose("b", {"a": 1, "b": 2}, "letter")
    2
    >>> choose("z", ("a", "b"), "letter")
    Traceback (most recent call last):
    ...
    harness.errors.ConfigError: unknown letter 'z'; choose one of: a, b
    """
    if not isinstance(name, str) or name not in choices:
        raise (error or ConfigError)(
            f"unknown {what} {name!r}; choose one of: {', '.join(choices)}{fix}"
        )
    return choices[name] if isinstance(choices, Mapping) else name
