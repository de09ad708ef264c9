"""A generated Jupyter notebook: the stored held-out results, then the models retrained.

The notebook (nbformat 4 JSON, written without nbformat) has two parts. Part 1
reads the held-out predictions the run stored (:func:`harness.load_holdout`)
and shows the tuned model against the unoptimized baseline: it trains nothing,
so its outputs rebuild byte for byte from the storage, and it is the part the
report executes. Part 2 (cells tagged :data:`RETRAIN_TAG`) loads the data,
takes the same held-out split, fits both models from literal configurations
and compares their scores with the stored ones; training is seeded but not
bit-reproducible across processors, so its outputs are not committed and the
tests check them against the stored scores within :data:`RETRAIN_TOLERANCE`.
"""

from __future__ import annotations

import json
import keyword
import os
import pprint
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.data.datasets import NEUTRAL, Vocabulary
from harness.errors import ConfigError
from harness.model.families import DEFAULT_FAMILY, family_of
from harness.results.generalization import model_label
from harness.study.comparison import Comparison
from harness.study.holdout import BASELINE, TUNED

RETRAIN_TAG = "retrain"
"""Tag of the cells that train (part 2): the report runs every other cell."""
RETRAIN_TOLERANCE = 0.03
"""Largest difference between a retrained held-out score and the stored one that the tests
accept. Measured: refitting teleconnect-small's baseline (100 Adam epochs) gave macro F1
0.3031 on this project's AMD EPYC machines (AVX-512 and AVX2 kernels alike, 1 or 2 threads)
against 0.3097 stored on the machine that ran the study, and 0.3144 with torch's
non-vectorised kernels (``ATEN_CPU_CAPABILITY=default``); the tuned model (30 SGD epochs)
matched to every digit on all three. The drift is summation order amplified by training, not
a missing seed: 0.03 is about one standard error of a score on 200 held-out rows."""


def _cell(kind: str, number: int, text: str, tags: Sequence[str] = ()) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}}
    if tags:
        cell["metadata"]["tags"] = list(tags)
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


_TAKEN = frozenset(
    [
        "label",
        "labels",
        "name",
        "names",
        "rows",
        "truth",
        "predictions",
        "predicted",
        "model",
        "models",
        "stored",
        "scored",
        "holdout",
        "dataset",
        "train",
        "test",
        "config",
        "configs",
        "retrained",
        "proba",
        "matrix",
        "figure",
        "axes",
        "ax",
        "entry",
        "members",
        "metric",
        "before",
        "after",
        "was",
        "now",
        "count",
        "i",
        "j",
        "pd",
        "plt",
        "torch",
        "joblib",
        "tempfile",
        "Path",
    ]
)
"""Names the notebook's cells use themselves, which a noun must not shadow."""


def _identifier(noun: str) -> str:
    """``noun`` as a Python name: ``"quality grade"`` -> ``quality_grade``; ``"class"`` ->
    ``class_name`` (a keyword, or a name the cells use, gets ``_name``)."""
    name = "_".join(noun.lower().split())
    return f"{name}_name" if keyword.iskeyword(name) or name in _TAKEN else name


def storage_seen_from(storage: str, folder: str | Path) -> str:
    """``storage`` as a notebook in ``folder`` opens it: a relative SQLite path made relative
    to ``folder``, any other URL unchanged (its password is the reader's to supply)."""
    prefix = "sqlite:///"
    if not storage.startswith(prefix) or Path(storage.removeprefix(prefix)).is_absolute():
        return storage
    relative = os.path.relpath(Path(storage.removeprefix(prefix)).resolve(), Path(folder).resolve())
    return prefix + Path(relative).as_posix()


def notebook_json(
    comparison: Comparison,
    config: Mapping[str, Any],
    *,
    storage: str,
    study: str,
    source: str,
    data_dir: str | Path | None = None,
    names: Mapping[str, str] | None = None,
    words: Vocabulary = NEUTRAL,
) -> str:
    """Return the notebook as nbformat 4 JSON text, without outputs.

    Parameters
    ----------
    comparison : Comparison
        Supplies the dataset, the held-out fraction and the task seed.
    config : mapping
        The best configuration, written into the notebook as a literal dict.
    storage : str
        The storage URL as seen from the notebook's folder (:func:`storage_seen_from`).
    study : str
        The study whose held-out results part 1 reads.
    source : str
        Where the configuration comes from (study and trial), for the introduction.
    data_dir : str or Path, optional
        Where a registered dataset's file is (as ``--data-dir``); without it the
        loader finds the project's ``data/`` folder from the installed package, so
        the notebook runs from ``reports/`` or anywhere else.
    names : mapping, optional
        Name of each class label (as text).
    words : Vocabulary
        The dataset's nouns (:attr:`harness.data.datasets.Dataset.vocabulary`): the
        notebook's text, labels and names speak of ``words.rows`` and ``words.groups``
        (teleconnect's customers and segments).
    """
    config_literal = pprint.pformat(dict(config), sort_dicts=False, width=88)
    # The configuration's family names the models; the MLP's baseline is harness.BASELINE_CONFIG,
    # another family's is written out like BEST (it carries its family, as BEST does).
    family = family_of(config)
    before, after = model_label(BASELINE, family.name), model_label(TUNED, family.name)
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
    group = words.group
    # Python names from the nouns: SEGMENTS, segment(label), per_segment, new_customers.
    named, table = _identifier(words.groups).upper(), "_".join(group.split())
    name_of, new_rows = _identifier(group), "new_" + "_".join(words.rows.split())
    retrain = (RETRAIN_TAG,)
    cells: Sequence[tuple[str, str, tuple[str, ...]]] = [
        (
            "markdown",
            f"# {comparison.name}: the tuned model\n\n"
            f"The best configuration found by `{comparison.name}` ({source}) against the "
            "unoptimized baseline, on the held-out rows.\n\n"
            "- **Part 1** reads the held-out predictions the run stored and trains nothing: its "
            "outputs are rebuilt exactly from the storage.\n"
            "- **Part 2** fits both models again on the training split and compares their "
            "scores with the stored ones, then saves the tuned model and scores new rows with "
            "it. Training is seeded, but not bit-reproducible across processors (another "
            "processor sums floats in another order, and many epochs amplify it), so there its "
            "numbers can differ in the last digits; the project's tests check them against the "
            f"stored scores within {RETRAIN_TOLERANCE}. Its cells are tagged `{RETRAIN_TAG}` and "
            "were not run when the report was built: run them to see their output.",
            (),
        ),
        (
            "markdown",
            "## Setup\n\n"
            "Needs the harness installed (`pip install -e .` in the project root). The storage "
            "path is relative to this notebook's folder; the data is found from the installed "
            "package (the project's `data/` folder).",
            (),
        ),
        (
            "code",
            "import tempfile\n"
            "from pathlib import Path\n\n"
            "import joblib\n"
            "import pandas as pd\n"
            "import torch\n"
            "from matplotlib import pyplot as plt\n\n"
            "from harness import (\n" + baseline_import + "    HEADLINE_METRICS,\n"
            "    build_pipeline,\n"
            "    holdout_split,\n"
            "    load_holdout,\n"
            "    score_predictions,\n"
            ")\n\n"
            "torch.set_num_threads(1)  # one thread, as the study refitted its models\n",
            (),
        ),
        (
            "code",
            f"STORAGE = {storage!r}\n"
            f"STUDY = {study!r}\n"
            f"TASK_SEED = {comparison.task_seed!r}\n"
            f"BEST = {config_literal}\n{baseline_literal}"
            f"{named} = {segments}\n"
            f'MODELS = {{"{before}": {BASELINE!r}, "{after}": {TUNED!r}}}  # stored entries\n\n\n'
            f"def {name_of}(label):\n"
            f'    """The {group} name of a class label, or the label itself."""\n'
            f"    return {named}.get(str(label), str(label))\n",
            (),
        ),
        ("markdown", "## Part 1: before and after tuning, as stored by the run", ()),
        (
            "code",
            "holdout = load_holdout(STORAGE, STUDY)\n"
            "stored = {name: holdout[key] for name, key in MODELS.items()}\n"
            "print(f\"{'metric':<18}{'before':>10}{'after':>10}{'change':>10}\")\n"
            "for metric in HEADLINE_METRICS:\n"
            '    before, after = (stored[name]["scores"][metric] for name in MODELS)\n'
            '    print(f"{metric:<18}{before:>10.4f}{after:>10.4f}{after - before:>+10.4f}")\n',
            (),
        ),
        (
            "markdown",
            f"### Per {group}\n\n"
            f"`found`: held-out rows of the {group} the model puts in it, out of `rows` (every "
            "held-out row up to 10,000, else a seeded sample of them).",
            (),
        ),
        (
            "code",
            f'truth = pd.Series(stored["{after}"]["y_true"])\n'
            'predictions = {name: pd.Series(entry["predicted"])'
            " for name, entry in stored.items()}\n"
            "rows = []\n"
            "for label in sorted(set(truth)):\n"
            "    members = truth == label\n"
            "    rows.append({\n"
            f'        "{group}": {name_of}(label),\n'
            '        "rows": int(members.sum()),\n'
            f'        "found_before": int((predictions["{before}"][members] == label).sum()),\n'
            f'        "found_after": int((predictions["{after}"][members] == label).sum()),\n'
            "    })\n"
            f"per_{table} = pd.DataFrame(rows)\n"
            f"print(per_{table}.to_string(index=False))\n",
            (),
        ),
        (
            "code",
            "labels = sorted(set(truth))\n"
            'figure, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")\n'
            "for ax, (name, predicted) in zip(axes, predictions.items()):\n"
            "    matrix = pd.crosstab(pd.Categorical(truth, labels), pd.Categorical(predicted, "
            "labels), dropna=False)\n"
            '    ax.imshow(matrix.to_numpy(), cmap="Blues")\n'
            "    for (i, j), count in pd.DataFrame(matrix.to_numpy()).stack().items():\n"
            '        ax.text(j, i, str(count), ha="center", va="center")\n'
            f"    names = [{name_of}(label) for label in labels]\n"
            '    ax.set_xticks(range(len(labels)), names, rotation=30, ha="right")\n'
            "    ax.set_yticks(range(len(labels)), names)\n"
            f'    ax.set_xlabel("predicted {group}")\n'
            f'    ax.set_ylabel("true {group}")\n'
            '    ax.set_title(f"{name}: {int((predicted == truth).sum())} of {len(truth)} right")\n'
            "plt.show()\n",
            (),
        ),
        (
            "markdown",
            "## Part 2: fit both models again\n\n"
            "Minutes for a large model. `change` is the retrained score minus the stored one: "
            f"zero on the machine that ran the study, within {RETRAIN_TOLERANCE} elsewhere.",
            (),
        ),
        (
            "code",
            _load_code(comparison, data_dir)
            + f"train, test = holdout_split(dataset, test_size={comparison.test_size!r}, "
            f"seed={comparison.task_seed!r})\n"
            'print(f"{dataset.name}: {len(train.y)} training rows, {len(test.y)} held-out rows")\n',
            retrain,
        ),
        (
            "code",
            f'configs = {{"{before}": {baseline_ref}, "{after}": BEST}}\n'
            "models, retrained = {}, {}\n"
            "for name, config in configs.items():\n"
            "    model = build_pipeline(config, train, train.y.to_numpy(), TASK_SEED)\n"
            "    model.fit(train.X, train.y.to_numpy())\n"
            "    proba = model.predict_proba(test.X)\n"
            "    predicted = model.classes_[proba.argmax(axis=1)]\n"
            "    retrained[name] = score_predictions(test.y.to_numpy(), predicted, proba, "
            "model.classes_)\n"
            "    models[name] = model\n"
            "print(f\"{'metric':<18}{'model':<14}{'stored':>9}{'retrained':>11}"
            "{'change':>9}\")\n"
            "for metric in HEADLINE_METRICS:\n"
            "    for name in MODELS:\n"
            '        was, now = stored[name]["scores"][metric], retrained[name][metric]\n'
            '        print(f"{metric:<18}{name:<14}{was:>9.4f}{now:>11.4f}{now - was:>+9.4f}")\n',
            retrain,
        ),
        (
            "markdown",
            "### Save the tuned model\n\nA pickle (joblib): load it only from a source you trust.",
            (),
        ),
        (
            "code",
            f'MODEL_PATH = Path(tempfile.gettempdir()) / "{comparison.name}-tuned.joblib"\n'
            f'joblib.dump(models["{after}"], MODEL_PATH)\n'
            'print("saved", MODEL_PATH.name)\n',
            retrain,
        ),
        (
            "markdown",
            "### Score new rows\n\n"
            "Any rows with the training columns; here the first five held-out rows stand in "
            f"for new {words.rows}.",
            (),
        ),
        (
            "code",
            "model = joblib.load(MODEL_PATH)\n"
            f"{new_rows} = test.X.head(5)\n"
            f"scored = pd.DataFrame(model.predict_proba({new_rows}).round(3),\n"
            f"                      columns=[{name_of}(c) for c in model.classes_])\n"
            f'scored.insert(0, "predicted {group}", [{name_of}(c) for c in '
            f"model.predict({new_rows})])\n"
            "print(scored.to_string(index=False))\n",
            retrain,
        ),
    ]
    document = {
        "cells": [
            _cell(kind, number, text, tags) for number, (kind, text, tags) in enumerate(cells)
        ],
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
    """Run part 1 of the notebook ``text`` in a Jupyter kernel from ``cwd``; its JSON with outputs.

    Cells tagged :data:`RETRAIN_TAG` are not run and keep no output: what is
    written depends on the storage only, so the same storage gives the same bytes
    on any machine (no timing metadata, outputs without paths or clocks, no stderr
    stream: warnings there depend on the installed packages). Returns
    None where nbclient or a kernel is not installed (the notebook is then
    written without outputs).

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
    stored_part = nbformat.reads(text, as_version=4)
    stored_part.cells = [cell for cell in document.cells if not _retrains(cell)]
    # The kernel's only log line at WARNING is ipykernel's "running over TCP without
    # encryption" (a loopback kernel whose messages are signed with a per-run key): it
    # would print through every `report`. Errors still show; cell failures come as messages.
    client = NotebookClient(
        stored_part,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=[KERNEL_LOG_LEVEL],
        record_timing=False,
    )
    try:
        client.execute()
    except NoSuchKernel:
        return None
    except CellExecutionError as error:
        first = str(error).strip().splitlines()[-1] if str(error).strip() else "a cell failed"
        raise ConfigError(f"the generated notebook failed to run: {first}") from error
    executed = {cell.id: cell for cell in stored_part.cells}
    for cell in document.cells:
        if cell.id in executed and cell.cell_type == "code":
            # Warnings on stderr depend on what else is installed (tqdm's "IProgress not
            # found" without ipywidgets): not part of what the notebook shows.
            cell.outputs = [
                output for output in executed[cell.id].outputs if output.get("name") != "stderr"
            ]
            cell.execution_count = executed[cell.id].execution_count
    document.metadata.pop("widgets", None)
    return nbformat.writes(document) + "\n"


def _retrains(cell: Mapping[str, Any]) -> bool:
    return RETRAIN_TAG in cell.get("metadata", {}).get("tags", ())


def code_cells(text: str, *, retrain: bool = True) -> list[str]:
    """Return the source of every code cell of a notebook's JSON text, in order.

    With ``retrain=False``, part 1 only: the cells tagged :data:`RETRAIN_TAG` are left out.
    """
    return [
        "".join(cell["source"])
        for cell in json.loads(text)["cells"]
        if cell["cell_type"] == "code" and (retrain or not _retrains(cell))
    ]
