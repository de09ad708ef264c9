"""Command-line entry point: ``python -m harness COMMAND``.

Commands live in :mod:`harness.commands`, one module each. Every
:class:`~harness.errors.HarnessError` (bad input) becomes one line on stderr and
exit status 2, a :class:`~harness.errors.WorkerError` (a crashed worker process)
one line and exit status 1; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from harness import commands
from harness._version import __version__
from harness.errors import HarnessError, WorkerError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show an option's default in its help, unless the default is None or False.

    ``is``, not ``in``: ``0 in (None, False)`` is true, which once hid ``--seed``'s default 0.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Tune a skorch MLP with several search strategies and compare them fairly.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name)
    for info in (m for m in modules if not m.name.startswith("_")):
        module = importlib.import_module(f"harness.commands.{info.name}")
        name = info.name.replace("_", "-")
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=_HelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except HarnessError as error:
        print(f"harness {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except WorkerError as error:
        print(f"harness {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted; stored results are kept.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
