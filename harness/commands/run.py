"""Run one study: search the space with one strategy, cross-validating every trial.

The study is stored (default: a local SQLite file under studies/) and resumes
when the same command runs again. After the search, the best configuration,
the unoptimized baseline MLP and reference models are refitted on all
training rows and scored on a held-out test split that the search never saw.
Open the stored study with `optuna-dashboard sqlite:///studies/harness.db`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.commands._data_options import add_data_arguments, dataset_from_args, separator

if TYPE_CHECKING:
    from harness.data.datasets import Dataset
    from harness.data.sources import DataSource

HELP = "tune the MLP with one search strategy (a stored, resumable study)"
DEFAULT_SPACE = "mlp-small"
DEFAULT_STRATEGY = "tpe"
#: With the defaults (teleconnect, mlp-small, 5 folds) a run takes about a minute on 2 cores.
DEFAULT_TRIALS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` options."""
    from harness.study.storage import DEFAULT_STORAGE

    add_data_arguments(parser)
    search = parser.add_argument_group("search")
    search.add_argument(
        "--strategy", default=DEFAULT_STRATEGY, help="search strategy (see `harness strategies`)"
    )
    search.add_argument(
        "--space",
        default=DEFAULT_SPACE,
        help="search space name or TOML path (see `harness spaces`)",
    )
    search.add_argument(
        "--trials",
        type=int,
        default=DEFAULT_TRIALS,
        help="trial budget of the study (all workers, all runs)",
    )
    search.add_argument(
        "--timeout", type=float, default=None, help="seconds for this run's search; none by default"
    )
    search.add_argument(
        "--trial-timeout",
        type=float,
        default=None,
        help="seconds one trial may train before it is failed",
    )
    search.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the test split, the folds, the strategy and the models",
    )
    search.add_argument(
        "--metric",
        default=None,
        help="objective metric, computed on each fold; default f1_macro, or neg_rmse for a "
        "time series (errors are negated: greater is better)",
    )
    search.add_argument(
        "--objectives",
        default=None,
        help="several objectives, comma-separated: a metric (first), then costs to minimise "
        "(fit_seconds, predict_seconds, n_params), e.g. f1_macro,fit_seconds; the run keeps "
        "the Pareto front. Default: the one --metric",
    )
    search.add_argument(
        "--folds",
        type=int,
        default=5,
        help="number of stratified cross-validation folds (forward-chaining for a time series)",
    )
    search.add_argument(
        "--test-size", type=float, default=0.2, help="fraction of rows held out for the final test"
    )
    search.add_argument(
        "--pruner", default="none", help="pruner: none, median, wilcoxon or hyperband"
    )
    search.add_argument(
        "--prune-on",
        default="folds",
        choices=("folds", "epochs"),
        help="what a pruner compares: each fold's score, or each epoch's accuracy on the "
        "first fold's early-stopping split (real training rows)",
    )
    search.add_argument(
        "--batch",
        type=int,
        default=1,
        help="trials asked for at once and trained together as one network (q configurations "
        "x K folds); each sees the others as running; default 1",
    )
    study = parser.add_argument_group("storage and workers")
    study.add_argument(
        "--storage", default=DEFAULT_STORAGE, help="Optuna storage URL, or a .journal file path"
    )
    study.add_argument(
        "--study", default=None, help="study name (default: DATASET-SPACE-STRATEGY-sSEED)"
    )
    study.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on the study (one torch thread each)",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--leaderboards",
        type=Path,
        default=Path("leaderboards"),
        help="folder for the study leaderboard",
    )
    output.add_argument(
        "--models",
        type=Path,
        default=Path("studies/models"),
        help="folder for the tuned and the baseline pipeline (joblib pickles) and their JSON cards",
    )
    output.add_argument("--quiet", action="store_true", help="no progress line")


def main(args: argparse.Namespace) -> int:
    """Run the study and print its summary."""
    import time

    import optuna

    from harness.commands._progress import Progress
    from harness.commands._summary import (
        print_summary,
        require_complete_trial,
        save_models,
        write_study_leaderboard,
    )
    from harness.data.splits import holdout_split
    from harness.errors import ConfigError
    from harness.model.pipeline import build_pipeline
    from harness.search.space import load_space
    from harness.study import ledger
    from harness.study.checks import BUDGET_NAMES, check_budget
    from harness.study.holdout import refit_best
    from harness.study.loop import StudySpec, create_study, run_study
    from harness.study.metrics import default_metric
    from harness.study.objectives import parse_objectives
    from harness.study.run_settings import RunSettings

    check_budget(**{name: getattr(args, name) for name in BUDGET_NAMES})
    space = load_space(args.space)
    dataset = dataset_from_args(args)
    # The name names the leaderboard and model files: check it before any work.
    if args.study is not None:
        name = ledger.check_study_name(args.study, "give --study another name")
    else:
        name = ledger.check_study_name(
            ledger.study_name(f"{dataset.name}-{space.name}", args.strategy, args.seed),
            "give --study NAME (or rename the data or space file)",
        )
    metric = args.metric or default_metric(dataset.task)
    objectives: tuple[str, ...] = ()
    if args.objectives is not None:
        objectives = parse_objectives(args.objectives, dataset.task)
        if args.metric is not None and args.metric != objectives[0]:
            raise ConfigError(
                f"--metric {args.metric} and --objectives {args.objectives} name two metrics: "
                "give the metric only as the first objective"
            )
        metric = objectives[0]
    train, test = holdout_split(dataset, test_size=args.test_size, seed=args.seed)
    # The space's fixed settings must fit the data (a CNN's image_shape): fail before any trial.
    build_pipeline(space.fixed, train, train.y.to_numpy(), args.seed)
    spec = StudySpec(
        name=name,
        storage=args.storage,
        strategy=args.strategy,
        dataset=train,
        space=space,
        seed=args.seed,
        metric=metric,
        n_folds=args.folds,
        n_trials=args.trials,
        timeout=args.timeout,
        trial_timeout=args.trial_timeout,
        pruner=args.pruner,
        prune_on=args.prune_on,
        test_size=args.test_size,
        batch=args.batch,
        objectives=objectives,
    )
    settings = RunSettings.from_spec(spec, data_source(args, dataset), dataset.class_names)
    del dataset  # train and test are copies: at a million rows the whole set is 80-160 MB more
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = create_study(spec)
    settings.record(study)
    progress = Progress(args.trials, metric, quiet=args.quiet)
    started = time.monotonic()
    try:
        study = run_study(spec, workers=args.workers, on_trial=progress)
    finally:
        progress.close()
    require_complete_trial(study)
    refit = refit_best(study, train, test, args.seed)
    for model, reason in refit.failures.items():
        print(f"harness run: warning: {model} failed and is left out ({reason})", file=sys.stderr)
    model_paths = save_models(study, spec, refit, args.models)
    board = write_study_leaderboard(study, refit.results, args.leaderboards)
    print_summary(study, spec, refit.results, time.monotonic() - started, model_paths, board)
    return 0


def data_source(args: argparse.Namespace, dataset: Dataset) -> DataSource:
    """Where the data of a ``run`` comes from, as the run settings store it."""
    from harness.commands._data_options import parse_synthetic
    from harness.data.sources import DataSource

    if args.data is not None:
        return DataSource.csv(
            args.data,
            args.target,
            sep=separator(args.sep),
            categorical=dataset.categorical,
            impute=args.impute,
            time_column=dataset.time_column,
        )
    if args.synthetic is not None:
        return DataSource.synthetic(parse_synthetic(args.synthetic))
    return DataSource.registered(dataset.name)
