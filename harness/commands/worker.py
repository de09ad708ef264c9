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
from typing import TYPE_CHECKING

from harness.commands._data_options import add_data_dir_argument
from harness.errors import ConfigError

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
    add_data_dir_argument(parser)
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
    from harness.study.storage import load_stored_study

    return load_stored_study(
        storage, name, fix="create it with `harness run --storage URL --study NAME ...` first"
    )


def rebuild_spec(study: optuna.Study, args: argparse.Namespace) -> StudySpec:
    """The :class:`~harness.study.loop.StudySpec` of a study made by ``run``, from its settings.

    Raises
    ------
    ConfigError
        If the study stores no run settings (made by an older harness, or by
        ``compare``), or settings this harness cannot read.
    DataError
        If the data cannot be loaded here, or its rows differ from those the study used.
    """
    from harness.study.run_settings import RunSettings

    settings = RunSettings.read(study)
    train = settings.search_rows(study.study_name, args.data, args.data_dir)
    return settings.study_spec(study.study_name, args.storage, train, args.timeout)


def default_index() -> int:
    """A worker number from the host name and the process id (stable for one process)."""
    import os
    import socket
    import zlib

    return 1 + zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_000
