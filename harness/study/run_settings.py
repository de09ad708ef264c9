"""The run settings: what ``run`` stores with a study so that a worker on any host rebuilds it.

One format, one owner: ``harness run`` writes a :class:`RunSettings` into the
study (:meth:`RunSettings.record`, through the ledger's ``run_settings`` key)
and ``harness worker`` reads it back (:meth:`RunSettings.read`) and rebuilds
the :class:`~harness.study.loop.StudySpec` from it. The stored value is one
JSON object:

``format_version``
    :data:`FORMAT_VERSION`; absent in studies stored before it existed (version 1).
``source``
    Where the data comes from (:class:`harness.data.sources.DataSource`).
``class_names``
    ``{label: name}`` given with ``--class-names`` (labels as text).
``space``
    ``{"name", "toml"}``: the space's name and its file's TOML text, so the
    space file need not exist on the worker's host (``toml`` is null for a
    built-in space loaded by name).
``strategy``, ``seed``, ``n_trials``, ``timeout``, ``trial_timeout``, ``pruner``,
``prune_on``, ``metric``, ``n_folds``, ``test_size``, ``batch``, ``objectives``
    As the :class:`~harness.study.loop.StudySpec` fields of the same names
    (absent in older studies: ``batch`` 1, ``objectives`` empty, one objective).
``train_rows_sha256``
    The search rows' checksum (:func:`harness.data.sources.data_checksums`):
    a worker refuses to train on other rows.

A new field is a :class:`RunSettings` field with a default (what a study
stored without it means) plus its JSON types in ``_TYPES``; a field whose
absence cannot be given a meaning raises :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.sources import DataSource, data_checksums
from harness.data.splits import holdout_split
from harness.errors import ConfigError, DataError
from harness.search.space import SearchSpace, load_space, parse_space
from harness.study import ledger
from harness.study.checks import check_format_version

if TYPE_CHECKING:
    import optuna

    from harness.data.datasets import Dataset
    from harness.study.loop import StudySpec

FORMAT_VERSION = 1
"""The run settings' format version this harness writes and the newest it reads."""

_NUMBER = (int, float)
_OPTIONAL_NUMBER = (int, float, type(None))
_TYPES: dict[str, tuple[type, ...]] = {
    "strategy": (str,),
    "seed": (int,),
    "n_trials": (int,),
    "metric": (str,),
    "n_folds": (int,),
    "test_size": _NUMBER,
    "timeout": _OPTIONAL_NUMBER,
    "trial_timeout": _OPTIONAL_NUMBER,
    "pruner": (str,),
    "prune_on": (str,),
    "batch": (int,),
    "objectives": (list,),
    "class_names": (dict,),
    "train_rows_sha256": (str, type(None)),
}
"""The JSON types of the plain fields (``source`` and ``space`` are read by their owners)."""


@dataclass(frozen=True)
class RunSettings:
    """What a worker needs to rebuild a study made by ``run`` (see the module docstring).

    Build it with :meth:`from_spec` where the study is made, store it with
    :meth:`record`; :meth:`read` and :meth:`study_spec` rebuild the study elsewhere.

    Parameters
    ----------
    source : DataSource
        Where the data comes from.
    space_name : str
        The space's name.
    space_toml : str or None
        The space file's TOML text; None for a space loaded by name.
    strategy, seed, n_trials, metric, n_folds, test_size
        As :class:`~harness.study.loop.StudySpec`'s.
    timeout, trial_timeout, pruner, prune_on, batch, objectives
        As :class:`~harness.study.loop.StudySpec`'s.
    class_names : mapping
        ``{label as text: name}``.
    train_rows_sha256 : str or None
        Checksum of the search rows; None skips the check (never written so).
    """

    source: DataSource
    space_name: str
    space_toml: str | None
    strategy: str
    seed: int
    n_trials: int
    metric: str
    n_folds: int
    test_size: float
    timeout: float | None = None
    trial_timeout: float | None = None
    pruner: str = "none"
    prune_on: str = "folds"
    batch: int = 1
    objectives: tuple[str, ...] = ()
    class_names: Mapping[str, str] = field(default_factory=dict)
    train_rows_sha256: str | None = None

    @classmethod
    def from_spec(
        cls, spec: StudySpec, source: DataSource, class_names: Mapping[Any, str]
    ) -> RunSettings:
        """The settings of ``spec``, whose data was loaded from ``source``."""
        space_file = Path(spec.space.source)
        return cls(
            source=source,
            space_name=spec.space.name,
            space_toml=space_file.read_text(encoding="utf-8") if space_file.is_file() else None,
            **{name: getattr(spec, name) for name in _spec_fields()},
            class_names={str(k): v for k, v in class_names.items()},
            train_rows_sha256=data_checksums(spec.dataset)["train_rows_sha256"],
        )

    def to_json(self) -> dict[str, Any]:
        """The stored JSON object (see the module docstring)."""
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name in _TYPES}
        plain.update(class_names=dict(self.class_names), objectives=list(self.objectives))
        return {
            "format_version": FORMAT_VERSION,
            "source": self.source.to_json(),
            "space": {"name": self.space_name, "toml": self.space_toml},
            **plain,
        }

    @classmethod
    def from_json(cls, values: Any, where: str = "run settings") -> RunSettings:
        """Read what :meth:`to_json` wrote, in this or any older format version.

        Raises
        ------
        ConfigError
            One line naming ``where`` and the problem: not an object, a newer
            format version, a missing or mistyped field.
        """
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where}: not a JSON object; run the study again with `run`")
        check_format_version(values.get("format_version"), FORMAT_VERSION, where)
        defaults = {
            f.name for f in fields(cls) if (f.default, f.default_factory) != (MISSING, MISSING)
        }
        plain: dict[str, Any] = {}
        for name, types in _TYPES.items():
            if name not in values:
                if name not in defaults:
                    raise ConfigError(f"{where}: {name} is missing; run the study again with `run`")
                continue
            value = values[name]
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                raise ConfigError(
                    f"{where}: {name} must be {' or '.join(t.__name__ for t in types)}, got "
                    f"{value!r}; run the study again with `run`"
                )
            plain[name] = value
        objectives = plain.get("objectives", [])
        if not all(isinstance(name, str) for name in objectives):
            raise ConfigError(
                f"{where}: objectives must be metric and cost names, got {objectives!r}; "
                "run the study again with `run`"
            )
        plain["objectives"] = tuple(objectives)
        space = values.get("space")
        if not isinstance(space, Mapping) or not isinstance(space.get("name"), str):
            raise ConfigError(
                f"{where}: space must be {{'name', 'toml'}}; run the study again with `run`"
            )
        return cls(
            source=DataSource.from_json(values.get("source"), f"{where}, source"),
            space_name=space["name"],
            space_toml=space.get("toml") or None,
            **plain,
        )

    def record(self, study: optuna.Study) -> None:
        """Store the settings with ``study`` (through the ledger).

        A CSV source is also stored as the ledger's ``data_source``, where a
        report (``report --study``) finds the file to load again.
        """
        source = self.source
        if source.kind == "csv":
            categorical = list(source.categorical or ())
            ledger.record_data_source(
                study,
                str(source.path),
                str(source.target),
                source.sep,
                categorical,
                source.time_column,
            )
        ledger.record_run_settings(study, self.to_json())

    @classmethod
    def read(cls, study: optuna.Study) -> RunSettings:
        """The settings stored with ``study``.

        Raises
        ------
        ConfigError
            If the study stores none (made by ``compare`` or an older harness), or
            they cannot be read (see :meth:`from_json`).
        """
        values = ledger.run_settings(study)
        if values is None:
            raise ConfigError(
                f"study {study.study_name!r} stores no run settings (it was made by `compare` "
                "or an older harness); run it with the command that made it instead"
            )
        return cls.from_json(values, f"run settings of study {study.study_name!r}")

    def load_space(self, study_name: str) -> SearchSpace:
        """The study's space: from the stored TOML text, else the built-in space by name."""
        if self.space_toml is None:
            return load_space(self.space_name)
        try:
            data = tomllib.loads(self.space_toml)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"the stored text of space {self.space_name!r} is not valid TOML ({error}); "
                "run the study again with `run`"
            ) from None
        return parse_space(data, self.space_name, source=f"study {study_name}")

    def search_rows(
        self, study_name: str, data_path: str | None = None, data_dir: str | None = None
    ) -> Dataset:
        """Load the data here, split off the held-out rows, and check the rows are the study's.

        Raises
        ------
        DataError
            If the data cannot be loaded here, or its rows differ from the study's.
        """
        dataset = self.source.load(data_path, data_dir).with_class_names(
            dict(self.class_names) or None
        )
        train, _ = holdout_split(dataset, test_size=self.test_size, seed=self.seed)
        expected = self.train_rows_sha256
        if expected is not None and data_checksums(train)["train_rows_sha256"] != expected:
            raise DataError(
                f"the data loaded here ({dataset.source}) differs from the rows study "
                f"{study_name!r} was made with; give this host the same file"
            )
        return train

    def study_spec(
        self, name: str, storage: str, train: Dataset, timeout: float | None = None
    ) -> StudySpec:
        """The :class:`~harness.study.loop.StudySpec` of the stored study.

        ``timeout`` (this worker's seconds) replaces the stored one where given.
        """
        from harness.study.loop import StudySpec

        values = {name: getattr(self, name) for name in _spec_fields()}
        if timeout is not None:
            values["timeout"] = timeout
        return StudySpec(
            name=name, storage=storage, dataset=train, space=self.load_space(name), **values
        )


def _spec_fields() -> tuple[str, ...]:
    """The :class:`~harness.study.loop.StudySpec` fields stored as they are, by the same names.

    Both directions (:meth:`RunSettings.from_spec`, :meth:`RunSettings.study_spec`)
    copy these: a field of that name in both classes goes both ways.
    """
    from harness.study.loop import StudySpec

    stored = {f.name for f in fields(RunSettings)}
    return tuple(f.name for f in fields(StudySpec) if f.init and f.name in stored)
