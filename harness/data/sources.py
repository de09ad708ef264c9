"""Where a dataset comes from, as JSON values, so that another process or host loads it again.

A :class:`DataSource` is one of three kinds: a registered dataset (its name), a
CSV file (its path and the options it was read with) or a synthetic dataset
(the :func:`~harness.data.datasets.make_synthetic` arguments). It is part of
the run settings a worker rebuilds a study from
(:mod:`harness.study.run_settings`); :func:`data_checksums` says which rows a
dataset holds, so a worker never trains on other data than the study's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.datasets import SYNTHETIC, Dataset, file_sha256, load_csv, load_dataset
from harness.errors import ConfigError, DataError

KINDS = ("dataset", "csv", "synthetic")
_CSV_KEYS = ("path", "target", "sep", "categorical", "impute", "time_column")


@dataclass(frozen=True)
class DataSource:
    """How to load a dataset again (see the module docstring).

    Parameters
    ----------
    kind : {"dataset", "csv", "synthetic"}
        Which of the three.
    name : str or None
        ``dataset``: the registered name.
    path, target, sep, categorical, impute, time_column
        ``csv``: the file's absolute path and the :func:`~harness.data.datasets.load_csv`
        options it was read with (``categorical``: the complete list).
    options : mapping
        ``synthetic``: the :func:`~harness.data.datasets.make_synthetic` arguments.
    """

    kind: str
    name: str | None = None
    path: str | None = None
    target: str | None = None
    sep: str | None = None
    categorical: tuple[str, ...] | None = None
    impute: str | None = None
    time_column: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def registered(cls, name: str) -> DataSource:
        """A registered dataset, by name."""
        return cls("dataset", name=name)

    @classmethod
    def csv(
        cls,
        path: str | os.PathLike[str],
        target: str,
        *,
        sep: str | None = None,
        categorical: Sequence[str] | None = None,
        impute: str | None = None,
        time_column: str | None = None,
    ) -> DataSource:
        """A CSV file; its path is stored absolute, as it was on this host."""
        return cls(
            "csv",
            path=str(Path(path).resolve()),
            target=target,
            sep=sep,
            categorical=None if categorical is None else tuple(categorical),
            impute=impute,
            time_column=time_column,
        )

    @classmethod
    def synthetic(cls, options: Mapping[str, Any]) -> DataSource:
        """A synthetic dataset made by ``make_synthetic(**options)``."""
        return cls("synthetic", options=dict(options))

    def to_json(self) -> dict[str, Any]:
        """The JSON values :meth:`from_json` reads back (tuples as lists)."""
        if self.kind == "csv":
            found = {key: getattr(self, key) for key in _CSV_KEYS}
            if self.categorical is not None:
                found["categorical"] = list(self.categorical)
            return {"kind": "csv", **found}
        if self.kind == "synthetic":
            options = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
            return {"kind": "synthetic", "options": options}
        return {"kind": "dataset", "name": self.name}

    @classmethod
    def from_json(cls, values: Any, where: str = "data source") -> DataSource:
        """Read what :meth:`to_json` wrote.

        Raises
        ------
        ConfigError
            Naming ``where`` if the values are not a data source of a known kind.
        """
        kind = values.get("kind") if isinstance(values, Mapping) else None
        if kind not in KINDS:
            raise ConfigError(
                f"{where}: not a data source (kind {kind!r}, expected one of "
                f"{', '.join(KINDS)}); store it again with the harness that reads it"
            )
        required = {"dataset": ("name",), "csv": ("path", "target"), "synthetic": ()}[kind]
        missing = [key for key in required if not values.get(key)]
        if missing:
            raise ConfigError(
                f"{where}: a {kind} source needs {', '.join(missing)}; store it again with "
                "the harness that reads it"
            )
        if kind == "csv":
            found = {key: values.get(key) for key in _CSV_KEYS}
            if found["categorical"] is not None:
                found["categorical"] = tuple(found["categorical"])
            return cls("csv", **found)
        if kind == "synthetic":
            options = dict(values.get("options") or {})
            if "weights" in options:
                options["weights"] = tuple(options["weights"])
            return cls("synthetic", options=options)
        return cls("dataset", name=values["name"])

    def load(
        self,
        data_path: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> Dataset:
        """Load the dataset on this host.

        Parameters
        ----------
        data_path : path, optional
            A CSV source's file where it is on this host (default: the stored path).
        data_dir : path, optional
            Where registered dataset files are on this host.

        Raises
        ------
        DataError
            If a CSV file is not at its path here.
        ConfigError
            If ``data_path`` is given for a source that is not a CSV file.
        """
        if self.kind == "csv":
            path = Path(data_path) if data_path else Path(str(self.path))
            if not path.is_file():
                raise DataError(
                    f"the study's data file {path} is not on this host; copy it here and give "
                    "its path with --data"
                )
            return load_csv(
                path,
                str(self.target),
                sep=self.sep,
                categorical=None if self.categorical is None else list(self.categorical),
                impute=self.impute,
                time_column=self.time_column,
            )
        if data_path:
            raise ConfigError("--data only applies to a study of a CSV file")
        if self.kind == "synthetic":
            return load_dataset(SYNTHETIC, **self.options)
        return load_dataset(str(self.name), data_dir=data_dir)


def data_checksums(dataset: Dataset) -> dict[str, Any]:
    """The rows' identity: name, source, row count, sha256 of the rows (and of the file).

    ``train_rows_sha256`` hashes features, target and index labels of every row
    (:func:`pandas.util.hash_pandas_object`), so the same rows in another order
    or from another file differ.
    """
    import pandas as pd

    frame = pd.concat([dataset.X, dataset.y], axis=1)
    rows = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    found: dict[str, Any] = {
        "name": dataset.name,
        "source": dataset.source,
        "train_rows": dataset.n_samples,
        "train_rows_sha256": rows.hexdigest(),
    }
    if Path(dataset.source).is_file():
        found["file_sha256"] = file_sha256(dataset.source)
    return found
