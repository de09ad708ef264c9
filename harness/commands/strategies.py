"""List the search strategies with the library and version behind each one."""

from __future__ import annotations

import argparse

HELP = "list the search strategies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command takes no arguments."""


def main(args: argparse.Namespace) -> int:
    """Print one row per strategy: name, library, version, objectives, description."""
    from tabulate import tabulate

    from harness.search.strategies import list_strategies

    rows = [
        [s.name, s.library, s.version(), "several" if s.multi_objective else "one", s.description]
        for s in list_strategies()
    ]
    headers = ["strategy", "library", "version", "objectives", "description"]
    print(tabulate(rows, headers=headers))
    return 0
