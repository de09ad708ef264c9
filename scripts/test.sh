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
python -m pytest "$@"
