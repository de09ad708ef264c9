"""A throw-away PostgreSQL server on loopback for the multi-worker storage tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "harness"


def find_bindir() -> Path | None:
    """Return the newest PostgreSQL server bin folder installed from Debian's packages."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package creates the postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def required_bindir() -> Path:
    """The server's bin folder; without one a test fails on CI and is skipped elsewhere."""
    import pytest

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: scripts/test.sh installs it")
        pytest.skip("PostgreSQL server binaries not installed")
    return bindir


@contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[str]:
    """Start a server in a temporary folder and yield its URL; stop and remove it afterwards.

    Without ``bindir``: :func:`required_bindir`'s (the test is skipped or fails without one).
    """
    bindir = bindir or required_bindir()
    # Not the test's tmp_path: the server runs as the postgres user, who cannot enter root's
    # 0700 pytest folders, so it goes in the machine's temp folder (read by tests/conftest.py
    # before any test) and is removed when the server stops.
    machine_temp = os.environ.get("HARNESS_TEST_MACHINE_TEMP") or None
    root = Path(tempfile.mkdtemp(prefix="harness-pg-", dir=machine_temp))
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    run = lambda *cmd: subprocess.run(_as_server_user(list(cmd)), check=True, capture_output=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, USER)
        # The README's form: SQLAlchemy 2.1 maps postgresql:// to psycopg 3 (the postgres extra).
        yield f"postgresql://{USER}@127.0.0.1:{port}/{USER}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
