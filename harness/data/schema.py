"""The columns a fitted model expects, and the check that new rows match them.

A model saved by ``run`` carries a :class:`FeatureSchema` of its training data;
``predict`` checks a new file against it with the same rules as training data
(missing or extra columns, wrong types, missing values), so a file that does
not fit stops with one line instead of a wrong prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.data import validation
from harness.errors import DataError, listed

if TYPE_CHECKING:
    import pandas as pd

    from harness.data.datasets import Dataset


@dataclass(frozen=True)
class FeatureSchema:
    """The feature columns of a training dataset, their roles, the target and its classes.

    Parameters
    ----------
    columns : tuple of str
        Feature columns in training order.
    categorical : tuple of str
        The one-hot encoded ones; the others must be numeric.
    target : str
        The class label column (allowed, and ignored, in files to score).
    labels : tuple
        The class labels, sorted as the model's ``classes_``.
    class_names : mapping
        Readable names of some or all labels.
    impute : str or None
        Missing values are filled as in training when set, else an error.
    """

    columns: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str
    labels: tuple[Any, ...]
    class_names: Mapping[Any, str] = field(default_factory=dict)
    impute: str | None = None

    @classmethod
    def of(cls, dataset: Dataset) -> FeatureSchema:
        """The schema of a dataset's features and classes."""
        labels = tuple(sorted((_plain(v) for v in dataset.y.unique()), key=_sort_key))
        return cls(
            tuple(map(str, dataset.X.columns)),
            tuple(dataset.categorical),
            dataset.target,
            labels,
            {label: dataset.class_name(label) for label in labels},
            dataset.impute,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (class names keyed by label text)."""
        return {
            "columns": list(self.columns),
            "categorical": list(self.categorical),
            "target": self.target,
            "labels": list(self.labels),
            "class_names": {str(k): v for k, v in self.class_names.items()},
            "impute": self.impute,
        }

    def class_name(self, label: Any) -> str:
        """The readable name of ``label``, or the label as text."""
        return self.class_names.get(_plain(label), str(label))

    def check(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """Return the feature columns of ``frame``, in training order, after checking them.

        Raises
        ------
        DataError
            For a missing or extra column, a non-numeric value in a numeric column,
            or a missing or infinite value when the model was trained without
            imputation; the message names the columns.
        """
        import pandas as pd

        present = [c for c in frame.columns if c != self.target]
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source} lacks the column(s) {listed(missing)} that the model was trained on "
                f"(expected: {listed(self.columns)})"
            )
        extra = [c for c in present if c not in self.columns]
        if extra:
            raise DataError(
                f"{source} has column(s) {listed(extra)} that the model was not trained on; "
                f"drop them (expected: {listed(self.columns)})"
            )
        X = frame[list(self.columns)]
        wrong = []
        for column in self.columns:
            if column in self.categorical or pd.api.types.is_numeric_dtype(X[column]):
                continue
            numbers = pd.to_numeric(X[column], errors="coerce")
            bad = X[column][numbers.isna() & X[column].notna()]
            wrong.append(f"{column} (e.g. {bad.iloc[0]!r} in row {bad.index[0]})")
        if wrong:
            raise DataError(
                f"{source}: numeric column(s) hold text: {listed(wrong)}; fix those values"
            )
        return _check_missing(X, self.impute, source)


def _check_missing(X: pd.DataFrame, impute: str | None, source: str) -> pd.DataFrame:
    if impute is not None:
        return validation.check_finite(X, impute, source)
    try:
        return validation.check_finite(X, None, source)
    except DataError as error:
        # Training's advice (--impute) does not apply to scoring: the model decides.
        problems = str(error).split(": ", 1)[1].split("; ", 1)[0]
        raise DataError(
            f"missing or infinite values in {source}: {problems}; the model was trained "
            "without imputation, so fill or drop those rows"
        ) from None


def schema_from_json(data: Mapping[str, Any]) -> FeatureSchema:
    """The inverse of :meth:`FeatureSchema.to_json`."""
    labels = tuple(data["labels"])
    by_text = {str(label): label for label in labels}
    names = {by_text.get(k, k): v for k, v in data.get("class_names", {}).items()}
    return FeatureSchema(
        tuple(data["columns"]),
        tuple(data["categorical"]),
        data["target"],
        labels,
        names,
        data.get("impute"),
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _sort_key(value: Any) -> tuple[int, Any]:
    # Labels sort as numbers when they are numbers, else as text, as LabelEncoder sorts them.
    return (0, value) if isinstance(value, int | float) else (1, str(value))
