#!/usr/bin/env bash
# Install what the tests need and run them (the README's test command).
# pytest exits 5 when it collects no test, so an empty run fails here too.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL server for the multi-worker storage test (Debian's package; needs root or sudo).
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi

pip install torch==2.13.0
pip install -e ".[test,dev]"
ruff check .
ruff format --check .
lint-imports
# One pytest worker per core (pytest-xdist): tests are independent, each in its own temporary
# folder, and training runs on one torch thread, so two workers on two cores halve the wall
# time of the slow tier. Pass -n 0 to run in this process (a debugger, --pdb).
python -m pytest -n auto "$@"
