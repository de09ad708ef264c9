"""Join an existing study from any host and run its trials until the budget is used.

The study's specification (data source, space, folds, seeds, budget, pruner,
limits) is rebuilt from what ``harness run`` stored with it, so a worker needs
only the storage URL and the study name, plus the data where the study used a
file (the registered datasets are committed under ``data/``; a CSV file must be
at the stored path or given with --data). The rows are checked against the
stored checksum, so a worker never trains on other data. Start one worker per
process, each with its own --index (it seeds the strategy: seed + index).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, DataError

if TYPE_CHECKING:
    import optuna

    from harness.study.loop import StudySpec

HELP = "join a stored study from any host and run its trials until the budget is used"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``worker`` options."""
    parser.add_argument(
        "--storage", required=True, help="the study's storage URL, e.g. postgresql://USER@HOST/DB"
    )
    parser.add_argument("--study", required=True, help="the study's name, as `harness run` made it")
    parser.add_argument(
        "--index",
        type=int,
        default=None,
        help="this worker's number, seeding its strategy with seed + index; give each worker "
        "its own, above the creating run's (which uses 0 to --workers - 1); default: derived "
        "from the host name and process id",
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where registered dataset files are on this host"
    )
    parser.add_argument(
        "--data", metavar="PATH", help="for a study of a CSV file: its path on this host"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds this worker may run; none by default"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def main(args: argparse.Namespace) -> int:
    """Rebuild the study's specification and run trials until its budget is used."""
    import optuna

    from harness.commands._progress import Progress
    from harness.commands._summary import state_counts
    from harness.study.loop import create_study, run_worker

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = existing_study(args.storage, args.study)
    spec = rebuild_spec(study, args)
    create_study(spec)  # checks the rebuilt specification against the stored one
    index = default_index() if args.index is None else args.index
    if index < 0:
        raise ConfigError(f"--index must be at least 0, got {index}")
    progress = Progress(spec.n_trials, spec.metric, quiet=args.quiet)
    try:
        run_worker(spec, index, progress)
    finally:
        progress.close()
    counts = state_counts(study)
    print(f"worker {index} on study {spec.name!r}: budget {spec.n_trials}; study now has {counts}")
    return 0


def existing_study(storage: str, name: str) -> optuna.Study:
    """Load a stored study; raise :class:`ConfigError` naming the stored ones if it is missing."""
    import optuna

    from harness.study.storage import open_storage, redact_password

    opened = open_storage(storage, create=False)  # a mistyped path creates nothing
    names = [summary.study_name for summary in optuna.get_all_study_summaries(opened)]
    if name not in names:
        listed = ", ".join(sorted(names)) or "none"
        raise ConfigError(
            f"no study {name!r} in {redact_password(storage)} (stored: {listed}); "
            "create it with `harness run --storage URL --study NAME ...` first"
        )
    return optuna.load_study(study_name=name, storage=opened)


def rebuild_spec(study: optuna.Study, args: argparse.Namespace) -> StudySpec:
    """The :class:`~harness.study.loop.StudySpec` of a study made by ``run``, from its settings.

    Raises
    ------
    ConfigError
        If the study stores no run settings (made by an older harness, or by ``compare``).
    DataError
        If the data cannot be loaded here, or its rows differ from those the study used.
    """
    import tomllib

    from harness.commands._summary import data_checksums
    from harness.data.preprocessing import holdout_split
    from harness.search.space import load_space, parse_space
    from harness.study import ledger
    from harness.study.loop import StudySpec

    settings = ledger.run_settings(study)
    if settings is None:
        raise ConfigError(
            f"study {study.study_name!r} stores no run settings (it was made by `compare` or an "
            "older harness); run it with the command that made it instead"
        )
    dataset = load_source(settings["source"], args).with_class_names(
        settings.get("class_names") or None
    )
    train, _ = holdout_split(dataset, test_size=settings["test_size"], seed=settings["seed"])
    stored = settings.get("train_rows_sha256")
    if stored is not None and data_checksums(train)["train_rows_sha256"] != stored:
        raise DataError(
            f"the data loaded here ({dataset.source}) differs from the rows study "
            f"{study.study_name!r} was made with; give this host the same file"
        )
    space_settings = settings["space"]
    if space_settings.get("toml"):
        data = tomllib.loads(space_settings["toml"])
        space = parse_space(data, space_settings["name"], source=f"study {study.study_name}")
    else:
        space = load_space(space_settings["name"])
    timeout = args.timeout if args.timeout is not None else settings.get("timeout")
    return StudySpec(
        name=study.study_name,
        storage=args.storage,
        strategy=settings["strategy"],
        dataset=train,
        space=space,
        seed=settings["seed"],
        metric=settings["metric"],
        n_folds=settings["n_folds"],
        n_trials=settings["n_trials"],
        timeout=timeout,
        trial_timeout=settings.get("trial_timeout"),
        pruner=settings["pruner"],
        prune_on=settings["prune_on"],
        test_size=settings["test_size"],
        objectives=tuple(settings.get("objectives") or ()),
    )


def load_source(source: dict[str, Any], args: argparse.Namespace) -> Any:
    """Load the dataset a study's stored ``source`` describes, on this host."""
    from harness.data.datasets import SYNTHETIC, load_csv, load_dataset

    kind = source["kind"]
    if kind == "csv":
        path = Path(args.data) if args.data else Path(source["path"])
        if not path.is_file():
            raise DataError(
                f"the study's data file {path} is not on this host; copy it here and give "
                "its path with --data"
            )
        return load_csv(
            path,
            source["target"],
            sep=source.get("sep"),
            categorical=source.get("categorical"),
            impute=source.get("impute"),
            time_column=source.get("time_column"),
        )
    if args.data:
        raise ConfigError("--data only applies to a study of a CSV file")
    if kind == "synthetic":
        options = dict(source.get("options", {}))
        if "weights" in options:
            options["weights"] = tuple(options["weights"])
        return load_dataset(SYNTHETIC, **options)
    return load_dataset(source["name"], data_dir=args.data_dir)


def default_index() -> int:
    """A worker number from the host name and the process id (stable for one process)."""
    import os
    import socket
    import zlib

    return 1 + zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_000
