"""Checks that turn a bad data file into one clear :class:`~harness.errors.DataError`.

Every check names what is wrong and how to fix it, on one line, so the command
line can print it without a traceback. The check the evaluation code runs once
the number of folds is known is :func:`harness.data.splits.check_class_counts`.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import ConfigError, DataError, choose, listed

IMPUTE_STRATEGIES = ("median", "most_frequent")
"""Values of ``impute``: how each training fold fills missing values (see preprocessing)."""

MAX_CATEGORIES = 20
"""A non-numeric column with at most this many distinct values is one-hot encoded."""

SEPARATORS = ",;\t|"
"""Separators the sniffer chooses from when none is given."""

_SNIFF_BYTES = 64 * 1024


def _describe_sep(sep: str) -> str:
    return "'\\t' (tab)" if sep == "\t" else repr(sep)


def read_header(path: Path, sep: str | None, *, one_column: bool = False) -> tuple[list[str], str]:
    """Read a CSV file's header row and settle its separator.

    Parameters
    ----------
    path : Path
        An existing file.
    sep : str or None
        The separator; ``None`` detects one of :data:`SEPARATORS` with
        :class:`csv.Sniffer` (``","`` when it cannot tell).
    one_column : bool, default=False
        Accept a file of one column (rows for a model of one feature); otherwise
        one column most likely means a wrong separator, and is refused.

    Returns
    -------
    header : list of str
        The column names as written (duplicates kept, unlike ``pandas.read_csv``).
    sep : str
        The separator used.

    Raises
    ------
    ConfigError
        If ``sep`` is not one character.
    DataError
        If the file is empty, cannot be decoded as UTF-8, has no data rows, has
        only one column (likely the wrong separator) or repeats a column name.
    """
    if sep is not None and len(sep) != 1:
        raise ConfigError(f"the separator must be one character, got {sep!r} (--sep)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(_SNIFF_BYTES)
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path} is not UTF-8 text ({error.reason}); save it as UTF-8 CSV"
        ) from None
    lines = [line for line in sample.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path} is empty; expected a header row and data rows")
    detected = sep is None
    if sep is None:
        try:
            sep = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=SEPARATORS).delimiter
        except csv.Error:
            sep = ","
    header = next(csv.reader([lines[0]], delimiter=sep))
    if len(lines) == 1:
        raise DataError(f"{path} has a header row but no data rows")
    if len(header) == 1 and not one_column:
        how = "detected" if detected else "given"
        raise DataError(
            f"{path}: only one column ({header[0][:40]!r}) found with separator "
            f"{_describe_sep(sep)} ({how}); pass the file's separator with --sep, e.g. --sep ';'"
        )
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise DataError(
            f"{path}: duplicate column names {listed(map(repr, repeated))}; rename them"
        )
    return header, sep


def check_target_column(columns: Sequence[str], target: str, source: str) -> None:
    """Raise :class:`DataError` unless ``target`` is one of ``columns``."""
    if target not in columns:
        raise DataError(
            f"no target column {target!r} in {source}; its columns are: {listed(columns)} "
            "(choose one with --target)"
        )


def infer_categorical(
    X: pd.DataFrame, categorical: Sequence[str] | None, source: str
) -> tuple[str, ...]:
    """Decide which feature columns are one-hot encoded.

    Parameters
    ----------
    X : DataFrame
        The feature columns.
    categorical : sequence of str or None
        The categorical columns, complete: every other column must be numeric.
        ``None`` infers them: a non-numeric column with at most
        :data:`~harness.data.datasets.MAX_CATEGORIES` distinct values is categorical.
    source : str
        Where the data came from, for messages.

    Returns
    -------
    tuple of str
        The categorical columns, in column order.

    Raises
    ------
    DataError
        If a named column does not exist, or a non-numeric column cannot be encoded.
    """
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if categorical is not None:
        unknown = [c for c in categorical if c not in X.columns]
        if unknown:
            raise DataError(
                f"categorical column(s) {listed(map(repr, unknown))} not among the features of "
                f"{source}: {listed(X.columns)}"
            )
        unlisted = [c for c in non_numeric if c not in categorical]
        if unlisted:
            raise DataError(
                f"column(s) {listed(map(repr, unlisted))} in {source} are not numeric; "
                "add them to --categorical or drop them"
            )
        return tuple(c for c in X.columns if c in categorical)
    too_many = {c: X[c].nunique() for c in non_numeric if X[c].nunique() > MAX_CATEGORIES}
    if too_many:
        described = listed(f"{c!r} ({n} distinct values)" for c, n in too_many.items())
        raise DataError(
            f"non-numeric column(s) {described} in {source} have more than {MAX_CATEGORIES} "
            "values to one-hot encode; drop or convert them to numbers, or name them with "
            "--categorical to encode them anyway"
        )
    return tuple(non_numeric)


def check_impute(impute: str | None) -> None:
    """Raise :class:`ConfigError` unless ``impute`` is None or one of ``IMPUTE_STRATEGIES``."""
    if impute is not None:
        choose(impute, IMPUTE_STRATEGIES, "impute")


def check_finite(X: pd.DataFrame, impute: str | None, source: str) -> pd.DataFrame:
    """Reject missing and infinite feature values, or mark them for imputation.

    Parameters
    ----------
    X : DataFrame
        The feature columns.
    impute : {"median", "most_frequent"} or None
        ``None`` makes any NaN or infinite value an error. Otherwise infinite
        values become NaN, which the preprocessor fills inside each training
        fold (never from the whole data set).
    source : str
        Where the data came from, for messages.

    Returns
    -------
    DataFrame
        ``X``, with infinite values replaced by NaN when ``impute`` is set.

    Raises
    ------
    ConfigError
        If ``impute`` is unknown.
    DataError
        If values are missing or infinite and ``impute`` is None.
    """
    check_impute(impute)
    numeric = X.select_dtypes("number")
    infinite = np.isinf(numeric).sum()
    if impute is not None:
        return X.replace([np.inf, -np.inf], np.nan) if infinite.any() else X
    missing = X.isna().sum()
    problems = [f"{c} ({missing[c]} NaN)" for c in X.columns if missing[c]]
    problems += [f"{c} ({infinite[c]} inf)" for c in numeric.columns if infinite[c]]
    if problems:
        raise DataError(
            f"missing or infinite values in {source}: {listed(problems)}; fix the file, or pass "
            "--impute median or --impute most_frequent to fill them inside each training fold"
        )
    return X


def check_target(y: pd.Series, source: str) -> None:
    """Raise :class:`DataError` if the target has missing values or a single class."""
    missing = int(y.isna().sum())
    if missing:
        raise DataError(
            f"target {y.name!r} in {source} has {missing} missing value(s); drop those rows"
        )
    classes = y.unique()
    if len(classes) < 2:
        raise DataError(
            f"target {y.name!r} in {source} has a single class ({classes[0]!r}); "
            "a classifier needs at least two"
        )


MIN_SERIES_ROWS = 20
"""Fewest rows a time series needs: enough for a look-back window, folds and a test period."""


def check_time_series(
    frame: pd.DataFrame,
    target: str,
    time_column: str,
    source: str,
    min_rows: int = MIN_SERIES_ROWS,
) -> tuple[pd.DataFrame, pd.Series]:
    """Check a time series table and return it sorted by time, with its parsed times.

    Parameters
    ----------
    frame : DataFrame
        The time column, the target column and any extra feature columns.
    target, time_column : str
        The column to forecast and the column that orders the rows.
    source : str
        Where the data came from, for messages.
    min_rows : int, default=MIN_SERIES_ROWS
        Fewest rows accepted (a forecast from a fitted model needs only its window).

    Returns
    -------
    frame : DataFrame
        The rows in time order, the time column dropped, index 0..n-1.
    times : Series
        The parsed times in that order: numbers (a year, a step) stay numbers,
        anything else is parsed as dates.

    Raises
    ------
    DataError
        If the time column is missing, a time cannot be parsed or is repeated,
        the target is missing, not numeric or NaN, or there are fewer than
        ``min_rows`` rows.
    """
    if time_column not in frame.columns:
        raise DataError(
            f"no time column {time_column!r} in {source}; its columns are: {listed(frame.columns)} "
            "(choose one with --time-column)"
        )
    if time_column == target:
        raise DataError(f"{source}: the time column and the target are both {target!r}; pick two")
    check_target_column(list(frame.columns), target, source)
    raw = frame[time_column]
    if pd.api.types.is_numeric_dtype(raw):
        times = raw
        bad = raw.isna()
    else:
        times = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = times.isna()
    if bad.any():
        first = raw[bad].iloc[0]
        raise DataError(
            f"time column {time_column!r} in {source}: {int(bad.sum())} value(s) are not times "
            f"(first: {first!r}); write numbers or dates such as 2001-12-31"
        )
    repeated = times[times.duplicated()]
    if not repeated.empty:
        raise DataError(
            f"time column {time_column!r} in {source} repeats {len(repeated)} time(s) "
            f"(first: {repeated.iloc[0]}); keep one row per time"
        )
    y = frame[target]
    if not pd.api.types.is_numeric_dtype(y):
        raise DataError(f"target {target!r} in {source} is not numeric; forecast a number column")
    missing = int(y.isna().sum())
    if missing:
        raise DataError(
            f"target {target!r} in {source} has {missing} missing value(s); fill or drop "
            "those rows (a forecast needs every step)"
        )
    if len(frame) < min_rows:
        raise DataError(f"{source} has {len(frame)} rows; a time series needs at least {min_rows}")
    order = np.argsort(times.to_numpy(), kind="stable")
    ordered = frame.iloc[order].drop(columns=time_column).reset_index(drop=True)
    return ordered, times.iloc[order].reset_index(drop=True).rename(time_column)
