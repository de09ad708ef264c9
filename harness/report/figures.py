"""The report's figures, drawn from stored trials and held-out results only.

Each ``*_figure`` function returns one :class:`matplotlib.figure.Figure`
built without pyplot (no global state, no interactive backend); write it with
:func:`save_figure`, which makes the PNG bytes a function of the figure alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from optuna.distributions import BaseDistribution, CategoricalDistribution

from harness.results import efficiency
from harness.search.strategies import STRATEGIES

DPI = 150
"""PNG resolution; 150 keeps tick labels sharp at the width a Markdown viewer shows."""
ZOOM_AFTER = 0.1
"""Incumbent curves: the y axis starts at the lowest value after this share of the x range."""
CONTOUR_BINS = 6
"""Cells per numeric axis of :func:`contour_figure`."""


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG whose bytes depend on the figure only.

    Matplotlib's Agg writer embeds no date; ``Software`` (the matplotlib
    version) is left out too, so a rebuilt report is byte-identical.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def strategy_color(name: str) -> Any:
    """The one colour of a strategy in every figure: its place in the strategy registry."""
    palette = colormaps["tab10"]
    order = list(STRATEGIES)
    index = order.index(name) if name in order else len(order) + sum(map(ord, name))
    return palette(index % 10)


def _strategy_colors(strategies: Sequence[str]) -> dict[str, Any]:
    return {name: strategy_color(name) for name in strategies}


def zoom_floor(curves: pd.DataFrame, column: str) -> float | None:
    """Lowest median or band value once ``ZOOM_AFTER`` of the x range has passed.

    Failed first trials leave an incumbent at the floor of the metric; starting the
    axis there squashes every later difference, so the axis starts at this value.
    """
    x = curves[column]
    start = x.min() + ZOOM_AFTER * (x.max() - x.min())
    later = curves[x >= start][["median", "ci_low"]].to_numpy(dtype=float)
    later = later[np.isfinite(later)]
    return float(later.min()) if later.size else None


def _seconds_label(frame: pd.DataFrame) -> str:
    """What the seconds axis measures: CPU, simulated or wall seconds (:func:`efficiency.clock`)."""
    return {
        "CPU": "process CPU seconds of the run",
        "simulated": "simulated seconds of the replay",
    }.get(efficiency.clock(frame), "wall seconds since the run's first trial")


def incumbent_figure(
    frame: pd.DataFrame, *, axis: efficiency.Axis, optimum: float | None, metric: str
) -> Figure:
    """Median incumbent per strategy over trials or seconds, with bootstrap bands over seeds."""
    curves = efficiency.incumbent_curves(frame, axis=axis)
    column = "trial" if axis == "trials" else "seconds"
    colors = _strategy_colors(curves["strategy"].unique())
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.add_subplot()
    for strategy, curve in curves.groupby("strategy", sort=True):
        color = colors[strategy]
        seeds = int(curve["seeds"].iloc[0])
        ax.step(
            curve[column],
            curve["median"],
            where="post",
            color=color,
            label=f"{strategy} ({seeds} seeds)",
        )
        ax.fill_between(
            curve[column],
            curve["ci_low"],
            curve["ci_high"],
            step="post",
            color=color,
            alpha=0.2,
            linewidth=0,
        )
    if optimum is not None:
        ax.axhline(optimum, color="black", linestyle=":", label="exhaustive grid optimum")
    floor = zoom_floor(curves, column)
    highs = curves[["median", "ci_high"]].to_numpy(dtype=float)
    highs = highs[np.isfinite(highs)]
    if floor is not None and highs.size:
        top = max(float(highs.max()), optimum if optimum is not None else -np.inf)
        pad = 0.05 * (top - floor) or 0.01
        ax.set_ylim(floor - pad, top + pad)
    ax.set_xlabel("trials" if axis == "trials" else _seconds_label(frame))
    ax.set_ylabel(f"best mean CV {metric} so far")
    ax.set_title(f"Incumbent by {axis}: median over seeds, 95% bootstrap band")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return figure


def time_to_target_figure(frame: pd.DataFrame, *, optimum: float | None) -> Figure:
    """Trials and seconds each run needed to reach the target; hollow markers are censored."""
    runs = efficiency.time_to_target(frame, optimum=optimum)
    strategies = sorted(runs["strategy"].unique())
    colors = _strategy_colors(strategies)
    figure = Figure(figsize=(9, 0.6 * len(strategies) + 2), layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    for ax, column, label in zip(
        panels, ("ttt_trials", "ttt_seconds"), ("trials", "seconds"), strict=True
    ):
        for row, strategy in enumerate(strategies):
            group = runs[runs["strategy"] == strategy]
            offsets = row + np.linspace(-0.2, 0.2, len(group)) if len(group) > 1 else [row]
            reached = group["reached"].to_numpy()
            for mask, face in ((reached, colors[strategy]), (~reached, "none")):
                ax.scatter(
                    np.asarray(group[column])[mask],
                    np.asarray(offsets)[mask],
                    facecolors=face,
                    edgecolors=colors[strategy],
                    s=36,
                )
        ax.set_xlabel(f"{label if label == 'trials' else _seconds_label(frame)} to target")
        ax.grid(alpha=0.3)
    panels[0].set_yticks(range(len(strategies)), strategies)
    target = float(runs["target"].iloc[0])
    figure.suptitle(f"Time to target {target:.4f} per run (hollow: not reached, censored)")
    return figure


def importance_figure(importances: Mapping[str, float], *, source: str) -> Figure:
    """Horizontal bars of parameter importances, the most important on top."""
    names = list(importances)[::-1]
    figure = Figure(figsize=(6, 0.45 * len(names) + 1.5), layout="constrained")
    ax = figure.add_subplot()
    ax.barh(names, [importances[name] for name in names], color="tab:blue")
    ax.set_xlabel("fANOVA importance (share of variance explained)")
    ax.set_title(f"Parameter importance, {source}")
    ax.grid(axis="x", alpha=0.3)
    return figure


def _coordinates(
    values: Sequence[Any], distribution: BaseDistribution
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Map values to cell coordinates: (positions, tick positions, tick labels, cells)."""
    if isinstance(distribution, CategoricalDistribution):
        labels = [str(choice) for choice in distribution.choices]
        positions = np.array([labels.index(str(v)) + 0.5 for v in values], dtype=float)
        return positions, np.arange(len(labels)) + 0.5, labels, len(labels)
    low, high = float(distribution.low), float(distribution.high)
    log = bool(getattr(distribution, "log", False))
    scale = np.log if log else (lambda v: np.asarray(v, dtype=float))
    span = float(scale(high) - scale(low)) or 1.0
    positions = (scale(np.asarray(values, dtype=float)) - scale(low)) / span * CONTOUR_BINS
    edges = (
        np.geomspace(low, high, CONTOUR_BINS + 1)
        if log
        else np.linspace(low, high, CONTOUR_BINS + 1)
    )
    return positions, np.arange(CONTOUR_BINS + 1), [f"{e:.3g}" for e in edges], CONTOUR_BINS


def contour_figure(
    trials: Sequence[optuna.trial.FrozenTrial], params: tuple[str, str], *, metric: str
) -> Figure:
    """Best mean CV score per cell of a grid over two parameters, with every trial as a dot.

    Categorical parameters get one cell per choice; numeric ones
    :data:`CONTOUR_BINS` equal cells, on a log scale where the parameter is
    searched on one. Trials lacking either parameter (conditional ones) are left out.
    """
    both = [t for t in trials if all(p in t.params for p in params)]
    axes = []
    for name in params:
        axes.append(_coordinates([t.params[name] for t in both], both[0].distributions[name]))
    (x, xticks, xlabels, nx), (y, yticks, ylabels, ny) = axes
    values = np.array([t.values[0] for t in both], dtype=float)
    best = np.full((ny, nx), np.nan)
    cells_x = np.clip(np.floor(x).astype(int), 0, nx - 1)
    cells_y = np.clip(np.floor(y).astype(int), 0, ny - 1)
    for i, j, value in zip(cells_y, cells_x, values, strict=True):
        best[i, j] = value if np.isnan(best[i, j]) else max(best[i, j], value)
    figure = Figure(figsize=(7, 5), layout="constrained")
    ax = figure.add_subplot()
    mesh = ax.pcolormesh(
        np.arange(nx + 1),
        np.arange(ny + 1),
        np.ma.masked_invalid(best),
        cmap="viridis",
        shading="flat",
    )
    for i, j in zip(*np.nonzero(~np.isnan(best)), strict=True):
        # Above the middle, where categorical trials' dots sit.
        ax.text(
            j + 0.5,
            i + 0.75,
            f"{best[i, j]:.3f}",
            ha="center",
            va="center",
            color="white",
            fontsize="small",
        )
    ax.scatter(x, y, s=10, color="black", alpha=0.6)
    ax.set_xticks(xticks, xlabels, rotation=30, ha="right", fontsize="small")
    ax.set_yticks(yticks, ylabels, fontsize="small")
    ax.set_xlim(0, nx)
    ax.set_ylim(0, ny)
    ax.set_xlabel(params[0])
    ax.set_ylabel(params[1])
    ax.set_title(f"Best mean CV {metric} per cell ({len(both)} complete trials)")
    figure.colorbar(mesh, ax=ax, label=f"best mean CV {metric}")
    return figure


def confusion_figure(
    holdout: Mapping[str, Mapping[str, Any]],
    models: Sequence[str],
    names: Mapping[str, str] | None = None,
    *,
    group: str = "class",
) -> Figure:
    """Held-out confusion matrices of ``models`` side by side (rows: true, columns: predicted).

    ``names`` gives the name of each label (as text) for the tick labels; ``group`` is
    what the axes call a class (the dataset's :attr:`~harness.data.datasets.Vocabulary.group`,
    e.g. ``"segment"``: "predicted segment").
    """
    figure = Figure(figsize=(4.5 * len(models), 4.2), layout="constrained")
    for ax, name in zip(figure.subplots(1, len(models), squeeze=False)[0], models, strict=True):
        matrix = np.asarray(holdout[name]["confusion"])
        labels = [(names or {}).get(str(label), str(label)) for label in holdout[name]["labels"]]
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            dark = count > matrix.max() / 2
            ax.text(j, i, str(count), ha="center", va="center", color="white" if dark else "black")
        ticks = range(len(labels))
        ax.set_xticks(ticks, labels, rotation=30, ha="right")
        ax.set_yticks(ticks, labels)
        ax.set_xlabel(f"predicted {group}")
        ax.set_ylabel(f"true {group}")
        ax.set_title(f"{name}: {int(np.trace(matrix))} of {int(matrix.sum())} correct")
    return figure


def learning_curve_figure(
    holdout: Mapping[str, Mapping[str, Any]], models: Sequence[str]
) -> Figure:
    """Per-epoch losses of ``models`` in their final fit on the training split."""
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.add_subplot()
    for color, name in zip(("tab:blue", "tab:orange"), models, strict=False):
        history = pd.DataFrame(holdout[name]["history"])
        ax.plot(history["epoch"], history["train_loss"], color=color, label=f"{name}: train loss")
        if "valid_loss" in history:
            ax.plot(
                history["epoch"],
                history["valid_loss"],
                color=color,
                linestyle="--",
                label=f"{name}: early-stopping validation loss",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Learning curves of the final fits")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return figure


#: Equal-width bins of predicted probability in the calibration figure.
CALIBRATION_BINS = 5


def calibration_figure(
    y_true: Sequence[Any],
    proba: np.ndarray,
    labels: Sequence[Any],
    names: Mapping[str, str] | None = None,
    *,
    group: str = "class",
) -> Figure:
    """Reliability of the tuned model's probabilities, one panel per class (one-vs-rest).

    Rows are binned by their predicted probability of the class
    (:data:`CALIBRATION_BINS` equal-width bins); each point is a bin's mean predicted
    probability against the share of its rows that are in the class, with a 95%
    Wilson interval, and is labelled with its number of rows. Points on the diagonal
    are calibrated. Empty bins are left out. ``group`` is what the y axis calls a
    class (``"segment"``: "share in the segment").
    """
    truth = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    figure = Figure(figsize=(3.2 * len(labels), 3.4), layout="constrained")
    axes = figure.subplots(1, len(labels), squeeze=False, sharey=True)[0]
    for ax, (column, label) in zip(axes, enumerate(labels), strict=True):
        members = truth == label
        bins = np.clip(np.digitize(proba[:, column], edges[1:-1]), 0, CALIBRATION_BINS - 1)
        for b in range(CALIBRATION_BINS):
            rows = bins == b
            n = int(rows.sum())
            if n == 0:
                continue
            share = members[rows].mean()
            low, high = _wilson(share, n)
            x = proba[rows, column].mean()
            below, above = max(share - low, 0.0), max(high - share, 0.0)  # rounding at 0 or 1
            ax.errorbar(x, share, yerr=[[below], [above]], fmt="o", color="C0", capsize=2)
            ax.annotate(str(n), (x, share), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title((names or {}).get(str(label), str(label)))
        ax.set_xlabel("predicted probability")
    axes[0].set_ylabel(f"share in the {group}")
    return figure


def _wilson(share: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson 1927)."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
