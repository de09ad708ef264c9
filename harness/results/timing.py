"""What each strategy's trials cost: CPU and wall time, fitting, proposing, duplicates, failures.

Equal numbers of trials are not equal compute: a sampler that proposes slowly,
re-trains a configuration it already evaluated or spends trials on failures
gets less from the same budget. :func:`timing_table` puts those numbers side by
side, with the number of workers the comparison ran with (pending trials change
what a sequential model-based sampler sees). Process CPU seconds are the fair
measure (a loaded machine stretches wall time, not CPU time); wall seconds are
shown beside the machine's load average while the trials ran.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.results import efficiency


def _mean(trials: pd.DataFrame, column: str) -> pd.Series:
    if column not in trials.columns:
        return pd.Series(np.nan, index=sorted(trials["strategy"].unique()))
    return trials.groupby("strategy", sort=True)[column].mean()


def _top_reason(reasons: pd.Series) -> str:
    reasons = reasons.dropna()
    if reasons.empty:
        return "none"
    counts = reasons.value_counts()
    top = counts[counts == counts.max()].index
    return f"{sorted(top)[0]} ({int(counts.max())})"


def repeats(trials: pd.DataFrame) -> pd.Series:
    """True for each trial whose configuration an earlier trial of the same run already had.

    Used where the ledger has no ``duplicate`` column (studies run before
    repeated proposals were answered from the stored result).
    """
    params = sorted(c for c in trials.columns if c.startswith("param_"))
    keys = trials[params].apply(
        lambda row: repr([(k, v) for k, v in row.items() if not _missing(v)]), axis=1
    )
    ordered = trials.assign(_key=keys).sort_values([*efficiency.RUN, "trial"], kind="stable")
    repeated = ordered.duplicated(subset=[*efficiency.RUN, "_key"])
    return repeated.reindex(trials.index)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def timing_table(
    frame: pd.DataFrame, *, workers: int | None = None, budget: int | None = None
) -> pd.DataFrame:
    """Cost of each strategy's trials.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one comparison; reference trials are left out. Optional
        columns used when present: ``fit_seconds``, ``predict_seconds``,
        ``duplicate`` (a repeated proposal answered from the stored result;
        without it, repeated configurations are found with :func:`repeats`),
        ``fail_reason``.
    workers : int, optional
        Workers the comparison ran with (``Comparison.workers``).
    budget : int, optional
        Trials per run compared.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``trials``, ``workers``, ``run_seconds``
        (median over seeds of a run's wall time), ``load_average`` (mean over
        its trials of the machine's 1-minute load when each ended),
        ``run_cpu_seconds`` (median over seeds of a run's process CPU time),
        ``cpu_seconds`` (mean CPU seconds per trial), ``trial_seconds``,
        ``fit_seconds``, ``predict_seconds``, ``suggest_seconds`` (wall
        seconds, means per trial), all NaN where not recorded (studies stored
        before CPU time and load were), ``overhead`` (proposing / trial time),
        ``duplicate_rate`` (share of trials repeating a configuration of their
        run: the ledger's ``duplicate`` flag, else found from the
        configurations), ``fail_rate`` and
        ``fail_reason`` (the most common reason, with its count).
    """
    trials = efficiency.prepare_trials(frame, budget)
    by = trials.groupby("strategy", sort=True)
    wall = trials.get("wall_elapsed_seconds", trials["elapsed_seconds"])
    run_seconds = wall.groupby([trials[c] for c in efficiency.RUN]).max()
    cpu = trials.get("elapsed_cpu_seconds", pd.Series(np.nan, index=trials.index))
    run_cpu = cpu.groupby([trials[c] for c in efficiency.RUN]).max()
    table = pd.DataFrame(
        {
            "seeds": by["seed"].nunique(),
            "trials": by.size(),
            "workers": workers if workers is not None else np.nan,
            "run_seconds": run_seconds.groupby(level="strategy").median(),
            "load_average": _mean(trials, "load_average"),
            "run_cpu_seconds": run_cpu.groupby(level="strategy").median(),
            "cpu_seconds": _mean(trials, "cpu_seconds"),
            "trial_seconds": _mean(trials, "trial_seconds"),
            "fit_seconds": _mean(trials, "fit_seconds"),
            "predict_seconds": _mean(trials, "predict_seconds"),
            "suggest_seconds": _mean(trials, "suggest_seconds"),
        }
    )
    cost = efficiency.overhead(frame, budget=budget).set_index("strategy")
    table["overhead"] = cost["overhead"]
    duplicate = trials["duplicate"].eq(True) if "duplicate" in trials.columns else repeats(trials)
    table["duplicate_rate"] = duplicate.groupby(trials["strategy"]).mean()
    failed = trials["state"] == "FAIL"
    table["fail_rate"] = failed.groupby(trials["strategy"]).mean()
    reasons = trials.get("fail_reason", pd.Series(np.nan, index=trials.index)).where(failed)
    table["fail_reason"] = reasons.groupby(trials["strategy"]).apply(_top_reason)
    if workers is not None:
        table["workers"] = int(workers)
    table["clock"] = efficiency.clock(trials)
    return table.rename_axis("strategy").reset_index()
