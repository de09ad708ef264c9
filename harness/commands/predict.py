"""Score new rows with a model that ``run`` saved: each row's predicted segment and probabilities.

The model file is a joblib pickle: loading it runs code from the file, so
load only model files you trust (your own ``run`` output). The rows of the CSV
file are checked as training data is (missing or extra columns, text in a
numeric column, missing values) against the columns the model was trained on;
a column named like the training target is allowed and ignored, and the
columns named by --id and --keep are copied to the output, not fed to the model.
Probability columns are named by segment (``proba_E-Service``) where the classes
have names. A time series model forecasts the --horizon steps after the file's
last rows instead (each step from the steps before it, forecasts included).
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
STEP = "step"
FORECAST = "forecast"


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
    parser.add_argument(
        "--id",
        metavar="COLUMN",
        help="an identifier column of the file, copied as the first output column (not a feature)",
    )
    parser.add_argument(
        "--keep",
        metavar="COL[,COL]",
        help="input columns to copy to the output, separated by commas",
    )
    parser.add_argument(
        "--horizon",
        type=int,
        metavar="STEPS",
        help="time series models only: forecast this many steps after the file's last rows "
        "(default: 1)",
    )
    parser.add_argument(
        "--time-column",
        metavar="COLUMN",
        help="time series models only: the file's time column; rows are ordered by it and "
        "the forecast steps get the next times",
    )


def main(args: argparse.Namespace) -> int:
    """Load the model, check the rows, and write their predictions (or forecasts)."""
    from sklearn.base import is_regressor

    from harness.commands._data_options import separator
    from harness.study.model_card import load_model

    check_output(args.output)
    model, _, schema = load_model(args.model)
    frame = read_rows(args.data, separator(args.sep), one_column=len(schema.columns) == 1)
    source = str(args.data)
    if is_regressor(model):
        if args.id is not None or args.keep is not None:
            raise ConfigError(
                "--id and --keep copy input rows, and a forecast has no input rows: "
                "leave them out for a time series model"
            )
        horizon = 1 if args.horizon is None else args.horizon
        scored = forecast(model, schema, frame, source, horizon, args.time_column)
        what = f"forecast {len(scored)} steps"
    else:
        if args.horizon is not None or args.time_column is not None:
            raise ConfigError(
                "--horizon and --time-column apply to time series models; this model "
                "scores rows (leave them out)"
            )
        copied = copied_columns(frame, args.id, args.keep, source)
        # A copied column the model was trained on stays one of its features too.
        extra = [column for column in copied if column not in schema.columns]
        scored = score(model, schema, frame.drop(columns=extra), source)
        scored = with_copied_columns(scored, frame[copied], source)
        what = f"scored {len(scored)} rows"
    if args.output is None:
        print(scored.to_csv(index=False), end="")
    else:
        write_output(scored, args.output)
        print(f"{what} with {args.model}: {args.output}")
    return 0


def check_output(path: Path | None) -> None:
    """Refuse an ``--output`` path that cannot become a file, before any work.

    Raises
    ------
    ConfigError
        If the path is a folder, or a folder on its way is a file.
    """
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(
            f"--output {path} is a folder; give a file path, e.g. {path / 'scored.csv'}"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"--output {path}: {parent} is a file, not a folder; choose another path"
                )
            return


def write_output(scored: pd.DataFrame, path: Path) -> None:
    """Write ``scored`` to ``path``, creating its folder.

    Raises
    ------
    ConfigError
        If the folder cannot be created or the file written (permissions, full disk).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scored.to_csv(path, index=False)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            f"cannot write --output {path}: {reason}; choose a path you can write to"
        ) from None


def copied_columns(
    frame: pd.DataFrame, id_column: str | None, keep: str | None, source: str
) -> list[str]:
    """The columns ``--id`` and ``--keep`` name, id first, each once.

    Raises
    ------
    DataError
        If the file lacks one of them.
    """
    from harness.errors import listed

    names = [id_column] if id_column is not None else []
    if keep is not None:
        names += [name.strip() for name in keep.split(",") if name.strip()]
    names = list(dict.fromkeys(names))
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(
            f"{source} has no column(s) {listed(missing)} to copy (--id/--keep); "
            f"its columns are: {listed(frame.columns)}"
        )
    return names


def read_rows(path: Path, sep: str | None, *, one_column: bool = False) -> pd.DataFrame:
    """Read the CSV file of rows to score (of one column only with ``one_column``).

    Raises
    ------
    DataError
        If the file is missing, empty or cannot be parsed.
    """
    import pandas as pd

    from harness.data.validation import read_header

    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path given with --data")
    _, sep = read_header(path, sep, one_column=one_column)
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise DataError(f"cannot parse {path} with separator {sep!r}: {reason}") from None


def score(model: Any, schema: FeatureSchema, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Each row's predicted label and segment name and one probability column per class.

    Columns: ``predicted`` (the label), ``predicted_name`` (its name, see
    :attr:`harness.data.datasets.Dataset.class_names`), then one probability
    column per class in the order of the model's classes (:func:`proba_columns`:
    ``proba_<name>``, or ``proba_<label>`` where names repeat); the input
    rows' order is kept.

    Raises
    ------
    DataError
        If the rows do not match the model's training columns.
    """
    import numpy as np
    import pandas as pd

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
    for column, name in enumerate(proba_columns(schema, labels)):
        scored[name] = np.round(proba[:, column], 6)
    return scored


def proba_columns(schema: FeatureSchema, labels: Any) -> list[str]:
    """``proba_<segment name>`` per class; ``proba_<label>`` where two names would coincide."""
    names = [f"{PROBA_PREFIX}{schema.class_name(label)}" for label in labels]
    if len(set(names)) < len(names):
        return [f"{PROBA_PREFIX}{label}" for label in labels]
    return names


def with_copied_columns(scored: pd.DataFrame, copied: pd.DataFrame, source: str) -> pd.DataFrame:
    """The copied input columns first, then the scores, rows in input order.

    Raises
    ------
    DataError
        If a copied column is named like an output column.
    """
    import pandas as pd

    from harness.errors import listed

    clash = [name for name in copied.columns if name in scored.columns]
    if clash:
        raise DataError(
            f"{source}: column(s) {listed(clash)} given to --id/--keep have the name of an "
            "output column; rename them in the file"
        )
    return pd.concat([copied.reset_index(drop=True), scored], axis=1)


def forecast(
    model: Any,
    schema: FeatureSchema,
    frame: pd.DataFrame,
    source: str,
    horizon: int,
    time_column: str | None,
) -> pd.DataFrame:
    """Forecast the ``horizon`` steps after the file's last rows with a time series model.

    Each step is forecast from the model's look-back window of the steps before
    it: the file's last rows first, then the forecasts themselves (recursive
    multi-step forecasting), so a model whose only input is the target's own
    past can run any number of steps ahead.

    Returns
    -------
    pandas.DataFrame
        ``step`` (1 to ``horizon``), the time of each step where ``time_column``
        is given (the file's last time plus multiples of its spacing), and
        ``forecast``.

    Raises
    ------
    ConfigError
        If ``horizon`` is below 1, or the model uses columns besides the target,
        whose future values no file row holds.
    DataError
        If the file's rows do not fit the model, or hold fewer rows than its window.
    """
    import numpy as np
    import pandas as pd

    from harness.data.validation import check_time_series
    from harness.errors import listed

    if horizon < 1:
        raise ConfigError(f"--horizon must be at least 1 (got {horizon})")
    others = [column for column in schema.columns if column != schema.target]
    if schema.target not in schema.columns or others:
        raise ConfigError(
            f"this model also uses {listed(others)} besides the target's own past; their "
            "future values are unknown, so it cannot forecast past the file: give it the rows "
            "to forecast (joblib.load(path).predict(X) forecasts each row of X from the rows "
            "before it)"
        )
    times = None
    if time_column is not None:
        frame, times = check_time_series(frame, schema.target, time_column, source, min_rows=2)
    X = schema.check(frame, source)
    model_step = model[-1]
    window = len(model_step.context_)
    if len(X) < window:
        raise DataError(
            f"{source} has {len(X)} rows; this model forecasts from its last {window} rows "
            "(its window), so give at least that many"
        )
    preprocess = model[:-1]
    history = X.iloc[-window:].reset_index(drop=True)
    values = []
    for _ in range(horizon):
        rows = preprocess.transform(history.iloc[-window:])
        # Row j of X is forecast from the window before it, never from itself: the next step.
        value = float(model_step.predict(rows[-1:], context=rows)[0])
        values.append(value)
        history = pd.concat([history, pd.DataFrame({schema.target: [value]})], ignore_index=True)
    result = pd.DataFrame({STEP: np.arange(1, horizon + 1)})
    if times is not None:
        result[time_column] = _next_times(times, horizon)
    result[FORECAST] = np.round(values, 6)
    return result


def _next_times(times: pd.Series, horizon: int) -> list[Any]:
    """The ``horizon`` times after the last of ``times``, spaced as its last two are
    (dates: at their inferred frequency, such as month ends, where one is found)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(times):
        recent = times.iloc[-min(len(times), 12) :]
        try:  # the offset itself: pandas 3 warns that infer_freq will stop returning text
            with pd.option_context("future.infer_freq_returns_offset", True):
                frequency = pd.infer_freq(recent)
        except pd.errors.OptionError:  # a pandas without that option returns text silently
            frequency = pd.infer_freq(recent)
        if frequency is not None:
            return list(pd.date_range(times.iloc[-1], periods=horizon + 1, freq=frequency)[1:])
    step = times.iloc[-1] - times.iloc[-2]
    return [times.iloc[-1] + step * k for k in range(1, horizon + 1)]
