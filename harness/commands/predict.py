"""Score new rows with a model that ``run`` saved: each row's predicted segment and probabilities.

The model file is a joblib pickle: loading it runs code from the file, so
load only model files you trust (your own ``run`` output). The rows of the CSV
file are checked as training data is (missing or extra columns, text in a
numeric column, missing values) against the columns the model was trained on;
a column named like the training target is allowed and ignored.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

    from harness.data.schema import FeatureSchema

HELP = "score new rows with a saved model (a joblib pickle: load only files you trust)"
PREDICTED = "predicted"
PREDICTED_NAME = "predicted_name"
PROBA_PREFIX = "proba_"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``predict`` options."""
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="PATH",
        help="a .joblib model saved by `harness run` (a pickle: load only files you trust)",
    )
    parser.add_argument(
        "--data", required=True, type=Path, metavar="PATH", help="CSV file of rows to score"
    )
    parser.add_argument("--sep", help="the CSV file's column separator; detected when not given")
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="write the scored rows to this CSV file (default: print them)",
    )


def main(args: argparse.Namespace) -> int:
    """Load the model, check the rows, and write their predictions."""
    from harness.commands._data_options import separator

    model, schema = load_model(args.model)
    frame = read_rows(args.data, separator(args.sep))
    scored = score(model, schema, frame, str(args.data))
    if args.output is None:
        print(scored.to_csv(index=False), end="")
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        scored.to_csv(args.output, index=False)
        print(f"scored {len(scored)} rows with {args.model}: {args.output}")
    return 0


def load_model(path: Path) -> tuple[Any, FeatureSchema]:
    """Load a model saved by ``run`` and the schema of its training data.

    Raises
    ------
    DataError
        If the file is missing, is not a joblib pickle, or is not a harness model.
    """
    import joblib

    from harness.commands._summary import CARD_ATTRIBUTE, MODEL_FORMAT
    from harness.data.schema import schema_from_json

    if not path.is_file():
        raise DataError(f"no such model file: {path}; give a .joblib file saved by `harness run`")
    try:
        model = joblib.load(path)
    except Exception as error:  # a non-pickle raises many kinds (UnpicklingError, EOFError, ...)
        raise DataError(
            f"{path} is not a harness model (joblib cannot load it: {type(error).__name__}); "
            "give a .joblib file saved by `harness run`"
        ) from None
    card = getattr(model, CARD_ATTRIBUTE, None)
    if not isinstance(card, dict) or card.get("format") != MODEL_FORMAT:
        raise DataError(
            f"{path} is not a harness model (it has no {MODEL_FORMAT} card); "
            "give a .joblib file saved by `harness run`"
        )
    return model, schema_from_json(card["schema"])


def read_rows(path: Path, sep: str | None) -> pd.DataFrame:
    """Read the CSV file of rows to score.

    Raises
    ------
    DataError
        If the file is missing, empty or cannot be parsed.
    """
    import pandas as pd

    from harness.data.validation import read_header

    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path given with --data")
    _, sep = read_header(path, sep)
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise DataError(f"cannot parse {path} with separator {sep!r}: {reason}") from None


def score(model: Any, schema: FeatureSchema, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Each row's predicted label and segment name and one probability column per class.

    Columns: ``predicted`` (the label), ``predicted_name`` (its name, see
    :attr:`harness.data.datasets.Dataset.class_names`), then
    ``proba_<label>`` per class in the order of the model's classes; the input
    rows' order is kept.

    Raises
    ------
    DataError
        If the rows do not match the model's training columns.
    """
    import numpy as np
    import pandas as pd
    from sklearn.base import is_regressor

    if is_regressor(model):
        raise ConfigError(
            f"{source}: this model forecasts a time series, and `predict` scores classifiers; "
            "load it with joblib.load(path) and call .predict(X) on the rows that directly "
            "follow its training rows (each is forecast from the rows before it)"
        )
    X = schema.check(frame, source)
    proba = model.predict_proba(X)
    labels = model.classes_
    predicted = labels[np.argmax(proba, axis=1)]
    scored = pd.DataFrame(
        {
            PREDICTED: predicted,
            PREDICTED_NAME: [schema.class_name(label) for label in predicted],
        }
    )
    for column, label in enumerate(labels):
        scored[f"{PROBA_PREFIX}{label}"] = np.round(proba[:, column], 6)
    return scored
