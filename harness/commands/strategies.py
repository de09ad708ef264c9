"""List the search strategies with the library and version behind each one."""

from __future__ import annotations

import argparse

HELP = "list the search strategies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command takes no arguments."""


def main(args: argparse.Namespace) -> int:
    """Print one row per strategy: name, library, version, description."""
    from tabulate import tabulate

    from harness.search.strategies import list_strategies

    rows = [[s.name, s.library, s.version(), s.description] for s in list_strategies()]
    print(tabulate(rows, headers=["strategy", "library", "version", "description"]))
    return 0
