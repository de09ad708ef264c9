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

from harness.errors import ConfigError
from harness.model.families import DEFAULT_FAMILY, family_of
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
    names: Mapping[str, str] | None = None,
) -> str:
    """Return the notebook as nbformat 4 JSON text, without outputs.

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
        Where a registered dataset's file is (as ``--data-dir``); without it the
        loader finds the project's ``data/`` folder from the installed package, so
        the notebook runs from ``reports/`` or anywhere else.
    names : mapping, optional
        Segment name of each class label (as text).
    """
    stored = ", ".join(f"{metric} {expected[metric]:.4f}" for metric in HEADLINE_METRICS)
    config_literal = pprint.pformat(dict(config), sort_dicts=False, width=88)
    # The configuration's family names the models; the MLP's baseline is harness.BASELINE_CONFIG,
    # another family's is written out like BEST (it carries its family, as BEST does).
    family = family_of(config)
    before, after = f"baseline {family.name.upper()}", f"tuned {family.name.upper()}"
    mlp = family.name == DEFAULT_FAMILY
    baseline_import = "    BASELINE_CONFIG,\n" if mlp else ""
    baseline_ref = "BASELINE_CONFIG" if mlp else "BASELINE"
    baseline_literal = (
        ""
        if mlp
        else (
            "BASELINE = "
            + pprint.pformat(family.baseline_config(), sort_dicts=False, width=88)
            + "\n"
        )
    )
    segments = pprint.pformat(dict(names or {}), sort_dicts=False, width=88)
    cells: Sequence[tuple[str, str]] = [
        ("markdown",
         f"# {comparison.name}: the tuned model\n\n"
         f"Rebuilds the best configuration found by `{comparison.name}` ({source}), fits "
         "it and the unoptimized baseline on the training split, and scores both on the "
         f"held-out split. The stored held-out results of the tuned model: {stored}. "
         "Training is seeded, so the numbers below reproduce them; the last cells save the "
         "tuned model and score new customers with it."),
        ("markdown",
         "## Setup\n\n"
         "Needs the harness installed (`pip install -e .` in the project root). The data is "
         "found from the installed package (the project's `data/` folder), so the notebook "
         "runs from `reports/` or from anywhere else."),
        ("code",
         "import tempfile\n"
         "from pathlib import Path\n\n"
         "import joblib\n"
         "import pandas as pd\n"
         "import torch\n"
         "from matplotlib import pyplot as plt\n\n"
         "from harness import (\n"
         + baseline_import
         + "    HEADLINE_METRICS,\n"
         "    build_pipeline,\n"
         "    holdout_split,\n"
         "    score_predictions,\n"
         ")\n\n"
         "torch.set_num_threads(1)  # one thread: the same numbers on every machine\n"),
        ("code",
         _load_code(comparison, data_dir)
         + f"train, test = holdout_split(dataset, test_size={comparison.test_size!r}, "
         f"seed={comparison.task_seed!r})\n"
         'print(f"{dataset.name}: {len(train.y)} training rows, {len(test.y)} held-out rows")\n'),
        ("code",
         f"TASK_SEED = {comparison.task_seed!r}\nBEST = {config_literal}\n{baseline_literal}"
         f"SEGMENTS = {segments}\n\n\n"
         "def segment(label):\n"
         '    """The segment name of a class label, or the label itself."""\n'
         "    return SEGMENTS.get(str(label), str(label))\n"),
        ("markdown", "## Before and after tuning, on the held-out customers"),
        ("code",
         "models = {\n"
         f'    "{before}": build_pipeline({baseline_ref}, train, train.y.to_numpy(), '
         "TASK_SEED),\n"
         f'    "{after}": build_pipeline(BEST, train, train.y.to_numpy(), TASK_SEED),\n'
         "}\n"
         "scores, predictions = {}, {}\n"
         "for name, model in models.items():\n"
         "    model.fit(train.X, train.y.to_numpy())\n"
         "    proba = model.predict_proba(test.X)\n"
         "    predictions[name] = model.classes_[proba.argmax(axis=1)]\n"
         "    scores[name] = score_predictions(test.y.to_numpy(), predictions[name], proba, "
         "model.classes_)\n"),
        ("code",
         'print(f"{\'metric\':<18}{\'before\':>10}{\'after\':>10}{\'change\':>10}")\n'
         "for metric in HEADLINE_METRICS:\n"
         f'    before, after = scores["{before}"][metric], scores["{after}"][metric]\n'
         '    print(f"{metric:<18}{before:>10.4f}{after:>10.4f}{after - before:>+10.4f}")\n'),
        ("markdown",
         "## Per segment\n\n"
         "`found`: customers of the segment the model puts in it, out of `customers`."),
        ("code",
         "truth = test.y.to_numpy()\n"
         "rows = []\n"
         "for label in sorted(set(truth)):\n"
         "    members = truth == label\n"
         "    rows.append({\n"
         '        "segment": segment(label),\n'
         '        "customers": int(members.sum()),\n'
         f'        "found_before": int((predictions["{before}"][members] == label).sum()),\n'
         f'        "found_after": int((predictions["{after}"][members] == label).sum()),\n'
         "    })\n"
         "per_segment = pd.DataFrame(rows)\n"
         "print(per_segment.to_string(index=False))\n"),
        ("code",
         "labels = sorted(set(truth))\n"
         "figure, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout=\"constrained\")\n"
         "for ax, (name, predicted) in zip(axes, predictions.items()):\n"
         "    matrix = pd.crosstab(pd.Categorical(truth, labels), pd.Categorical(predicted, "
         "labels), dropna=False)\n"
         '    ax.imshow(matrix.to_numpy(), cmap="Blues")\n'
         "    for (i, j), count in pd.DataFrame(matrix.to_numpy()).stack().items():\n"
         '        ax.text(j, i, str(count), ha="center", va="center")\n'
         "    names = [segment(label) for label in labels]\n"
         '    ax.set_xticks(range(len(labels)), names, rotation=30, ha="right")\n'
         "    ax.set_yticks(range(len(labels)), names)\n"
         '    ax.set_xlabel("predicted segment")\n'
         '    ax.set_ylabel("true segment")\n'
         '    ax.set_title(f"{name}: {int((predicted == truth).sum())} of {len(truth)} right")\n'
         "plt.show()\n"),
        ("markdown",
         "## Save the tuned model\n\n"
         "A pickle (joblib): load it only from a source you trust."),
        ("code",
         f'MODEL_PATH = Path(tempfile.gettempdir()) / "{comparison.name}-tuned.joblib"\n'
         f'joblib.dump(models["{after}"], MODEL_PATH)\n'
         'print("saved", MODEL_PATH.name)\n'),
        ("markdown",
         "## Score new customers\n\n"
         "Any rows with the training columns; here the first five held-out customers stand in "
         "for new ones."),
        ("code",
         "model = joblib.load(MODEL_PATH)\n"
         "new_customers = test.X.head(5)\n"
         "scored = pd.DataFrame(model.predict_proba(new_customers).round(3),\n"
         "                      columns=[segment(c) for c in model.classes_])\n"
         'scored.insert(0, "predicted segment", [segment(c) for c in '
         "model.predict(new_customers)])\n"
         "print(scored.to_string(index=False))\n"),
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


KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=ERROR"
"""The notebook kernel logs errors only (see :func:`execute_notebook`)."""


def execute_notebook(text: str, cwd: str | Path, *, timeout: int = 600) -> str | None:
    """Run the notebook ``text`` in a Jupyter kernel from ``cwd``; its JSON with outputs.

    Returns None where nbclient or a kernel is not installed (the notebook is
    then written without outputs). Execution is deterministic: seeded training on
    one torch thread, no timing metadata, outputs without paths or clocks, so the
    same storage gives the same bytes.

    Raises
    ------
    ConfigError
        If a cell fails: the notebook would not reproduce the report.
    """
    try:
        import nbformat
        from jupyter_client.kernelspec import NoSuchKernel
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        return None
    document = nbformat.reads(text, as_version=4)
    # The kernel's only log line at WARNING is ipykernel's "running over TCP without
    # encryption" (a loopback kernel whose messages are signed with a per-run key): it
    # would print through every `report`. Errors still show; cell failures come as messages.
    client = NotebookClient(document, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}},
                            extra_arguments=[KERNEL_LOG_LEVEL],
                            record_timing=False)  # fmt: skip
    try:
        client.execute()
    except NoSuchKernel:
        return None
    except CellExecutionError as error:
        first = str(error).strip().splitlines()[-1] if str(error).strip() else "a cell failed"
        raise ConfigError(f"the generated notebook failed to run: {first}") from error
    for cell in document.cells:
        cell.metadata.pop("execution", None)
    document.metadata.pop("widgets", None)
    return nbformat.writes(document) + "\n"


def code_cells(text: str) -> list[str]:
    """Return the source of every code cell of a notebook's JSON text, in order."""
    return [
        "".join(cell["source"]) for cell in json.loads(text)["cells"] if cell["cell_type"] == "code"
    ]


def printed_scores(text: str) -> dict[str, tuple[float, float]]:
    """``metric -> (before, after)`` from the before/after table an executed notebook printed."""
    found = {}
    for cell in json.loads(text)["cells"]:
        for output in cell.get("outputs", []):
            for line in "".join(output.get("text", "")).splitlines():
                parts = line.split()
                if len(parts) == 4 and parts[0] in HEADLINE_METRICS:
                    try:
                        found[parts[0]] = (float(parts[1]), float(parts[2]))
                    except ValueError:
                        continue
    return found


def reproduction_note(
    executed: str | None, stored: Mapping[str, Mapping[str, float]], *, tolerance: float = 1e-4
) -> str:
    """Whether the executed notebook's held-out scores match the stored ones, in one sentence.

    Parameters
    ----------
    executed : str or None
        The executed notebook's JSON (None: not executed here).
    stored : mapping
        ``{"before": scores, "after": scores}``: the stored held-out scores of the
        unoptimized and the tuned model.
    """
    if executed is None:
        return (
            "It was written without outputs: nbclient or a Jupyter kernel is not installed "
            "where the report was built."
        )
    printed = printed_scores(executed)
    if not printed:
        return "Its executed outputs hold no before/after table to compare."
    differ = []
    for side, index in (("before", 0), ("after", 1)):
        for metric, values in printed.items():
            if abs(values[index] - stored[side][metric]) > tolerance:
                differ.append(
                    f"{side} {metric} {values[index]:.4f} (stored {stored[side][metric]:.4f})"
                )
    if not differ:
        return (
            f"Executed here, it reproduces the stored held-out scores of both models to "
            f"{tolerance:g} on all {len(printed)} metrics."
        )
    return (
        "Executed here, it does not reproduce every stored held-out score: "
        f"{'; '.join(differ)}. The stored scores come from the run's own refit, which the "
        "notebook repeats with the current harness; the difference is what the reader sees."
    )
