"""The report's parts for a time series (a regression task): the data, the original model,
the held-out forecasts with block-bootstrap intervals, and the forecast and residual figures.

:mod:`harness.report.document` dispatches here when the dataset is a time series
(:func:`is_forecast`); the search sections and the search figures are shared
with classification. Every number comes from the stored results and the dataset;
every interval over held-out rows resamples moving blocks of consecutive years
(:func:`harness.results.statistics.block_length`), since one-step-ahead
forecast errors are correlated from one step to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.data.splits import make_folds
from harness.model.families import family_of, get_family
from harness.report.context import ReportContext, markdown_table
from harness.report.references import cite
from harness.results import statistics
from harness.results.generalization import HOLDOUT_BOOT, holdout_table
from harness.results.leaderboard import ALPHA, baselines_table
from harness.results.ranking import interval_text
from harness.study import ledger
from harness.study.holdout import BASELINE, TUNED
from harness.study.metrics import compute_metric, headline_metrics

N_BOOT = HOLDOUT_BOOT
"""Resamples of every held-out interval: the leaderboard's (seeded 0, so the numbers agree)."""
TUNED_NAME, BASELINE_NAME = "tuned LSTM", "unoptimized LSTM"
"""How the text calls the stored ``tuned MLP`` and ``baseline MLP`` entries of a time series."""


def is_forecast(ctx: ReportContext) -> bool:
    """Whether the report is about a time series (regression) rather than classes."""
    return ctx.dataset.task == "regression"


def shown_name(model: str) -> str:
    """The stored model name as the text shows it (the tuned and unoptimized LSTM)."""
    return {TUNED: TUNED_NAME, BASELINE: BASELINE_NAME}.get(model, model)


def _truth(ctx: ReportContext) -> np.ndarray:
    return np.asarray(ctx.holdout[TUNED]["y_true"], dtype=float)


def _predicted(ctx: ReportContext, model: str) -> np.ndarray:
    return np.asarray(ctx.holdout[model]["predicted"], dtype=float)


def _rmse(y_true: np.ndarray, predicted: np.ndarray) -> float:
    return -compute_metric("neg_rmse", y_true, predicted, None, None)


def data_section(ctx: ReportContext) -> str:
    """The series: time span, the split in time, the folds, and the target's statistics."""
    dataset, train, test = ctx.dataset, ctx.train, ctx.test
    y = dataset.y.to_numpy(float)
    lag1 = float(np.corrcoef(y[:-1], y[1:])[0, 1])
    stats = pd.DataFrame(
        [
            {
                "rows": part,
                "steps": len(s.y),
                "from": s.time.iloc[0],
                "to": s.time.iloc[-1],
                "mean": s.y.mean(),
                "std": s.y.std(ddof=1),
                "min": s.y.min(),
                "max": s.y.max(),
            }
            for part, s in (("search (train)", train), ("held out (test)", test))
        ]
    )
    folds = make_folds(train, ctx.comparison.folds, ctx.comparison.task_seed)
    fold_rows = pd.DataFrame(
        [
            {
                "fold": k,
                "train_from": train.time.iloc[tr[0]],
                "train_to": train.time.iloc[tr[-1]],
                "train_rows": len(tr),
                "valid_from": train.time.iloc[te[0]],
                "valid_to": train.time.iloc[te[-1]],
                "valid_rows": len(te),
            }
            for k, (tr, te) in enumerate(folds, start=1)
        ]
    )
    extra = [c for c in dataset.X.columns if c != dataset.target]
    features = (
        f"the target's own past and {', '.join(extra)}"
        if extra
        else "the target's own past values only"
    )
    return "\n\n".join(
        [
            f"`{dataset.name}`: {dataset.description or dataset.source}. A time series of "
            f"{dataset.n_samples} steps ordered by `{dataset.time_column}`; the target "
            f"`{dataset.target}` is forecast one step ahead from {features}. Consecutive "
            f"values are strongly related (lag-1 autocorrelation {lag1:.3f} over all rows), "
            "which is why the naive last-value forecast is a reference and why held-out "
            "intervals resample blocks of consecutive steps.",
            f"The last {ctx.comparison.test_size:.0%} of the steps are held out, never "
            "shuffled; the search sees only the earlier ones:",
            markdown_table(stats),
            f"Cross-validation chains forward in time ({ctx.comparison.folds} folds, "
            "expanding window): each fold trains on every search step before its validation "
            "steps, and the scaling of the inputs and of the target is fitted on those "
            "training steps only.",
            markdown_table(fold_rows),
        ]
    )


def _config_table(config: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": k, "value": v} for k, v in config.items() if k != "family"])


def baseline_section(ctx: ReportContext) -> str:
    """The unoptimized model of the family: its settings, CV score and held-out forecast."""
    family = family_of(ctx.config)
    baseline_cv = ctx.results.baseline_cv()
    truth = _truth(ctx)
    interval = _interval(truth, _predicted(ctx, BASELINE))
    cv = (
        f"Its mean CV {ctx.metric} on the same forward-chaining folds as every trial is "
        f"{baseline_cv:.4f}."
        if baseline_cv is not None
        else "Its CV score is not stored."
    )
    return "\n\n".join(
        [
            f"The {BASELINE_NAME} is the {family.name!r} family's baseline configuration "
            f"(`harness.{family.estimator.rsplit(':', 1)[1]}` defaults): an LSTM over a "
            "look-back window of past steps, a linear output on the last step's hidden state, "
            "trained on the mean squared error of the standardised target:",
            markdown_table(_config_table(get_family(family.name).baseline_config())),
            f"{cv} On the {len(truth)} held-out steps its RMSE is {interval.format('.4g')} "
            f"({_bootstrap_text(len(truth))}).",
        ]
    )


def _bootstrap_text(n_rows: int) -> str:
    return (
        f"95% moving-block bootstrap over the held-out steps, blocks of "
        f"{statistics.block_length(n_rows)}, {N_BOOT} resamples"
    )


def _interval(truth: np.ndarray, predicted: np.ndarray) -> statistics.Interval:
    """RMSE of ``predicted`` with its block-bootstrap interval over the held-out steps."""
    return statistics.bootstrap_metric_interval(
        truth, predicted, _rmse, n_boot=N_BOOT, seed=0, block=statistics.block_length(len(truth))
    )


def _paired(truth: np.ndarray, a: np.ndarray, b: np.ndarray) -> statistics.PairedBootstrap:
    """RMSE of ``a`` minus RMSE of ``b`` on the same block-resampled steps."""
    return statistics.paired_bootstrap_metric(
        truth, a, b, _rmse, n_boot=N_BOOT, seed=0, block=statistics.block_length(len(truth))
    )


def _references(ctx: ReportContext) -> list[str]:
    return [name for name in ctx.holdout if name != TUNED and "predicted" in ctx.holdout[name]]


def comparison_rows(ctx: ReportContext) -> pd.DataFrame:
    """Every model's held-out RMSE with its interval, and the tuned model's paired difference."""
    truth = _truth(ctx)
    tuned = _predicted(ctx, TUNED)
    rows = []
    for name in [TUNED, *_references(ctx)]:
        predicted = _predicted(ctx, name)
        interval = _interval(truth, predicted)
        row = {
            "model": shown_name(name),
            "rmse": interval.estimate,
            "rmse_interval": interval_text(interval),
            "tuned_minus": np.nan,
            "difference_interval": "",
            "paired_p": np.nan,
        }
        if name != TUNED:
            paired = _paired(truth, tuned, predicted)
            row.update(
                tuned_minus=paired.difference.estimate,
                difference_interval=interval_text(paired.difference),
                paired_p=paired.pvalue,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def holdout_text(ctx: ReportContext) -> str:
    """Before and after on the held-out steps, every reference, with block-bootstrap intervals."""
    truth = _truth(ctx)
    table = comparison_rows(ctx)
    metrics = headline_metrics("regression")
    scores = ledger.holdout_frame({shown_name(k): v for k, v in ctx.holdout.items() if k != TUNED})
    per_metric = holdout_table(ctx.holdout, TUNED, metrics)
    per_metric = per_metric.assign(model=per_metric["model"].map(shown_name))[
        ["model", "metric", "score", "rows", "interval"]
    ]
    return "\n\n".join(
        [
            f"Tuned = the best configuration ({ctx.study.study_name}, trial #{ctx.trial.number}); "
            f"before = the {BASELINE_NAME}. Every model was fitted on the {len(ctx.train.y)} "
            f"search steps and forecasts each of the {len(truth)} held-out steps one step "
            "ahead from the true values before it (the naive forecast repeats the last value; "
            "the linear autoregression is a ridge regression on the same window of lagged "
            f"values). RMSE in the target's units with {_bootstrap_text(len(truth))}; "
            "`tuned_minus`: the tuned model's RMSE minus this model's on the same resampled "
            "steps (negative: the tuned model errs less), its interval and two-sided "
            "bootstrap p:",
            markdown_table(table),
            "Every headline metric (errors negated, so greater is better), with the same "
            "block-bootstrap intervals:",
            markdown_table(per_metric),
            markdown_table(baselines_table(scores), explain=True),
        ]
    )


def summary_evidence(ctx: ReportContext) -> list[str]:
    """What the held-out forecasts support, each claim with its interval."""
    table = comparison_rows(ctx)
    tuned = table.iloc[0]
    claims = [
        f"On the {len(_truth(ctx))} held-out steps the {TUNED_NAME} forecasts with RMSE "
        f"{tuned['rmse']:.4g} {tuned['rmse_interval']} ({_bootstrap_text(len(_truth(ctx)))})."
    ]
    references = table.iloc[1:]
    # One family: the tuned model against every reference on the same held-out steps.
    holm = statistics.holm(references["paired_p"].to_numpy(dtype=float))
    for (_, row), holm_p in zip(references.iterrows(), holm, strict=True):
        verdict = (
            f"no difference is shown (Holm-corrected p = {holm_p:.3g})"
            if not holm_p < ALPHA
            else f"the tuned model errs {'less' if row['tuned_minus'] < 0 else 'more'} "
            f"(Holm-corrected p = {holm_p:.3g})"
        )
        claims.append(
            f"Against the {row['model']} (RMSE {row['rmse']:.4g} {row['rmse_interval']}): "
            f"difference {row['tuned_minus']:+.4g} {row['difference_interval']}, p = "
            f"{row['paired_p']:.3g}; {verdict}."
        )
    if len(references) > 1:
        claims.append(
            f"Holm's correction {cite('holm1979')} runs over the {len(references)} paired "
            "bootstrap p-values above, one per reference model."
        )
    return claims


def _excludes_zero(text: str) -> bool:
    if not text.startswith("["):
        return False
    low, high = (float(part) for part in text.strip("[]").split(","))
    return low > 0 or high < 0


def recommendations(ctx: ReportContext) -> list[str]:
    """Advice on the tuned forecaster that the held-out comparison supports."""
    table = comparison_rows(ctx).set_index("model")
    best = table["rmse"].idxmin()
    advice = [
        f"Lowest held-out RMSE: {best} ({table.loc[best, 'rmse']:.4g} "
        f"{table.loc[best, 'rmse_interval']}); with {len(_truth(ctx))} held-out steps the "
        "intervals above say how far that ranking can be trusted."
    ]
    linear = [name for name in table.index if name.startswith("linear autoregression")]
    if linear and not _excludes_zero(table.loc[linear[0], "difference_interval"]):
        advice.append(
            f"The {TUNED_NAME} is not shown to beat the {linear[0]}: prefer the linear model "
            "where its simplicity and speed matter, or search longer before deploying the LSTM."
        )
    return advice


def forecast_figure(ctx: ReportContext) -> Figure:
    """The held-out steps: the truth and each model's one-step-ahead forecast over time."""
    time = ctx.test.time.to_numpy()[: len(_truth(ctx))]
    figure = Figure(figsize=(8, 4.2), layout="constrained")
    ax = figure.add_subplot()
    ax.plot(time, _truth(ctx), color="black", linewidth=2, label="truth")
    for name, color in _model_colors(ctx):
        ax.plot(time, _predicted(ctx, name), color=color, linewidth=1.2, label=shown_name(name))
    ax.set_xlabel(ctx.dataset.time_column)
    ax.set_ylabel(ctx.dataset.target)
    ax.set_title("One-step-ahead forecasts of the held-out period")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return figure


def residuals_figure(ctx: ReportContext) -> Figure:
    """Residuals (truth minus forecast) over the held-out period, and their distribution."""
    time = ctx.test.time.to_numpy()[: len(_truth(ctx))]
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    over_time, spread = figure.subplots(1, 2, width_ratios=(2.2, 1))
    models = _model_colors(ctx)
    residuals = [(name, color, _truth(ctx) - _predicted(ctx, name)) for name, color in models]
    for name, color, residual in residuals:
        over_time.plot(
            time, residual, color=color, linewidth=1.2, marker=".", label=shown_name(name)
        )
    over_time.axhline(0.0, color="black", linewidth=0.8)
    over_time.set_xlabel(ctx.dataset.time_column)
    over_time.set_ylabel(f"truth - forecast ({ctx.dataset.target})")
    over_time.set_title("Residuals over time")
    over_time.legend(fontsize="small")
    over_time.grid(alpha=0.3)
    labels = [shown_name(name) for name, _, _ in residuals]
    spread.boxplot([residual for _, _, residual in residuals], tick_labels=labels)
    spread.axhline(0.0, color="black", linewidth=0.8)
    spread.tick_params(axis="x", labelrotation=30, labelsize="small")
    spread.set_title("Distribution")
    spread.grid(alpha=0.3)
    return figure


def _model_colors(ctx: ReportContext) -> list[tuple[str, str]]:
    palette = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red")
    names = [TUNED, *_references(ctx)]
    return [(name, palette[k % len(palette)]) for k, name in enumerate(names)]


def figure_specs(ctx: ReportContext) -> list[tuple[str, str, Callable[[], Figure]]]:
    """The forecast figures: ``(key, caption, draw)``, after the search figures."""
    n = len(_truth(ctx))
    first, last = ctx.test.time.iloc[0], ctx.test.time.iloc[n - 1]
    return [
        (
            "forecast",
            f"The {n} held-out steps ({first} to {last}): the truth (black) and each "
            f"model's one-step-ahead forecast; {TUNED_NAME} in blue, the references after it. "
            "The RMSE of each, with its interval, is in the Results section.",
            lambda: forecast_figure(ctx),
        ),
        (
            "residuals",
            "Residuals (truth minus forecast) of every model over the held-out "
            "period, and their distribution; runs of same-signed residuals are why the held-out "
            "intervals resample blocks of consecutive steps.",
            lambda: residuals_figure(ctx),
        ),
        (
            "learning-curve",
            f"Per-epoch training loss (mean squared error of the standardised "
            f"target) of the {TUNED_NAME} and the {BASELINE_NAME} in their final fit.",
            lambda: _learning_curves(ctx),
        ),
    ]


def _learning_curves(ctx: ReportContext) -> Figure:
    from harness.report.figures import learning_curve_figure

    shown = {shown_name(k): ctx.holdout[k] for k in (TUNED, BASELINE)}
    return learning_curve_figure(shown, [TUNED_NAME, BASELINE_NAME])


SKIPPED = (
    "Classification-only parts are left out for a time series: the confusion matrices, "
    "per-class scores, calibration, the segment and campaign layer, the network diagrams and "
    "the tuned-model notebook (which rebuild a classifier)."
)
"""The one line a forecast report says instead of the sections it leaves out."""
