"""The checks of a study's budget and split that ``StudySpec`` and comparison files share."""

from __future__ import annotations

from harness.errors import ConfigError

BUDGET_NAMES = ("trials", "folds", "test_size", "timeout", "trial_timeout", "workers")
"""The budget's parts as :func:`check_budget` names them: ``harness run``'s options too."""


def check_budget(
    *,
    trials: int,
    folds: int,
    test_size: float,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    workers: int = 1,
    flag: str = "--",
    where: str = "",
) -> None:
    """Raise :class:`ConfigError` unless the numbers define a study that can run.

    Parameters
    ----------
    trials, folds, test_size, timeout, trial_timeout, workers
        The budget in trials (>= 1), the CV folds (>= 2), the held-out fraction
        (in (0, 1)), the seconds per run and per trial (positive or None) and
        the worker processes (>= 1).
    flag : str, default="--"
        Written before each name in the message: ``"--"`` for command-line
        options, ``""`` for keys of a file.
    where : str, default=""
        Written before the message, e.g. the file's path and ``": "``.
    """

    def fail(name: str, problem: str, value: object) -> ConfigError:
        shown = f"{flag}{name.replace('_', '-')}" if flag else name
        return ConfigError(f"{where}{shown} {problem}, got {value}")

    for name, value, least in (("trials", trials, 1), ("folds", folds, 2), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise fail(name, f"must be at least {least}", value)
    if not 0 < test_size < 1:
        raise fail("test_size", "must be between 0 and 1", test_size)
    for name, value in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        if value is not None and value <= 0:
            raise fail(name, "must be positive", value)


def check_format_version(found: object, supported: int, where: str) -> int:
    """Return a stored format's version, or raise :class:`ConfigError` for one this cannot read.

    Every file format the harness writes (run settings, model cards,
    comparison files) carries a version; a file without one is version 1,
    written before versions were stored.

    Parameters
    ----------
    found : object
        The stored version (None when absent).
    supported : int
        The newest version this harness reads (and writes).
    where : str
        Names the file or record in the message, e.g. ``"model card of m.joblib"``.

    Raises
    ------
    ConfigError
        If the version is not a whole number from 1, or newer than ``supported``.
    """
    version = 1 if found is None else found
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError(
            f"{where}: format version must be a whole number from 1, got {found!r}; "
            "write it again with the harness"
        )
    if version > supported:
        raise ConfigError(
            f"{where}: format version {version} is newer than this harness reads (up to "
            f"{supported}); upgrade the harness (pip install -U) to read it"
        )
    return version
