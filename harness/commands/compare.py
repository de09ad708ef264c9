"""Run a comparison: every (strategy, seed) study of a studies/*.toml file, into one storage.

Finished studies are skipped and unfinished ones resumed, so the command can be
stopped and re-run at any time. Every study searches the same task (dataset,
folds, held-out split and model initialisation); afterwards each study's best
configuration is scored on the held-out split, and the leaderboards are
written (the same ones `harness leaderboard` rebuilds from storage).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "run strategies x seeds of a comparison file, then write its leaderboards"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``compare`` options."""
    parser.add_argument(
        "comparison", type=Path, help="comparison file, e.g. studies/teleconnect.toml"
    )
    parser.add_argument("--data-dir", default=None, help="folder holding the dataset's CSV file")
    parser.add_argument(
        "--leaderboards", type=Path, default=Path("leaderboards"), help="output folder"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def main(args: argparse.Namespace) -> int:
    """Run every study of the comparison, then write its leaderboards."""
    from harness import ledger
    from harness.comparison import load_comparison
    from harness.holdout import TUNED, baseline_models, score_on_holdout
    from harness.pipeline import build_pipeline
    from harness.preprocessing import holdout_split
    from harness.progress import Progress
    from harness.results import load_results, write_comparison_leaderboard
    from harness.space import load_space
    from harness.strategies import STRATEGIES
    from harness.study import StudySpec, make_pruner, run_study

    comparison = load_comparison(args.comparison, strategies=list(STRATEGIES))
    make_pruner(comparison.pruner, comparison.folds, comparison.prune_on)
    space = load_space(comparison.space_source())
    dataset = comparison.load_dataset(args.data_dir)
    train, test = holdout_split(dataset, comparison.test_size, comparison.task_seed)
    common = {
        "storage": comparison.storage,
        "dataset": train,
        "space": space,
        "metric": comparison.metric,
        "n_folds": comparison.folds,
        "timeout": comparison.timeout,
        "trial_timeout": comparison.trial_timeout,
        "pruner": comparison.pruner,
        "prune_on": comparison.prune_on,
        "test_size": comparison.test_size,
        "task_seed": comparison.task_seed,
    }
    specs = [
        StudySpec(name=comparison.study_name(strategy, seed), strategy=strategy, seed=seed,
                  n_trials=comparison.trials, **common)
        for strategy, seed in comparison.matrix()
    ]  # fmt: skip
    if comparison.exhaustive_grid:
        specs.append(
            StudySpec(name=comparison.exhaustive_name, strategy="grid", seed=0,
                      n_trials=space.grid_size, **common)
        )  # fmt: skip
    baselines = None
    for index, spec in enumerate(specs, start=1):
        label = f"study {index}/{len(specs)} {spec.strategy} seed {spec.seed}"
        progress = Progress(spec.n_trials, comparison.metric, quiet=args.quiet, label=label)
        try:
            study = run_study(spec, workers=comparison.workers, on_trial=progress)
        finally:
            progress.close()
        best = study.best_trial if any(t.value is not None for t in study.trials) else None
        if best is None or study.user_attrs.get(ledger.HOLDOUT_TRIAL) == best.number:
            continue
        if baselines is None:
            baselines = score_on_holdout(baseline_models(train, comparison.task_seed), train, test)
        tuned = build_pipeline(
            ledger.stored_config(best), train, train.y.to_numpy(), comparison.task_seed
        )
        holdout = {**score_on_holdout({TUNED: tuned}, train, test), **baselines}
        study.set_user_attr(ledger.HOLDOUT, holdout)
        study.set_user_attr(ledger.HOLDOUT_TRIAL, best.number)
    path = write_comparison_leaderboard(load_results(comparison), args.leaderboards)
    print(f"leaderboard: {path}")
    return 0
