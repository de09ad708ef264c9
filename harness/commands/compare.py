"""Run a comparison: every (strategy, seed) study of a studies/*.toml file, into one storage.

A replay comparison (``mode = "replay"``) looks its trials up in stored tables
or evaluates an analytic function instead of training (see
:mod:`harness.study.replay`); no held-out refit follows, as nothing is trained.

Finished studies are skipped and unfinished ones resumed, so the command can be
stopped and re-run at any time. Every study searches the same task (dataset,
folds, held-out split and model initialisation); afterwards each study's best
configuration is scored on the held-out split, and the leaderboards are
written (the same ones `harness leaderboard` rebuilds from storage).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.commands._data_options import add_data_dir_argument

HELP = "run strategies x seeds of a comparison file, then write its leaderboards"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``compare`` options."""
    parser.add_argument(
        "comparison", type=Path, help="comparison file, e.g. studies/teleconnect.toml"
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--leaderboards",
        type=Path,
        default=Path("leaderboards"),
        help="output folder, relative to the current folder as the default storage "
        "(studies/NAME.db) is; the summary prints its full path",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def main(args: argparse.Namespace) -> int:
    """Run every study of the comparison, then write its leaderboards."""
    from optuna.trial import TrialState

    from harness.commands._progress import Progress
    from harness.data.splits import holdout_split
    from harness.model.pipeline import build_pipeline
    from harness.results.loading import load_results, write_comparison_leaderboard
    from harness.search.space import load_space
    from harness.study import ledger
    from harness.study.comparison import load_comparison
    from harness.study.holdout import add_ensembles, refit_best
    from harness.study.loop import run_study
    from harness.study.objectives import best_trial
    from harness.study.storage import open_storage

    comparison = load_comparison(args.comparison)
    if comparison.replay:
        return _replay(comparison, args)
    space = load_space(comparison.space_source())
    dataset = comparison.load_dataset(args.data_dir)
    train, test = holdout_split(dataset, comparison.test_size, comparison.task_seed)
    # The space's fixed settings must fit the data (a CNN's image_shape): fail before any study.
    build_pipeline(space.fixed, train, train.y.to_numpy(), comparison.task_seed)
    specs = comparison.study_specs(train, space)
    # Create the storage's schema here, once, before any process opens it: processes that
    # create a new database at the same moment race on it (UNIQUE constraint failed:
    # alembic_version.version_num, or "table studies already exists").
    open_storage(comparison.storage)
    if len(comparison.rounds()) > 1:
        # Only the compared studies take turns; the grid and reference pool run after.
        _run_round_robin(specs[: len(comparison.matrix())], comparison, args.quiet)
    if comparison.processes > 1:
        _run_in_processes(specs, comparison.workers, comparison.processes, args.quiet)
    baselines = None
    for index, spec in enumerate(specs, start=1):
        label = f"study {index}/{len(specs)} {spec.strategy} seed {spec.seed}"
        progress = Progress(spec.n_trials, comparison.metric, quiet=args.quiet, label=label)
        try:
            # After _run_in_processes every study is finished: this only loads it.
            study = run_study(spec, workers=comparison.workers, on_trial=progress)
        finally:
            progress.close()
        complete = any(t.state == TrialState.COMPLETE for t in study.trials)
        best = best_trial(study) if complete else None
        if best is None or ledger.holdout_is_current(study, best.number):
            continue
        baselines = refit_best(
            study, train, test, comparison.task_seed, baselines=baselines, ensembles=False
        ).baselines
    results = load_results(comparison)
    if results.holdout():  # some study was refitted
        # Only the study the report shows gets the (costly) ensembles with trees.
        add_ensembles(results.best_study(), train, test, comparison.task_seed)
    path = write_comparison_leaderboard(load_results(comparison), args.leaderboards)
    print_outputs(path, comparison.storage)
    return 0


def print_outputs(leaderboard: Path, storage: str) -> None:
    """Say where the outputs went, as full paths: relative ones depend on the current folder."""
    from harness.study.storage import redact_password

    print(f"leaderboard: {leaderboard.resolve()} (CSV tables and figures beside it)")
    print(f"storage: {redact_password(storage)} (from {Path.cwd()})")


def _run_round_robin(specs: list[Any], comparison: Any, quiet: bool) -> None:
    """Run the compared studies round-robin: every study up to each round's budget in turn.

    Every strategy then trains at every hour of the run, so a machine whose load
    changes slows them all alike. With ``processes > 1`` one pool of spawned
    processes serves every round; a round ends when all its studies have.
    Resumable: a study already at a round's budget only loads.
    """
    from concurrent.futures import ProcessPoolExecutor, wait
    from contextlib import nullcontext
    from dataclasses import replace
    from multiprocessing import get_context

    rounds = comparison.rounds()
    parallel = comparison.processes > 1
    pool = (
        ProcessPoolExecutor(max_workers=comparison.processes, mp_context=get_context("spawn"))
        if parallel
        else nullcontext()
    )
    with pool:
        for number, budget in enumerate(rounds, start=1):
            step = [replace(spec, n_trials=budget) for spec in specs]
            if parallel:
                futures = [pool.submit(_run_study_quietly, s, comparison.workers) for s in step]
                for future in wait(futures).done:
                    future.result()
            else:
                for spec in step:
                    _run_study_quietly(spec, comparison.workers)
            if not quiet:
                print(
                    f"round {number}/{len(rounds)}: {len(step)} studies at {budget} trials",
                    flush=True,
                )


def _run_study_quietly(spec: Any, workers: int) -> str:
    from harness.study.loop import run_study

    run_study(spec, workers=workers)
    return spec.name


def _run_in_processes(specs: list[Any], workers: int, processes: int, quiet: bool) -> None:
    """Run the studies ``processes`` at a time, each in its own spawned process.

    Studies are independent (each has its own sampler and budget in the shared
    storage), so this changes only the wall time; the held-out refits and the
    leaderboards follow in this process, in order.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from harness.study.processes import end_with_parent

    context = get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=end_with_parent) as pool:
        futures = [pool.submit(_run_study_quietly, spec, workers) for spec in specs]
        for done, future in enumerate(as_completed(futures), start=1):
            name = future.result()
            if not quiet:
                print(f"finished {done}/{len(specs)} studies ({name})", flush=True)


def _replay(comparison: Any, args: argparse.Namespace) -> int:
    """Replay the comparison's studies on its tables or analytic task, then write leaderboards."""
    from harness.commands._progress import StatusLine
    from harness.results.loading import load_results, write_comparison_leaderboard
    from harness.study.replay import run_replay

    total = len(comparison.matrix())
    count = 0
    status = StatusLine(quiet=args.quiet)

    def on_done(stored: Any) -> None:
        nonlocal count
        count += 1
        status.show(f"replayed {count}/{total} studies")

    try:
        summary = run_replay(comparison, on_done)
    finally:
        status.close()
    print(
        f"replay: {summary.studies} studies, {summary.trials} simulated trials in "
        f"{summary.wall_seconds:.1f} s ({comparison.processes} processes); proposals "
        f"{summary.proposal_seconds:.1f} s, harness {summary.overhead_ms:.2f} ms per trial"
    )
    path = write_comparison_leaderboard(load_results(comparison), args.leaderboards)
    print_outputs(path, comparison.storage)
    return 0
