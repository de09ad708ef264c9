"""The saved model and its card: what ``run`` writes beside a model and ``predict`` reads back.

One format, one owner. A model is a fitted pipeline saved with joblib
(``<study>.joblib``); its card is a JSON object attached to the pipeline as
:data:`CARD_ATTRIBUTE` (so the pickle describes itself) and written beside it
as ``<study>.json``. The card holds:

``format``
    ``"harness-model/<version>"`` (:data:`MODEL_FORMAT`); ``predict`` refuses
    a file without it and names the upgrade for a newer version.
``model``, ``warning``, ``study``, ``storage``, ``strategy``, ``seed``
    What the model is, that the file is a pickle, and the study it comes from.
``config``, ``cv``, ``holdout``
    Its configuration, its cross-validation (None for the baseline) and its
    held-out scores.
``schema``
    The training data's :class:`~harness.data.schema.FeatureSchema`, which
    ``predict`` checks new rows against.
``data``, ``versions``, ``created``
    The training rows' checksums, the library versions, and when.

A new entry is one more key in :func:`model_card`; a reader that needs it
treats its absence as what older cards meant, or raises :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.schema import FeatureSchema, schema_from_json
from harness.data.sources import data_checksums
from harness.errors import DataError
from harness.study import ledger
from harness.study.checks import check_format_version

if TYPE_CHECKING:
    import optuna

    from harness.study.loop import StudySpec

FORMAT_VERSION = 1
"""The card format version this harness writes and the newest it reads."""
FORMAT_NAME = "harness-model"
MODEL_FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
"""The ``format`` entry of a model card; ``predict`` refuses a model file without one."""
CARD_ATTRIBUTE = "harness_card_"
"""The saved pipeline's attribute holding its card, so the pickle describes itself."""
PICKLE_WARNING = (
    "a joblib pickle: loading it runs code from the file, so load only model files you trust"
)
_VERSIONED = ("torch", "skorch", "sklearn", "optuna", "numpy", "pandas", "imblearn")
_SAVED_BY = "give a .joblib file saved by `harness run`"


def versions() -> dict[str, str]:
    """Python's and the main libraries' versions, for a model card."""
    import importlib
    import platform

    from harness._version import __version__

    found = {"harness": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        found[name] = str(getattr(importlib.import_module(name), "__version__", "unknown"))
    return found


def model_card(
    which: str,
    study: optuna.Study,
    spec: StudySpec,
    holdout: dict[str, Any],
    config: dict[str, Any],
    cv: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON card saved with a model: what it is, how it scored, what it was trained on.

    Parameters
    ----------
    which : str
        The model's name in the held-out results (``"tuned MLP"``, ``"baseline MLP"``).
    study : optuna.Study
        The study the model comes from.
    spec : StudySpec
        The study's specification (its ``dataset`` is the training part).
    holdout : dict
        The model's entry of the held-out results.
    config : dict
        The configuration the model was built from.
    cv : dict or None
        ``{"metric", "mean", "std", "folds", "trial"}`` of its cross-validation, None
        when it was not cross-validated.
    """
    from datetime import UTC, datetime

    from harness.study.storage import redact_password

    return {
        "format": MODEL_FORMAT,
        "model": which,
        "warning": PICKLE_WARNING,
        "study": study.study_name,
        "storage": redact_password(spec.storage),
        "strategy": spec.strategy,
        "seed": spec.seed,
        "config": ledger.config_to_json(config),
        "cv": cv,
        "holdout": {
            "scores": holdout["scores"],
            "train_rows": holdout.get("train_rows", spec.dataset.n_samples),
            "test_size": spec.test_size,
        },
        "schema": FeatureSchema.of(spec.dataset).to_json(),
        "data": data_checksums(spec.dataset),
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save_model(model: Any, path: Path, card: dict[str, Any] | None = None) -> Path:
    """Save a fitted pipeline with joblib and return its path.

    With a ``card`` (see :func:`model_card`), the card is attached to the
    pipeline as :data:`CARD_ATTRIBUTE` and written beside it as ``<name>.json``.
    """
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    if card is not None:
        setattr(model, CARD_ATTRIBUTE, card)
        path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    joblib.dump(model, path)
    return path


def card_version(card: Any, where: str) -> int:
    """The format version of a card (see :data:`MODEL_FORMAT`).

    Raises
    ------
    DataError
        If ``card`` is not a harness model card.
    ConfigError
        If its version is newer than this harness reads.
    """
    found = card.get("format") if isinstance(card, dict) else None
    name, _, version = found.partition("/") if isinstance(found, str) else ("", "", "")
    if name != FORMAT_NAME or not version.isdigit():
        raise DataError(
            f"{where} is not a harness model (it has no {MODEL_FORMAT} card); {_SAVED_BY}"
        )
    return check_format_version(int(version), FORMAT_VERSION, f"{where} ({found})")


def load_model(path: Path) -> tuple[Any, dict[str, Any], FeatureSchema]:
    """Load a model saved by ``run``: the pipeline, its card and its training data's schema.

    Raises
    ------
    DataError
        If the file is missing, is not a joblib pickle, is not a harness model, or
        its card is malformed.
    ConfigError
        If its card's format is newer than this harness reads.
    """
    import joblib

    if not path.is_file():
        raise DataError(f"no such model file: {path}; {_SAVED_BY}")
    try:
        model = joblib.load(path)
    except Exception as error:  # a non-pickle raises many kinds (UnpicklingError, EOFError, ...)
        raise DataError(
            f"{path} is not a harness model (joblib cannot load it: {type(error).__name__}); "
            f"{_SAVED_BY}"
        ) from None
    card = getattr(model, CARD_ATTRIBUTE, None)
    card_version(card, str(path))
    try:
        schema = schema_from_json(card["schema"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DataError(
            f"{path}: its model card's schema is malformed ({type(error).__name__}: {error}); "
            "save the model again with `harness run`"
        ) from None
    return model, card, schema
