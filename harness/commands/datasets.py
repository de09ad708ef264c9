"""List the registered datasets, or show one in detail.

Without NAME: every registered dataset with its rows, features, classes,
imbalance ratio (largest class / smallest class) and whether its data is
available here. With NAME, --data or --synthetic: its columns, which of them
are one-hot encoded, and its class counts with the class names (its own, or
--class-names). Use it to check a CSV file before a
long run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from harness.commands._data_options import (
    add_data_arguments,
    data_requested,
    dataset_from_args,
)

if TYPE_CHECKING:
    from harness.data.datasets import Dataset

HELP = "list the datasets, or show one (columns, categorical ones, class counts)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``datasets`` options."""
    add_data_arguments(parser, name_positional=True)


def main(args: argparse.Namespace) -> int:
    """Print the listing or one dataset's details."""
    if data_requested(args):
        print(_details(dataset_from_args(args)))
    else:
        print(_listing(args.data_dir))
    return 0


def _listing(data_dir: str | None) -> str:
    from tabulate import tabulate

    from harness.data.datasets import (
        DEFAULT_DATASET,
        describe_data_dir,
        is_available,
        list_datasets,
        load_dataset,
    )

    rows, missing = [], []
    for spec in list_datasets():
        name = f"{spec.name} (default)" if spec.name == DEFAULT_DATASET else spec.name
        if not is_available(spec.name, data_dir):
            missing.append(spec.file)
            rows.append([name, None, None, None, None, "no", spec.description])
            continue
        dataset = load_dataset(spec.name, data_dir)
        if dataset.task == "regression":  # a time series: no classes to count
            shape = [dataset.n_samples, dataset.n_features, "series"]
            rows.append([name, *shape, None, "yes", spec.description])
            continue
        shape = [dataset.n_samples, dataset.n_features, dataset.n_classes]
        rows.append([name, *shape, dataset.imbalance_ratio, "yes", spec.description])
    headers = ["dataset", "rows", "features", "classes", "imbalance", "available", "description"]
    lines = [
        tabulate(rows, headers=headers, floatfmt=".1f", missingval="-"),
        "",
        f"data directory: {describe_data_dir(data_dir)}",
        "synthetic shows its defaults (see --synthetic); any CSV file: --data PATH --target COLUMN",
    ]
    if missing:
        lines.append(
            f"not available: put {', '.join(missing)} in the data directory, or point "
            "--data-dir or HARNESS_DATA_DIR at their folder (sources: data/README.md)"
        )
    return "\n".join(lines)


def _details(dataset: Dataset) -> str:
    from tabulate import tabulate

    X = dataset.X
    columns = [
        [
            name,
            str(X[name].dtype),
            "categorical (one-hot)" if name in dataset.categorical else "numeric (scaled)",
            X[name].nunique(),
            int(X[name].isna().sum()),
        ]
        for name in X.columns
    ]
    if dataset.task == "regression":
        return _series_details(dataset, columns)
    counts = dataset.class_counts
    classes = [
        [label, dataset.class_name(label), count, f"{count / dataset.n_samples:.1%}"]
        for label, count in counts.items()
    ]
    summary = [
        f"{dataset.name}: {dataset.description}" if dataset.description else dataset.name,
        f"source: {dataset.source}",
        f"rows: {dataset.n_samples}, features: {dataset.n_features} "
        f"({len(dataset.numeric)} numeric, {len(dataset.categorical)} categorical), "
        f"target: {dataset.target}, classes: {dataset.n_classes}, "
        f"imbalance ratio: {dataset.imbalance_ratio:.1f}",
    ]
    if dataset.impute:
        summary.append(f"missing values: filled with the training fold's {dataset.impute}")
    column_table = tabulate(columns, headers=["column", "dtype", "role", "distinct", "missing"])
    class_table = tabulate(classes, headers=[dataset.target, "name", "rows", "share"])
    return "\n".join(summary) + f"\n\n{column_table}\n\n{class_table}"


def _series_details(dataset: Dataset, columns: list[list]) -> str:
    """A time series: its time span, the target's range, and the columns."""
    from tabulate import tabulate

    y, time = dataset.y, dataset.time
    summary = [
        f"{dataset.name}: {dataset.description}" if dataset.description else dataset.name,
        f"source: {dataset.source}",
        f"time series: {dataset.n_samples} rows ordered by {dataset.time_column} "
        f"({time.iloc[0]} to {time.iloc[-1]}); target {dataset.target} from {y.min():.4g} "
        f"to {y.max():.4g} (mean {y.mean():.4g}), forecast one step ahead from the rows before",
        f"features: {', '.join(dataset.X.columns)} (the target's own past included); "
        "forward-chaining folds, the last rows held out",
    ]
    column_table = tabulate(columns, headers=["column", "dtype", "role", "distinct", "missing"])
    return "\n".join(summary) + f"\n\n{column_table}"
