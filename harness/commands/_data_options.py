"""Command-line options that choose a dataset, shared by every command that loads one."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from harness.data.datasets import DATA_DIR_ENV, DATASETS, DEFAULT_DATASET, SYNTHETIC
from harness.data.validation import IMPUTE_STRATEGIES, MAX_CATEGORIES
from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.data.datasets import Dataset


def _weights(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split("/"))


SYNTHETIC_KEYS: dict[str, tuple[str, Any]] = {
    "rows": ("n_samples", int),
    "features": ("n_features", int),
    "classes": ("n_classes", int),
    "informative": ("n_informative", int),
    "weights": ("weights", _weights),
    "separation": ("class_sep", float),
    "seed": ("random_state", int),
}
"""``--synthetic`` keys: the :func:`~harness.data.datasets.make_synthetic` argument, its parser."""

_SEPARATOR_NAMES = {"\\t": "\t", "tab": "\t"}
_CSV_OPTIONS = ("target", "sep", "categorical", "impute", "time_column")


def parse_synthetic(text: str) -> dict[str, Any]:
    """Turn ``"rows=5000,classes=3,weights=0.8/0.15/0.05"`` into ``make_synthetic`` arguments.

    Raises
    ------
    ConfigError
        For an unknown key, a missing ``=`` or a value of the wrong type.
    """
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        if key not in SYNTHETIC_KEYS or not value:
            raise ConfigError(
                f"--synthetic: cannot use {item!r}; write KEY=VALUE pairs separated by commas, "
                f"with keys {', '.join(SYNTHETIC_KEYS)}"
            )
        argument, parse = SYNTHETIC_KEYS[key]
        try:
            options[argument] = parse(value)
        except ValueError:
            raise ConfigError(f"--synthetic: {key}={value!r} is not a valid value") from None
    return options


def add_data_arguments(parser: argparse.ArgumentParser, *, name_positional: bool = False) -> None:
    """Add the options that choose a dataset.

    Parameters
    ----------
    parser : ArgumentParser
        The command's parser.
    name_positional : bool
        Take the registered dataset's name as an optional positional ``NAME``
        (default None: nothing chosen) instead of ``--dataset`` (default
        :data:`~harness.data.datasets.DEFAULT_DATASET`).
    """
    group = parser.add_argument_group(
        "data",
        "Choose a registered dataset, a CSV file (--data) or generated data (--synthetic). "
        f"Files of registered datasets are looked up in --data-dir, else ${DATA_DIR_ENV}, "
        "else ./data (see data/README.md).",
    )
    choice = group.add_mutually_exclusive_group()
    names = ", ".join(DATASETS)
    if name_positional:
        choice.add_argument("dataset", nargs="?", metavar="NAME", help=f"one of: {names}")
    else:
        choice.add_argument(
            "--dataset", default=DEFAULT_DATASET, metavar="NAME", help=f"one of: {names}"
        )
    choice.add_argument("--data", metavar="PATH", help="a CSV file; needs --target")
    choice.add_argument(
        "--synthetic",
        nargs="?",
        const="",
        metavar="SPEC",
        help="generated data, optionally configured with KEY=VALUE pairs separated by commas: "
        "rows (1000), features (20), classes (2), informative (half the features), "
        "weights (relative class sizes separated by '/', e.g. 0.8/0.15/0.05; balanced), "
        "separation (1.0; smaller is harder), seed (0)",
    )
    group.add_argument(
        "--target",
        metavar="COLUMN",
        help="with --data: the class label column (with --time-column: the value to forecast)",
    )
    group.add_argument(
        "--time-column",
        metavar="COLUMN",
        help="with --data: the file is a time series ordered by this column (numbers or "
        "dates); the target is forecast one step ahead from the past rows, with forward-chaining "
        "folds and the last rows held out",
    )
    group.add_argument(
        "--sep", help="with --data: the column separator, e.g. ';' or tab; detected when not given"
    )
    group.add_argument(
        "--categorical",
        metavar="A,B",
        help="with --data: every column to one-hot encode, separated by commas ('' for none); "
        f"when not given, non-numeric columns with at most {MAX_CATEGORIES} distinct values",
    )
    group.add_argument(
        "--impute",
        choices=IMPUTE_STRATEGIES,
        help="with --data: fill missing or infinite feature values inside each training fold "
        "(categorical columns use the most frequent value); when not given, they are an error",
    )
    group.add_argument(
        "--class-names",
        metavar="LABEL=NAME,...",
        help="readable class names, e.g. '1=Basic,2=E-Service' (any dataset; registered ones "
        "may have their own, shown by `harness datasets NAME`)",
    )
    add_data_dir_argument(group)


def add_data_dir_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--data-dir``: where the files of registered datasets are on this host.

    The one definition of the option, for the commands that take it without the
    rest of :func:`add_data_arguments` (``compare``, ``report``, ``worker``).

    Parameters
    ----------
    parser : ArgumentParser or argument group
        Where the option goes.
    """
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where registered dataset files are; when not given, ${DATA_DIR_ENV}, else ./data",
    )


def data_requested(args: argparse.Namespace) -> bool:
    """Return True when any data option is given (with ``name_positional``, NAME included)."""
    options = ("dataset", "data", "synthetic", "class_names", *_CSV_OPTIONS)
    return any(getattr(args, option, None) is not None for option in options)


def separator(text: str | None) -> str | None:
    """Return the separator ``--sep`` names (``tab`` or ``\\t`` for a tab)."""
    return _SEPARATOR_NAMES.get(text, text)


def dataset_from_args(args: argparse.Namespace) -> Dataset:
    """Load the dataset the options of :func:`add_data_arguments` chose.

    Raises
    ------
    ConfigError
        If ``--data`` lacks ``--target``, or a CSV option is given without ``--data``.
    DataError
        If the data cannot be loaded (see :func:`harness.data.datasets.load_csv`), or
        ``--class-names`` names a label the data does not have.
    """
    return _load(args).with_class_names(getattr(args, "class_names", None))


def _load(args: argparse.Namespace) -> Dataset:
    from harness.data.datasets import load_csv, load_dataset

    if args.data is not None:
        if args.target is None:
            raise ConfigError("--data needs --target COLUMN: the column holding the class labels")
        categorical = None
        if args.categorical is not None:
            categorical = [c.strip() for c in args.categorical.split(",") if c.strip()]
        return load_csv(
            args.data,
            args.target,
            sep=separator(args.sep),
            categorical=categorical,
            impute=args.impute,
            time_column=getattr(args, "time_column", None),
        )
    given = [option for option in _CSV_OPTIONS if getattr(args, option) is not None]
    stray = [f"--{option.replace('_', '-')}" for option in given]
    if stray:
        raise ConfigError(f"{', '.join(stray)} only apply to a CSV file given with --data")
    if args.synthetic is not None:
        return load_dataset(SYNTHETIC, **parse_synthetic(args.synthetic))
    return load_dataset(args.dataset or DEFAULT_DATASET, data_dir=args.data_dir)
