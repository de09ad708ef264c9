"""Which strategies share their start-up trials, found from the stored configurations.

Many model-based samplers begin with random proposals drawn from the same
seeded stream as random search (Optuna's tpe and gp start with exactly
``RandomSampler(seed)``'s draws; bayesopt and the skopt variants share the
harness's own start-up stream). Over those trials two strategies with the same
seed evaluate the same configurations, so comparing them there compares one
random draw with itself. :func:`shared_startup` finds such pairs from the trial
frame alone: same seed, identical configuration at the same trial position.
:func:`shared_startup_horizon` is the number of leading trials any pair shares,
the budget below which no efficiency advice is given.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd

from harness.results.efficiency import RUN, strategy_trials

COLUMNS = [
    "strategy_a",
    "strategy_b",
    "seeds",
    "shared_seeds",
    "prefix_median",
    "prefix_max",
    "same_trials",
]


def _configurations(frame: pd.DataFrame) -> dict[tuple[str, int], list[tuple]]:
    """Each run's configurations in trial order, as hashable tuples of ``(name, value)``."""
    trials = strategy_trials(frame).sort_values([*RUN, "trial"], kind="stable")
    params = sorted(c for c in trials.columns if c.startswith("param_"))
    runs: dict[tuple[str, int], list[tuple]] = {}
    for key, run in trials.groupby(RUN, sort=True):
        rows = run[params].to_dict("records")
        runs[key] = [
            tuple((k, _hashable(v)) for k, v in row.items() if not _missing(v)) for row in rows
        ]
    return runs


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _prefix(a: list[tuple], b: list[tuple]) -> int:
    """Length of the leading run of positions where ``a`` and ``b`` hold the same configuration."""
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y or not x:
            break
        count += 1
    return count


def shared_startup(frame: pd.DataFrame) -> pd.DataFrame:
    """Pairs of strategies whose runs with the same seed start with identical configurations.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials of one comparison (:func:`harness.study.ledger.trials_frame`);
        reference trials (a ``reference`` column) are left out first.

    Returns
    -------
    pandas.DataFrame
        One row per pair that shares at least one leading trial on some seed:
        ``strategy_a``, ``strategy_b`` (by name), ``seeds`` (seeds both ran),
        ``shared_seeds`` (seeds whose first trial is the same), ``prefix_median``
        and ``prefix_max`` (over the seeds both ran: how many leading trials are
        identical), ``same_trials`` (positions with the same configuration, over
        all their seeds, leading or not). Sorted by ``prefix_max`` descending.
    """
    runs = _configurations(frame)
    strategies = sorted({strategy for strategy, _ in runs})
    rows = []
    for a, b in itertools.combinations(strategies, 2):
        seeds = sorted({s for x, s in runs if x == a} & {s for x, s in runs if x == b})
        prefixes = [_prefix(runs[a, s], runs[b, s]) for s in seeds]
        same = sum(
            x == y and bool(x) for s in seeds for x, y in zip(runs[a, s], runs[b, s], strict=False)
        )
        if prefixes and max(prefixes) > 0:
            rows.append(
                [
                    a,
                    b,
                    len(seeds),
                    sum(p > 0 for p in prefixes),
                    float(pd.Series(prefixes).median()),
                    int(max(prefixes)),
                    int(same),
                ]
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(
        ["prefix_max", "strategy_a", "strategy_b"], ascending=[False, True, True], ignore_index=True
    )


def shared_startup_horizon(frame: pd.DataFrame) -> int:
    """The most leading trials any two strategies share on a seed (0 when none do).

    Efficiency rankings and advice are given only for budgets beyond it: up to
    this many trials some strategies are the same random draws.
    """
    table = shared_startup(frame)
    return int(table["prefix_max"].max()) if not table.empty else 0
