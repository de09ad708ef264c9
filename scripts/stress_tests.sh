#!/usr/bin/env bash
# The suite on a fresh clone, under load, several times in a row (default 3): what "passes on
# every fresh clone, every time" means. Each run clones this checkout afresh at the commit that
# was HEAD when the script started (one new virtual environment serves all runs); one busy
# process per core runs beside the README's test command; the first failing run stops the
# script (exit 1) and names its log. No test is retried.
#
#   bash scripts/stress_tests.sh [RUNS] [-- PYTEST ARGS]     e.g. bash scripts/stress_tests.sh 3
set -euo pipefail
runs="${1:-3}"
shift || true
[ "${1:-}" = "--" ] && shift
source_dir="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/harness-stress.XXXXXX")"
commit="$(git -C "$source_dir" rev-parse HEAD)"  # every run tests this commit, whatever lands meanwhile

python3 -m venv "$work/venv"
# shellcheck disable=SC1091
source "$work/venv/bin/activate"

burners=()
stop_burners() { kill "${burners[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
for _ in $(seq "$(nproc)"); do
    python3 -c "while True: pass" &
    burners+=("$!")
done

for run in $(seq "$runs"); do
    log="$work/run-$run.log"
    clone="$work/clone-$run"
    git clone --quiet "$source_dir" "$clone"
    git -C "$clone" checkout --quiet --detach "$commit"
    started=$(date +%s)
    if (cd "$clone" && CI=true bash scripts/test.sh -p no:cacheprovider "$@") >"$log" 2>&1; then
        echo "run $run of $runs passed in $(( $(date +%s) - started )) s: $(tail -n 1 "$log")"
    else
        echo "run $run of $runs FAILED after $(( $(date +%s) - started )) s; log: $log"
        exit 1
    fi
done
echo "all $runs runs passed under load at ${commit:0:7} (clones and logs in $work)"
