"""SVG images of the draw.io diagrams, drawn from the same cells, for embedding in the report.

:func:`drawio_svg` reads a document written by :mod:`harness.report.drawio` (boxes
with their geometry, edges with their exit and entry points and waypoints) and
writes a plain SVG: one rounded rectangle and its label lines per box, one
polyline with an arrowhead per edge. No external tool is involved, and the same
document always gives the same bytes.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from harness.report.drawio import LINE_HEIGHT

MARGIN = 20
FONT_SIZE = 12


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float
    label: str

    def point(self, rx: float, ry: float) -> tuple[float, float]:
        return self.x + rx * self.width, self.y + ry * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.point(0.5, 0.5)


def _style(style: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in style.split(";") if "=" in part)


def _relative(style: dict[str, str], prefix: str) -> tuple[float, float] | None:
    if f"{prefix}X" in style and f"{prefix}Y" in style:
        return float(style[f"{prefix}X"]), float(style[f"{prefix}Y"])
    return None


def _side(box: _Box, towards: tuple[float, float]) -> tuple[float, float]:
    """The middle of the side of ``box`` facing ``towards`` (left/right unless straight above)."""
    cx, cy = box.centre
    dx, dy = towards[0] - cx, towards[1] - cy
    if abs(dx) * box.height >= abs(dy) * box.width:
        return box.point(1.0 if dx > 0 else 0.0, 0.5)
    return box.point(0.5, 1.0 if dy > 0 else 0.0)


def _route(
    source: _Box,
    target: _Box,
    points: list[tuple[float, float]],
    exit: tuple[float, float] | None,
    entry: tuple[float, float] | None,
) -> list[tuple[float, float]]:
    """Polyline from ``source`` to ``target``: orthogonal elbows where no waypoint is given."""
    first_towards = points[0] if points else target.centre
    last_towards = points[-1] if points else source.centre
    start = source.point(*exit) if exit else _side(source, first_towards)
    end = target.point(*entry) if entry else _side(target, last_towards)
    if points:
        return [start, *points, end]
    if abs(start[1] - end[1]) < 1e-9 or abs(start[0] - end[0]) < 1e-9:
        return [start, end]
    middle = (start[0] + end[0]) / 2
    return [start, (middle, start[1]), (middle, end[1]), end]


def _label_position(line: list[tuple[float, float]]) -> tuple[float, float]:
    """Middle of the polyline's longest segment."""
    segments = list(itertools.pairwise(line))
    (x1, y1), (x2, y2) = max(
        segments, key=lambda s: abs(s[1][0] - s[0][0]) + abs(s[1][1] - s[0][1])
    )
    return (x1 + x2) / 2, (y1 + y2) / 2


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(
    x: float, y: float, lines: list[str], *, anchor: str = "middle", halo: bool = False
) -> str:
    first = y - (len(lines) - 1) * LINE_HEIGHT / 2
    extra = ' stroke="white" stroke-width="4" paint-order="stroke"' if halo else ""
    spans = "".join(
        f'<tspan x="{_number(x)}" y="{_number(first + i * LINE_HEIGHT)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text text-anchor="{anchor}" dominant-baseline="middle" font-family="sans-serif" '
        f'font-size="{FONT_SIZE}"{extra}>{spans}</text>'
    )


@dataclass(frozen=True)
class _Edge:
    id: str
    source: str
    target: str
    label: str
    dashed: bool
    line: list[tuple[float, float]]


def _parse(xml_text: str) -> tuple[dict[str, _Box], list[_Edge]]:
    """Boxes by id and routed edges of the first diagram of a draw.io document."""
    root = ET.fromstring(xml_text).find("diagram/mxGraphModel/root")
    cells = [] if root is None else list(root.iter("mxCell"))
    boxes: dict[str, _Box] = {}
    for cell in cells:
        geometry = cell.find("mxGeometry")
        if cell.get("vertex") == "1" and geometry is not None:
            boxes[cell.get("id", "")] = _Box(
                *(float(geometry.get(k, 0)) for k in ("x", "y", "width", "height")),
                cell.get("value", ""),
            )
    edges = []
    for cell in cells:
        if cell.get("edge") != "1":
            continue
        style = _style(cell.get("style", ""))
        points = [
            (float(p.get("x", 0)), float(p.get("y", 0)))
            for p in cell.iterfind("mxGeometry/Array/mxPoint")
        ]
        source, target = cell.get("source", ""), cell.get("target", "")
        line = _route(
            boxes[source],
            boxes[target],
            points,
            _relative(style, "exit"),
            _relative(style, "entry"),
        )
        edges.append(
            _Edge(
                cell.get("id", ""),
                source,
                target,
                cell.get("value", ""),
                style.get("dashed") == "1",
                line,
            )
        )
    return boxes, edges


def drawio_svg(xml_text: str) -> str:
    """An SVG drawing of the first diagram of a draw.io document, ending with a newline."""
    boxes, edges = _parse(xml_text)
    shapes, lines, labels = [], [], []
    extent_x = [b.x + b.width for b in boxes.values()]
    extent_y = [b.y + b.height for b in boxes.values()]
    for edge in edges:
        extent_x += [x for x, _ in edge.line]
        extent_y += [y for _, y in edge.line]
        dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
        path = " ".join(f"{_number(x)},{_number(y)}" for x, y in edge.line)
        lines.append(
            f'<polyline points="{path}" fill="none" stroke="#444" stroke-width="1.5"{dash} '
            'marker-end="url(#arrow)"/>'
        )
        if edge.label:
            labels.append(_text(*_label_position(edge.line), [edge.label], halo=True))
    for box in boxes.values():
        shapes.append(
            f'<rect x="{_number(box.x)}" y="{_number(box.y)}" width="{_number(box.width)}" '
            f'height="{_number(box.height)}" rx="8" fill="#dae8fc" stroke="#6c8ebf"/>'
        )
        shapes.append(_text(*box.centre, box.label.split("\n")))
    width = max(extent_x, default=0) + MARGIN * 2
    height = max(extent_y, default=0) + MARGIN * 2
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" '
        f'height="{_number(height)}" viewBox="0 0 {_number(width)} {_number(height)}">'
    )
    marker = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#444"/></marker></defs>'
    )
    body = [
        header,
        marker,
        '<rect width="100%" height="100%" fill="white"/>',
        *lines,
        *shapes,
        *labels,
        "</svg>",
    ]
    return "\n".join(body) + "\n"


def write_svgs(paths: dict[str, Path]) -> dict[str, Path]:
    """Write ``<name>.svg`` next to each ``<name>.drawio`` and return the SVG paths."""
    written = {}
    for key, path in paths.items():
        target = path.with_suffix(".svg")
        target.write_text(
            drawio_svg(path.read_text(encoding="utf-8")), encoding="utf-8", newline="\n"
        )
        written[key] = target
    return written


def crossings(xml_text: str) -> list[tuple[str, str]]:
    """``(edge id, box id)`` for every edge passing through a box it does not join."""
    boxes, edges = _parse(xml_text)
    found = []
    for edge in edges:
        for name, box in boxes.items():
            if name in (edge.source, edge.target):
                continue
            if any(_segment_hits(a, b, box) for a, b in itertools.pairwise(edge.line)):
                found.append((edge.id, name))
    return found


def _segment_hits(a: tuple[float, float], b: tuple[float, float], box: _Box) -> bool:
    """Whether the segment ``a``-``b`` passes through the inside of ``box`` (sampled)."""
    for step in range(101):
        t = step / 100
        x, y = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        if box.x < x < box.x + box.width and box.y < y < box.y + box.height:
            return True
    return False


_STRAY = re.compile(r"[,:;]\s*[,:;]|[,;:]$")


def stray_punctuation(label: str) -> bool:
    """Whether a label has doubled punctuation or a line ending in a comma or colon."""
    return any(_STRAY.search(line.strip()) for line in label.split("\n"))
