"""What batch proposals cost in search quality: regret of sequential vs q = 4 and 8 batches.

    python benchmarks/batch_regret.py --write      # 50 seeds; rewrites its BENCHMARKS.md section
    python benchmarks/batch_regret.py --quick      # 3 seeds; writes nothing

Replays (:mod:`harness.study.replay`) the same strategies with the same seeds one trial at
a time and in synchronous batches of q (``batch = q``: q proposals asked at once, each
seeing the others running, all told after, as ``run --batch q`` asks them) on the tasks,
strategies and sequential budget (50 trials) of two reference replays: the committed
exhaustive ``mlp-small`` grids of ``teleconnect`` (``replay-teleconnect-small-b50-w1``:
``studies/teleconnect-small-tables.db``, task seeds 0, 1, 2, strategy seed s on table
s % 3; 5 folds, f1_macro) and the analytic Hartmann-6 function
(``replay-hartmann6-b50-w1``: one simulated second per evaluation).

Reported per task, strategy and q, over the seeds: the regret (optimum minus the best
value found) after the same number of trials, and after the same simulated CPU seconds:
a batched run is stopped at the seconds its sequential twin (same strategy and seed)
spent on its trials, with each batch taking its trials' seconds divided by the
population speed-up of ``benchmarks/population_speed.py`` (``--speedups``), so it fits
about speed-up times as many trials in them.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import machine_note, write_section  # noqa: E402

from harness.study import ledger  # noqa: E402
from harness.study.comparison import load_comparison  # noqa: E402
from harness.study.replay import Simulated, comparison_specs, simulate_many  # noqa: E402

NAME = "batch-regret"
#: The reference replays whose tasks, strategies and sequential budget this reuses.
FILES = {
    "teleconnect mlp-small grids": ROOT / "studies" / "replay-teleconnect-small-b50-w1.toml",
    "Hartmann-6": ROOT / "studies" / "replay-hartmann6-b50-w1.toml",
}
QS = (4, 8)
#: Batched runs' trial budgets over what the speed-up alone fits in the seconds.
SPARE = {"tables": 3.0, "task": 1.2}
#: The population speed-ups at q = 4 and 8 on mlp-small (BENCHMARKS.md, population speed).
SPEEDUPS = {4: 2.78, 8: 3.07}


def regret_after(
    run: Simulated, optimum: float, *, trials: int | None = None, seconds: float | None = None
) -> tuple[float, int]:
    """Regret of the best complete trial among the first ``trials``, or among those ended
    by ``seconds`` of simulated time; and how many trials that counted."""
    ordered = sorted(run.trials, key=lambda t: t.number)
    if trials is not None:
        kept = ordered[:trials]
    else:
        kept = [t for t in ordered if t.user_attrs[ledger.SIM_END] <= seconds + 1e-9]
    values = [t.value for t in kept if t.value is not None and math.isfinite(t.value)]
    return (optimum - max(values) if values else math.nan), len(kept)


def spent(run: Simulated, trials: int) -> float:
    """Simulated seconds a run had spent when its first ``trials`` trials ended."""
    ordered = sorted(run.trials, key=lambda t: t.number)[:trials]
    return max(t.user_attrs[ledger.SIM_END] for t in ordered)


def main() -> None:
    """Run the replays and print (and with ``--write``, store) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds; writes nothing")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--trials", type=int, default=50, help="the sequential budget")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--speedups",
        default=",".join(f"{q}={s}" for q, s in SPEEDUPS.items()),
        help="population speed-up per q, e.g. '4=2.5,8=3.0'",
    )
    parser.add_argument("--write", action="store_true", help="rewrite the BENCHMARKS.md section")
    args = parser.parse_args()
    seeds = 3 if args.quick else args.seeds
    speedups = {int(q): float(s) for q, s in (p.split("=") for p in args.speedups.split(","))}
    load_before, began = os.getloadavg()[0], time.perf_counter()
    os.chdir(ROOT)  # the replay files' table URLs are relative to the project root
    rows = []
    for label, path in FILES.items():
        comparison = load_comparison(path)
        if args.quick:
            comparison = replace(comparison, strategies=comparison.strategies[:2])
        comparison = replace(comparison, seeds=tuple(range(seeds)), trials=args.trials)
        strategies = comparison.strategies
        specs = comparison_specs(comparison)
        optimum = {spec.name: spec.task.optimum for spec in specs}
        # enough trials for the sequential run's seconds: repeats of earlier points are
        # answered at no cost, and on a grid of a few hundred points there are many
        spare = SPARE["task" if comparison.task is not None else "tables"]
        for q in QS:
            budget = math.ceil(args.trials * speedups[q] * spare) + q
            batched = replace(comparison, batch=q, batch_speedup=speedups[q], trials=budget)
            specs += [replace(spec, name=f"{spec.name}-q{q}") for spec in comparison_specs(batched)]
        done = {run.name: run for run in simulate_many(specs, args.processes)}
        for strategy in strategies:
            for q in (1, *QS):
                at_trials, at_seconds, counted, ended = [], [], [], 0
                for seed in comparison.seeds:
                    sequential = comparison.study_name(strategy, seed)
                    run = done[sequential if q == 1 else f"{sequential}-q{q}"]
                    best = optimum[sequential]
                    at_trials.append(regret_after(run, best, trials=args.trials)[0])
                    twin = spent(done[sequential], args.trials)
                    regret, n = regret_after(run, best, seconds=twin)
                    at_seconds.append(regret)
                    counted.append(n)
                    if n == len(run.trials) > args.trials:
                        ended += 1  # out of trials (budget, or a grid done) before the seconds
                rows.append((label, strategy, q, at_trials, at_seconds, counted, ended))
        print(f"{label}: done", flush=True)
    lines = [
        f"| task | strategy | q | regret after {args.trials} trials: mean (median) "
        "| regret after equal CPU seconds: mean (median) | trials in those seconds (median) "
        "| runs out of trials before |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, strategy, q, at_trials, at_seconds, counted, ended in rows:
        lines.append(
            f"| {label} | {strategy} | {q} | {statistics.fmean(at_trials):.4f} "
            f"({statistics.median(at_trials):.4f}) | {statistics.fmean(at_seconds):.4f} "
            f"({statistics.median(at_seconds):.4f}) | {statistics.median(counted):.0f} "
            f"| {ended if q > 1 else '-'} |"
        )
    table = "\n".join(lines)
    spare_text = f"{SPARE['tables']:g}x (grids) and {SPARE['task']:g}x (Hartmann-6)"
    note = (
        f"{seeds} seeds per strategy and q; sequential runs of {args.trials} trials on one "
        "simulated worker; batched runs in synchronous batches of q (`batch = q`). Equal CPU "
        "seconds: each batched run is cut at the simulated seconds its sequential twin (same "
        f"strategy and seed) spent on {args.trials} trials, a batch taking its trials' stored "
        "seconds divided by the population speed-up "
        f"({', '.join(f'q = {q}: {s:.2f}x' for q, s in speedups.items())}, the mlp-small "
        "speed-ups measured by `benchmarks/population_speed.py`; the same factors are assumed "
        "for Hartmann-6, whose evaluations cost one simulated second each). Regret: optimum "
        "minus the best value (teleconnect: mean f1_macro over 5 folds, the grid's optimum; "
        "Hartmann-6: the function's value negated, against its known optimum). A batched run "
        f"gets {spare_text} the trials the speed-up alone would fit (repeats of a point are "
        "answered at no cost); a run that still runs out of trials before the seconds (its "
        "budget, or grid search after every point) is counted in the last column, and its "
        f"regret there is an upper bound. Wall time {time.perf_counter() - began:.0f} s."
    )
    body = (
        "## Batch proposals: what they cost in regret\n\n"
        f"`python benchmarks/batch_regret.py --write` ({time.strftime('%Y-%m-%d')})\n\n"
        f"{note}\n\n{table}\n\n{machine_note(load_before, os.getloadavg()[0])}"
    )
    print(body)
    if args.write and not args.quick:
        write_section(NAME, body)


if __name__ == "__main__":
    main()
