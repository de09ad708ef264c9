"""The effect of one factor (optimizer, imbalance strategy) on matched configurations.

"The best score reached with each value" grows with how often a strategy
proposed the value: a value tried in 200 trials has more chances at a lucky
best than one tried in 20. :func:`factor_effects` compares like with like
instead: per seed, a random-forest surrogate of the score is fitted on every
complete trial of that seed (all strategies pooled), and each value's effect is
the surrogate's mean prediction over the same configurations (every observed
one, with the factor set to that value and everything else kept). That is the
partial dependence of Friedman (2001) and the marginal that functional ANOVA
(Hutter et al. 2014) decomposes; the values are compared paired over seeds,
with a t interval.

The imbalance strategy is read as the trials' ``param_imbalance``, which the
ledger sets to the strategy that ran (:func:`harness.study.ledger.effective_imbalance`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import RandomForestRegressor

from harness.errors import ConfigError
from harness.results.efficiency import strategy_trials

COLUMNS = [
    "seeds",
    "trials",
    "complete",
    "effect",
    "effect_sd",
    "ci_low",
    "ci_high",
    "vs_top",
    "vs_top_low",
    "vs_top_high",
    "best",
]
"""The columns of :func:`factor_effects` after the factor's own."""
N_TREES = 64
"""Trees of each seed's surrogate."""


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _design(trials: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """The trials' configurations as numbers: numeric columns as they are (absent: below the
    smallest value), the others one-hot (absent: its own column)."""
    blocks = []
    for column in params:
        values = trials[column].map(_hashable)
        present = values.dropna()
        numeric = not present.empty and all(
            isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
            for v in present
        )
        if numeric:
            numbers = pd.to_numeric(values, errors="coerce")
            fill = float(numbers.min()) - 1.0 if numbers.notna().any() else -1.0
            blocks.append(numbers.fillna(fill).rename(column).to_frame())
        else:
            text = values.map(lambda v: "<absent>" if v is None else repr(v))
            blocks.append(pd.get_dummies(text, prefix=column, prefix_sep="=", dtype=float))
    return pd.concat(blocks, axis=1)


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * stats.sem(values)
    mean = float(np.mean(values))
    return mean - float(half), mean + float(half)


def factor_effects(
    frame: pd.DataFrame,
    param: str,
    *,
    budget: int | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each value of one parameter, compared on the same configurations.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one task (:func:`harness.study.ledger.trials_frame`); reference
        trials are left out.
    param : str
        Parameter name without the ``param_`` prefix, e.g. ``"imbalance"``.
    budget : int, optional
        Only each run's first ``budget`` trials.
    confidence : float
        Coverage of the t intervals over seeds.
    seed : int
        Seeds the surrogates (with each task seed).

    Returns
    -------
    pandas.DataFrame
        ``<param>``; ``seeds`` (seeds whose trials tried the value); ``trials``
        (finished) and ``complete`` with it; ``effect``, ``effect_sd``, ``ci_low``,
        ``ci_high``: the value's effect (mean predicted score over the seed's
        configurations): its mean, standard deviation and t interval over seeds;
        ``vs_top``, ``vs_top_low``, ``vs_top_high``: the value's effect minus the
        first row's, paired over seeds; ``best``:
        the best single score with the value (descriptive). Highest effect first.

    Raises
    ------
    ConfigError
        If the trials have no such parameter.
    """
    column = f"param_{param}"
    if column not in frame.columns:
        known = sorted(c.removeprefix("param_") for c in frame.columns if c.startswith("param_"))
        raise ConfigError(f"no parameter {param!r} in the trials; parameters: {', '.join(known)}")
    trials = strategy_trials(frame)
    if budget is not None:
        trials = trials[trials["trial"] <= budget]
    trials = trials.assign(**{column: trials[column].map(_hashable)})
    # Internally every value is keyed by its repr: tuple values would become pandas MultiIndexes.
    shown = {repr(v): v for v in trials[column].dropna()}
    keys = trials[column].map(lambda v: None if v is None or v is np.nan else repr(v))
    keys = keys.where(trials[column].notna(), None)
    params = sorted(c for c in trials.columns if c.startswith("param_") and c != column)
    complete = trials[(trials["state"] == "COMPLETE") & trials[column].notna()]
    effects: dict[Any, dict[Any, float]] = {}
    for task_seed, rows in complete.groupby("seed", sort=True):
        values = list(dict.fromkeys(rows[column]))
        if len(values) == 1 or rows["value"].nunique() < 2:
            effects[task_seed] = {repr(v): float(rows["value"].mean()) for v in values}
            continue
        # The observed configurations, then the same ones with the factor set to each value.
        blocks = [rows, *(rows.assign(**{column: [v] * len(rows)}) for v in values)]
        design = _design(pd.concat(blocks, ignore_index=True), [column, *params]).to_numpy()
        n = len(rows)
        state = int(np.random.SeedSequence([seed, int(task_seed)]).generate_state(1)[0])
        surrogate = RandomForestRegressor(
            n_estimators=N_TREES, min_samples_leaf=2, random_state=state, n_jobs=1
        ).fit(design[:n], rows["value"].to_numpy())
        effects[task_seed] = {
            repr(v): float(surrogate.predict(design[n * (i + 1) : n * (i + 2)]).mean())
            for i, v in enumerate(values)
        }
    per_seed = pd.DataFrame(effects).T  # seeds x values
    counts = (
        trials.assign(key=keys)
        .dropna(subset=["key"])
        .groupby("key", sort=False)
        .agg(
            trials=("value", "size"),
            complete=("state", lambda s: int((s == "COMPLETE").sum())),
            best=("value", "max"),
        )
    )
    rows_out = []
    for value in counts.index:
        seen = per_seed[value].dropna() if value in per_seed.columns else pd.Series(dtype=float)
        low, high = _t_interval(seen.to_numpy(), confidence)
        rows_out.append(
            {
                param: shown[value],
                "key": value,
                "seeds": len(seen),
                "effect": float(seen.mean()) if len(seen) else float("nan"),
                "effect_sd": float(seen.std(ddof=1)) if len(seen) > 1 else float("nan"),
                "ci_low": low,
                "ci_high": high,
                **counts.loc[value].to_dict(),
            }
        )
    table = pd.DataFrame(rows_out, columns=[param, "key", *COLUMNS])
    table = table.sort_values("effect", ascending=False, kind="stable", ignore_index=True)
    if not table.empty and table.loc[0, "seeds"] > 0:
        top = table.loc[0, "key"]
        for index, value in enumerate(table["key"]):
            both = per_seed[[top, value]].dropna() if value in per_seed.columns else None
            if both is None or both.empty:
                continue
            difference = (both[value] - both[top]).to_numpy()
            table.loc[index, "vs_top"] = float(difference.mean())
            low, high = _t_interval(difference, confidence) if value != top else (0.0, 0.0)
            table.loc[index, ["vs_top_low", "vs_top_high"]] = [low, high]
    table["trials"] = table["trials"].astype(int)
    table["complete"] = table["complete"].astype(int)
    table = table.drop(columns="key")
    # Each value's effect per seed, for paired comparisons of any two values (paired_difference).
    table.attrs["per_seed"] = {key: per_seed[key].dropna().to_dict() for key in per_seed.columns}
    table.attrs["confidence"] = confidence
    return table


def paired_difference(table: pd.DataFrame, a: Any, b: Any) -> tuple[float, float, float, int]:
    """Effect of value ``a`` minus value ``b`` of a :func:`factor_effects` table, paired over seeds.

    Returns
    -------
    tuple
        ``(mean, ci_low, ci_high, seeds)``: the mean difference over the seeds
        that tried both values, its t interval (NaN below two seeds) and that
        number of seeds; all NaN and 0 when the table holds no per-seed effects.
    """
    per_seed = table.attrs.get("per_seed", {})
    first, second = per_seed.get(repr(_hashable(a)), {}), per_seed.get(repr(_hashable(b)), {})
    seeds = sorted(first.keys() & second.keys())
    if not seeds:
        return float("nan"), float("nan"), float("nan"), 0
    difference = np.array([first[s] - second[s] for s in seeds])
    low, high = _t_interval(difference, table.attrs.get("confidence", 0.95))
    return float(difference.mean()), low, high, len(seeds)
