"""draw.io diagrams: generated files validate and their labels match what was run."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest
from tiny_comparison import COMPARISON

from harness.data.datasets import load_dataset
from harness.data.splits import holdout_split
from harness.model.vocabulary import hidden_layers, layer_sizes
from harness.report.drawio import (
    DIAGRAMS,
    pipeline_diagram,
    search_loop_diagram,
    topology_diagram,
    validate_drawio,
    vertex_labels,
)
from harness.report.svg import crossings, drawio_svg, stray_punctuation
from harness.report.tuned_model import encoded_width
from harness.results.loading import load_results, refitted_trial
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.storage import redact_password

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


@pytest.fixture
def diagrams(tiny_report):
    return {name: (tiny_report / "drawio" / f"tiny-{name}.drawio").read_text() for name in DIAGRAMS}


@pytest.fixture
def best_config(tiny_report, monkeypatch):
    monkeypatch.chdir(tiny_report)
    results = load_results(load_comparison(COMPARISON))
    return ledger.stored_config(refitted_trial(results.best_study()))


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def _units(label: str) -> int:
    return int(re.search(r"(\d+) units", label).group(1))


def test_every_generated_diagram_is_valid(diagrams):
    assert set(diagrams) == {"pipeline", "topology", "search-loop"}
    for name, text in diagrams.items():
        assert validate_drawio(text) == [], name
        assert text.startswith("<mxfile")


def test_the_topology_shows_the_best_configurations_layers(diagrams, best_config, iris):
    labels = vertex_labels(diagrams["topology"])
    hidden = [labels[key] for key in labels if key.startswith("hidden-")]
    assert [_units(label) for label in hidden] == list(best_config["hidden_layer_sizes"])
    train, _ = holdout_split(iris, 0.2, 0)
    assert _units(labels["input"]) == encoded_width(train) == 4
    assert _units(labels["output"]) == 3
    assert best_config.get("activation", "relu") in hidden[0]


def test_the_pipeline_and_search_loop_name_what_was_run(diagrams, best_config, tiny_report):
    pipeline = vertex_labels(diagrams["pipeline"])
    assert list(pipeline) == [
        "data",
        "split",
        "fold",
        "preprocessing",
        "resampler",
        "mlp",
        "metrics",
        "refit",
        "holdout",
    ]
    assert pipeline["resampler"].startswith(f"imbalance: {best_config.get('imbalance', 'none')}")
    assert "150 rows (30 held out)" in pipeline["data"]
    assert f"lr={best_config['lr']:.3g}" in pipeline["mlp"]
    loop = vertex_labels(diagrams["search-loop"])
    comparison = load_comparison(tiny_report / COMPARISON)
    assert {f"strategy-{s}" for s in comparison.strategies} < set(loop)
    assert "sqlite:///studies/tiny.db" in loop["ledger"]


def test_the_topology_follows_the_sizing_rule(iris):
    sizing = {"neuron_pct": 0.5, "neuron_shrink": 0.5, "max_neurons": 128, "min_neurons": 8}
    config = {**sizing, "max_layers": 3, "dropout": 0.2, "batch_norm": True, "activation": "gelu"}
    assert hidden_layers(config) == layer_sizes(0.5, 0.5, 128, 8, 3) == (64, 32, 16)
    text = topology_diagram(11, config, ["a", "b", "c", "d"])
    assert validate_drawio(text) == []
    labels = vertex_labels(text)
    assert [_units(labels[f"hidden-{i}"]) for i in (1, 2, 3)] == [64, 32, 16]
    assert "Linear 11 -> 64" in labels["hidden-1"] and "Linear 16 -> 4" in labels["output"]
    for i in (1, 2, 3):
        assert "BatchNorm1d" in labels[f"hidden-{i}"] and "dropout 0.2" in labels[f"hidden-{i}"]


@pytest.mark.parametrize("imbalance", ["smote", "class_weight", "focal"])
def test_the_resampler_box_names_the_imbalance_strategy(iris, imbalance):
    text = pipeline_diagram(
        iris, {"imbalance": imbalance}, metric="f1_macro", folds=5, test_rows=30
    )
    assert validate_drawio(text) == []
    assert vertex_labels(text)["resampler"].startswith(f"imbalance: {imbalance}\n")


def test_the_search_loop_adds_the_exhaustive_grid_when_there_is_one(tiny_report):
    comparison = load_comparison(tiny_report / COMPARISON)
    with_grid = vertex_labels(search_loop_diagram(comparison, "reports/tiny.md"))
    assert "strategy-exhaustive" in with_grid
    without = dataclasses.replace(comparison, exhaustive_grid=False)
    assert "strategy-exhaustive" not in vertex_labels(search_loop_diagram(without, "r.md"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3cr@t@db.host:5432/hpo", "postgresql://bob:***@db.host:5432/hpo"),
        ("postgresql://bob@db.host/hpo", "postgresql://bob@db.host/hpo"),
        ("sqlite:///studies/tiny.db", "sqlite:///studies/tiny.db"),
    ],
)
def test_storage_passwords_never_reach_a_diagram(tiny_report, url, shown):
    comparison = dataclasses.replace(load_comparison(tiny_report / COMPARISON), storage=url)
    assert redact_password(url) == shown
    assert vertex_labels(search_loop_diagram(comparison, "r.md"))["ledger"].endswith(shown)


VALID = """<mxfile><diagram name="d"><mxGraphModel><root>
<mxCell id="0"/><mxCell id="1" parent="0"/>
<mxCell id="a" value="A" vertex="1" parent="1"><mxGeometry width="80" height="40" as="geometry"/></mxCell>
<mxCell id="b" value="B" vertex="1" parent="1"><mxGeometry width="80" height="40" as="geometry"/></mxCell>
<mxCell id="e" edge="1" parent="1" source="a" target="b"><mxGeometry relative="1" as="geometry"/></mxCell>
</root></mxGraphModel></diagram></mxfile>"""  # noqa: E501


def test_the_validator_accepts_a_minimal_document():
    assert validate_drawio(VALID) == []


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        ([('id="b"', 'id="a"')], "duplicate id 'a'"),
        ([('target="b"', 'target="x"')], "edge 'e' target 'x' is not a cell"),
        ([(' source="a"', "")], "edge 'e' source None is not a cell"),
        (
            [('<mxGeometry width="80" height="40" as="geometry"/></mxCell>', "</mxCell>")],
            "vertex 'a' has no mxGeometry",
        ),
        (
            [
                (
                    '"B" vertex="1" parent="1"><mxGeometry width="80"',
                    '"B" vertex="1" parent="1"><mxGeometry width="0"',
                )
            ],
            "vertex 'b' lacks a positive width or height",
        ),
        ([('<mxCell id="0"/>', "")], "missing the root cell '0'"),
        ([('parent="0"', 'parent="z"')], "cell '1' has unknown parent 'z'"),
        ([("<root>", "")], "not well-formed XML"),
        ([("<root>", "<tree>"), ("</root>", "</tree>")], "needs exactly one <mxGraphModel>"),
        ([("<mxfile>", "<graph>"), ("</mxfile>", "</graph>")], "not <mxfile>"),
    ],
)
def test_the_validator_finds_each_kind_of_defect(edits, problem):
    broken = VALID
    for old, new in edits:
        assert old in broken
        broken = broken.replace(old, new, 1)
    problems = validate_drawio(broken)
    assert any(problem in p for p in problems), problems


def test_every_diagram_has_an_svg_drawn_from_the_same_cells(diagrams, tiny_report):
    for name, text in diagrams.items():
        image = (tiny_report / "drawio" / f"tiny-{name}.svg").read_text(encoding="utf-8")
        assert image.startswith("<svg") and image == drawio_svg(text)
        assert ET.fromstring(image).tag.endswith("svg")
        boxes = len(vertex_labels(text))
        assert image.count('rx="8"') == boxes, name  # one rounded box per vertex
        assert image.count("<polyline") == text.count('edge="1"'), name
        for label in vertex_labels(text).values():
            assert label.split("\n")[0] in image.replace("&amp;", "&")


def test_no_edge_crosses_a_box_and_labels_have_no_stray_punctuation(diagrams):
    for name, text in diagrams.items():
        assert crossings(text) == [], name
        for label in vertex_labels(text).values():
            assert not stray_punctuation(label), (name, label)


def test_the_search_loop_feedback_edge_has_waypoints_below_the_row(tiny_report):
    text = search_loop_diagram(load_comparison(tiny_report / COMPARISON), "r.md")
    cell = next(c for c in ET.fromstring(text).iter("mxCell") if c.get("id") == "ledger->trial")
    points = cell.findall("mxGeometry/Array/mxPoint")
    assert len(points) == 2
    assert crossings(text) == []


def test_the_crossing_check_finds_a_straight_edge_through_a_box():
    graph = (
        '<mxfile><diagram name="d"><mxGraphModel><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/>'
        + "".join(
            f'<mxCell id="{i}" value="{i}" vertex="1" parent="1"><mxGeometry x="{x}" y="0" '
            'width="50" height="40" as="geometry"/></mxCell>'
            for i, x in (("a", 0), ("b", 100), ("c", 200))
        )
        + '<mxCell id="c->a" edge="1" parent="1" source="c" target="a">'
        '<mxGeometry relative="1" as="geometry"/></mxCell></root></mxGraphModel></diagram>'
        "</mxfile>"
    )
    assert crossings(graph) == [("c->a", "b")]
    assert stray_punctuation("scaled:\nincome,") and not stray_punctuation("scaled: income")
