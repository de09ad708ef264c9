"""Write a report from stored trials: Markdown, figures, draw.io diagrams, notebook.

The report covers a comparison (a studies/*.toml file) or one study written
by `python -m harness run` (--study NAME --storage URL); a single study has no
strategies to compare, so its report leaves out the tables and figures that
compare them with random search. Nothing is trained: the report, its figures
(OUT/figures), the diagrams (--drawio) and the notebook (OUT/NAME.ipynb) are
rebuilt from the storage and the dataset alone, and the same storage gives the
same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands._data_options import add_data_dir_argument

HELP = "write a comparison's or a study's Markdown report, figures, draw.io diagrams, notebook"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` options."""
    parser.add_argument(
        "comparison",
        type=Path,
        nargs="?",
        help="comparison file, e.g. studies/teleconnect.toml (or give --study and --storage)",
    )
    parser.add_argument("--study", default=None, help="name of one stored study to report on")
    parser.add_argument("--storage", default=None, help="with --study: the study's storage URL")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument(
        "--drawio", type=Path, default=Path("drawio"), help="folder of the draw.io diagrams"
    )
    add_data_dir_argument(parser)


def _check_source(args: argparse.Namespace) -> None:
    from harness.errors import ConfigError

    if (args.comparison is None) == (args.study is None):
        raise ConfigError(
            "give either a comparison file (e.g. studies/teleconnect.toml) or --study NAME "
            "--storage URL, not both or neither"
        )
    if (args.study is None) != (args.storage is None):
        raise ConfigError("--study and --storage go together: name the study and its storage URL")


def main(args: argparse.Namespace) -> int:
    """Write the report and print where its files are."""
    import optuna

    from harness.report.document import write_report
    from harness.results.loading import load_results, study_results
    from harness.study.comparison import load_comparison

    _check_source(args)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.study is not None:
        results = study_results(args.study, args.storage)
    else:
        results = load_results(load_comparison(args.comparison))
    files = write_report(
        results,
        results.comparison.load_dataset(args.data_dir),
        out=args.out,
        drawio_dir=args.drawio,
        data_dir=args.data_dir,
    )
    print(f"report: {files.markdown} ({len(files.figures)} figures in {files.markdown.parent})")
    print(f"notebook: {files.notebook or 'none (a time series report has no notebook)'}")
    print(f"diagrams: {', '.join(str(path) for path in files.diagrams.values()) or 'none'}")
    return 0
