#!/usr/bin/env bash
# Rebuild every committed output that a committed storage holds, without training anything:
# the leaderboards, reports, figures, diagrams and notebooks of the reference comparisons
# (studies/*.toml with a studies/<name>.db beside them). tests/project/test_reference_outputs.py checks
# that the committed files are exactly what this writes. The replays' storage is committed
# packed (studies/replay-*.db.xz): `python scripts/storage_archive.py unpack --all` restores it,
# after which their names rebuild here too (`python -m harness compare` reruns one from scratch).
#
#   bash scripts/rebuild_outputs.sh [NAME ...]     e.g. bash scripts/rebuild_outputs.sh teleconnect
set -euo pipefail
cd "$(dirname "$0")/.."
# The data is found through the environment, as a reader's notebook finds it: a --data-dir path
# would be written into the notebooks.
export HARNESS_DATA_DIR="$PWD/data"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    # The committed storages (local ones, replays' included, are git-ignored).
    for db in $(git ls-files 'studies/*.db'); do
        name="$(basename "$db" .db)"
        if [ -f "studies/$name.toml" ]; then names+=("$name"); fi
    done
fi
for name in "${names[@]}"; do
    echo "== $name"
    python -m harness leaderboard "studies/$name.toml" --leaderboards leaderboards
    case "$name" in
        replay-*) ;;  # a replay has leaderboards only: nothing was trained to report on
        *) python -m harness report "studies/$name.toml" ;;
    esac
done
