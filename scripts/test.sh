#!/usr/bin/env bash
# Install what the tests need and run them (the README's test command).
# pytest exits 5 when it collects no test, so an empty run fails here too.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install torch==2.13.0
pip install -e ".[test,dev]"
ruff check .
python -m pytest "$@"
