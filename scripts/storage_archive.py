"""Pack a comparison's SQLite storage into ``studies/NAME.db.xz``, or unpack it again.

The replay comparisons' storage (``studies/replay-*.db``, hundreds of MB as SQLite) is
committed packed: VACUUMed and xz-compressed, about 20 times smaller. Unpacking gives a
database with exactly the rows the comparison wrote, so ``python -m harness leaderboard
studies/NAME.toml`` rebuilds the committed leaderboards from it
(``tests/project/test_reference_outputs.py`` does this for every replay).

    python scripts/storage_archive.py pack replay-branin-b25-w1 ...     # after a rerun
    python scripts/storage_archive.py unpack replay-branin-b25-w1 ...   # to read or extend one
    python scripts/storage_archive.py unpack --all                      # every packed storage
"""

from __future__ import annotations

import argparse
import lzma
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def pack(name: str) -> Path:
    """Write ``studies/NAME.db.xz`` from ``studies/NAME.db``; the database is not changed."""
    database = STUDIES / f"{name}.db"
    if not database.is_file():
        sys.exit(f"storage_archive: no {database}; run the comparison first")
    packed = database.with_suffix(".db.xz")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / database.name
        shutil.copyfile(database, copy)
        connection = sqlite3.connect(copy)
        connection.execute("VACUUM")  # drops free pages: the same rows in fewer bytes
        connection.close()
        with copy.open("rb") as source, lzma.open(packed, "wb", preset=9) as target:
            shutil.copyfileobj(source, target)
    return packed


def unpack(name: str) -> Path:
    """Write ``studies/NAME.db`` from ``studies/NAME.db.xz``; an existing database is kept."""
    packed = STUDIES / f"{name}.db.xz"
    database = STUDIES / f"{name}.db"
    if not packed.is_file():
        sys.exit(f"storage_archive: no {packed}; packed storages: {', '.join(_packed())}")
    if database.exists():
        sys.exit(f"storage_archive: {database} exists; move it away to unpack the committed one")
    with lzma.open(packed) as source, database.open("wb") as target:
        shutil.copyfileobj(source, target)
    return database


def _packed() -> list[str]:
    return sorted(path.name.removesuffix(".db.xz") for path in STUDIES.glob("*.db.xz"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("names", nargs="*", help="comparison names, e.g. replay-branin-b25-w1")
    parser.add_argument("--all", action="store_true", help="every packed storage (unpack only)")
    args = parser.parse_args()
    names = _packed() if args.all and args.action == "unpack" else args.names
    if not names:
        parser.error("name the comparisons (or give --all with unpack)")
    for name in names:
        path = (pack if args.action == "pack" else unpack)(name)
        print(f"{args.action}: {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
