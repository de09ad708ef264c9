"""The comparison report: Markdown with figures, diagrams and a notebook, from stored trials alone.

:func:`write_report` reads nothing but the comparison's storage and its
dataset (for the class balance and the feature summary): no model is
trained. The same storage always gives the same bytes: no clock is read,
figures are written by :func:`harness.report.figures.save_figure` and every random
choice (bootstrap, fANOVA) is seeded.

The report's sections are :func:`section_titles`; each is built by one function
from a :class:`~harness.report.context.ReportContext` holding everything read
once. The sections about the task (data, original model, search) live in
:mod:`harness.report.sections`; this module adds the results, figures, diagrams,
recommendations and notebook, and writes the files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.data.datasets import DEFAULT_DATASET, Dataset, Vocabulary, get_spec
from harness.model.families import family_of
from harness.model.vocabulary import IMBALANCE
from harness.report import (
    business,
    drawio,
    evidence,
    figures,
    forecast,
    recommendations,
    sections,
    svg,
)
from harness.report.context import (
    NOT_COMPARATIVE,
    ReportContext,
    bullets,
    load_context,
    markdown_table,
)
from harness.report.notebook import (
    RETRAIN_TAG,
    RETRAIN_TOLERANCE,
    execute_notebook,
    notebook_json,
    storage_seen_from,
)
from harness.report.references import bibliography, cite
from harness.report.tuned_model import class_metrics
from harness.results import efficiency, generalization, statistics
from harness.results.leaderboard import baselines_table
from harness.results.loading import ComparisonResults
from harness.search.strategies import DEFAULT_STARTUP_TRIALS
from harness.study import ledger
from harness.study.holdout import BASELINE, TUNED
from harness.study.metrics import HEADLINE_METRICS, METRICS
from harness.study.storage import redact_password


def section_titles(words: Vocabulary) -> tuple[str, ...]:
    """The report's second-level headings, in order, for a dataset's words.

    The plain-language section is headed by ``words.section_heading`` (teleconnect's
    "Segments and campaigns", a CSV file's "Classes in plain words").
    """
    return (
        "Executive summary",
        "The data",
        "The original model",
        "The search",
        "Results",
        words.section_heading,
        "Figures",
        "Diagrams",
        "Recommendations",
        "The tuned model as a notebook",
        "References",
    )


SECTIONS = section_titles(get_spec(DEFAULT_DATASET).vocabulary or Vocabulary())
"""The headings of a report on the reference dataset (teleconnect); see :func:`section_titles`."""


def anchor(heading: str) -> str:
    """The link target of a Markdown heading, as GitHub and most renderers make it."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return "#" + kept.replace(" ", "-")


FIGURES_DIR = "figures"


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`."""

    markdown: Path
    figures: dict[str, Path]
    diagrams: dict[str, Path]
    notebook: Path | None
    """None for a time series: the notebook rebuilds a classifier."""
    images: dict[str, Path] = field(default_factory=dict)
    """SVG drawings of the diagrams, next to them."""


def _header(ctx: ReportContext) -> str:
    comparison = ctx.comparison
    storage = redact_password(comparison.storage)
    attrs = ctx.study.user_attrs
    folds = ctx.trial.user_attrs.get(ledger.FOLD_SCORES, {}).get(ctx.metric, [])
    studies = len(ctx.results.studies)
    source = "1 study" if studies == 1 else f"{studies} strategy x seed studies"
    return (
        f"# {comparison.name}: tuning report\n\n"
        f"Rebuilt by `{ctx.command}` from the trials stored in `{storage}` "
        f"({len(ctx.results.frame)} finished trials in {source}); no model was trained for it. "
        f"The best configuration is trial #{ctx.trial.number} of study `{ctx.study.study_name}` "
        f"({attrs.get(ledger.STRATEGY)}, seed {attrs.get(ledger.SEED)}): mean CV {ctx.metric} "
        f"{ctx.trial.values[0]:.4f} +/- {np.std(folds):.4f} over {len(folds)} folds."
    )


def _change_text(holdout: Mapping[str, Any], metric: str, change: float) -> str:
    """Tuned minus baseline on the held-out rows, with the paired interval where rows are stored."""
    paired = generalization.holdout_difference(holdout, TUNED, BASELINE, metric)
    if paired is None:
        reason = generalization.why_no_interval(holdout, BASELINE, metric)
        return f"{change:+.4f}, a point value; {reason}"
    difference = paired.difference
    sign = 1 if METRICS[metric].greater_is_better else -1
    low, high = sorted((sign * difference.low, sign * difference.high))
    reading = "better" if low > 0 else "worse" if high < 0 else "within the noise"
    return f"{difference.format('+.4f')}, {reading}"


def _holdout_text(ctx: ReportContext) -> str:
    before, after = ctx.holdout[BASELINE]["scores"], ctx.holdout[TUNED]["scores"]
    lines = []
    for metric in HEADLINE_METRICS:
        lines.append(
            f"{metric}: {before[metric]:.4f} before, {after[metric]:.4f} after "
            f"({_change_text(ctx.holdout, metric, after[metric] - before[metric])})"
        )
    per_class = []
    for model in (BASELINE, TUNED):
        result = ctx.holdout[model]
        table = class_metrics(result["confusion"], result["labels"], ctx.names)
        per_class.append(table.assign(model=model))
    joined = pd.concat(per_class).sort_values("class", kind="stable", key=_macro_last)
    joined = joined[["class", "model", "support", "precision", "recall", "f1"]]
    joined = joined.rename(columns={m: f"test_{m}" for m in ("precision", "recall", "f1")})
    models = baselines_table(ledger.holdout_frame(ctx.holdout))
    return "\n\n".join(
        [
            f"Tuned = the best configuration ({ctx.study.study_name}, trial "
            f"#{ctx.trial.number}); before = the unoptimized baseline. Both were trained on the "
            f"{len(ctx.train.y)} search rows and scored once on the {len(ctx.test.y)} held-out "
            "rows (precision, recall and F1 macro-averaged). The change carries its 95% "
            "interval, a paired percentile bootstrap over the same rows (the leaderboard's "
            "`holdout` table), and is called better or worse only where that interval "
            "excludes zero (one uncorrected interval per metric; the summary's verdicts across "
            "models are Holm-corrected):",
            bullets(lines),
            "Every model on the held-out split, with the reference baselines: random forest "
            f"{cite('breiman2001')}, k-nearest neighbours {cite('cover1967')}, logistic "
            f"regression {cite('cox1958')} (scikit-learn {cite('pedregosa2011')}) and the "
            "majority class:",
            markdown_table(models, explain=True),
            *(
                part
                for part in (sections.model_choice_text(ctx), sections.published_text(ctx))
                if part is not None
            ),
            "### Per class",
            "From the stored confusion matrices; `macro` is the unweighted mean over classes "
            "(equal to the macro scores above):",
            markdown_table(joined.reset_index(drop=True)),
        ]
    )


def _macro_last(column: pd.Series) -> pd.Series:
    return column.map(lambda label: (label == "macro", label))


FIGURE_NOTES = {
    "before": (
        ("confusion", "learning-curve"),
        "{} show the held-out confusion matrices and the learning curves of these two fits.",
    ),
    "before-confusion": (
        ("confusion",),
        "{} shows the held-out confusion matrices of these two fits.",
    ),
    "forecast": (
        ("forecast", "residuals", "learning-curve"),
        "{} show the held-out forecasts against the truth over time, the residuals "
        "and the learning curves of the final fits.",
    ),
    "efficiency": (
        ("incumbents-trials", "incumbents-seconds", "time-to-target"),
        "{} plot the incumbents against trials and seconds and, where an optimum "
        "independent of the compared runs gives a target, each run's time to it.",
    ),
    "targeting": (
        ("calibration",),
        "{} shows whether those probabilities can be read at face value: "
        "{w.group} by {w.group}, predicted probability against the share of {w.rows} "
        "actually in the {w.group}.",
    ),
    "importance": (
        ("importance", "contour"),
        "{} rank the hyperparameters by fANOVA importance and map the best score "
        "over the two most important.",
    ),
}
"""Where the text discusses each figure: a note naming the figures by number."""


def _figure_note(
    numbers: Mapping[str, int], note: str, words: Vocabulary | None = None
) -> list[str]:
    """The note ``note`` naming its figures by number; ``{w.<field>}`` is taken from ``words``."""
    keys, text = FIGURE_NOTES[note]
    shown = [f"Figure {numbers[key]}" for key in keys if key in numbers]
    if not shown:
        return []
    refs = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return [text.format(refs, w=words or Vocabulary())]


def _results_section(ctx: ReportContext, numbers: Mapping[str, int]) -> str:
    holdout = forecast.holdout_text(ctx) if forecast.is_forecast(ctx) else _holdout_text(ctx)
    blocks = ["### Before and after on the held-out test split", holdout]
    before = "before" if "learning-curve" in numbers else "before-confusion"
    blocks += _figure_note(numbers, "forecast" if forecast.is_forecast(ctx) else before)
    if not ctx.comparative:
        blocks.append(NOT_COMPARATIVE)
        blocks += _figure_note(numbers, "efficiency")
    for key, title in (
        ("versus", "Against the other model family, on the same held-out rows"),
        ("trials", "Best trials"),
        ("generalization", "Across studies: CV against held-out scores"),
        ("efficiency", "Search efficiency"),
        ("final", "Final scores"),
        ("curves", "Incumbent curves at checkpoints of the budget"),
        ("pairwise", "Pairwise tests"),
        # A comparison of several objectives (harness.results.pareto):
        ("pareto", "Accuracy against cost: the comparison's Pareto front"),
        ("hv_scale", "The hypervolume's scale and reference point"),
        ("hypervolume", "Hypervolume of each study's front"),
        ("hv_final", "Hypervolume per strategy over seeds"),
        ("hv_pairwise", "Pairwise tests on the hypervolume"),
    ):
        if key in ctx.tables:
            blocks += [f"### {title}", markdown_table(ctx.tables[key], explain=True)]
            if key == "efficiency":
                blocks += _figure_note(numbers, "efficiency")
    params = ("optimizer",) if forecast.is_forecast(ctx) else ("optimizer", IMBALANCE)
    blocks.append("### Optimizers" + ("" if len(params) == 1 else " and imbalance handling"))
    blocks += _figure_note(numbers, "importance")
    for param in params:
        table = ctx.tables.get(f"by_{param}")
        if table is None:
            blocks.append(f"`{param}` was not searched: every trial used the same value.")
        else:
            heading = f"Each {param} on the same configurations:"
            blocks += [heading, markdown_table(table, explain=True)]
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class _Figure:
    key: str
    caption: str
    draw: Callable[[], Any]


def _figure_specs(ctx: ReportContext) -> list[_Figure]:
    frame, optimum, metric = ctx.results.frame, ctx.results.optimum, ctx.metric
    pooled = (
        f"the {len(ctx.trials)} complete trials of the study"
        if ctx.single_study
        else f"the {len(ctx.trials)} complete trials of all {len(ctx.results.studies)} "
        "strategy x seed studies pooled (the exhaustive grid left out)"
    )
    specs = [
        _Figure(
            "incumbents-trials",
            "Best mean CV score so far against trials; line: median over seeds, band: "
            "95% percentile bootstrap interval of that median; the y axis starts at the "
            f"lowest value after the first {figures.ZOOM_AFTER:.0%} of the trials (failed "
            "first trials sit below it); each strategy keeps its colour in every figure.",
            lambda: figures.incumbent_figure(frame, axis="trials", optimum=optimum, metric=metric),
        ),
        _Figure(
            "incumbents-seconds",
            "The same against seconds: the run's process CPU seconds where every trial "
            "recorded them (a loaded machine does not stretch them), else wall-clock "
            "seconds since each run's first trial; the axis says which.",
            lambda: figures.incumbent_figure(frame, axis="seconds", optimum=optimum, metric=metric),
        ),
    ]
    if ctx.comparative and not ctx.results.optimum_info().circular:
        specs.append(
            _Figure(
                "time-to-target",
                "Trials and seconds each run needed to come within 10% of the gap between random "
                "search's final median and the optimum; hollow markers never reached it and sit "
                "at their budget.",
                lambda: figures.time_to_target_figure(frame, optimum=optimum),
            )
        )
    if ctx.importances:
        specs.append(
            _Figure(
                "importance",
                f"fANOVA importances {cite('hutter2014')}, computed by Optuna's evaluator with "
                f"seed 0 over {pooled}; parameters absent from some trials (conditional ones) "
                "are left out.",
                lambda: figures.importance_figure(ctx.importances, source="pooled trials"),
            )
        )
    if len(ctx.importances) >= 2:
        top = tuple(list(ctx.importances)[:2])
        specs.append(
            _Figure(
                "contour",
                f"Best mean CV score over the two most important parameters, {top[0]} and "
                f"{top[1]}, on a grid of cells (categorical: one per value; numeric: "
                f"{figures.CONTOUR_BINS} equal cells, log-spaced for log-scale parameters), "
                f"from {pooled}; dots are trials.",
                lambda: figures.contour_figure(ctx.trials, top, metric=metric),
            )
        )
    if forecast.is_forecast(ctx):
        return specs + [_Figure(*spec) for spec in forecast.figure_specs(ctx)]
    models, w = [BASELINE, TUNED], ctx.words
    specs.append(
        _Figure(
            "confusion",
            "Held-out confusion matrices before (baseline) and after (tuned).",
            lambda: figures.confusion_figure(ctx.holdout, models, ctx.names, group=w.group),
        )
    )
    # An ensemble (network with trees) stores no per-epoch history: no learning curve to draw.
    if all(ctx.holdout[name].get("history") for name in models):
        specs.append(
            _Figure(
                "learning-curve",
                "Per-epoch training loss of the tuned and the baseline model in their final "
                "fit (stored with the held-out results; dashed: early-stopping validation "
                "loss where used).",
                lambda: figures.learning_curve_figure(ctx.holdout, models[::-1]),
            )
        )
    stored = business.stored_probabilities(ctx.holdout)
    if stored is not None:
        truth, proba = stored
        specs.append(
            _Figure(
                "calibration",
                f"Calibration of the tuned model on the {len(truth)} held-out {w.rows}, one "
                f"panel per {w.group}: {w.rows} binned by their predicted probability of the "
                f"{w.group}; each point is a bin's mean prediction against the share actually "
                f"in the {w.group} (95% Wilson interval, number of {w.rows} beside it); "
                "dashed: perfect calibration.",
                lambda: figures.calibration_figure(
                    truth, proba, ctx.holdout[TUNED]["labels"], ctx.names, group=w.group
                ),
            )
        )
    return specs


def _write_figures(ctx: ReportContext, directory: Path) -> dict[str, tuple[Path, str]]:
    written = {}
    for spec in _figure_specs(ctx):
        path = directory / FIGURES_DIR / f"{ctx.comparison.name}-{spec.key}.png"
        written[spec.key] = (figures.save_figure(spec.draw(), path), spec.caption)
    return written


def _link(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def _figures_section(written: Mapping[str, tuple[Path, str]], directory: Path) -> str:
    blocks = []
    for number, (key, (path, caption)) in enumerate(written.items(), start=1):
        blocks.append(f"![{key}]({_link(path, directory)})\n\n*Figure {number}: {caption}*")
    return "\n\n".join(blocks)


def _diagrams_section(
    ctx: ReportContext,
    documents: Mapping[str, str],
    paths: Mapping[str, Path],
    images: Mapping[str, Path],
    out: Path,
) -> str:
    blocks = []
    for number, key in enumerate(documents, start=1):
        link, image = _link(paths[key], out), _link(images[key], out)
        labels = "; ".join(
            label.replace(":\n", ": ").replace("\n", ", ")
            for label in drawio.vertex_labels(documents[key]).values()
        )
        blocks.append(
            f"![{key} diagram]({image})\n\n*Diagram {number}: {key}* (draw.io file "
            f"[{link}]({link}); the image is drawn by the harness from the same cells): "
            f"{labels}."
        )
    source = "the study's attributes" if ctx.single_study else "the comparison file"
    intro = (
        f"Generated from the configuration and {source}. The pipeline diagram shows the CV "
        "loop every trial runs and the held-out refit of the best configuration; the "
        "search-loop diagram the feedback from the ledger to the next proposal."
    )
    return "\n\n".join([intro, *blocks])


def _per_seed(ctx: ReportContext) -> pd.Series:
    return efficiency.final_incumbents(ctx.results.frame, budget=ctx.comparison.trials)


def _tuned_interval(ctx: ReportContext) -> statistics.Interval | None:
    """The tuned model's held-out interval in the objective, where the rows give one."""
    if forecast.is_forecast(ctx) or ctx.metric not in evidence.LABEL_METRICS:
        return None
    return evidence.holdout_interval(ctx.holdout, TUNED, ctx.metric)


def _summary_section(ctx: ReportContext) -> str:
    supported = []
    if ctx.comparative:
        supported += evidence.strategy_evidence(_per_seed(ctx), trials=ctx.comparison.trials)
        if "generalization" in ctx.tables:
            supported += evidence.gap_evidence(
                ctx.tables["generalization"], test_interval=_tuned_interval(ctx)
            )
    if forecast.is_forecast(ctx):
        supported += forecast.summary_evidence(ctx)
    else:
        supported += evidence.holdout_evidence(
            ctx.holdout,
            metric=ctx.metric,
            n_test=len(ctx.test.y),
            test_scores=ctx.results.test_scores(),
            family=family_of(ctx.config).name,
        )
    supported += evidence.failure_evidence(
        efficiency.failure_rates(ctx.results.frame, budget=ctx.comparison.trials),
        ctx.results.frame,
        workers=ctx.comparison.workers,
    )
    if ctx.comparative:
        optimum = ctx.results.optimum_info()
        if "baseline_cv" in ctx.tables:
            supported += evidence.baseline_cv_evidence(ctx.tables["baseline_cv"])
        supported += evidence.method_notes(
            n_seeds=len(ctx.comparison.seeds),
            optimum_known=not optimum.circular,
            optimum_source=optimum.label,
        )
    if forecast.is_forecast(ctx):
        return "\n\n".join(
            [
                "### What the numbers support, and what they do not",
                bullets(supported),
                forecast.SKIPPED,
            ]
        )
    w = ctx.words
    campaign = business.campaign_summary(ctx.holdout, ctx.names, words=w)
    return "\n\n".join(
        [
            f"### {w.summary_heading}",
            bullets(campaign),
            f"{_capital(w.group)} by {w.group}, with {w.row} profiles and "
            f"{w.ranking.lower()}, in [{w.section_heading}]({anchor(w.section_heading)}).",
            "### What the numbers support, and what they do not",
            bullets(supported),
        ]
    )


def _capital(text: str) -> str:
    """``text`` with its first letter upper case (``"quality grade"`` -> ``"Quality grade"``)."""
    return text[:1].upper() + text[1:]


def _segments_section(ctx: ReportContext, numbers: Mapping[str, int]) -> str:
    """The plain-language section: per-class changes, drivers, profiles and targeting.

    Its nouns are the dataset's (:attr:`ReportContext.words`).
    """
    w = ctx.words
    changes = business.segment_changes(ctx.holdout, ctx.names, words=w)
    blocks = [
        f"### What tuning changed, {w.group} by {w.group}",
        f"On the {len(ctx.test.y)} held-out {w.rows}; `found`: {w.rows} of the {w.group} the "
        "model puts in it (before: the unoptimized MLP, after: the tuned one); `assigned_after`: "
        f"{w.rows} the tuned model puts in the {w.group}; `right`: the share of those that "
        "belong there.",
        markdown_table(changes),
        bullets(business.change_sentences(changes, words=w)),
        f"### {_capital(w.row)} drivers",
    ]
    blocks += _stored_part(
        business.drivers(ctx.holdout),
        f"Permutation importances of the {w.row} features on the held-out rows are "
        f"{business.NOT_STORED}. (The importances in the figures are of the "
        "hyperparameters, a different question: what mattered to the search, not to the "
        f"{w.rows}' {w.group}.)",
        lambda drivers: [
            f"Drop in the held-out score when a feature's values are shuffled across {w.rows} "
            f"(mean and standard deviation over the stored repeats); these are {w.row} "
            "features, kept apart from the hyperparameter importances in the figures:",
            markdown_table(drivers),
        ],
    )
    blocks += [
        f"### {_capital(w.group)} profiles",
        f"Mean of each numeric feature by {w.group} over all {ctx.dataset.n_samples} "
        f"{w.rows}, ± the half-width of its 95% t-interval:",
        markdown_table(business.segment_profiles(ctx.dataset, ctx.names, words=w)),
        f"### {w.ranking}",
    ]
    blocks += _stored_part(
        business.stored_probabilities(ctx.holdout),
        f"Cumulative gains, lift and calibration need each held-out {w.row}'s predicted "
        f"{w.group} probabilities, which are {business.NOT_STORED}; rerun the comparison "
        "with a harness that stores them to get this table.",
        lambda stored: [
            f"If {w.selecting} the top x% of the {len(stored[0])} held-out {w.rows} by "
            f"the tuned model's probability of a {w.group}, the share of that {w.group} it "
            f"reaches (lift: that share over x; 1.0 is random {w.selection}):",
            markdown_table(
                business.gains(*stored, ctx.holdout[TUNED]["labels"], ctx.names, words=w)
            ),
            *_figure_note(numbers, "targeting", w),
        ],
    )
    return "\n\n".join(blocks)


def _stored_part(found: Any, missing: str, shown: Callable[[Any], list[str]]) -> list[str]:
    """The blocks of a part built from what the held-out results may not store.

    ``shown(found)`` where it is stored; where ``found`` is None, the one sentence
    ``missing``, which says so (with :data:`harness.report.business.NOT_STORED`).
    """
    return [missing] if found is None else shown(found)


def _strategy_advice(ctx: ReportContext) -> str:
    if not ctx.comparative:
        return NOT_COMPARATIVE
    trials = ctx.comparison.trials
    startup = dict.fromkeys(recommendations.STARTUP_STRATEGIES, DEFAULT_STARTUP_TRIALS)
    return bullets(
        [
            *recommendations.budget_advice(
                ctx.results.frame,
                optimum=ctx.results.optimum,
                trials=trials,
                startup=startup,
                distinguishable=evidence.distinguishable(_per_seed(ctx)),
            ),
            *recommendations.final_advice(ctx.tables["final"], trials=trials),
            *recommendations.time_advice(
                ctx.tables["efficiency"],
                efficiency.overhead(ctx.results.frame, budget=ctx.comparison.trials),
            ),
        ]
    )


def _recommendations_section(ctx: ReportContext) -> str:
    blocks = [
        "Each point is computed from the tables above; differences are called significant "
        "only where the paired test named beside them supports it after Holm's correction "
        "for the comparisons made.",
        "### Which strategy at which budget",
        _strategy_advice(ctx),
    ]
    if forecast.is_forecast(ctx):
        model = forecast.recommendations(ctx)
    else:
        choices = recommendations.imbalance_advice(
            ctx.tables.get(f"by_{IMBALANCE}"), ctx.train.imbalance_ratio
        )
        if "by_optimizer" in ctx.tables:
            choices += recommendations.group_advice(ctx.tables["by_optimizer"], "optimizer")
        blocks += ["### Optimizer and imbalance handling", bullets(choices)]
        model = recommendations.holdout_advice(
            ctx.holdout, ctx.results.test_scores(), metric=ctx.metric, n_test=len(ctx.test.y)
        )
    blocks += ["### The tuned model", bullets(model)]
    return "\n\n".join(blocks)


def _notebook_section(ctx: ReportContext, path: Path, out: Path, executed: str | None) -> str:
    link = _link(path, out)
    ran = (
        "It is committed with part 1's outputs, run in a Jupyter kernel from "
        f"`{out.name}/` when the report was built"
        if executed is not None
        else "It was written without outputs: nbclient or a Jupyter kernel is not installed "
        "where the report was built"
    )
    return (
        f"[{link}]({link}) has two parts. Part 1 reads the held-out predictions stored with "
        f"study `{ctx.study.study_name}` and prints the tuned and the unoptimized model's "
        f"held-out {', '.join(HEADLINE_METRICS)} before and after, the per-"
        f"{ctx.words.group.replace(' ', '-')} results "
        "and both confusion matrices; it trains nothing, so its outputs rebuild byte for "
        f"byte from the storage. Part 2 (cells tagged `{RETRAIN_TAG}`) loads "
        f"`{ctx.dataset.name}`, takes the same held-out split (task seed "
        f"{ctx.comparison.task_seed}), fits the best configuration (a literal dict) and the "
        "baseline on the search rows, prints their scores beside the stored ones, saves the "
        "tuned model (joblib) and scores new rows with it. Training is seeded but not "
        "bit-reproducible across processors, so part 2's numbers can differ in the last "
        f"digits on another machine; the tests check them within {RETRAIN_TOLERANCE} of the "
        f"stored scores. {ran}; part 2 was not run."
    )


def write_report(
    results: ComparisonResults,
    dataset: Dataset,
    *,
    out: str | Path = "reports",
    drawio_dir: str | Path = "drawio",
    data_dir: str | Path | None = None,
    execute: bool = True,
) -> ReportFiles:
    """Write the report, its figures, diagrams and notebook; return their paths.

    Parameters
    ----------
    results : ComparisonResults
        The stored comparison (:func:`harness.results.loading.load_results`) or one study
        (:func:`harness.results.loading.study_results`); without several strategies, random
        search among them, the tables and figures comparing them are left out.
    dataset : Dataset
        The comparison's dataset (``comparison.load_dataset``), full, before the split.
    out : str or Path
        Folder of ``<name>.md``, ``<name>.ipynb`` and ``figures/<name>-*.png``.
    drawio_dir : str or Path
        Folder of ``<name>-pipeline.drawio``, ``-topology.drawio``, ``-search-loop.drawio``.
    data_dir : str or Path, optional
        Written into the notebook for loading a registered dataset's file.
    execute : bool
        Run the notebook in a Jupyter kernel (nbclient) from ``out`` and write it
        with its outputs; without nbclient or a kernel it is written without them.

    Raises
    ------
    ConfigError
        If no study has held-out results yet.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = load_context(results, dataset)
    name = ctx.comparison.name
    markdown, notebook = out / f"{name}.md", out / f"{name}.ipynb"
    written = _write_figures(ctx, out)
    if forecast.is_forecast(ctx):
        return _write_forecast_report(ctx, markdown, written, out)
    documents = {
        "pipeline": drawio.pipeline_diagram(
            ctx.dataset,
            ctx.config,
            metric=ctx.metric,
            folds=ctx.comparison.folds,
            test_rows=len(ctx.test.y),
        ),
        "topology": drawio.topology_diagram(
            ctx.n_inputs,
            ctx.config,
            [business.segment(label, ctx.names) for label in ctx.holdout[TUNED]["labels"]],
        ),
        "search-loop": drawio.search_loop_diagram(ctx.comparison, markdown.as_posix()),
    }
    diagrams = drawio.write_diagrams(drawio_dir, name, documents)
    images = svg.write_svgs(diagrams)
    source = f"study {ctx.study.study_name}, trial #{ctx.trial.number}"
    storage = storage_seen_from(redact_password(ctx.comparison.storage), out)
    text = notebook_json(
        ctx.comparison,
        ctx.config,
        storage=storage,
        study=ctx.study.study_name,
        source=source,
        data_dir=data_dir,
        names=ctx.names,
        words=ctx.words,
    )
    executed = execute_notebook(text, out) if execute else None
    notebook.write_text(executed or text, encoding="utf-8", newline="\n")
    bodies = [
        _summary_section(ctx),
        sections.data_section(ctx),
        sections.baseline_section(ctx),
        sections.search_section(ctx),
        _results_section(ctx, {key: n for n, key in enumerate(written, start=1)}),
        _segments_section(ctx, {key: n for n, key in enumerate(written, start=1)}),
        _figures_section(written, out),
        _diagrams_section(ctx, documents, diagrams, images, out),
        _recommendations_section(ctx),
        _notebook_section(ctx, notebook, out, executed),
    ]
    titles = section_titles(ctx.words)
    _write_markdown(ctx, markdown, zip(titles[:-1], bodies, strict=True), titles[-1])
    return ReportFiles(
        markdown=markdown,
        figures={key: path for key, (path, _) in written.items()},
        diagrams=diagrams,
        notebook=notebook,
        images=images,
    )


def _write_markdown(
    ctx: ReportContext, markdown: Path, titled: Any, references: str = "References"
) -> None:
    """The header, the ``(title, text)`` sections and the references, written to ``markdown``."""
    body = "\n\n".join([_header(ctx), *(f"## {title}\n\n{text}" for title, text in titled)])
    document = f"{body}\n\n## {references}\n\n{bibliography(body)}\n"
    markdown.write_text(document, encoding="utf-8", newline="\n")


FORECAST_SECTIONS = (
    "Executive summary",
    "The data",
    "The original model",
    "The search",
    "Results",
    "Figures",
    "Recommendations",
)
"""A time series report's sections before the references: :data:`SECTIONS` without the
plain-language section, the diagrams and the notebook (:data:`harness.report.forecast.SKIPPED`)."""


def _write_forecast_report(
    ctx: ReportContext, markdown: Path, written: Mapping[str, tuple[Path, str]], out: Path
) -> ReportFiles:
    """A time series' report: no plain-language layer, diagrams or notebook (a classifier's)."""
    numbers = {key: n for n, key in enumerate(written, start=1)}
    bodies = [
        _summary_section(ctx),
        forecast.data_section(ctx),
        forecast.baseline_section(ctx),
        sections.search_section(ctx),
        _results_section(ctx, numbers),
        _figures_section(written, out),
        _recommendations_section(ctx),
    ]
    _write_markdown(ctx, markdown, zip(FORECAST_SECTIONS, bodies, strict=True))
    return ReportFiles(
        markdown=markdown,
        figures={key: path for key, (path, _) in written.items()},
        diagrams={},
        notebook=None,
    )
