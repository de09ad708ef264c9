"""Write a comparison's report from stored trials: Markdown, figures, draw.io diagrams, notebook.

Nothing is trained: the report, its figures (OUT/figures), the diagrams
(--drawio) and the notebook (OUT/NAME.ipynb) are rebuilt from the storage and
the dataset alone, and the same storage gives the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write a comparison's Markdown report, figures, draw.io diagrams and notebook"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` options."""
    parser.add_argument(
        "comparison", type=Path, help="comparison file, e.g. studies/teleconnect.toml"
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument(
        "--drawio", type=Path, default=Path("drawio"), help="folder of the draw.io diagrams"
    )
    parser.add_argument("--data-dir", default=None, help="folder holding the dataset's CSV file")


def main(args: argparse.Namespace) -> int:
    """Write the report and print where its files are."""
    import optuna

    from harness.comparison import load_comparison
    from harness.report import write_report
    from harness.results import load_results

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    comparison = load_comparison(args.comparison)
    results = load_results(comparison)
    files = write_report(
        results,
        comparison.load_dataset(args.data_dir),
        out=args.out,
        drawio_dir=args.drawio,
        data_dir=args.data_dir,
    )
    print(f"report: {files.markdown} ({len(files.figures)} figures in {files.markdown.parent})")
    print(f"notebook: {files.notebook}")
    print(f"diagrams: {', '.join(str(path) for path in files.diagrams.values())}")
    return 0
