"""Dataset registry and validated loading.

A :class:`Dataset` holds the features, the original labels and which columns
are one-hot encoded. :func:`load_dataset` loads a registered dataset by name;
:func:`load_csv` loads any CSV file. Both reject bad input with one clear
:class:`~harness.errors.DataError` (the checks live in :mod:`harness.data.validation`).

Files that are not shipped with a package (teleconnect, the wine files, all
committed under the project's ``data/``) are looked up in a data directory: the
``data_dir`` argument (``--data-dir``), else the ``HARNESS_DATA_DIR`` environment
variable, else ``data/`` in the current directory when there is one, else the
project's own ``data/`` beside the package (so a notebook opened from
``reports/`` finds them too). Their sha256 is checked; a mismatch warns.
"""

# pandas and scikit-learn are imported inside functions: the command line reads
# the registry to build its help text, and that must stay fast.
from __future__ import annotations

import hashlib
import inspect
import math
import os
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.data import validation
from harness.errors import DataError, choose, listed

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR_ENV = "HARNESS_DATA_DIR"
DEFAULT_DATA_DIR = Path("data")
PROJECT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The checkout's ``data/`` folder, where the project's data files are committed."""
DEFAULT_DATASET = "teleconnect"
"""The reference task, committed under ``data/``: 1000 customers, 11 features, 4 segments."""

SYNTHETIC = "synthetic"


class ChecksumWarning(UserWarning):
    """A named dataset's file differs from the published one."""


def _plain(value: Any) -> Any:
    # numpy scalars become Python ones, so class names serialise to JSON.
    return value.item() if hasattr(value, "item") else value


def parse_class_names(text: str) -> dict[str, str]:
    """Turn ``"1=Basic,2=E-Service"`` into ``{"1": "Basic", "2": "E-Service"}``.

    Raises
    ------
    DataError
        For an item without ``=``, an empty label or name, or a label given twice.
    """
    names: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, _, name = (part.strip() for part in item.partition("="))
        if not label or not name or label in names:
            raise DataError(
                f"class names: cannot use {item!r}; write LABEL=NAME pairs separated by commas, "
                "each label once, e.g. 1=Basic,2=E-Service"
            )
        names[label] = name
    return names


@dataclass(frozen=True)
class Vocabulary:
    """The words a report uses for a dataset's rows and classes, in its plain-language layer.

    Teleconnect's rows are customers in service segments, read by campaign planners;
    a wine file's rows are wines in quality grades; a file given with ``--data`` has
    rows and classes (:data:`NEUTRAL`). Every sentence, heading, table column and
    figure label of the report's plain-language part, and the notebook's text, takes
    its nouns from here.

    Parameters
    ----------
    row, rows : str
        One row and several, as the reader calls them (``"customer"``, ``"customers"``).
    group, groups : str
        One class and several (``"segment"``, ``"segments"``).
    audience : str or None
        Who acts on the predictions (``"campaign planners"``); None: the summary is
        headed "In plain words".
    section : str or None
        The heading of the report's plain-language section; default ``"<Groups> for
        <audience>"``, or ``"<Groups> in plain words"`` without an audience.
    grouping : str
        What assigning the classes is called (``"segmentation"``).
    use : str
        What the model may be used for when it beats the majority guess, after "use it
        to", with what it must not decide alone.
    act : str
        What it must not be used for when it does not beat that guess, after "do not
        use it to".
    selecting : str
        Who picks the top rows by probability, and the verb (``"a campaign contacts"``).
    selection : str
        The noun of that picking, after "1.0 is random" (``"contact"``).
    ranking : str
        The heading of the gains table (``"Targeting"``).
    everyone : str or None
        "Putting ... in the largest <group>"; default ``"every <row>"``.
    """

    row: str = "row"
    rows: str = "rows"
    group: str = "class"
    groups: str = "classes"
    audience: str | None = None
    section: str | None = None
    grouping: str = "classification"
    use: str = "rank rows for review, not to decide alone which class a row belongs to"
    act: str = "assign classes"
    selecting: str = "you pick"
    selection: str = "choice"
    ranking: str = "Ranking"
    everyone: str | None = None

    @property
    def summary_heading(self) -> str:
        """The executive summary's plain-language heading: ``"For <audience>"``."""
        return f"For {self.audience}" if self.audience else "In plain words"

    @property
    def section_heading(self) -> str:
        """The heading of the report's plain-language section."""
        if self.section:
            return self.section
        groups = self.groups[:1].upper() + self.groups[1:]
        return f"{groups} for {self.audience}" if self.audience else f"{groups} in plain words"

    @property
    def all_rows(self) -> str:
        """Who "Putting ... in the largest <group>" puts there."""
        return self.everyone or f"every {self.row}"


NEUTRAL = Vocabulary()
"""The words of a dataset without its own (a CSV file, synthetic data): rows and classes."""

VOCABULARIES_FILE = Path(__file__).with_name("vocabularies.toml")
"""The datasets' own words, one table per :class:`Vocabulary`: report copy, kept out of the code."""


def read_vocabularies(path: str | os.PathLike[str] = VOCABULARIES_FILE) -> dict[str, Vocabulary]:
    """Read a file of vocabularies: one TOML table of :class:`Vocabulary` words each.

    Raises
    ------
    ValueError
        For a key that is not a :class:`Vocabulary` field, or a value that is not text.
    """
    known = {f.name for f in fields(Vocabulary)}
    vocabularies = {}
    for name, words in tomllib.loads(Path(path).read_text(encoding="utf-8")).items():
        unknown = sorted(set(words) - known)
        if unknown or not all(isinstance(value, str) for value in words.values()):
            raise ValueError(
                f"{path}: [{name}] may only give text for {', '.join(sorted(known))}; "
                f"found {', '.join(unknown) or 'a value that is not text'}"
            )
        vocabularies[name] = Vocabulary(**words)
    return vocabularies


_VOCABULARIES = read_vocabularies()
TELECONNECT_WORDS = _VOCABULARIES["teleconnect"]
"""Teleconnect's words: telecom customers in service segments, for campaign planners."""
WINE_QUALITY_WORDS = _VOCABULARIES["wine-quality"]
"""The Wine Quality files' words: wines graded by tasters, for wine makers."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset: features, original labels and column roles.

    Build one with :func:`load_dataset`, :func:`load_csv` or
    :meth:`from_frame`, which validate the data; the constructor only checks
    that the parts fit together.

    Parameters
    ----------
    name : str
        Registry name, or the file's stem for a CSV file.
    X : DataFrame
        Feature columns, as read (not scaled or encoded).
    y : Series
        Original class labels, named after the target column.
    target : str
        Name of the target column.
    categorical : tuple of str
        Feature columns that are one-hot encoded; the others are numeric.
    source : str
        The file path, or the package function that produced the data.
    impute : {"median", "most_frequent"} or None
        How the preprocessor fills missing values inside each training fold;
        None when the data has none.
    description : str
        One line for listings.
    class_names : mapping, optional
        A readable name for some or all labels (teleconnect's ``custcat`` 1 is
        "Basic"); see :meth:`class_name`. Keys are labels of ``y`` (a subset of the
        rows, :meth:`take`, keeps the names of labels it lacks).
    time_column : str or None
        Set for a time series (a regression task, :attr:`task`): the column
        that ordered the rows. The rows are in time order, ``y`` is the numeric
        target, and ``X`` holds the extra feature columns and the target's own
        values under its name: a model may use row t's values to predict rows
        after t only (see :class:`harness.LSTMRegressor`).
    time : Series or None
        The parsed times of the rows, for a time series.
    vocabulary : Vocabulary
        The words a report uses for the rows and classes; a registered dataset's
        own (:attr:`DatasetSpec.vocabulary`), else :data:`NEUTRAL`.
    """

    name: str
    X: pd.DataFrame = field(repr=False)
    y: pd.Series = field(repr=False)
    target: str
    categorical: tuple[str, ...] = ()
    source: str = ""
    impute: str | None = None
    description: str = ""
    class_names: Mapping[Any, str] = field(default_factory=dict)
    time_column: str | None = None
    time: pd.Series | None = field(default=None, repr=False)
    vocabulary: Vocabulary = field(default=NEUTRAL, repr=False)

    def __post_init__(self) -> None:
        if self.time is not None and len(self.time) != len(self.y):
            raise DataError(f"{self.name}: {len(self.time)} times but {len(self.y)} targets")
        if len(self.X) != len(self.y):
            raise DataError(f"{self.name}: {len(self.X)} feature rows but {len(self.y)} labels")
        unknown = [c for c in self.categorical if c not in self.X.columns]
        if unknown:
            raise DataError(f"{self.name}: categorical columns {unknown} are not features")

    def class_name(self, label: Any) -> str:
        """Return the readable name of ``label``, or the label as text when it has none."""
        return self.class_names.get(label, str(label))

    def with_class_names(self, names: Mapping[str, str] | str | None) -> Dataset:
        """Return this dataset with class names given by label text.

        Parameters
        ----------
        names : mapping, str or None
            ``{"1": "Basic", ...}`` or ``"1=Basic,2=E-Service"``; keys are matched
            against the labels written as text. None keeps the current names.

        Raises
        ------
        DataError
            If the text is malformed or a key is not a label.
        """
        if names is None:
            return self
        if isinstance(names, str):
            names = parse_class_names(names)
        by_text = {str(label): _plain(label) for label in self.y.unique()}
        stray = [key for key in names if str(key) not in by_text]
        if stray:
            raise DataError(
                f"class names for {stray}: not labels of {self.target!r} "
                f"(labels: {listed(sorted(by_text))}); write LABEL=NAME pairs"
            )
        resolved = {by_text[str(key)]: str(value) for key, value in names.items()}
        return replace(self, class_names={**self.class_names, **resolved})

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        target: str,
        *,
        name: str,
        source: str,
        categorical: Sequence[str] | None = None,
        impute: str | None = None,
        description: str = "",
        time_column: str | None = None,
    ) -> Dataset:
        """Validate a table of features and target and split it into a Dataset.

        Parameters
        ----------
        frame : DataFrame
            Feature columns and the target column.
        target : str
            The target column.
        name, source, description : str
            As in :class:`Dataset`.
        categorical : sequence of str or None
            The complete list of categorical columns; None infers them (see
            :func:`harness.data.validation.infer_categorical`).
        impute : {"median", "most_frequent"} or None
            None rejects missing or infinite values.
        time_column : str or None
            Makes the table a time series to forecast (see
            :func:`harness.data.validation.check_time_series`): the column that orders
            the rows, which are sorted by it; ``target`` is then numeric, and ``X`` keeps
            its values as a feature (the series' own past) next to the extra columns.

        Raises
        ------
        DataError
            If the target is missing or has one class, a non-numeric column
            cannot be encoded, or values are missing and ``impute`` is None; for a
            time series, also a missing or unparseable time column, repeated times, a
            non-numeric or NaN target, or too few rows.
        """
        if time_column is None:
            validation.check_target_column(list(frame.columns), target, source)
            y = frame[target]
            validation.check_target(y, source)
            features = X = frame.drop(columns=target)
            times = None
        else:  # sorted by time; the target's past stays a feature
            X, times = validation.check_time_series(frame, target, time_column, source)
            y = X[target].astype(float)
            features = X.drop(columns=target)
        categorical = validation.infer_categorical(features, categorical, source)
        X = validation.check_finite(X, impute, source)
        return cls(
            name,
            X,
            y,
            target,
            categorical,
            source,
            impute,
            description,
            time_column=time_column,
            time=times,
        )

    @property
    def task(self) -> str:
        """``"regression"`` for a time series, else ``"classification"``."""
        return "classification" if self.time_column is None else "regression"

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return len(self.y)

    @property
    def n_features(self) -> int:
        """Number of feature columns before encoding."""
        return self.X.shape[1]

    @property
    def numeric(self) -> tuple[str, ...]:
        """Feature columns that are scaled, not encoded."""
        return tuple(c for c in self.X.columns if c not in self.categorical)

    @property
    def class_counts(self) -> pd.Series:
        """Rows per class, indexed by label in sorted order."""
        return self.y.value_counts().sort_index()

    @property
    def n_classes(self) -> int:
        """Number of distinct labels."""
        return int(self.y.nunique())

    @property
    def imbalance_ratio(self) -> float:
        """Rows of the largest class divided by rows of the smallest (1.0 is balanced)."""
        counts = self.class_counts
        return float(counts.max() / counts.min())

    def take(self, rows: Sequence[int]) -> Dataset:
        """Return the rows at the given positions as a Dataset (index labels kept)."""
        time = None if self.time is None else self.time.iloc[rows]
        return replace(self, X=self.X.iloc[rows], y=self.y.iloc[rows], time=time)


@dataclass(frozen=True)
class PublishedResult:
    """A score others published on a registered dataset, with its source and protocol.

    Parameters
    ----------
    model : str
        The model as the source names it.
    metric : str
        A metric name of :data:`harness.study.metrics.METRICS` the value is comparable to.
    value : float
        The published score.
    source : str
        Where it is published: authors, year, venue, table.
    protocol : str
        How it was measured (data, validation), to say where it differs from a study's.
    """

    model: str
    metric: str
    value: float
    source: str
    protocol: str


CORTEZ_2009 = "Cortez et al. 2009, Decision Support Systems 47(4), Table 2"
CORTEZ_PROTOCOL = "tolerance 0.5 (exact-class accuracy), 10 runs of 5-fold CV over all rows"


def _cortez(nn: float, svm: float) -> tuple[PublishedResult, ...]:
    return (
        PublishedResult(
            "neural network (Cortez et al.)", "accuracy", nn, CORTEZ_2009, CORTEZ_PROTOCOL
        ),
        PublishedResult(
            "support vector machine (Cortez et al.)", "accuracy", svm, CORTEZ_2009, CORTEZ_PROTOCOL
        ),
    )


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry.

    Parameters
    ----------
    name : str
        The name used by :func:`load_dataset` and ``--dataset``.
    description : str
        One line: what the data is and why it is here.
    kind : {"file", "sklearn", "synthetic"}
        A file in the data directory, a scikit-learn loader, or generated data.
    target : str
        The target column.
    file : str or None
        File name in the data directory (``kind="file"``).
    sha256 : str or None
        The published file's checksum.
    sep : str or None
        The file's separator.
    categorical : tuple of str
        Columns one-hot encoded; the others are numeric.
    loader : str or None
        ``sklearn.datasets`` function name (``kind="sklearn"``).
    class_names : tuple of (label, name) pairs
        Readable names of the classes (see :attr:`Dataset.class_names`).
    time_column : str or None
        For a time series (a regression task): the column that orders the rows.
    published : tuple of PublishedResult
        Scores others published on this data, with their sources.
    published_note : str or None
        What is known of published results where ``published`` is empty (None: nothing said).
    vocabulary : Vocabulary or None
        The words a report uses for the rows and classes of a classification dataset;
        None for a time series (it has no classes).
    """

    name: str
    description: str
    kind: Literal["file", "sklearn", "synthetic"]
    target: str = "target"
    file: str | None = None
    sha256: str | None = None
    sep: str | None = None
    categorical: tuple[str, ...] = ()
    loader: str | None = None
    class_names: tuple[tuple[Any, str], ...] = ()
    time_column: str | None = None
    published: tuple[PublishedResult, ...] = ()
    published_note: str | None = None
    vocabulary: Vocabulary | None = None

    @property
    def task(self) -> str:
        """``"regression"`` for a time series, else ``"classification"``."""
        return "classification" if self.time_column is None else "regression"

    @property
    def shipped(self) -> bool:
        """True when the data comes with an installed package, not a data file."""
        return self.kind != "file"


def _file_spec(name: str, description: str, file: str, sha256: str, **kw: Any) -> DatasetSpec:
    return DatasetSpec(name, description, "file", file=file, sha256=sha256, **kw)


def _sklearn_spec(name: str, description: str, loader: str, vocabulary: Vocabulary) -> DatasetSpec:
    return DatasetSpec(name, description, "sklearn", loader=loader, vocabulary=vocabulary)


SUNSPOTS_SHA256 = "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b"


def _wine_spec(
    colour: str, rare: str, sha256: str, published: tuple[PublishedResult, ...]
) -> DatasetSpec:
    """One of the two UCI Wine Quality files (Cortez et al.): ``colour`` is red or white."""
    return _file_spec(
        f"wine-{colour}",
        f"UCI Wine Quality ({colour}), 11 physico-chemical features; rare classes {rare}",
        f"winequality-{colour}.csv",
        sha256,
        target="quality",
        sep=";",
        published=published,
        vocabulary=WINE_QUALITY_WORDS,
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        # region is nominal (3 areas): one-hot. ed is an ordered education level and
        # marital/retire/gender are 0/1, so they stay numeric.
        _file_spec(
            "teleconnect",
            "Telecom customers (IBM teleCust1000t): 4 service categories, the reference task",
            "teleconnect.csv",
            "157391eb147a4a83612db3a3162c43aaac0dcaae3601ab9aa13ebee3ff91ca29",
            target="custcat",
            sep=",",
            categorical=("region",),
            # The service categories as IBM's course materials name them.
            class_names=((1, "Basic"), (2, "E-Service"), (3, "Plus"), (4, "Total service")),
            published_note="no published result on this data is known: it comes from IBM's "
            "course materials, not a paper, so the references below are the only comparison",
            vocabulary=TELECONNECT_WORDS,
        ),
        _wine_spec(
            "red",
            "3 (10 rows) and 8 (18)",
            "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
            _cortez(0.591, 0.624),
        ),
        _wine_spec(
            "white",
            "9 (5 rows) and 3 (20)",
            "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
            _cortez(0.526, 0.646),
        ),
        # Yearly mean sunspot numbers 1700-2008 (NOAA, public domain, via statsmodels).
        _file_spec(
            "sunspots",
            "Yearly sunspot activity 1700-2008 (NOAA): a time series to forecast one year ahead",
            "sunspots.csv",
            SUNSPOTS_SHA256,
            target="SUNACTIVITY",
            sep=",",
            time_column="YEAR",
        ),
        _sklearn_spec(
            "sklearn-wine",
            "Wine recognition (scikit-learn): 3 cultivars",
            "load_wine",
            Vocabulary(
                row="wine",
                rows="wines",
                group="cultivar",
                groups="cultivars",
                grouping="cultivar recognition",
                use="choose which wines an analyst checks first, not to name a wine's "
                "cultivar alone",
                act="name cultivars",
                selecting="an analyst checks",
                selection="checking",
            ),
        ),
        _sklearn_spec(
            "iris",
            "Iris (scikit-learn): 3 species, 4 features",
            "load_iris",
            Vocabulary(
                row="flower",
                rows="flowers",
                group="species",
                groups="species",
                audience="botanists",
                grouping="species identification",
                use="choose which flowers a botanist checks first, not to name a flower's "
                "species alone",
                act="name species",
                selecting="a botanist checks",
                selection="checking",
            ),
        ),
        _sklearn_spec(
            "breast-cancer",
            "Breast cancer Wisconsin (scikit-learn): malignant (0) or benign (1)",
            "load_breast_cancer",
            Vocabulary(
                row="tumour",
                rows="tumours",
                group="diagnosis",
                groups="diagnoses",
                audience="clinicians",
                grouping="diagnosis",
                use="choose which tumours a pathologist reviews first, not to diagnose a "
                "tumour alone",
                act="diagnose tumours",
                selecting="a pathologist reviews",
                selection="review",
            ),
        ),
        _sklearn_spec(
            "digits",
            "Handwritten digits 8x8 (scikit-learn): 10 classes",
            "load_digits",
            Vocabulary(
                row="image",
                rows="images",
                group="digit",
                groups="digits",
                grouping="digit recognition",
                use="choose which images a person checks first, not to read a digit alone",
                act="read digits",
                selecting="a person checks",
                selection="checking",
            ),
        ),
        DatasetSpec(
            SYNTHETIC,
            "make_classification: configurable rows, features, classes and class weights",
            "synthetic",
            vocabulary=NEUTRAL,
        ),
    )
}
"""Every registered dataset, by name."""


def list_datasets() -> list[DatasetSpec]:
    """Return the registered datasets' specs, in registry order."""
    return list(DATASETS.values())


def get_spec(name: str) -> DatasetSpec:
    """Return the spec registered as ``name``; raise :class:`DataError` naming the choices."""
    return choose(
        name,
        DATASETS,
        "dataset",
        error=DataError,
        fix=", or load a CSV file with --data PATH --target COLUMN",
    )


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory.

    ``data_dir``, else ``$HARNESS_DATA_DIR``, else ``./data`` when it exists, else
    the project's own ``data/`` (:data:`PROJECT_DATA_DIR`) when it exists, else ``./data``.
    """
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    if not DEFAULT_DATA_DIR.is_dir() and PROJECT_DATA_DIR.is_dir():
        return PROJECT_DATA_DIR
    return DEFAULT_DATA_DIR


def describe_data_dir(data_dir: str | os.PathLike[str] | None = None) -> str:
    """Return the absolute data directory and which setting chose it, for messages."""
    if data_dir is not None:
        origin = "from --data-dir"
    elif os.environ.get(DATA_DIR_ENV):
        origin = f"from {DATA_DIR_ENV}"
    else:
        origin = "the default"
    return f"{resolve_data_dir(data_dir).resolve()} ({origin})"


def dataset_path(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return where a named dataset's file is expected, or None if it is shipped."""
    spec = get_spec(name)
    return None if spec.file is None else resolve_data_dir(data_dir) / spec.file


def is_available(name: str, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Return True when ``load_dataset(name, data_dir)`` can find its data."""
    path = dataset_path(name, data_dir)
    return path is None or path.is_file()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_dataset(
    name: str, data_dir: str | os.PathLike[str] | None = None, **options: Any
) -> Dataset:
    """Load a registered dataset.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    data_dir : path-like, optional
        Where files that are not shipped are looked up; default
        ``$HARNESS_DATA_DIR``, else ``./data``.
    **options
        Only for ``"synthetic"``: the keyword arguments of :func:`make_synthetic`.

    Returns
    -------
    Dataset
        With the registry's description, class names and vocabulary (the words
        its reports use); a file whose sha256 differs from the published one
        warns with :class:`ChecksumWarning`.

    Raises
    ------
    DataError
        If the name is unknown, options are given to a dataset that takes none,
        or the file is missing or invalid.

    Warns
    -----
    ChecksumWarning
        If a file's sha256 differs from the published one.
    """
    spec = get_spec(name)
    if spec.kind == "synthetic":
        unknown = set(options) - set(inspect.signature(make_synthetic).parameters)
        if unknown:
            raise DataError(
                f"unknown synthetic option(s) {', '.join(sorted(unknown))}; "
                f"use: {', '.join(inspect.signature(make_synthetic).parameters)}"
            )
        return make_synthetic(**options)
    if options:
        raise DataError(f"dataset {name!r} takes no options (got {', '.join(options)})")
    if spec.kind == "sklearn":
        return _load_sklearn(spec)
    path = resolve_data_dir(data_dir) / spec.file
    if not path.is_file():
        raise DataError(
            f"{spec.file} for dataset {name!r} is not in {describe_data_dir(data_dir)}; "
            f"put it there, or point --data-dir or "
            f"{DATA_DIR_ENV} at the folder that holds it (sources: data/README.md)"
        )
    actual = file_sha256(path)
    if actual != spec.sha256:
        warnings.warn(
            f"{path} has sha256 {actual[:16]}..., not the published {spec.sha256[:16]}... "
            f"of {name!r}; results may not match published ones (see data/README.md)",
            ChecksumWarning,
            stacklevel=2,
        )
    dataset = load_csv(
        path,
        spec.target,
        sep=spec.sep,
        categorical=spec.categorical,
        name=name,
        time_column=spec.time_column,
    )
    return replace(
        dataset,
        description=spec.description,
        class_names=dict(spec.class_names),
        vocabulary=spec.vocabulary or NEUTRAL,
    )


def _load_sklearn(spec: DatasetSpec) -> Dataset:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, spec.loader)(as_frame=True)
    dataset = Dataset.from_frame(
        bunch.frame,
        "target",
        name=spec.name,
        source=f"sklearn.datasets.{spec.loader}",
        categorical=(),
        description=spec.description,
    )
    dataset = replace(dataset, vocabulary=spec.vocabulary or NEUTRAL)
    # scikit-learn's loaders name their classes (iris: setosa, ...); digits' names are the digits.
    names = getattr(bunch, "target_names", None)
    if names is None or len(names) != dataset.n_classes:
        return dataset
    named = {_plain(label): str(names[label]) for label in dataset.y.unique()}
    if all(name == str(label) for label, name in named.items()):
        return dataset
    return replace(dataset, class_names=dict(sorted(named.items())))


def make_synthetic(
    n_samples: int = 1000,
    n_features: int = 20,
    n_classes: int = 2,
    *,
    n_informative: int | None = None,
    weights: Sequence[float] | None = None,
    class_sep: float = 1.0,
    random_state: int = 0,
) -> Dataset:
    """Generate a classification task with :func:`sklearn.datasets.make_classification`.

    Labels are not flipped (``flip_y=0``), so ``weights`` fix the class sizes up
    to rounding; there are no redundant or repeated features. The features are
    float32 (a million rows of 20 features take 80 MB).

    Parameters
    ----------
    n_samples, n_features, n_classes : int
        Rows, feature columns (``x0``, ``x1``, ...) and classes.
    n_informative : int, optional
        Informative features; default half the features, and at least enough
        for ``n_classes`` classes of two clusters each.
    weights : sequence of float, optional
        Relative class sizes, one per class (normalised to sum to 1); default balanced.
    class_sep : float
        Distance between classes: smaller is harder.
    random_state : int
        The seed; the same arguments always give the same data.

    Raises
    ------
    DataError
        If the arguments do not describe a possible task.
    """
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    if weights is not None:
        if len(weights) != n_classes or min(weights) <= 0:
            raise DataError(
                f"synthetic weights {tuple(weights)} need {n_classes} positive values, "
                "one per class"
            )
        weights = [w / sum(weights) for w in weights]
    if n_informative is None:
        n_informative = min(n_features, max(n_features // 2, math.ceil(math.log2(2 * n_classes))))
    arguments = {
        "n_samples": n_samples,
        "n_features": n_features,
        "n_informative": n_informative,
        "n_redundant": 0,
        "n_classes": n_classes,
        "weights": weights,
        "flip_y": 0.0,
        "class_sep": class_sep,
        "random_state": random_state,
    }
    try:
        X, y = make_classification(**arguments)
    except ValueError as error:
        raise DataError(f"cannot make the synthetic dataset: {error}") from None
    # float32 (what the network trains on) halves the memory of every copy downstream; the
    # data is finite and has no target column to drop, so it needs none of from_frame's copies.
    X = X.astype(np.float32)
    features = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)], copy=False)
    del X
    call = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return Dataset(
        SYNTHETIC,
        features,
        pd.Series(y, name="target"),
        "target",
        source=f"sklearn.datasets.make_classification({call}), as float32",
        description=DATASETS[SYNTHETIC].description,
    )


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    sep: str | None = None,
    categorical: Sequence[str] | None = None,
    impute: str | None = None,
    name: str | None = None,
    class_names: Mapping[str, str] | str | None = None,
    time_column: str | None = None,
) -> Dataset:
    """Load and validate a CSV file.

    Parameters
    ----------
    path : path-like
        The file.
    target : str
        The column holding the class labels.
    sep : str, optional
        The separator; default detected from the file.
    categorical : sequence of str, optional
        The complete list of feature columns to one-hot encode. Default:
        non-numeric columns with at most
        :data:`MAX_CATEGORIES` distinct values.
    impute : {"median", "most_frequent"}, optional
        Fill missing and infinite feature values with the training fold's
        median or most frequent value (categorical columns always use the most
        frequent). Default: such values are an error.
    name : str, optional
        The dataset's name; default the file's stem.
    class_names : mapping or str, optional
        Readable class names by label text, ``{"1": "Basic"}`` or ``"1=Basic,2=Plus"``
        (see :meth:`Dataset.with_class_names`).
    time_column : str, optional
        Makes the file a time series to forecast (:meth:`Dataset.from_frame`):
        the column that orders the rows; ``target`` is then the numeric column to forecast.

    Returns
    -------
    Dataset
        Named after the file's stem unless ``name`` is given, its ``source``
        the file's absolute path.

    Raises
    ------
    DataError
        For a missing or empty file, a wrong separator, duplicate column names,
        a missing target column, a target with one class, a non-numeric column
        that cannot be encoded, or missing values without ``impute``.
    """
    import pandas as pd

    from harness.data.validation import read_header

    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path given with --data")
    _, sep = read_header(path, sep)
    try:
        frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise DataError(f"cannot parse {path} with separator {sep!r}: {reason}") from None
    if time_column is not None and class_names is not None:
        raise DataError("class names apply to classes; a time series has none: drop them")
    dataset = Dataset.from_frame(
        frame,
        target,
        name=name or path.stem,
        source=str(path.resolve()),
        categorical=categorical,
        impute=impute,
        time_column=time_column,
    )
    return dataset if time_column is not None else dataset.with_class_names(class_names)
