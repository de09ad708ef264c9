"""A generated Jupyter notebook that rebuilds the tuned model and compares it with the baseline.

The notebook (nbformat 4 JSON, written without nbformat) loads the data,
takes the comparison's held-out split, builds the best configuration's
pipeline from a literal dict, fits it and the unoptimized baseline, and prints
their held-out metrics side by side. It runs in any environment with the
harness installed; nothing in it depends on the study storage.
"""

from __future__ import annotations

import json
import pprint
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.study.comparison import Comparison
from harness.study.metrics import HEADLINE_METRICS


def _cell(kind: str, number: int, text: str) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    cell["source"] = lines
    return cell


def _load_code(comparison: Comparison, data_dir: str | Path | None) -> str:
    if comparison.dataset is not None:
        where = None if data_dir is None else str(data_dir)
        return (
            "from harness import load_dataset\n\n"
            f"dataset = load_dataset({comparison.dataset!r}, data_dir={where!r})\n"
        )
    path = Path(comparison.data)
    if not path.is_absolute():
        path = (comparison.path.parent / path).resolve()
    categorical = None if comparison.categorical is None else list(comparison.categorical)
    return (
        "from harness import load_csv\n\n"
        f"dataset = load_csv({str(path)!r}, {comparison.target!r}, sep={comparison.sep!r}, "
        f"categorical={categorical!r})\n"
    )


def notebook_json(
    comparison: Comparison,
    config: Mapping[str, Any],
    *,
    source: str,
    expected: Mapping[str, float],
    data_dir: str | Path | None = None,
) -> str:
    """Return the notebook as nbformat 4 JSON text.

    Parameters
    ----------
    comparison : Comparison
        Supplies the dataset, the held-out fraction and the task seed.
    config : mapping
        The best configuration, written into the notebook as a literal dict.
    source : str
        Where the configuration comes from (study and trial), for the introduction.
    expected : mapping
        Stored held-out scores of the tuned model by metric, quoted for comparison.
    data_dir : str or Path, optional
        Where a registered dataset's file is (as ``--data-dir``).
    """
    stored = ", ".join(f"{metric} {expected[metric]:.4f}" for metric in HEADLINE_METRICS)
    config_literal = pprint.pformat(dict(config), sort_dicts=False, width=88)
    cells: Sequence[tuple[str, str]] = [
        ("markdown",
         f"# {comparison.name}: the tuned model\n\n"
         f"Rebuilds the best configuration found by `{comparison.name}` ({source}), fits "
         "it and the unoptimized baseline on the training split, and scores both on the "
         f"held-out split. The stored held-out results of the tuned model: {stored}."),
        ("code",
         "import torch\n\n"
         "from harness import (\n"
         "    BASELINE_CONFIG,\n"
         "    HEADLINE_METRICS,\n"
         "    build_pipeline,\n"
         "    holdout_split,\n"
         "    score_predictions,\n"
         ")\n\n"
         "torch.set_num_threads(1)\n"),
        ("code",
         _load_code(comparison, data_dir)
         + f"train, test = holdout_split(dataset, test_size={comparison.test_size!r}, "
         f"seed={comparison.task_seed!r})\n"
         'print(f"{dataset.name}: {len(train.y)} training rows, {len(test.y)} held-out rows")\n'),
        ("code", f"TASK_SEED = {comparison.task_seed!r}\nBEST = {config_literal}\n"),
        ("code",
         "models = {\n"
         '    "baseline MLP": build_pipeline(BASELINE_CONFIG, train, train.y.to_numpy(), '
         "TASK_SEED),\n"
         '    "tuned MLP": build_pipeline(BEST, train, train.y.to_numpy(), TASK_SEED),\n'
         "}\n"
         "scores = {}\n"
         "for name, model in models.items():\n"
         "    model.fit(train.X, train.y.to_numpy())\n"
         "    proba = model.predict_proba(test.X)\n"
         "    predicted = model.classes_[proba.argmax(axis=1)]\n"
         "    scores[name] = score_predictions(test.y.to_numpy(), predicted, proba, "
         "model.classes_)\n"),
        ("code",
         'print(f"{\'metric\':<18}{\'before\':>10}{\'after\':>10}{\'change\':>10}")\n'
         "for metric in HEADLINE_METRICS:\n"
         '    before, after = scores["baseline MLP"][metric], scores["tuned MLP"][metric]\n'
         '    print(f"{metric:<18}{before:>10.4f}{after:>10.4f}{after - before:>+10.4f}")\n'),
    ]  # fmt: skip
    document = {
        "cells": [_cell(kind, number, text) for number, (kind, text) in enumerate(cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def code_cells(text: str) -> list[str]:
    """Return the source of every code cell of a notebook's JSON text, in order."""
    return [
        "".join(cell["source"]) for cell in json.loads(text)["cells"] if cell["cell_type"] == "code"
    ]
