"""Leaderboard tables built from stored trials, written as Markdown and CSV.

The builders return DataFrames whose column names say how to print them
(``*_seconds`` with one decimal, ``*_p`` with three significant digits,
``*_rate`` as percentages, scores with four decimals; see :data:`GLOSSARY`).
:func:`write_leaderboard` turns a ``{table name: DataFrame}`` mapping into
``<name>.md`` (one section per table) and one ``<name>-<table>.csv`` per
table with the unrounded values. Nothing here reads a clock, so the same
trials always give the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from harness.errors import ConfigError
from harness.results import efficiency, stats

#: Level of every test and coverage of every interval in the tables.
ALPHA = 0.05
CONFIDENCE = 1 - ALPHA

#: What each column means; a table's section lists the entries of its columns.
GLOSSARY = {
    "rank": "position (ties share it)",
    "strategy": "search strategy",
    "seeds": "runs (seeds) behind the figure",
    "trials": "finished trials behind the figure",
    "budget": "trials compared per run (T)",
    "auc_nr": "mean normalized regret over trials 1..T (0 = optimum, 1 = random search)",
    "auc_regret": "mean of best known score minus median incumbent over trials 1..T",
    "ttt_trials": "median trials to reach the target (censored runs count at T)",
    "ttt_seconds": "median seconds to reach the target (censored runs count at their end)",
    "ttt_censored": "yes: half the runs or more missed the target, the medians are lower bounds",
    "success": "share of runs that reached the target",
    "speedup_trials": "random search's median trials to target / this one's (n/a: both censored)",
    "speedup_seconds": "the same ratio in seconds",
    "overhead": "time spent proposing / total trial wall time",
    "final_rank": "rank of the final incumbent among strategies, averaged over seeds",
    "mean": "mean over seeds of each seed's best CV score",
    "std": "standard deviation over seeds",
    "ci_low": f"lower end of the {CONFIDENCE:.0%} percentile bootstrap interval over seeds",
    "ci_high": "upper end of that interval",
    "pairs": "seeds shared with the best strategy",
    "wilcoxon_p": f"paired Wilcoxon p against rank 1 (n/a: too few pairs to reach {ALPHA})",
    "fail_rate": "share of trials that failed",
    "prune_rate": "share of trials that were pruned",
    "strategy_a": "first strategy of the pair",
    "strategy_b": "second strategy of the pair",
    "seeds_a": "seeds of strategy_a",
    "seeds_b": "seeds of strategy_b",
    "u": "Mann-Whitney U of strategy_a",
    "mannwhitney_p": f"two-sided Mann-Whitney p (n/a: too few seeds to reach {ALPHA})",
    "holm_p": "Holm-adjusted p over the tested pairs",
    "significant": f"holm_p below {ALPHA}",
    "complete": "complete trials",
    "best": "best score of any trial",
    "cv_score": "mean CV score of the incumbents",
    "test_score": "mean held-out test score of the refitted incumbents",
    "gap": "mean test minus CV score",
    "baseline": "reference model",
    "number": "Optuna trial number",
    "value": "mean CV objective",
    "trial_seconds": "wall time of the trial",
    "trial": "trials finished (t)",
    "median": "median over seeds of the incumbent (best CV score so far) after t trials",
    "nr": "normalized regret of that median (0 = optimum, 1 = random search)",
    "mean_rank": "rank among strategies after t trials, averaged over seeds",
}
#: Meanings of the column families named by a prefix.
PREFIXES = {
    "score_": "mean over folds of a metric",
    "std_": "standard deviation over folds of a metric",
    "test_": "held-out test metric",
    "param_": "configuration value",
}
RATES = {"success", "overhead"}
SCORES = {
    "mean", "std", "ci_low", "ci_high", "best", "cv_score", "test_score", "gap", "value", "median",
    "nr", "mean_rank",
}  # fmt: skip
#: Fractions of the budget at which :func:`curve_table` samples the incumbent curves.
CHECKPOINTS = (0.1, 0.25, 0.5, 0.75, 1.0)
SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _ranked(table: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """Sort ``table`` and prepend a competition rank (equal keys share the rank)."""
    table = table.sort_values(
        [*by, "strategy"], ascending=[*ascending, True], kind="stable", ignore_index=True
    )
    first = ~table.duplicated(subset=by)
    positions = pd.Series(np.arange(1, len(table) + 1)).where(first).ffill()
    table.insert(0, "rank", positions.astype(int))
    return table


def efficiency_table(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    q: float = 0.1,
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Strategies ranked by anytime AUC of normalized regret (then of plain regret).

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task (:func:`harness.study.ledger.trials_frame`).
    optimum, reference, q, budget
        As in :func:`harness.results.efficiency.speedup`.
    n_boot, seed
        Bootstrap of the rank curves (only the final mean rank is shown).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``strategy``, ``seeds``, ``trials``, ``auc_nr``,
        ``auc_regret``, ``ttt_trials``, ``ttt_seconds``, ``ttt_censored``,
        ``success``, ``speedup_trials``, ``speedup_seconds``, ``overhead``,
        ``final_rank``.
    """
    target = {"optimum": optimum, "reference": reference, "budget": budget}
    auc = efficiency.anytime_auc(frame, **target)
    ttt = efficiency.speedup(frame, q=q, **target)
    cost = efficiency.overhead(frame, budget=budget)
    ranks = efficiency.rank_curves(frame, budget=budget, n_boot=n_boot, seed=seed)
    final = ranks[ranks["trial"] == ranks["trial"].max()]
    table = (
        auc[["strategy", "seeds", "auc_nr", "auc_regret"]]
        .merge(cost[["strategy", "trials", "overhead"]], on="strategy")
        .merge(ttt.drop(columns="seeds"), on="strategy")
        .merge(final[["strategy", "mean_rank"]].rename(columns={"mean_rank": "final_rank"}))
    )
    columns = [
        "strategy",
        "seeds",
        "trials",
        "auc_nr",
        "auc_regret",
        "ttt_trials",
        "ttt_seconds",
        "ttt_censored",
        "success",
        "speedup_trials",
        "speedup_seconds",
        "overhead",
        "final_rank",
    ]
    return _ranked(table[columns], ["auc_nr", "auc_regret"], [True, True])


def final_score_table(
    frame: pd.DataFrame,
    *,
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Strategies ranked by mean final incumbent, with intervals, tests and failure rates.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``strategy``, ``seeds``, ``trials``, ``mean``, ``std``,
        ``ci_low``, ``ci_high`` (95% percentile bootstrap of the mean),
        ``pairs``, ``wilcoxon_p`` (against rank 1), ``fail_rate``, ``prune_rate``.
    """
    scores = efficiency.final_scores(
        frame, budget=budget, n_boot=n_boot, confidence=CONFIDENCE, seed=seed
    )
    finals = efficiency.final_incumbents(frame, budget=budget)
    tests = stats.wilcoxon_vs_best(finals, alpha=ALPHA)
    fails = efficiency.failure_rates(frame, budget=budget)
    table = scores.merge(tests[["strategy", "pairs", "wilcoxon_p"]], on="strategy").merge(
        fails[["strategy", "fail_rate", "prune_rate"]], on="strategy"
    )
    return _ranked(table, ["mean"], [False])


def baselines_table(baselines: pd.DataFrame) -> pd.DataFrame:
    """Reference baselines' held-out metrics as a leaderboard table.

    Parameters
    ----------
    baselines : pandas.DataFrame
        One row per baseline, named by a ``baseline`` column or by the index,
        and one numeric column per test metric.

    Returns
    -------
    pandas.DataFrame
        ``baseline`` then ``test_<metric>`` columns, highest first by the first
        metric column (put a score to maximise first).
    """
    table = baselines
    if "baseline" not in table.columns:
        table = table.rename_axis("baseline").reset_index()
    metrics = [
        c for c in table.columns if c != "baseline" and pd.api.types.is_numeric_dtype(table[c])
    ]
    if not metrics:
        raise ConfigError("the baselines table has no numeric metric column: one column per metric")
    names = {c: c if c.startswith("test_") else f"test_{c}" for c in metrics}
    table = table.rename(columns=names)
    return table.sort_values(names[metrics[0]], ascending=False, kind="stable", ignore_index=True)


def curve_table(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The incumbent curves by trials, sampled at :data:`CHECKPOINTS` of the budget.

    Returns
    -------
    pandas.DataFrame
        One row per strategy and checkpoint: ``trial``, the median incumbent
        over seeds with its bootstrap interval, its normalized regret and the
        strategy's mean rank at that point, and how many seeds stand behind it.
    """
    boot = {"n_boot": n_boot, "seed": seed}
    curves = efficiency.incumbent_curves(frame, axis="trials", budget=budget, **boot)
    regret = efficiency.regret_curves(
        frame, optimum=optimum, reference=reference, axis="trials", budget=budget
    )
    ranks = efficiency.rank_curves(frame, budget=budget, **boot)
    last = int(curves["trial"].max())
    points = sorted({max(1, math.ceil(fraction * last)) for fraction in CHECKPOINTS})
    table = (
        curves[["strategy", "trial", "median", "ci_low", "ci_high", "seeds"]]
        .merge(regret[["strategy", "trial", "nr"]], on=["strategy", "trial"])
        .merge(ranks[["strategy", "trial", "mean_rank"]], on=["strategy", "trial"])
    )
    table = table[table["trial"].isin(points)]
    columns = ["strategy", "trial", "median", "ci_low", "ci_high", "nr", "mean_rank", "seeds"]
    return table[columns].sort_values(["strategy", "trial"], ignore_index=True)


def study_leaderboard(frame: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The ``k`` best complete trials of one study.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of exactly one study.
    k : int
        How many trials to list.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (ties share it), ``number``, ``value``, the ``std_<metric>``
        columns where the frame has them, ``score_<metric>`` columns,
        ``trial_seconds`` and the ``param_<name>`` columns.
    """
    studies = frame["study"].unique()
    if len(studies) != 1:
        raise ConfigError(
            f"study_leaderboard ranks one study, got {len(studies)}: "
            "select one with frame[frame['study'] == NAME]"
        )
    complete = frame[frame["state"] == "COMPLETE"]
    ranked = complete.sort_values(["value", "number"], ascending=[False, True], kind="stable")
    ranked = ranked.assign(rank=ranked["value"].rank(method="min", ascending=False).astype(int))
    families = [[c for c in frame.columns if c.startswith(p)] for p in ("std_", "score_")]
    params = [c for c in frame.columns if c.startswith("param_")]
    columns = ["rank", "number", "value", *families[0], *families[1], "trial_seconds", *params]
    return ranked.head(k)[columns].reset_index(drop=True)


def leaderboard_tables(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    params: Sequence[str] = ("optimizer", "imbalance"),
    test_scores: Mapping[str, float] | None = None,
    baselines: pd.DataFrame | None = None,
    budget: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The standard set of tables for one task's comparison.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task.
    optimum, reference, budget
        As in :func:`efficiency_table`.
    params : sequence of str
        Parameters to group by (``by_<param>`` tables); those the trials lack
        are skipped.
    test_scores : Mapping[str, float], optional
        Study -> held-out score of its incumbent; adds ``generalization``.
    baselines : pandas.DataFrame, optional
        Baselines' test metrics; adds ``baselines``.
    n_boot, seed
        Bootstrap resamples and seed for every interval.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``efficiency``, ``final``, ``curves``, ``pairwise``, ``by_<param>`` and, when their
        inputs are given, ``generalization`` and ``baselines``, in that order.
    """
    boot = {"n_boot": n_boot, "seed": seed}
    tables = {
        "efficiency": efficiency_table(
            frame, optimum=optimum, reference=reference, budget=budget, **boot
        ),
        "final": final_score_table(frame, budget=budget, **boot),
        "curves": curve_table(frame, optimum=optimum, reference=reference, budget=budget, **boot),
        "pairwise": stats.pairwise_mannwhitney(
            efficiency.final_incumbents(frame, budget=budget), alpha=ALPHA
        ),
    }
    for param in params:
        if f"param_{param}" in frame.columns:
            tables[f"by_{param}"] = efficiency.best_by_parameter(
                frame, param, budget=budget, confidence=CONFIDENCE, **boot
            )
    if test_scores is not None:
        tables["generalization"] = efficiency.generalization_gap(
            frame, test_scores, confidence=CONFIDENCE, **boot
        )
    if baselines is not None:
        tables["baselines"] = baselines_table(baselines)
    return tables


def _float_format(column: str) -> str:
    if column.endswith("_p"):
        return ".3g"
    if "seconds" in column:
        return ".1f"
    if column in RATES or column.endswith("_rate"):
        return ".1%"
    if "rank" in column or column.startswith(("speedup", "ttt_trials")):
        return ".2f"
    if column in SCORES or column.startswith(("score_", "std_", "test_", "auc_", "target")):
        return ".4f"
    return ".4g"


def _formatter(column: str, values: pd.Series) -> Callable[[object], str]:
    if pd.api.types.is_bool_dtype(values):
        return lambda v: "yes" if v else "no"
    if pd.api.types.is_integer_dtype(values):
        return lambda v: str(int(v))
    if pd.api.types.is_float_dtype(values):
        spec = _float_format(column)

        def number(v: float) -> str:
            if math.isnan(v):
                return "n/a"
            return format(v, spec) if math.isfinite(v) else str(v)

        return number
    return lambda v: "" if v is None or v is pd.NA else str(v).replace("|", r"\|")


def markdown_table(table: pd.DataFrame) -> str:
    cells = {c: table[c].map(_formatter(c, table[c])) for c in table.columns}
    rows = pd.DataFrame(cells, columns=table.columns).values.tolist()
    align = [
        "right"
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        else "left"
        for c in table.columns
    ]
    return tabulate(
        rows,
        headers=list(table.columns),
        tablefmt="github",
        disable_numparse=True,
        colalign=align,
    )


def explanation(table: pd.DataFrame) -> str:
    parts = []
    for column in table.columns:
        meaning = GLOSSARY.get(column) or next(
            (text for prefix, text in PREFIXES.items() if column.startswith(prefix)), None
        )
        if meaning:
            parts.append(f"`{column}`: {meaning}")
    return "Columns: " + "; ".join(parts) + "." if parts else ""


def render_markdown(
    tables: Mapping[str, pd.DataFrame], name: str, header_notes: Sequence[str] = ()
) -> str:
    """GitHub-flavoured Markdown of ``tables``: a title, the notes, one section per table.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Section name -> table, in the order to print.
    name : str
        Title of the document.
    header_notes : sequence of str
        Paragraphs under the title (what was compared, budget, dates if wanted).

    Returns
    -------
    str
        The document, ending with a newline.
    """
    blocks = [f"# {name}", *header_notes]
    for key, table in tables.items():
        blocks += [f"## {key}", explanation(table), markdown_table(table)]
    return "\n\n".join(block for block in blocks if block) + "\n"


def write_leaderboard(
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    name: str,
    header_notes: Sequence[str] = (),
) -> list[Path]:
    """Write ``<directory>/<name>.md`` and one ``<directory>/<name>-<table>.csv`` per table.

    The CSV files hold the unrounded values without an index;
    ``pandas.read_csv(path)`` reads one back equal to its table.

    Parameters
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Table name -> table; names are used in file names.
    directory : str or pathlib.Path
        Output folder, created if missing (e.g. ``leaderboards``).
    name : str
        Base name of the files.
    header_notes : sequence of str
        Paragraphs under the Markdown title.

    Returns
    -------
    list of pathlib.Path
        The Markdown file, then the CSV files in table order.
    """
    for label in (name, *tables):
        if not SAFE_NAME.fullmatch(label):
            raise ConfigError(
                f"{label!r} cannot be part of a file name: use letters, digits, '.', '_' or '-'"
            )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"{name}.md"
    markdown.write_text(render_markdown(tables, name, header_notes), encoding="utf-8", newline="\n")
    written = [markdown]
    for key, table in tables.items():
        path = directory / f"{name}-{key}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written
