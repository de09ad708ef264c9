"""Search-efficiency metrics over strategies x seeds, computed from stored trials only.

Every function takes a frame from :func:`harness.study.ledger.trials_frame` holding
the trials of one task (one dataset, search space and metric) with one study
per strategy and seed, and returns a DataFrame; nothing is trained, so tables
can be rebuilt at any time. The definitions, and the choices they leave open,
are fixed as follows.

Conventions
-----------
incumbent
    ``y(t)``: the best complete ``value`` among a run's first ``t`` trials
    (``axis="trials"``), or among its trials ended within ``tau`` seconds of
    its first start (``axis="seconds"``). Failed and pruned trials never
    improve it; before the first complete trial it is NaN. A run that stopped
    before the budget keeps its last incumbent.
budget
    ``T``, the number of trials compared; trials past it are ignored. Default:
    the longest run.
floor
    Seed aggregates (medians, ranks, regret) count an undefined incumbent as
    the worst complete value of any trial in the frame; ``floored`` says how
    many seeds that concerns.
optimum
    ``opt_p`` is the larger of ``optimum`` (a score known from elsewhere,
    e.g. an exhaustive grid's best) and the best value in the frame.
normalized regret
    ``NR(t) = (opt_p - median_n y(t)) / (opt_p - rand_p(t))`` where
    ``rand_p`` is the reference strategy's median incumbent. Where random
    search already sits at the optimum (zero denominator) NR is 0 for a
    strategy there too and ``inf`` for one that is not: it is then infinitely
    worse than random, and its anytime AUC is ``inf``; ``regret``
    (``opt_p - median``) stays finite and breaks such ties.
time to target
    Runs that never reach the target are censored at the budget: ``T``
    trials, and the run's own last ``elapsed_seconds``. Medians include the
    censored values; ``ttt_censored`` is true when the median is itself
    censored (a lower bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from harness.errors import ConfigError
from harness.results.statistics import bootstrap_ci, summarize

Axis = Literal["trials", "seconds"]

RUN = ["strategy", "seed"]
REQUIRED = (
    "study",
    "strategy",
    "seed",
    "trial",
    "state",
    "value",
    "elapsed_seconds",
    "suggest_seconds",
    "trial_seconds",
)
#: Points of the default time grid, evenly spaced up to the longest run.
TIME_POINTS = 100


def prepare_trials(frame: pd.DataFrame, budget: int | None) -> pd.DataFrame:
    """Validate ``frame``, drop trials past ``budget`` and blank non-complete values.

    The first step of every analysis here; the other results modules call it
    too, so they all read the same trials.
    """
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise ConfigError(
            f"the trial frame lacks columns {missing}: build it with harness.trials_frame"
        )
    if frame[RUN].isna().to_numpy().any():
        raise ConfigError(
            "some trials have no strategy or seed: analyse studies written by the harness"
        )
    studies = frame.groupby(RUN)["study"].nunique()
    if (studies > 1).any():
        strategy, seed = studies[studies > 1].index[0]
        raise ConfigError(
            f"strategy {strategy!r} has several studies for seed {seed}: "
            "analyse one comparison (one study per strategy and seed)"
        )
    if budget is not None and budget < 1:
        raise ConfigError(f"budget must be at least 1 trial, got {budget}")
    frame = strategy_trials(frame)
    trials = frame if budget is None else frame[frame["trial"] <= budget]
    trials = trials.assign(value=trials["value"].where(trials["state"] == "COMPLETE"))
    if trials["value"].isna().all():
        raise ConfigError(
            "no complete trial to analyse: every trial failed, was pruned or is past the budget"
        )
    if clock(trials) == "CPU":
        # Seconds-based analyses measure compute, not the hour: process CPU seconds.
        trials = trials.assign(
            wall_elapsed_seconds=trials["elapsed_seconds"],
            elapsed_seconds=trials["elapsed_cpu_seconds"],
        )
    return trials.sort_values([*RUN, "trial"], kind="stable")


def clock(frame: pd.DataFrame) -> str:
    """``"CPU"`` where every trial recorded its process CPU time, ``"simulated"`` for a
    replay, else ``"wall"``.

    Time-based curves, times to target and speed-ups use process CPU seconds
    (``elapsed_cpu_seconds``), which a loaded machine does not inflate; a replay's
    seconds are its simulated clock (the table's stored seconds,
    :mod:`harness.study.replay`); studies stored before CPU time was recorded fall
    back to wall seconds; the tables say which.
    """
    simulated = frame.get("simulated")
    if simulated is not None and not simulated.empty and simulated.eq(True).all():
        return "simulated"
    column = frame.get("elapsed_cpu_seconds")
    if column is None or column.empty or column.isna().any():
        return "wall"
    return "CPU"


def strategy_trials(frame: pd.DataFrame) -> pd.DataFrame:
    """The strategies' own trials: reference trials dropped, ``trial`` renumbered 1, 2, ...

    A ``reference`` column (true for the untuned baseline evaluated as a trial
    of the study) marks trials no strategy proposed; they neither count against
    the budget nor improve an incumbent. Without that column the frame is
    returned unchanged.
    """
    if "reference" not in frame.columns:
        return frame
    reference = frame["reference"].eq(True)
    kept = frame[~reference].sort_values([*RUN, "trial"], kind="stable")
    return kept.assign(trial=kept.groupby(RUN).cumcount() + 1)


def _axis_column(axis: Axis) -> str:
    if axis not in ("trials", "seconds"):
        raise ConfigError(f"axis must be 'trials' or 'seconds', got {axis!r}")
    return "trial" if axis == "trials" else "seconds"


def _points(
    trials: pd.DataFrame, axis: Axis, grid: ArrayLike | None, budget: int | None
) -> np.ndarray:
    if axis == "trials":
        if grid is not None:
            raise ConfigError("grid applies to axis='seconds'; choose trials with budget")
        return np.arange(1, (budget or int(trials["trial"].max())) + 1)
    if grid is not None:
        return np.sort(np.asarray(grid, dtype=float))
    end = float(trials["elapsed_seconds"].max())
    return np.linspace(end / TIME_POINTS, end, TIME_POINTS)


def _run_curve(run: pd.DataFrame, axis: Axis, points: np.ndarray) -> np.ndarray:
    if axis == "trials":
        values = np.full(len(points), np.nan)
        values[run["trial"].to_numpy() - 1] = run["value"].to_numpy()
        return np.fmax.accumulate(values)
    timed = run.dropna(subset=["elapsed_seconds"]).sort_values("elapsed_seconds", kind="stable")
    if timed.empty:
        return np.full(len(points), np.nan)
    best = np.fmax.accumulate(timed["value"].to_numpy())
    index = np.searchsorted(timed["elapsed_seconds"].to_numpy(), points, side="right") - 1
    return np.where(index >= 0, best[np.maximum(index, 0)], np.nan)


def _matrix(
    trials: pd.DataFrame, axis: Axis, grid: ArrayLike | None, budget: int | None
) -> pd.DataFrame:
    column = _axis_column(axis)
    points = _points(trials, axis, grid, budget)
    keys, curves = [], []
    for key, run in trials.groupby(RUN, sort=True):
        keys.append(key)
        curves.append(_run_curve(run, axis, points))
    index = pd.MultiIndex.from_tuples(keys, names=RUN)
    return pd.DataFrame(np.vstack(curves), index=index, columns=pd.Index(points, name=column))


def _filled(trials: pd.DataFrame, matrix: pd.DataFrame) -> pd.DataFrame:
    return matrix.fillna(float(trials["value"].min()))


def filled_incumbents(trials: pd.DataFrame, budget: int | None) -> pd.DataFrame:
    """Runs x trials incumbent matrix of :func:`prepare_trials`' output, before-first filled.

    A run's incumbent before its first complete trial is the worst value of any
    trial, so every run has a value at every trial count.
    """
    return _filled(trials, _matrix(trials, "trials", None, budget))


def _long(
    strategies: Sequence[str], points: np.ndarray, column: str, **values: np.ndarray
) -> pd.DataFrame:
    """Stack ``(n_strategies, n_points)`` arrays into one row per strategy and point."""
    frame = pd.DataFrame(
        {
            "strategy": np.repeat(list(strategies), len(points)),
            column: np.tile(points, len(strategies)),
        }
    )
    for name, array in values.items():
        frame[name] = np.asarray(array).reshape(-1)
    return frame


def incumbents(
    frame: pd.DataFrame,
    *,
    axis: Axis = "trials",
    grid: ArrayLike | None = None,
    budget: int | None = None,
) -> pd.DataFrame:
    """Incumbent of every run at every point of the axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task, as :func:`harness.study.ledger.trials_frame` returns them.
    axis : {"trials", "seconds"}
        Trials ``t = 1..T`` or wall-clock seconds since each run's first trial start.
    grid : array-like of float, optional
        Time points for ``axis="seconds"``; default 100 even steps up to the longest run.
    budget : int, optional
        ``T``; default the longest run.

    Returns
    -------
    pandas.DataFrame
        Index ``(strategy, seed)``, one column per point (named ``trial`` or
        ``seconds``), NaN before a run's first complete trial.
    """
    trials = prepare_trials(frame, budget)
    return _matrix(trials, axis, grid, budget)


def incumbent_curves(
    frame: pd.DataFrame,
    *,
    axis: Axis = "trials",
    grid: ArrayLike | None = None,
    budget: int | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Incumbent curves per strategy aggregated over seeds.

    Parameters are those of :func:`incumbents`, plus the bootstrap's
    ``n_boot``, ``confidence`` and ``seed``.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``trial`` or ``seconds``, ``median``, ``mean``,
        ``ci_low``/``ci_high`` (percentile bootstrap over seeds of the median;
        NaN with one seed), ``seeds`` and ``floored`` (seeds without a complete
        trial yet, counted at the floor).
    """
    trials = prepare_trials(frame, budget)
    matrix = _matrix(trials, axis, grid, budget)
    filled = _filled(trials, matrix)
    parts = []
    for strategy, block in filled.groupby(level="strategy"):
        values = block.to_numpy()
        low, high = bootstrap_ci(values, np.median, n_boot=n_boot, confidence=confidence, seed=seed)
        parts.append(
            _long(
                [strategy],
                matrix.columns.to_numpy(),
                matrix.columns.name,
                median=np.median(values, axis=0),
                mean=values.mean(axis=0),
                ci_low=low,
                ci_high=high,
                seeds=np.full(values.shape[1], len(values)),
                floored=matrix.loc[strategy].isna().sum().to_numpy(),
            )
        )
    return pd.concat(parts, ignore_index=True)


def effective_optimum(trials: pd.DataFrame, optimum: float | None) -> float:
    """The optimum raised to the best trial where a trial beat it (None: the best trial)."""
    best = float(trials["value"].max())
    return best if optimum is None else max(float(optimum), best)


def reference_medians(filled: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Median incumbent per strategy at every point; refuses a missing ``reference``."""
    medians = filled.groupby(level="strategy").median()
    if reference not in medians.index:
        raise ConfigError(
            f"no {reference!r} runs among the trials: normalized regret and time to target "
            "are relative to random search; add it to the comparison or pass another reference"
        )
    return medians


def _normalized(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    return np.where(denominator > 0, ratio, np.where(numerator > 0, np.inf, 0.0))


def regret_curves(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    axis: Axis = "trials",
    grid: ArrayLike | None = None,
    budget: int | None = None,
) -> pd.DataFrame:
    """Plain and normalized regret of each strategy's median incumbent.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task.
    optimum : float, optional
        Best score known for the task from elsewhere (see the module notes).
    reference : str
        Strategy whose median incumbent is ``rand_p``.
    axis, grid, budget
        As in :func:`incumbents`.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``trial`` or ``seconds``, ``median`` (over seeds, floored),
        ``regret`` (``opt_p - median``), ``nr`` and ``seeds``.
    """
    trials = prepare_trials(frame, budget)
    filled = _filled(trials, _matrix(trials, axis, grid, budget))
    medians = reference_medians(filled, reference)
    opt = effective_optimum(trials, optimum)
    regret = opt - medians.to_numpy()
    nr = _normalized(regret, opt - medians.loc[reference].to_numpy())
    seeds = filled.groupby(level="strategy").size().to_numpy()
    return _long(
        medians.index,
        filled.columns.to_numpy(),
        filled.columns.name,
        median=medians.to_numpy(),
        regret=regret,
        nr=nr,
        seeds=np.repeat(seeds, filled.shape[1]),
    )


def anytime_auc(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    budget: int | None = None,
    after: int = 0,
) -> pd.DataFrame:
    """Anytime AUC: the mean normalized (and plain) regret over ``t = after+1..T``.

    Parameters
    ----------
    frame, optimum, reference, budget
        As in :func:`regret_curves`.
    after : int, optional
        Trials left out at the start, e.g. the start-up trials strategies share
        (:func:`harness.results.design.shared_startup_horizon`); when ``after``
        reaches the budget, every trial is kept.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``auc_nr``, ``auc_regret``, ``seeds``, ``budget`` (``T``).
    """
    curves = regret_curves(frame, optimum=optimum, reference=reference, budget=budget)
    if after > 0 and (curves["trial"] > after).any():
        curves = curves[curves["trial"] > after]
    table = curves.groupby("strategy", sort=True).agg(
        auc_nr=("nr", "mean"),
        auc_regret=("regret", "mean"),
        seeds=("seeds", "first"),
        budget=("trial", "max"),
    )
    return table.reset_index()


def time_to_target(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    q: float = 0.1,
    budget: int | None = None,
) -> pd.DataFrame:
    """Trials and seconds each run needs to reach ``opt_p - q * (opt_p - rand_p(T))``.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``strategy``, ``seed``, ``study``, ``target``,
        ``reached``, ``ttt_trials`` and ``ttt_seconds`` (censored at the budget
        where not reached).
    """
    trials = prepare_trials(frame, budget)
    matrix = _matrix(trials, "trials", None, budget)
    medians = reference_medians(_filled(trials, matrix), reference)
    opt = effective_optimum(trials, optimum)
    target = opt - q * (opt - float(medians.loc[reference].iloc[-1]))
    horizon = int(matrix.columns[-1])
    rows = []
    for (strategy, seed), run in trials.groupby(RUN, sort=True):
        hits = run[run["value"] >= target]
        reached = not hits.empty
        rows.append(
            {
                "strategy": strategy,
                "seed": seed,
                "study": run["study"].iloc[0],
                "target": target,
                "reached": reached,
                "ttt_trials": int(hits["trial"].min()) if reached else horizon,
                "ttt_seconds": float(
                    hits["elapsed_seconds"].min() if reached else run["elapsed_seconds"].max()
                ),
            }
        )
    return pd.DataFrame(rows)


def _censored_median(values: np.ndarray, reached: np.ndarray) -> tuple[float, bool]:
    """Median with censored values at their budget, and whether that median is censored."""
    censored = np.isinf(np.median(np.where(reached, values, np.inf)))
    return float(np.median(values)), bool(censored)


def speedup(
    frame: pd.DataFrame,
    *,
    optimum: float | None = None,
    reference: str = "random",
    q: float = 0.1,
    budget: int | None = None,
) -> pd.DataFrame:
    """Median time to target, success rate and speed-up over the reference per strategy.

    The speed-up is ``median TTT_reference / median TTT_m`` in trials and in
    seconds, medians taken with censored runs at their budget. It is a lower
    bound when the reference's median is censored, an upper bound when the
    strategy's is, and NaN when both are.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``success``, ``ttt_trials``, ``ttt_seconds``,
        ``ttt_censored``, ``speedup_trials``, ``speedup_seconds``.
    """
    runs = time_to_target(frame, optimum=optimum, reference=reference, q=q, budget=budget)
    rows = []
    for strategy, group in runs.groupby("strategy", sort=True):
        reached = group["reached"].to_numpy()
        ttt_trials, censored = _censored_median(group["ttt_trials"].to_numpy(float), reached)
        ttt_seconds, _ = _censored_median(group["ttt_seconds"].to_numpy(float), reached)
        rows.append(
            {
                "strategy": strategy,
                "seeds": len(group),
                "success": float(reached.mean()),
                "ttt_trials": ttt_trials,
                "ttt_seconds": ttt_seconds,
                "ttt_censored": censored,
            }
        )
    table = pd.DataFrame(rows)
    ref = table.set_index("strategy").loc[reference]
    both = table["ttt_censored"] & bool(ref["ttt_censored"])
    for axis in ("trials", "seconds"):
        ratio = ref[f"ttt_{axis}"] / table[f"ttt_{axis}"]
        table[f"speedup_{axis}"] = ratio.where(~both)
    return table


def rank_curves(
    frame: pd.DataFrame,
    *,
    budget: int | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Average rank of each strategy after every trial, over the seeds all strategies ran.

    At every ``t`` and seed the strategies are ranked by incumbent (1 is
    best, ties share the average rank, undefined incumbents count at the
    floor); ranks are then averaged over seeds, with a percentile bootstrap
    over seeds (the same resampled seeds for every strategy).

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``trial``, ``mean_rank``, ``ci_low``, ``ci_high``, ``seeds``.
    """
    trials = prepare_trials(frame, budget)
    filled = _filled(trials, _matrix(trials, "trials", None, budget))
    strategies = sorted(filled.index.unique("strategy"))
    common = set.intersection(*(set(filled.loc[s].index) for s in strategies))
    if not common:
        raise ConfigError(
            "no seed was run by every strategy: ranks compare strategies on shared seeds"
        )
    seeds = sorted(common)
    cube = np.stack([filled.loc[s].loc[seeds].to_numpy() for s in strategies])
    ranks = rankdata(-cube, axis=0)
    low, high = bootstrap_ci(
        ranks.transpose(1, 0, 2), np.mean, n_boot=n_boot, confidence=confidence, seed=seed
    )
    return _long(
        strategies,
        filled.columns.to_numpy(),
        "trial",
        mean_rank=ranks.mean(axis=1),
        ci_low=low,
        ci_high=high,
        seeds=np.full(ranks.shape[0] * ranks.shape[2], len(seeds)),
    )


def final_incumbents(frame: pd.DataFrame, *, budget: int | None = None) -> pd.Series:
    """Final incumbent of every run: the best complete value within the budget.

    Returns
    -------
    pandas.Series
        Indexed by ``(strategy, seed)``; runs without a complete trial are left out.
    """
    trials = prepare_trials(frame, budget)
    return trials.groupby(RUN, sort=True)["value"].max().dropna()


def final_scores(
    frame: pd.DataFrame,
    *,
    budget: int | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Final incumbent per strategy over seeds (:func:`harness.results.statistics.summarize`).

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds`` (runs with a complete trial), ``trials`` (every
        finished trial of the strategy), ``mean``, ``std``, ``ci_low``, ``ci_high``.
    """
    trials = prepare_trials(frame, budget)
    table = summarize(
        final_incumbents(frame, budget=budget), n_boot=n_boot, confidence=confidence, seed=seed
    )
    table.insert(2, "trials", table["strategy"].map(trials["strategy"].value_counts()))
    return table


def overhead(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Share of wall time spent proposing: ``sum(suggest_seconds) / sum(trial_seconds)``.

    ``trial_seconds`` already includes the proposal (see :mod:`harness.study.ledger`).
    Trials missing either timing are left out of both sums.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``trials`` (all finished), ``suggest_seconds``,
        ``trial_seconds``, ``overhead``.
    """
    trials = prepare_trials(frame, budget)
    timed = trials[["suggest_seconds", "trial_seconds"]].notna().all(axis=1)
    table = trials.assign(
        suggest_seconds=trials["suggest_seconds"].where(timed, 0.0),
        trial_seconds=trials["trial_seconds"].where(timed, 0.0),
    )
    table = table.groupby("strategy", sort=True).agg(
        seeds=("seed", "nunique"),
        trials=("trial", "size"),
        suggest_seconds=("suggest_seconds", "sum"),
        trial_seconds=("trial_seconds", "sum"),
    )
    table["overhead"] = table["suggest_seconds"] / table["trial_seconds"].where(
        table["trial_seconds"] > 0
    )
    return table.reset_index()


def failure_rates(frame: pd.DataFrame, *, budget: int | None = None) -> pd.DataFrame:
    """Failed and pruned trials per strategy, as counts and as shares of its trials.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``seeds``, ``trials``, ``failed``, ``pruned``, ``fail_rate``, ``prune_rate``.
    """
    trials = prepare_trials(frame, budget)
    flags = trials.assign(failed=trials["state"] == "FAIL", pruned=trials["state"] == "PRUNED")
    table = flags.groupby("strategy", sort=True).agg(
        seeds=("seed", "nunique"),
        trials=("trial", "size"),
        failed=("failed", "sum"),
        pruned=("pruned", "sum"),
    )
    table["fail_rate"] = table["failed"] / table["trials"]
    table["prune_rate"] = table["pruned"] / table["trials"]
    return table.reset_index()
