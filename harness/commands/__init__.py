"""One module per command-line command.

Each module defines ``HELP`` (a one-line summary), ``add_arguments(parser)`` and
``main(args) -> int``. :mod:`harness.cli` discovers them, so adding a command
is adding a module. Modules whose names start with ``_`` hold shared options.
"""
