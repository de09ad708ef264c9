"""Rebuild a comparison's leaderboards from its storage, without training anything."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "rebuild a comparison's leaderboards from stored trials"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``leaderboard`` options."""
    parser.add_argument(
        "comparison", type=Path, help="comparison file, e.g. studies/teleconnect.toml"
    )
    parser.add_argument(
        "--leaderboards", type=Path, default=Path("leaderboards"), help="output folder"
    )


def main(args: argparse.Namespace) -> int:
    """Write the leaderboards and print where."""
    from harness.results.loading import load_results, write_comparison_leaderboard
    from harness.study.comparison import load_comparison

    results = load_results(load_comparison(args.comparison))
    print(f"leaderboard: {write_comparison_leaderboard(results, args.leaderboards)}")
    return 0
