"""Where studies are stored: a local SQLite file by default, any Optuna storage URL otherwise."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import optuna

from harness.errors import ConfigError

DEFAULT_STORAGE = "sqlite:///studies/harness.db"
JOURNAL_SUFFIXES = (".journal", ".log")
#: Seconds between a running trial's heartbeats; a trial silent for the grace
#: period (its worker was killed) is marked failed by the next worker.
HEARTBEAT_SECONDS = 10
GRACE_SECONDS = 30


def redact_password(url: str) -> str:
    """``url`` with the password of a ``scheme://user:password@host`` URL shown as ``***``."""
    return re.sub(r"(://[^:/@]+):[^/]*@", r"\1:***@", url)


def open_storage(url: str = DEFAULT_STORAGE) -> optuna.storages.BaseStorage:
    """Open the storage behind ``url``.

    Parameters
    ----------
    url : str
        ``sqlite:///path.db``, ``postgresql://user@host/db`` (any SQLAlchemy
        URL), or a path ending in ``.journal``/``.log`` for an Optuna journal
        file. The folder of a local file is created when missing.

    Raises
    ------
    ConfigError
        If the URL cannot be opened; the message says which forms work.
    """
    if url.endswith(JOURNAL_SUFFIXES) and "://" not in url:
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(url)
        return optuna.storages.JournalStorage(backend)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        _require_postgres_driver(url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
                engine_kwargs={"pool_pre_ping": True},
            )
        if url.startswith("sqlite:"):
            _skip_fsync(storage)
        return storage
    except Exception as error:  # SQLAlchemy raises many types; all mean "cannot open"
        raise ConfigError(
            f"cannot open storage {redact_password(url)!r} ({type(error).__name__}: {error}); use "
            "sqlite:///FILE.db, postgresql://USER@HOST/DB or a FILE.journal path"
        ) from None


def _skip_fsync(storage: optuna.storages.RDBStorage) -> None:
    """Let SQLite commit without waiting for the disk (``PRAGMA synchronous = OFF``).

    A trial writes about 25 small transactions; waiting for an fsync at each cost
    0.3 s per trial here, more than training a small network's fold. Without it a
    commit is handed to the operating system, so a killed worker still loses no
    finished trial; only a crash of the machine itself can lose or damage the
    last writes. The setting is per connection: the file's format is unchanged.
    """
    from sqlalchemy import event

    @event.listens_for(storage.engine, "connect")
    def _no_fsync(connection, record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()

    storage.engine.dispose()  # connections opened before the listener get the pragma too


def _require_postgres_driver(url: str) -> None:
    """Stop with one line naming the install extra when psycopg2 is missing."""
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None:
        raise ConfigError(
            f"storage {redact_password(url)!r} needs the PostgreSQL driver psycopg2, which is not "
            'installed: pip install -e ".[postgres]" (or pip install psycopg2-binary)'
        )
