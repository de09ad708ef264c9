"""Trials per minute of one study with 1 worker and with 2 workers, side by side in one run.

    python benchmarks/workers_speed.py              # rewrites its BENCHMARKS.md section
    python benchmarks/workers_speed.py --quick      # smoke run; writes nothing

Both runs use the same task (dataset, space, folds, seed) and random search, each
on a fresh SQLite storage; each worker is a process with one torch thread. The
ratio of trials per minute is what `--workers 2` buys on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_note, write_section

from harness.data.datasets import is_available, load_dataset
from harness.data.splits import holdout_split
from harness.search.space import load_space
from harness.study.loop import StudySpec, run_study

NAME = "workers-speed"


def trials_per_minute(dataset, space, trials: int, workers: int, directory: Path) -> float:
    """Run a fresh random-search study and return its finished trials per minute."""
    spec = StudySpec(
        name=f"workers-{workers}",
        storage=f"sqlite:///{directory / f'workers-{workers}.db'}",
        strategy="random",
        dataset=dataset,
        space=space,
        n_trials=trials,
    )
    start = time.perf_counter()
    study = run_study(spec, workers=workers)
    elapsed = time.perf_counter() - start
    return len(study.get_trials(deepcopy=False)) / elapsed * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run; writes nothing")
    parser.add_argument("--trials", type=int, default=60, help="trials per study")
    args = parser.parse_args()
    name = "teleconnect" if is_available("teleconnect") else "sklearn-wine"
    train, _ = holdout_split(load_dataset(name), 0.2, 0)
    space = load_space("mlp-small")
    trials = 4 if args.quick else args.trials
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        rates = {w: trials_per_minute(train, space, trials, w, Path(directory)) for w in (1, 2)}
    ratio = rates[2] / rates[1]
    table = "\n".join(
        [
            "| workers | trials per minute | x 1 worker |",
            "| --- | ---: | ---: |",
            *(f"| {w} | {rate:.1f} | {rate / rates[1]:.2f} |" for w, rate in rates.items()),
        ]
    )
    print(table)
    if not args.quick:
        body = f"""## Workers: trials per minute

`python benchmarks/workers_speed.py` ({date.today().isoformat()}): one random-search study of
{trials} trials on `{name}` (80% training split, 5-fold CV) over `mlp-small.toml`, run with 1
and then 2 worker processes (one torch thread each) on a fresh SQLite storage. Process start-up
(spawn, importing torch) counts against the 2-worker run.

{table}

2 workers give {ratio:.2f}x the trials per minute of 1 worker.
{machine_note(load_before, os.getloadavg()[0])}"""
        write_section(NAME, body)
        print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
