"""The comparison report: sections, figures, citations, numbers and byte-identical rebuilds."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace

import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import FIXTURES, random_search_trials
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.metrics import precision_recall_fscore_support
from tiny_comparison import COMPARISON

from harness.cli import main
from harness.data.datasets import DATASETS, WINE_QUALITY_WORDS
from harness.report import business, document
from harness.report.context import load_context
from harness.report.document import SECTIONS, section_titles
from harness.report.drawio import DIAGRAMS
from harness.report.recommendations import WILCOXON_MIN_PAIRS, final_advice, imbalance_advice
from harness.report.references import REFERENCES
from harness.report.sections import STRATEGY_RATIONALE
from harness.report.tuned_model import class_metrics, param_importances
from harness.results import efficiency, generalization
from harness.results.loading import load_results, refitted_trial
from harness.search.strategies import STRATEGIES
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.holdout import BASELINE, TUNED
from harness.study.metrics import METRICS

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tiny_report, monkeypatch):
    monkeypatch.chdir(tiny_report)
    return tiny_report


@pytest.fixture
def text(tiny_report):
    return (tiny_report / "reports" / "tiny.md").read_text(encoding="utf-8")


@pytest.fixture
def results(workdir):
    return load_results(load_comparison(COMPARISON))


def _body_and_bibliography(text: str) -> tuple[str, str]:
    body, _, bibliography = text.partition(f"\n## {SECTIONS[-1]}\n")
    return body, bibliography


IRIS_SECTIONS = section_titles(DATASETS["iris"].vocabulary)
"""The tiny comparison's headings: iris's plain-language section is "Species for botanists"."""


def test_every_section_is_there_in_order(text):
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == list(IRIS_SECTIONS)
    assert IRIS_SECTIONS[5] == "Species for botanists" != SECTIONS[5]
    for sub in (
        "Strategies and why each was chosen",
        "Changes made to the model",
        "Before and after on the held-out test split",
        "Per class",
        "Search efficiency",
        "Optimizers and imbalance handling",
        "Which strategy at which budget",
    ):
        assert f"\n### {sub}\n" in text


def test_every_figure_is_referenced_and_exists(tiny_report, text):
    referenced = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", text)
    # the tiny space has two parameters (a contour) and stores probabilities (a calibration)
    assert len(referenced) == 8
    for number in range(1, 9):  # every figure is cited where the text discusses it
        body = text.partition("\n## Figures\n")[0]
        assert f"Figure {number}" in body, number
    for link in referenced:
        assert (tiny_report / "reports" / link).is_file(), link
    written = {
        p.relative_to(tiny_report / "reports").as_posix()
        for p in (tiny_report / "reports").rglob("*.png")
    }
    assert written == set(referenced)
    for name in DIAGRAMS:  # each diagram's SVG is shown next to its draw.io link
        assert f"](../drawio/tiny-{name}.svg)" in text
        assert (tiny_report / "drawio" / f"tiny-{name}.svg").is_file()


def test_every_diagram_is_named_in_the_report(tiny_report, text):
    diagrams = text.partition("\n## Diagrams\n")[2].partition("\n## ")[0]
    for name in DIAGRAMS:
        link = f"../drawio/tiny-{name}.drawio"
        assert f"[{link}]({link})" in diagrams
        assert (tiny_report / "reports" / link).is_file()


def test_citations_and_bibliography_match_both_ways(text):
    body, bibliography = _body_and_bibliography(text)
    cited = set()
    year = r"(?:\d{4}|n\.d\.)"
    for group in re.findall(rf"\(([A-Z][^()]*?, {year}(?:; [^()]*?, {year})*)\)", body):
        for item in group.split("; "):
            author, when = item.rsplit(", ", 1)
            cited.add((author.split()[0], when))
    listed = [
        (surname, when)
        for surname, when in re.findall(rf"^- ([^,]+), .*?\(({year})\)\.", bibliography, re.M)
    ]
    assert cited == set(listed)
    assert len(listed) == len(bibliography.strip().splitlines())
    assert listed == sorted(listed)
    assert ("Akiba", "2019") in cited and ("Kingma", "2015") in cited


def test_every_reference_has_a_distinct_citation():
    forms = [ref.in_text for ref in REFERENCES.values()]
    assert len(set(forms)) == len(forms)
    assert REFERENCES["kingma2015"].entry.startswith(
        "Kingma, D. P. and Ba, J. (2015). Adam: A method for stochastic optimization."
    )


def test_every_strategy_has_a_rationale():
    assert set(STRATEGY_RATIONALE) == set(STRATEGIES)
    cited = {key for _, keys in STRATEGY_RATIONALE.values() for key in keys}
    assert cited <= set(REFERENCES)


def test_rebuilding_gives_identical_bytes(workdir, capsys):
    outputs = [workdir / "reports", workdir / "drawio"]
    before = {p: p.read_bytes() for folder in outputs for p in folder.rglob("*") if p.is_file()}
    for folder in outputs:
        shutil.rmtree(folder)
    assert main(["report", COMPARISON]) == 0
    after = {p: p.read_bytes() for folder in outputs for p in folder.rglob("*") if p.is_file()}
    assert after.keys() == before.keys()
    assert [p for p in before if before[p] != after[p]] == []
    assert len(before) == 1 + 1 + 8 + 3 + 3  # report, notebook, figures, diagrams, their SVGs


def test_the_best_study_is_chosen_by_cv_score(results):
    study = results.best_study()
    candidates = [*results.studies, results.exhaustive]
    assert refitted_trial(study).value == max(refitted_trial(s).value for s in candidates)
    assert refitted_trial(study).number == study.user_attrs[ledger.HOLDOUT_TRIAL]


def test_before_and_after_numbers_are_the_stored_ones(results, text):
    holdout = ledger.stored_holdout(results.best_study())
    for metric in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "log_loss"):
        before = holdout[BASELINE]["scores"][metric]
        after = holdout[TUNED]["scores"][metric]
        line = f"- {metric}: {before:.4f} before, {after:.4f} after ({after - before:+.4f}"
        assert line in text
        # The change carries the paired interval the leaderboard's holdout table prints, and
        # a verdict only where that interval excludes zero.
        paired = generalization.holdout_difference(holdout, TUNED, BASELINE, metric)
        assert paired is not None
        interval = paired.difference
        shown = text.split(line, 1)[1].split("\n", 1)[0]
        assert shown.startswith(interval.format("+.4f")[len(f"{after - before:+.4f}") :])
        sign = 1 if METRICS[metric].greater_is_better else -1
        low, high = sorted((sign * interval.low, sign * interval.high))
        verdict = "better" if low > 0 else "worse" if high < 0 else "within the noise"
        assert shown.endswith(f", {verdict})")


def test_per_class_metrics_reproduce_the_stored_macro_scores(results):
    for study in results.studies:
        for result in study.user_attrs[ledger.HOLDOUT].values():
            macro = class_metrics(result["confusion"], result["labels"]).iloc[-1]
            scores = result["scores"]
            assert macro["precision"] == pytest.approx(scores["precision_macro"])
            assert macro["recall"] == pytest.approx(scores["recall_macro"])
            assert macro["f1"] == pytest.approx(scores["f1_macro"])


def test_class_metrics_match_scikit_learn_with_a_class_never_predicted():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 1, 0, 1])
    confusion = pd.crosstab(y_true, y_pred).reindex(columns=[0, 1, 2], fill_value=0)
    table = class_metrics(confusion.to_numpy(), ["a", "b", "c"])
    expected = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    np.testing.assert_allclose(table["precision"].iloc[:3], expected[0])
    np.testing.assert_allclose(table["recall"].iloc[:3], expected[1])
    np.testing.assert_allclose(table["f1"].iloc[:3], expected[2])
    assert list(table["support"]) == [3, 2, 3, 8]
    assert table["class"].iloc[-1] == "macro"
    assert table["precision"].iloc[-1] == pytest.approx(np.mean(expected[0]))


def test_recommendations_state_the_computed_numbers(results, text):
    comparison = results.comparison
    auc = efficiency.anytime_auc(results.frame, optimum=results.optimum, budget=comparison.trials)
    best = auc.sort_values(["auc_nr", "auc_regret", "strategy"]).iloc[0]
    assert (
        f"Up to {comparison.trials} trials, {best['strategy']} has the lowest anytime AUC of "
        f"normalized regret ({best['auc_nr']:.3f}" in text
    )
    # Two seeds cannot make a Wilcoxon test significant: the report must say so.
    assert (
        f"With 2 paired seeds no Wilcoxon test can reach p < 0.05 (it needs {WILCOXON_MIN_PAIRS})"
        in text
    )
    assert "did not vary imbalance handling" in text  # the tiny space has no `imbalance`


def test_segment_parts_say_when_the_held_out_results_do_not_store_them(results):
    ctx = load_context(results, results.comparison.load_dataset())
    stored = document._segments_section(ctx, {"targeting": 1})
    assert "Drop in the held-out score" in stored and "If a botanist checks" in stored
    bare = {name: dict(values) for name, values in ctx.holdout.items()}
    for key in ("permutation_importance", "proba"):
        bare[TUNED].pop(key, None)
    missing = document._segments_section(replace(ctx, holdout=bare), {"targeting": 1})
    assert "Drop in the held-out score" not in missing and "If a botanist" not in missing
    assert f"the held-out rows are {business.NOT_STORED}. (The importances" in missing
    assert f"probabilities, which are {business.NOT_STORED}; rerun" in missing
    # Everything else in the section is the same.
    assert missing.split("### Flower drivers")[0] == stored.split("### Flower drivers")[0]


TELECOM = re.compile(r"customer|segment|campaign", re.IGNORECASE)


def test_the_iris_report_speaks_of_flowers_and_species_never_of_customers(text):
    layer = text.split("## Executive summary")[1].split("### What the numbers support")[0]
    assert "### For botanists" in layer and " flowers it never saw" in layer
    section = text.split("\n## Species for botanists\n")[1].split("\n## Figures\n")[0]
    assert "### What tuning changed, species by species" in section
    assert re.search(r"\| species +\| +flowers +\|", section) and "### Species profiles" in section
    assert "[Species for botanists](#species-for-botanists)" in layer
    body, _ = _body_and_bibliography(text)
    assert not TELECOM.search(body), TELECOM.search(body)


def test_a_wine_report_speaks_of_wines_and_quality_grades(results):
    ctx = load_context(results, results.comparison.load_dataset())
    wine = replace(ctx, dataset=replace(ctx.dataset, vocabulary=WINE_QUALITY_WORDS))
    summary = document._summary_section(wine)
    section = document._segments_section(wine, {"calibration": 3})
    assert summary.startswith("### For wine makers\n") and " wines it never saw" in summary
    assert "[Quality grades for wine makers](#quality-grades-for-wine-makers)" in summary
    assert "### What tuning changed, quality grade by quality grade" in section
    assert re.search(r"\| quality grade +\| +wines +\|", section)
    assert "If a taster checks the top" in section
    assert "Figure 3 shows whether those probabilities can be read at face value: quality " in (
        section
    )
    for part in (summary, section):
        assert not TELECOM.search(part), TELECOM.search(part)


def _imbalance_frame(smote_effect: float) -> pd.DataFrame:
    """Five seeds of trials where smote adds ``smote_effect`` to every configuration's score."""
    return random_search_trials(
        "imbalance",
        lambda position: "smote" if position % 2 else "none",
        lambda imbalance, lr: 0.7 - 0.2 * lr + (smote_effect if imbalance == "smote" else 0.0),
        seeds=5,
        trials=30,
        noise=0.005,
        rng_seed=1,
    )


@pytest.mark.parametrize(
    ("effect", "verdict"),
    [
        (0.0, "the paired interval includes 0"),
        (0.1, "resampling helped: the paired interval lies above 0"),
        (-0.1, "resampling hurt: the paired interval lies below 0"),
    ],
)
def test_imbalance_advice_compares_on_matched_configurations(effect, verdict):
    from harness.results.factors import factor_effects

    table = factor_effects(_imbalance_frame(effect), "imbalance")
    sentences = imbalance_advice(table, imbalance_ratio=3.0)
    assert verdict in sentences[-1]
    assert "best resampler that ran, smote" in sentences[-1] and "over 5 seeds" in sentences[-1]


def test_final_advice_reports_significance_from_the_tests():
    final = pd.DataFrame(
        {
            "strategy": ["tpe", "random", "grid"],
            "seeds": [8, 8, 8],
            "mean": [0.9, 0.85, 0.89],
            "ci_low": [0.89, 0.84, 0.88],
            "ci_high": [0.91, 0.86, 0.9],
            "pairs": [8, 8, 8],
            "wilcoxon_p": [np.nan, 0.0078, 0.4],
            "holm_p": [np.nan, 0.0156, 0.4],
        }
    )
    (sentence,) = final_advice(final, trials=20)
    assert "random (p = 0.0156)" in sentence and "grid (p = 0.4)" in sentence
    assert "Holm-corrected over all 3 pairs of strategies" in sentence  # the diagram's family
    assert "significantly ahead of random" in sentence


def test_final_advice_claims_nothing_the_holm_correction_removes():
    final = pd.DataFrame(
        {
            "strategy": ["gp", "random", "grid"],
            "seeds": [10] * 3,
            "mean": [0.41, 0.40, 0.39],
            "ci_low": [0.40, 0.39, 0.38],
            "ci_high": [0.42, 0.41, 0.40],
            "pairs": [10] * 3,
            "wilcoxon_p": [np.nan, 0.037, 0.0273],
            "holm_p": [np.nan, 0.074, 0.074],
        }
    )
    (sentence,) = final_advice(final, trials=30)
    assert "not significantly ahead of any strategy" in sentence


def test_report_before_compare_says_what_to_run(tmp_path, monkeypatch, capsys):
    shutil.copy(FIXTURES / COMPARISON, tmp_path / COMPARISON)
    monkeypatch.chdir(tmp_path)
    assert main(["report", COMPARISON]) == 2
    assert f"run `python -m harness compare {COMPARISON}` first" in capsys.readouterr().err


def _trial(params: dict, value: float) -> optuna.trial.FrozenTrial:
    distributions = {
        "lr": FloatDistribution(1e-3, 1e-1, log=True),
        "optimizer": CategoricalDistribution(["adam", "sgd"]),
    }
    used = {name: distributions[name] for name in params}
    return optuna.trial.create_trial(params=params, distributions=used, value=value)


def test_importances_need_variance_and_shared_parameters():
    assert param_importances([_trial({"lr": 0.01}, 0.5), _trial({"lr": 0.02}, 0.5)]) == {}
    disjoint = [_trial({"lr": 0.01}, 0.5), _trial({"optimizer": "sgd"}, 0.7)]
    assert param_importances(disjoint) == {}
    trials = [
        _trial({"lr": lr, "optimizer": opt}, lr * 5 + (opt == "adam"))
        for lr in (0.001, 0.01, 0.1)
        for opt in ("adam", "sgd")
    ]
    importances = param_importances(trials)
    assert list(importances) == ["optimizer", "lr"]  # adam adds 1, lr at most 0.5
    assert sum(importances.values()) == pytest.approx(1.0)
