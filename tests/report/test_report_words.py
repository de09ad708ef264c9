"""The plain-language layer speaks of each dataset's own rows and classes.

Teleconnect's report keeps its customers, segments and campaign planners word for
word; a wine file's speaks of wines and quality grades, a CSV file's of rows and
classes, and neither ever of customers, segments or campaigns.
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import pandas as pd
import pytest

from harness.data.datasets import (
    DATASETS,
    NEUTRAL,
    TELECONNECT_WORDS,
    WINE_QUALITY_WORDS,
    Dataset,
    Vocabulary,
    load_csv,
)
from harness.report import business, figures
from harness.report.document import SECTIONS, anchor, section_titles
from harness.report.notebook import notebook_json
from harness.study.comparison import Comparison
from harness.study.holdout import BASELINE, TUNED

TELECOM = re.compile(r"customer|segment|campaign", re.IGNORECASE)
"""Teleconnect's vocabulary, wrong for any other dataset."""

LABELS = [5, 6, 7]
HOLDOUT = {
    TUNED: {"labels": LABELS, "confusion": [[20, 10, 10], [12, 15, 13], [10, 12, 18]]},
    BASELINE: {"labels": LABELS, "confusion": [[25, 10, 5], [10, 18, 12], [8, 10, 22]]},
}
"""Held-out results of a tuned model below half accuracy (53 of 120 right)."""


def _probabilities() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    truth = np.repeat(LABELS, 40)
    proba = rng.dirichlet(np.ones(len(LABELS)), size=len(truth))
    return truth, proba


def _dataset(words: Vocabulary) -> Dataset:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"alcohol": rng.normal(10, 1, 60), "acidity": rng.normal(3, 0.3, 60)}
    ).assign(quality=np.repeat(LABELS, 20))
    dataset = Dataset.from_frame(frame, "quality", name="wines", source="a test")
    return Dataset(
        dataset.name, dataset.X, dataset.y, dataset.target, source="a test", vocabulary=words
    )


def _plain_language(words: Vocabulary, names: dict[str, str]) -> str:
    """Every sentence, table column and cell of the business layer, for ``words``."""
    changes = business.segment_changes(HOLDOUT, names, words=words)
    parts = [
        *business.campaign_summary(HOLDOUT, names, words=words),
        changes.to_string(),
        *business.change_sentences(changes, words=words),
        business.segment_profiles(_dataset(words), names, words=words).to_string(),
        business.gains(*_probabilities(), LABELS, names, words=words).to_string(),
    ]
    return "\n".join(parts)


def test_a_wine_summary_speaks_of_wines_and_quality_grades():
    text = _plain_language(WINE_QUALITY_WORDS, {})
    assert not TELECOM.search(text), TELECOM.search(text)
    summary = business.campaign_summary(HOLDOUT, {}, words=WINE_QUALITY_WORDS)
    assert summary[0].startswith(
        "Tested on 120 wines it never saw, the model puts 44% of them in their true quality grade"
    )
    assert "Putting every wine in the largest quality grade, quality grade 5," in summary[0]
    assert "it assigns quality grades better than that guess" in summary[1]
    assert "quality grade 5 wines best" in summary[2] and "40 wines per quality grade" in text
    table = business.segment_changes(HOLDOUT, {}, words=WINE_QUALITY_WORDS)
    assert list(table.columns[:2]) == ["quality grade", "wines"]


def test_a_csv_file_summary_speaks_of_rows_and_classes(tmp_path):
    path = tmp_path / "measurements.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    words = load_csv(path, "label").vocabulary
    assert words == NEUTRAL
    text = _plain_language(words, {})
    assert not TELECOM.search(text), TELECOM.search(text)
    summary = business.campaign_summary(HOLDOUT, {}, words=words)
    assert summary[0].startswith("Tested on 120 rows it never saw")
    assert "Putting every row in the largest class, class 5," in summary[0]
    assert "class 5 rows best" in summary[2]
    assert words.summary_heading == "In plain words"
    assert section_titles(words)[5] == "Classes in plain words"


def test_teleconnect_keeps_its_words():
    names = {"1": "Basic", "2": "E-Service"}
    holdout = {
        model: {"labels": [1, 2, 3], "confusion": result["confusion"]}
        for model, result in HOLDOUT.items()
    }
    assert business.campaign_summary(holdout, names, words=TELECONNECT_WORDS) == [
        "Tested on 120 customers it never saw, the model puts 44% of them in their true segment "
        "(95% interval 36% to 52%, bootstrap over those customers). Putting everyone in the "
        "largest segment, Basic, would be right for 33%.",
        "So it can prioritise, not decide: it assigns segments better than that guess, but most "
        "individual assignments are wrong, so use it to order a contact list or to pick which "
        "offer a customer sees first, not to decide alone who gets which service.",
        "It finds Basic customers best (50% of the 40 in the test) and E-Service customers worst "
        "(38% of 40); each figure rests on 40 to 40 customers per segment, so one customer "
        "moves it by about 2%.",
        "Tuning moved that share from 54% (the unoptimized model) to 44%: -10.0% [-21.7%, "
        "+2.5%] (95% interval, unpaired bootstrap over the customers), a loss these 120 "
        "customers cannot confirm.",
    ]
    changes = business.segment_changes(holdout, names, words=TELECONNECT_WORDS)
    assert list(changes.columns[:2]) == ["segment", "customers"]
    assert business.change_sentences(changes, words=TELECONNECT_WORDS) == [
        "1 (Basic): 20 of 40 found after tuning, 25 before: fewer found (-5); of the customers "
        "the tuned model puts in this segment, 48% belong there (was 58%).",
        "3: 18 of 40 found after tuning, 22 before: fewer found (-4); of the customers the "
        "tuned model puts in this segment, 44% belong there (was 56%).",
        "2 (E-Service): 15 of 40 found after tuning, 18 before: fewer found (-3); of the "
        "customers the tuned model puts in this segment, 41% belong there (was 47%).",
        "With 40 to 40 customers per segment one customer is about 2% of recall: changes of a "
        "few customers are within the noise of this test.",
    ]
    assert DATASETS["teleconnect"].vocabulary == TELECONNECT_WORDS
    assert TELECONNECT_WORDS.summary_heading == "For campaign planners"
    assert section_titles(TELECONNECT_WORDS) == SECTIONS
    assert SECTIONS[5] == "Segments and campaigns"
    assert anchor(SECTIONS[5]) == "#segments-and-campaigns"


def test_an_accurate_model_is_not_said_to_be_mostly_wrong():
    accurate = {
        TUNED: {"labels": [0, 1], "confusion": [[98, 2], [2, 98]]},
    }
    summary = business.campaign_summary(accurate, {}, words=NEUTRAL)[1]
    assert "about 2% of individual assignments are wrong" in summary
    assert "most individual assignments" not in summary


def test_figure_labels_take_the_dataset_words():
    confusion = figures.confusion_figure(HOLDOUT, [BASELINE, TUNED], {}, group="quality grade")
    ax = confusion.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted quality grade", "true quality grade")
    calibration = figures.calibration_figure(*_probabilities(), LABELS, {}, group="digit")
    assert calibration.axes[0].get_ylabel() == "share in the digit"


def _notebook(words: Vocabulary, names: dict[str, str]) -> tuple[str, str]:
    comparison = Comparison(
        name="wine", strategies=("tpe",), seeds=(0,), trials=2, dataset="wine-red"
    )
    text = notebook_json(
        comparison,
        {"hidden_units": 8},
        storage="sqlite:///x.db",
        study="wine-tpe-s0",
        source="a test",
        names=names,
        words=words,
    )
    cells = json.loads(text)["cells"]
    code = "".join("".join(c["source"]) + "\n" for c in cells if c["cell_type"] == "code")
    return "".join("".join(c["source"]) for c in cells), code


@pytest.mark.parametrize("words", [WINE_QUALITY_WORDS, NEUTRAL, DATASETS["iris"].vocabulary])
def test_the_notebook_speaks_the_dataset_words_and_its_code_parses(words):
    text, code = _notebook(words, {})
    ast.parse(code)
    assert not TELECOM.search(text), TELECOM.search(text)
    assert f"### Per {words.group}" in text and f'"predicted {words.group}"' in text
    assert f"for new {words.rows}." in text


def test_the_teleconnect_notebook_keeps_its_words():
    text, code = _notebook(TELECONNECT_WORDS, {"1": "Basic"})
    ast.parse(code)
    for kept in (
        "SEGMENTS = {'1': 'Basic'}",
        "def segment(label):",
        '"""The segment name of a class label, or the label itself."""',
        "### Per segment",
        "per_segment = pd.DataFrame(rows)",
        'ax.set_xlabel("predicted segment")',
        "for new customers.",
        "new_customers = test.X.head(5)",
        'scored.insert(0, "predicted segment", [segment(c) for c in model.predict(new_customers)])',
    ):
        assert kept in text


@pytest.mark.parametrize(
    ("tuned", "verdict"),
    [
        ([[30, 5, 5], [5, 30, 5], [5, 5, 30]], "a gain the test customers support."),
        ([[10, 15, 15], [15, 10, 15], [15, 15, 10]], "a loss the test customers support"),
        ([[25, 10, 5], [10, 18, 12], [8, 10, 23]], "a gain these 121 customers cannot confirm."),
        (HOLDOUT[BASELINE]["confusion"], "no change on these 120 customers."),
    ],
)
def test_the_change_from_tuning_is_called_a_gain_or_a_loss_by_its_sign(tuned, verdict):
    """A held-out change below zero is a loss, never "a gain ... cannot confirm"."""
    holdout = {
        TUNED: {"labels": LABELS, "confusion": tuned},
        BASELINE: dict(HOLDOUT[BASELINE]),
    }
    last = business.campaign_summary(holdout, {}, words=TELECONNECT_WORDS)[-1]
    assert last.endswith(verdict) or verdict in last
    assert ("gain" in last) == ("gain" in verdict)


def test_shares_that_round_alike_keep_a_decimal_and_a_bound_keeps_its_sign():
    # 360 digits: 355 right before tuning, 357 after; two whole percents would both say 99%.
    right = {TUNED: 357, BASELINE: 355}
    holdout = {
        model: {"labels": [0, 1], "confusion": [[180, 0], [360 - count, count - 180]]}
        for model, count in right.items()
    }
    text = business.campaign_summary(holdout, {}, words=TELECONNECT_WORDS)[-1]
    assert text.startswith("Tuning moved that share from 98.6% (the unoptimized model) to 99.2%")
    assert "99% (the unoptimized model) to 99%" not in text
    assert business._signed_share(-0.0001) == "-0.01%"
    assert business._signed_share(0.006) == "+0.6%" and business._signed_share(0.0) == "+0.0%"
