"""draw.io diagrams generated from what was actually run, and a validator for them.

Three diagrams per comparison, each an uncompressed draw.io file
(``<mxfile><diagram><mxGraphModel><root>``, cells ``0`` and ``1`` as root and
layer): the pipeline of the best configuration, the best model's topology and
the search loop. Labels come from the configuration, the dataset and the
comparison file, never from hand-written text, so the diagrams cannot go
stale; :func:`validate_drawio` checks a file's structure.
"""

from __future__ import annotations

import itertools
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.datasets import Dataset
from harness.model.cnn_vocabulary import cnn_blocks, cnn_settings, square_image
from harness.model.families import family_of, without_family
from harness.model.vocabulary import IMBALANCE, hidden_layers, model_settings
from harness.study.comparison import Comparison
from harness.study.storage import redact_password

BOX = "rounded=1;whiteSpace=wrap;html=0;align=center;verticalAlign=middle;"
ARROW = "edgeStyle=orthogonalEdgeStyle;rounded=0;html=0;endArrow=classic;"
LINE_HEIGHT = 16
CHAR_WIDTH = 7
GAP = 60
WRAP = 40
"""Characters per line of a wrapped column list."""

IMBALANCE_NOTES = {
    "none": "no resampling, unweighted loss",
    "class_weight": "balanced class weights in the loss, no resampling",
    "focal": "focal loss, no resampling",
    "smote": "SMOTE on the training rows of each fit",
    "adasyn": "ADASYN on the training rows of each fit",
    "borderline_smote": "Borderline-SMOTE on the training rows of each fit",
    "smote_enn": "SMOTE then ENN cleaning on the training rows of each fit",
}
"""What each ``imbalance`` value does, as the pipeline diagram says it."""

DIAGRAMS = ("pipeline", "topology", "search-loop")


def _size(label: str) -> tuple[int, int]:
    lines = label.split("\n")
    return max(140, CHAR_WIDTH * max(map(len, lines)) + 24), LINE_HEIGHT * len(lines) + 20


@dataclass
class _Graph:
    """Cells of one diagram; vertices laid out by the caller, sized from their labels."""

    name: str
    cells: list[ET.Element] = field(default_factory=list)
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def vertex(self, cell_id: str, label: str, x: int, y: int) -> tuple[int, int]:
        """Add a box at ``(x, y)`` and return its width and height."""
        width, height = _size(label)
        cell = ET.Element("mxCell", id=cell_id, value=label, style=BOX, vertex="1", parent="1")
        ET.SubElement(
            cell,
            "mxGeometry",
            x=str(x),
            y=str(y),
            width=str(width),
            height=str(height),
            **{"as": "geometry"},
        )
        self.cells.append(cell)
        self.boxes[cell_id] = (x, y, width, height)
        return width, height

    def edge(
        self,
        source: str,
        target: str,
        label: str = "",
        *,
        points: Sequence[tuple[int, int]] = (),
        exit: tuple[float, float] | None = None,
        entry: tuple[float, float] | None = None,
        dashed: bool = False,
    ) -> None:
        """Add an arrow from ``source`` to ``target``, through ``points`` (waypoints).

        ``exit`` and ``entry`` are the relative points on the boxes' outlines where
        the arrow leaves and arrives (draw.io's ``exitX/exitY``, ``entryX/entryY``).
        """
        style = ARROW
        if exit is not None:
            style += f"exitX={exit[0]:g};exitY={exit[1]:g};"
        if entry is not None:
            style += f"entryX={entry[0]:g};entryY={entry[1]:g};"
        if dashed:
            style += "dashed=1;"
        cell = ET.Element(
            "mxCell",
            id=f"{source}->{target}",
            value=label,
            style=style,
            edge="1",
            parent="1",
            source=source,
            target=target,
        )
        geometry = ET.SubElement(cell, "mxGeometry", relative="1", **{"as": "geometry"})
        if points:
            array = ET.SubElement(geometry, "Array", **{"as": "points"})
            for x, y in points:
                ET.SubElement(array, "mxPoint", x=str(x), y=str(y))
        self.cells.append(cell)

    def row(
        self, boxes: Sequence[tuple[str, str]], x: int = 40, y: int = 40, *, join: bool = True
    ) -> None:
        """Lay ``(id, label)`` boxes out left to right from ``(x, y)``, joined by arrows."""
        for cell_id, label in boxes:
            width, _ = self.vertex(cell_id, label, x, y)
            x += width + GAP
        if join:
            for (source, _), (target, _) in itertools.pairwise(boxes):
                self.edge(source, target)

    def bottom(self, *ids: str) -> int:
        """The lowest bottom edge of the boxes ``ids``."""
        return max(self.boxes[i][1] + self.boxes[i][3] for i in ids)

    def top(self, *ids: str) -> int:
        """The highest top edge of the boxes ``ids``."""
        return min(self.boxes[i][1] for i in ids)

    def centre_x(self, cell_id: str) -> int:
        """Horizontal centre of a box."""
        x, _, width, _ = self.boxes[cell_id]
        return x + width // 2

    def xml(self) -> str:
        """The draw.io document, indented, ending with a newline."""
        mxfile = ET.Element("mxfile", host="hpo-harness", type="device")
        diagram = ET.SubElement(mxfile, "diagram", id=self.name, name=self.name)
        model = ET.SubElement(
            diagram,
            "mxGraphModel",
            grid="1",
            gridSize="10",
            guides="1",
            tooltips="1",
            connect="1",
            arrows="1",
            fold="1",
            page="1",
            pageScale="1",
            pageWidth="1600",
            pageHeight="900",
            math="0",
            shadow="0",
        )
        root = ET.SubElement(model, "root")
        ET.SubElement(root, "mxCell", id="0")
        ET.SubElement(root, "mxCell", id="1", parent="0")
        root.extend(self.cells)
        ET.indent(mxfile)
        return ET.tostring(mxfile, encoding="unicode") + "\n"


def _columns(names: Sequence[str]) -> str:
    # Lines end without their comma: a reader of the label (or of the joined text) sees
    # the line break as the separator.
    lines = textwrap.wrap(", ".join(names), WRAP) if names else ["none"]
    return "\n".join(line.rstrip(",") for line in lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def pipeline_diagram(
    dataset: Dataset, config: Mapping[str, Any], *, metric: str, folds: int, test_rows: int
) -> str:
    """The best configuration's pipeline: data -> preprocessing -> resampler -> model -> metrics.

    Parameters
    ----------
    dataset : Dataset
        The full dataset, before the held-out split.
    config : mapping
        The best configuration.
    metric : str
        The objective.
    folds : int
        Cross-validation folds.
    test_rows : int
        Rows of the held-out split.
    """
    cnn = family_of(config).name == "cnn"
    settings = cnn_settings(without_family(config)) if cnn else model_settings(config)
    imbalance = settings[IMBALANCE]
    search_rows = dataset.n_samples - test_rows
    if cnn:
        model = (
            "cnn",
            f"CNN {settings['n_blocks']} blocks from {settings['channels']} "
            f"channels, {settings['kernel_size']}x{settings['kernel_size']}\n"
            f"{settings['optimizer']} lr={settings['lr']:.3g}, "
            f"{settings['max_epochs']} epochs",
        )
    else:
        model = (
            "mlp",
            f"MLP {hidden_layers(config)}, {settings['activation']}\n"
            f"{settings['optimizer']} lr={settings['lr']:.3g}, "
            f"{settings['max_epochs']} epochs",
        )
    graph = _Graph("pipeline")
    graph.row(
        [
            (
                "data",
                f"data: {dataset.name}\n{dataset.n_samples} rows ({test_rows} held out), "
                f"{dataset.n_features} features\n{dataset.n_classes} classes "
                f"({dataset.target})",
            ),
            ("split", f"stratified split\n{search_rows} search rows\n{test_rows} held-out rows"),
            ("fold", f"CV loop, fold k of {folds}\nfit on the other {folds - 1} folds"),
            (
                "preprocessing",
                f"preprocessing\nscaled: {_columns(dataset.numeric)}\n"
                f"one-hot: {_columns(dataset.categorical)}",
            ),
            ("resampler", f"imbalance: {imbalance}\n{IMBALANCE_NOTES[imbalance]}"),
            model,
            (
                "metrics",
                f"metrics: {metric} (objective)\nscored on fold k\nmean over "
                f"{folds} folds = the trial's score",
            ),
        ]
    )
    row = ("fold", "preprocessing", "resampler", model[0], "metrics")
    above = graph.top(*row) - 30
    graph.edge(
        "metrics",
        "fold",
        f"next fold, {folds} in all",
        exit=(0.5, 0),
        entry=(0.5, 0),
        points=[(graph.centre_x("metrics"), above), (graph.centre_x("fold"), above)],
    )
    below = graph.bottom("data", "split", *row) + 60
    x, _, _, _ = graph.boxes["metrics"]
    graph.row(
        [
            (
                "refit",
                f"held-out refit\nbest configuration trained\non all {search_rows} search rows",
            ),
            (
                "holdout",
                f"held-out test\nscored once on the {test_rows} rows\nnever seen by the search",
            ),
        ],
        x=x,
        y=below,
        join=False,
    )
    graph.edge(
        "metrics",
        "refit",
        "best trial's configuration",
        exit=(0.5, 1),
        entry=(1, 0.25),
        points=[(graph.centre_x("metrics"), graph.top("refit") + 15)],
    )
    graph.edge("refit", "holdout")
    graph.edge(
        "split",
        "holdout",
        f"{test_rows} held-out rows",
        exit=(0.5, 1),
        entry=(0.5, 1),
        dashed=True,
        points=[
            (graph.centre_x("split"), graph.bottom("holdout") + 30),
            (graph.centre_x("holdout"), graph.bottom("holdout") + 30),
        ],
    )
    return graph.xml()


def topology_diagram(n_inputs: int, config: Mapping[str, Any], classes: Sequence[Any]) -> str:
    """The best model's layers: input width, each hidden layer, the output classes.

    A CNN configuration shows its input image, each convolutional block and the
    dense head instead (:func:`_cnn_boxes`).

    Parameters
    ----------
    n_inputs : int
        Width of the preprocessed rows (see :func:`encoded_width`).
    config : mapping
        The best configuration.
    classes : sequence
        The class labels, in output order.
    """
    if family_of(config).name == "cnn":
        graph = _Graph("topology")
        graph.row(_cnn_boxes(n_inputs, cnn_settings(without_family(config)), classes))
        return graph.xml()
    settings = model_settings(config)
    boxes = [("input", f"input\n{n_inputs} units")]
    width_in = n_inputs
    for index, width in enumerate(hidden_layers(config), start=1):
        parts = [f"hidden {index}: {width} units", f"Linear {width_in} -> {width}"]
        if settings["batch_norm"]:
            parts.append("BatchNorm1d")
        parts.append(settings["activation"])
        if settings["dropout"] > 0:
            parts.append(f"dropout {settings['dropout']:.3g}")
        boxes.append((f"hidden-{index}", "\n".join(parts)))
        width_in = width
    labels = ", ".join(map(str, classes))
    boxes.append(
        (
            "output",
            f"output: {len(classes)} units\nLinear {width_in} -> {len(classes)}\n"
            f"softmax over {labels}",
        )
    )
    graph = _Graph("topology")
    graph.row(boxes)
    return graph.xml()


def _cnn_boxes(
    n_inputs: int, settings: Mapping[str, Any], classes: Sequence[Any]
) -> list[tuple[str, str]]:
    """The CNN's boxes: input image, each block (conv, batch norm, activation, residual,
    pool, with channels and map size), the dense head and the output."""
    shape = settings["image_shape"]
    shape = tuple(shape) if shape is not None else square_image(n_inputs)
    size = " x ".join(map(str, shape))
    boxes = [("input", f"input image\n{size}\n(channels x height x width)")]
    kernel = f"{settings['kernel_size']}x{settings['kernel_size']}"
    blocks = cnn_blocks(shape, settings["n_blocks"], settings["channels"])
    for index, block in enumerate(blocks, start=1):
        parts = [
            f"block {index}: {block.channels_out} channels",
            f"Conv2d {block.channels_in} -> {block.channels_out}, {kernel}, same padding",
        ]
        if settings["batch_norm"]:
            parts.append("BatchNorm2d")
        parts.append(settings["activation"])
        if settings["residual"]:
            skip = "identity" if block.channels_in == block.channels_out else "1x1 conv"
            parts.append(f"+ residual ({skip})")
        parts.append(
            f"max-pool 2x2 -> {block.height}x{block.width}"
            if block.pooled
            else f"no pool (map {block.height}x{block.width})"
        )
        boxes.append((f"block-{index}", "\n".join(parts)))
    last = blocks[-1]
    width_in = last.channels_out * last.height * last.width
    head = [f"dense head: flatten {width_in}"]
    if settings["dropout"] > 0:
        head.append(f"dropout {settings['dropout']:.3g} before each Linear")
    if settings["dense_units"]:
        head += [f"Linear {width_in} -> {settings['dense_units']}", settings["activation"]]
        width_in = settings["dense_units"]
    boxes.append(("head", "\n".join(head)))
    labels = ", ".join(map(str, classes))
    boxes.append(
        (
            "output",
            f"output: {len(classes)} units\nLinear {width_in} -> {len(classes)}\n"
            f"softmax over {labels}",
        )
    )
    return boxes


def search_loop_diagram(comparison: Comparison, report: str) -> str:
    """The search loop: the comparison's strategies -> trial -> folds -> ledger -> outputs.

    Parameters
    ----------
    comparison : Comparison
        What was run.
    report : str
        Path of the report, as its label shows it.
    """
    graph = _Graph("search-loop")
    strategies = [(f"strategy-{name}", f"strategy: {name}") for name in comparison.strategies]
    if comparison.exhaustive_grid:
        strategies.append(("strategy-exhaustive", "exhaustive grid\n(the optimum)"))
    y, right = 40, 0
    for cell_id, label in strategies:
        width, height = graph.vertex(cell_id, label, 40, y)
        y, right = y + height + 20, max(right, 40 + width)
    graph.row(
        [
            (
                "trial",
                f"trial: a configuration\nfrom space {comparison.space}\n"
                f"{comparison.trials} trials x {_count(len(comparison.seeds), 'seed')}",
            ),
            (
                "folds",
                f"{comparison.folds} stratified folds\ntask seed {comparison.task_seed}, "
                "the same for all",
            ),
            ("ledger", f"ledger: Optuna storage\n{redact_password(comparison.storage)}"),
            ("leaderboard", f"leaderboard\n{comparison.name}.md"),
            ("report", f"report\n{report}"),
        ],
        x=right + GAP,
    )
    # Every strategy's arrow leaves its right side and meets the trial's left side; one
    # label says what they all do.
    for number, (cell_id, _) in enumerate(strategies):
        graph.edge(
            cell_id, "trial", "proposes" if number == 0 else "", exit=(1, 0.5), entry=(0, 0.5)
        )
    # Back from the ledger to the trial below the row, so the arrow crosses no box.
    under = graph.bottom("trial", "folds", "ledger") + 40
    route = [(graph.centre_x("ledger"), under), (graph.centre_x("trial"), under)]
    graph.edge(
        "ledger",
        "trial",
        "finished trials inform the next proposal",
        exit=(0.5, 1),
        entry=(0.5, 1),
        points=route,
    )
    return graph.xml()


def write_diagrams(
    directory: str | Path, name: str, documents: Mapping[str, str]
) -> dict[str, Path]:
    """Write ``<directory>/<name>-<diagram>.drawio`` for each document and return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for diagram, text in documents.items():
        path = directory / f"{name}-{diagram}.drawio"
        path.write_text(text, encoding="utf-8", newline="\n")
        paths[diagram] = path
    return paths


def vertex_labels(xml_text: str) -> dict[str, str]:
    """Label of every vertex of a draw.io document's first diagram, by cell id, in order."""
    root = ET.fromstring(xml_text).find("diagram/mxGraphModel/root")
    cells = [] if root is None else root.iter("mxCell")
    return {
        cell.get("id", ""): cell.get("value", "") for cell in cells if cell.get("vertex") == "1"
    }


def _positive(value: str | None) -> bool:
    try:
        return value is not None and float(value) > 0
    except ValueError:
        return False


def _cell_problems(cells: list[ET.Element], where: str) -> list[str]:
    problems = []
    ids = [cell.get("id") for cell in cells]
    known = set(ids)
    for cell_id in sorted({i for i in ids if i is not None and ids.count(i) > 1}):
        problems.append(f"{where}: duplicate id {cell_id!r}")
    if ids.count(None):
        problems.append(f"{where}: {ids.count(None)} mxCell(s) without an id")
    if "0" not in known or "1" not in known:
        problems.append(f"{where}: missing the root cell '0' or the layer cell '1'")
    for cell in cells:
        cell_id = cell.get("id")
        parent = cell.get("parent")
        if parent is not None and parent not in known:
            problems.append(f"{where}: cell {cell_id!r} has unknown parent {parent!r}")
        if cell.get("edge") == "1":
            for end in ("source", "target"):
                if cell.get(end) not in known:
                    problems.append(
                        f"{where}: edge {cell_id!r} {end} {cell.get(end)!r} is not a cell"
                    )
        if cell.get("vertex") == "1":
            geometry = cell.find("mxGeometry")
            if geometry is None or geometry.get("as") != "geometry":
                problems.append(f"{where}: vertex {cell_id!r} has no mxGeometry")
            elif not (_positive(geometry.get("width")) and _positive(geometry.get("height"))):
                problems.append(f"{where}: vertex {cell_id!r} lacks a positive width or height")
    return problems


def validate_drawio(xml_text: str) -> list[str]:
    """Return the problems of a draw.io document; an empty list means it is valid.

    Checks: well-formed XML; an ``mxfile`` with at least one ``diagram``, each
    holding one ``mxGraphModel`` with a ``root``; unique cell ids with the
    root ``0`` and layer ``1``; every parent, edge source and edge target an
    existing cell; every vertex an ``mxGeometry`` with a positive width and height.
    """
    try:
        mxfile = ET.fromstring(xml_text)
    except ET.ParseError as error:
        return [f"not well-formed XML: {error}"]
    if mxfile.tag != "mxfile":
        return [f"the document element is <{mxfile.tag}>, not <mxfile>"]
    diagrams = mxfile.findall("diagram")
    if not diagrams:
        return ["<mxfile> holds no <diagram>"]
    problems = []
    for number, diagram in enumerate(diagrams, start=1):
        where = f"diagram {number} ({diagram.get('name', 'unnamed')})"
        models = diagram.findall("mxGraphModel")
        root = models[0].find("root") if len(models) == 1 else None
        if root is None:
            problems.append(f"{where}: needs exactly one <mxGraphModel> holding a <root>")
            continue
        problems += _cell_problems(root.findall("mxCell"), where)
    return problems
