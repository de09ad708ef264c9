"""Scale-out: 1, 4, 8 and 16 worker processes on one study, on PostgreSQL, SQLite and a journal.

    python benchmarks/workers_scale.py              # rewrites its BENCHMARKS.md section
    python benchmarks/workers_scale.py --quick      # smoke run (1 and 2 workers); writes nothing

Each worker is a process running the harness's own worker loop
(:func:`harness.study.loop.run_slots`: lost-trial check, budget check, atomic
slot, the trial through ``Study.optimize`` with its heartbeat) on one study. The
objective is cheap: the analytic Branin function, with a fixed 0.2 s sleep standing
for training, so the ideal rate is known (workers / 0.2 s) and what falls short of
it is the storage's and the harness's overhead. Each trial stores what a harness
trial stores (worker, configuration, proposal time, fold scores, timings). The
clock starts when every worker has started (process start-up is not counted).
PostgreSQL runs on a throw-away local server (tests/postgres.py); its connection
count is the peak of ``pg_stat_activity`` during the run, less the counter's own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))

import optuna  # noqa: E402
from _common import machine_note, write_section  # noqa: E402

from harness.data.analytic import get_task  # noqa: E402
from harness.search.space import load_space  # noqa: E402
from harness.study import ledger  # noqa: E402
from harness.study.loop import run_slots  # noqa: E402
from harness.study.processes import worker_identity  # noqa: E402
from harness.study.storage import open_storage  # noqa: E402

NAME = "workers-scale"
TASK = "branin"
#: Seconds each trial's "training" takes (a sleep): the ideal rate is workers / SECONDS.
SECONDS = 0.2
STUDY = "scale"


def analytic_trial(study: optuna.Study, owner: dict, space, function) -> optuna.trial.FrozenTrial:
    """One trial as the harness stores it, on the analytic task, through ``Study.optimize``."""
    numbers: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        numbers.append(trial.number)
        ledger.record_worker(trial, owner)
        started = time.perf_counter()
        config = space.suggest(trial)
        ledger.record_proposal(trial, config, time.perf_counter() - started)
        time.sleep(SECONDS)
        value = -float(function(config))
        ledger.record_evaluation(trial, {"neg_value": [value]}, [SECONDS], [0.0], SECONDS)
        return value

    study.optimize(objective, n_trials=1, gc_after_trial=False)
    return next(t for t in study.get_trials(deepcopy=False) if t.number == numbers[0])


def work(url: str, index: int, budget: int, ready, go) -> None:
    """A worker process: open the storage, wait for the start, run slots until the budget."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=STUDY, storage=open_storage(url))
    owner = worker_identity(index)
    space = load_space(ROOT / "search_spaces" / "analytic" / f"{TASK}.toml", allowed_names=None)
    function = get_task(TASK)
    ready.release()
    go.wait()
    run_slots(study, budget, lambda slotted: [analytic_trial(slotted, owner, space, function)])


def peak_connections(url: str, stop: threading.Event, peak: list[int]) -> None:
    """Poll pg_stat_activity until ``stop``; keep the peak count of the others' connections."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        query = sqlalchemy.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        )
        while not stop.is_set():
            peak[0] = max(peak[0], int(connection.execute(query).scalar()) - 1)
            stop.wait(0.05)
    engine.dispose()


def run_once(url: str, workers: int, budget: int) -> dict:
    """Run one study with ``workers`` processes; return its rate, overhead and failures."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=STUDY, storage=open_storage(url), direction="maximize")
    for _ in range(budget):  # the budget's slots, as create_study enqueues them
        study.enqueue_trial({}, skip_if_exists=False)
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    processes = [
        context.Process(target=work, args=(url, index, budget, ready, go))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    peak, stop = [0], threading.Event()
    watcher = None
    if url.startswith("postgresql"):
        watcher = threading.Thread(target=peak_connections, args=(url, stop, peak))
        watcher.start()
    began = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    wall = time.perf_counter() - began
    stop.set()
    if watcher is not None:
        watcher.join()
    trials = study.get_trials(deepcopy=False)
    complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    rate = complete / wall
    ideal = workers / SECONDS
    return {
        "workers": workers,
        "complete": complete,
        "rate": rate,
        "overhead": 1 - rate / ideal,
        "connections": peak[0] if watcher is not None else None,
        "failed": len(trials) - complete,
        "crashed": sum(p.exitcode != 0 for p in processes),
    }


def storages(directory: Path, stack: ExitStack, with_postgres: bool) -> dict[str, object]:
    """Storage kind -> a function giving a fresh URL for one run."""
    counter = iter(range(1000))
    found: dict[str, object] = {
        "SQLite": lambda: f"sqlite:///{directory / f's{next(counter)}.db'}",
        "journal": lambda: str(directory / f"j{next(counter)}.journal"),
    }
    if with_postgres:
        from postgres import find_bindir, postgres_server

        bindir = find_bindir()
        if bindir is not None:
            base = stack.enter_context(postgres_server(bindir))

            def fresh() -> str:
                import sqlalchemy

                name = f"scale{next(counter)}"
                engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
                with engine.connect() as connection:
                    connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
                engine.dispose()
                return base.rsplit("/", 1)[0] + f"/{name}"

            found = {"PostgreSQL": fresh, **found}
    return found


def conclusion(rows: list[tuple[str, dict]]) -> str:
    """What the numbers imply for many hosts, from the table's own rows."""
    lines = []
    for kind in dict.fromkeys(kind for kind, _ in rows):
        mine = [r for k, r in rows if k == kind]
        best = max(mine, key=lambda r: r["rate"])
        line = (
            f"{kind}: at most {best['rate']:.1f} trials/s (at {best['workers']} workers); with "
            f"trials of T seconds that carries about {best['rate']:.1f} x T workers before the "
            "storage is the bottleneck"
        )
        troubled = [r for r in mine if r["failed"] or r["crashed"]]
        if troubled:
            line += (
                f"; failures from {min(r['workers'] for r in troubled)} workers on "
                "(a worker that crashed left its trials to the others)"
            )
        counted = [r for r in mine if r["connections"] is not None]
        if len(counted) > 1:  # per worker: the slope, without the creating process's own
            low, high = counted[0], counted[-1]
            per = (high["connections"] - low["connections"]) / (high["workers"] - low["workers"])
            line += (
                f"; {per:.1f} connections per worker (its pool and its heartbeat thread), so "
                f"PostgreSQL's default max_connections = 100 admits about {int(100 // per)} "
                "workers"
            )
        lines.append(f"- {line}.")
    lines.append(
        "- Beyond that (hundreds of workers, or more connections than the server admits), put "
        "Optuna's gRPC storage proxy in front of the database "
        "(`optuna.storages.run_grpc_proxy_server` on one host, `GrpcStorageProxy` in each "
        "worker): the workers then share the proxy's few connections and its cache. A journal "
        "file and SQLite are for the processes of one host."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run; writes nothing")
    parser.add_argument(
        "--trials-per-worker", type=int, default=15, help="budget per worker of each run"
    )
    args = parser.parse_args()
    counts = (1, 2) if args.quick else (1, 4, 8, 16)
    per_worker = 3 if args.quick else args.trials_per_worker
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        for kind, fresh in storages(Path(directory), stack, not args.quick).items():
            for workers in counts:
                result = run_once(fresh(), workers, max(20, per_worker * workers))
                rows.append((kind, result))
                print(kind, result, flush=True)
    body = render(rows, per_worker, load_before, os.getloadavg()[0])
    print(body)
    if not args.quick:
        write_section(NAME, body)
        print("wrote BENCHMARKS.md")


def render(
    rows: list[tuple[str, dict]], per_worker: int, load_before: float, load_after: float
) -> str:
    """The BENCHMARKS.md section: the table, what it implies, the machine."""
    lines = [
        "| storage | workers | trials | trials/s | ideal | overhead | connections | "
        "failed trials | crashed workers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in rows:
        connections = "-" if r["connections"] is None else str(r["connections"])
        lines.append(
            f"| {kind} | {r['workers']} | {r['complete']} | {r['rate']:.1f} | "
            f"{r['workers'] / SECONDS:.0f} | {r['overhead']:.0%} | {connections} | "
            f"{r['failed']} | {r['crashed']} |"
        )
    table = "\n".join(lines)
    return f"""## Workers on one study: scale-out

`python benchmarks/workers_scale.py` ({date.today().isoformat()}): 1, 4, 8 and 16 worker
processes on one study, each running the harness's worker loop with the analytic `{TASK}`
objective and a fixed {SECONDS} s sleep per trial standing for training, so the ideal rate is
workers / {SECONDS} s; the overhead is what the storage and the harness cost against it.
{per_worker} trials per worker (at least 20). Connections: the peak of `pg_stat_activity`.

{table}

{conclusion(rows)}

{machine_note(load_before, load_after)} This is a loaded 2-core machine (other jobs ran
beside it): every worker's Python (Optuna's ask and tell, the harness's checks) and the
database share 2 cores, so even one worker is far below the ideal, and the rates are lower
bounds of what a database on its own host serves; the connection counts do not depend on it."""


if __name__ == "__main__":
    main()
