#!/usr/bin/env bash
# The suite on a fresh clone, under load, several times in a row (default 3): what "passes on
# every fresh clone, every time" means. Each run clones this checkout afresh at the commit that
# was HEAD when the script started (one new virtual environment serves all runs); one busy
# process per core runs beside the README's test command; the first failing run stops the
# script (exit 1) and names its log. No test is retried. Each run's line gives the load average
# seen while it ran (sampled every 30 s), so the log shows the load it passed under.
#
#   bash scripts/stress_tests.sh [RUNS] [-- PYTEST ARGS]     e.g. bash scripts/stress_tests.sh 3
#
# STRESS_BURNERS=N starts N busy processes instead of one per core; 0 when another job (a long
# comparison, say) already keeps every core busy.
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
for _ in $(seq "${STRESS_BURNERS:-$(nproc)}"); do
    python3 -c "while True: pass" &
    burners+=("$!")
done

for run in $(seq "$runs"); do
    log="$work/run-$run.log"
    clone="$work/clone-$run"
    git clone --quiet "$source_dir" "$clone"
    git -C "$clone" checkout --quiet --detach "$commit"
    started=$(date +%s)
    loads="$work/load-$run.txt"
    (while true; do cut -d " " -f 1 /proc/loadavg >>"$loads"; sleep 30; done) &
    sampler=$!
    burners+=("$sampler")
    if (cd "$clone" && CI=true bash scripts/test.sh -p no:cacheprovider "$@") >"$log" 2>&1; then
        outcome="passed in $(( $(date +%s) - started )) s: $(tail -n 1 "$log")"
    else
        outcome="FAILED after $(( $(date +%s) - started )) s; log: $log"
    fi
    kill "$sampler"
    load="$(sort -n "$loads" | awk -v cores="$(nproc)" \
        '{v[NR] = $1} END {print "load average min " v[1] ", median " v[int((NR + 1) / 2)] " on " cores " cores"}')"
    echo "run $run of $runs $outcome ($load)"
    case "$outcome" in FAILED*) exit 1 ;; esac
done
echo "all $runs runs passed under load at ${commit:0:7} (clones and logs in $work)"
