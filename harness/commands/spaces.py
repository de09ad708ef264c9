"""List the search spaces, or show one space's parameters, conditions and grid."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.search.space import SearchSpace

HELP = "list the search spaces, or show one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the optional space argument."""
    parser.add_argument(
        "space",
        nargs="?",
        help="a space name (see the list) or the path of a .toml file; omit to list all",
    )


def _grid_size(space: SearchSpace) -> str:
    return f"{space.grid_size:,}" if space.has_grid else "-"


def main(args: argparse.Namespace) -> int:
    """Print the table of spaces, or the parameters of ``args.space``."""
    from tabulate import tabulate

    from harness.search.space import ANALYTIC, analytic_spaces, available_spaces, load_space

    analytic = analytic_spaces()
    if args.space is None:
        rows = []
        for name, path in available_spaces().items():
            space = load_space(path)
            rows.append([name, space.family, len(space.params), _grid_size(space), path])
        for name, path in analytic.items():
            space = load_space(path, allowed_names=None)
            rows.append([name, ANALYTIC, len(space.params), _grid_size(space), path])
        print(tabulate(rows, headers=["space", "family", "params", "grid size", "file"]))
        print(
            f"\n{ANALYTIC}/* spaces search a test function, not a model: a replay "
            f'comparison\'s task (e.g. task = "branin")'
        )
        return 0
    if args.space in analytic:
        space = load_space(analytic[args.space], allowed_names=None)
    else:
        space = load_space(args.space)
    print(f"{space.name}: {space.description}".rstrip(": "))
    print(f"file: {space.source}")
    print(f"grid size: {_grid_size(space)} (inactive parameters not multiplied in)\n")
    print(tabulate(space.describe(), headers="keys"))
    return 0
