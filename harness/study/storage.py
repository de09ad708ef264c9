"""Where studies are stored: a local SQLite file by default, any Optuna storage URL otherwise.

What the storages guarantee here (see the README's storage section): a finished
trial is never lost or changed by a killed worker; budgets are exact with any
number of workers; a trial whose worker was killed is failed with the reason
and its configuration queued again by the next process that works on the study
(at once on the same host, after :data:`GRACE_SECONDS` without heartbeat from
another host, RDB storages only). A storage that cannot be opened, or a file
that is not a storage, stops with one line before anything is written.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import warnings
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import optuna

from harness.errors import ConfigError

DEFAULT_STORAGE = "sqlite:///studies/harness.db"
JOURNAL_SUFFIXES = (".journal", ".log")
#: Seconds between a running trial's heartbeats; a trial silent for the grace
#: period (its worker was killed) is failed and queued again by the next worker.
HEARTBEAT_SECONDS = 10
GRACE_SECONDS = 30
#: What to suggest when a URL does not work.
FORMS = "use sqlite:///FILE.db, postgresql://USER@HOST/DB or a FILE.journal path"
#: The DB-API module behind each SQLAlchemy PostgreSQL driver name.
_POSTGRES_MODULES = {"psycopg": "psycopg", "psycopg2": "psycopg2", "pg8000": "pg8000"}
#: SQLite files found sound in this process: (path, size, mtime) -> checked once.
_CHECKED: set[tuple[str, int, int]] = set()

StaleCallback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


def redact_password(url: str) -> str:
    """``url`` with the password of a ``scheme://user:password@host`` URL shown as ``***``."""
    return re.sub(r"(://[^:/@]+):[^/]*@", r"\1:***@", url)


def is_journal(url: str) -> bool:
    """Whether ``url`` is a journal file path (``*.journal`` or ``*.log``, no scheme)."""
    return url.endswith(JOURNAL_SUFFIXES) and "://" not in url


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL, or None (another storage, or in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def storage_exists(url: str) -> bool:
    """Whether a local storage file exists (always True for a database server's URL)."""
    path = Path(url) if is_journal(url) else sqlite_path(url)
    return path is None or path.exists()


def open_storage(
    url: str = DEFAULT_STORAGE, *, create: bool = True, on_stale: StaleCallback | None = None
) -> optuna.storages.BaseStorage:
    """Open the storage behind ``url``.

    Parameters
    ----------
    url : str
        ``sqlite:///path.db``, ``postgresql://user@host/db`` (any SQLAlchemy
        URL; ``postgresql://`` uses psycopg 3, the ``postgres`` extra), or a
        path ending in ``.journal``/``.log`` for an Optuna journal file.
    create : bool, default=True
        Create a missing local file (and its folder). A command that only reads
        passes False: a mistyped path then stops with one line instead of
        leaving an empty database behind.
    on_stale : callable, optional
        Called by Optuna with each trial it fails for a missed heartbeat (RDB
        storages): the study loop queues the trial again.

    Raises
    ------
    ConfigError
        If the URL cannot be opened, or a local file is not a sound storage (a
        text file, a truncated or damaged SQLite file, a file that is not a
        journal); the message names the problem and the forms that work.
    """
    if is_journal(url):
        return _open_journal(Path(url), create)
    path = sqlite_path(url)
    if path is not None:
        _check_local_path(path, create)
        if path.is_file():
            _check_sqlite_file(path)
    if url.startswith("postgres://"):  # the scheme SQLAlchemy no longer accepts
        url = "postgresql://" + url.removeprefix("postgres://")
    _require_driver(url)
    try:
        storage = _rdb_storage(url, on_stale)
    except Exception as error:  # SQLAlchemy raises many types; all mean "cannot open"
        if "alembic_version" not in str(error):
            fix = FORMS if path is None else "give a file in a folder this user can write to"
            raise ConfigError(
                f"cannot open storage {redact_password(url)!r} ({_one_line(error)}); {fix}"
            ) from None
        # Another process created the same new database at this moment: it exists now.
        time.sleep(0.5)
        storage = _rdb_storage(url, on_stale)
    if path is not None:
        _sqlite_settings(storage)
    return storage


class _RDBStorage(optuna.storages.RDBStorage):
    """Optuna's RDB storage whose heartbeat check spares a live worker of this host.

    Optuna fails a trial whose heartbeat is older than the grace period before
    every trial it runs. A worker on a storage busy with many workers (16 on one
    SQLite file here) can be late with its heartbeat while it trains; where its
    process is on this host and alive (:func:`~harness.study.processes.process_alive`),
    its trial is not stale.
    """

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        from harness.study.ledger import WORKER
        from harness.study.processes import process_alive

        stale = super()._get_stale_trial_ids(study_id)
        lost = []
        for trial_id in stale:
            owner = self.get_trial(trial_id).user_attrs.get(WORKER)
            if owner is None or process_alive(owner) is not True:
                lost.append(trial_id)
        return lost


def load_stored_study(url: str, name: str, *, what: str = "study", fix: str = "") -> optuna.Study:
    """Load study ``name`` from ``url``, creating nothing (a mistyped path stays a mistake).

    Parameters
    ----------
    url : str
        The storage URL (see :func:`open_storage`).
    name : str
        The study's name.
    what : str, default="study"
        What the study is, for the message (e.g. ``"table study"``).
    fix : str, default=""
        What to do when it is missing, appended to the message.

    Raises
    ------
    ConfigError
        If the storage holds no study of that name, listing the ones it holds.
    """
    opened = open_storage(url, create=False)
    stored = sorted(optuna.get_all_study_names(opened))
    if name not in stored:
        raise ConfigError(
            f"no {what} {name!r} in {redact_password(url)}; stored: {', '.join(stored) or 'none'}"
            + (f"; {fix}" if fix else "")
        )
    return optuna.load_study(study_name=name, storage=opened)


def _rdb_storage(url: str, on_stale: StaleCallback | None) -> optuna.storages.RDBStorage:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _RDBStorage(
            url,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=on_stale,
            engine_kwargs={"pool_pre_ping": True, **_connect_args(url)},
        )


def _connect_args(url: str) -> dict:
    # SQLite: wait up to 60 s for another process's transaction (default 5 s).
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite:") else {}


def _one_line(error: BaseException) -> str:
    """``Type: first line`` of the database driver's error, without SQLAlchemy's SQL and link."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return f"{type(original).__name__}: {lines[0] if lines else 'no message'}"


def _check_local_path(path: Path, create: bool) -> None:
    """Stop with one line when a storage file's path cannot hold one; create its folder."""
    if path.is_dir():
        raise ConfigError(f"storage path {path} is a folder: give a file in it, e.g. {path}/h.db")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"storage path {path}: {parent} is a file, not a folder; give a path whose "
                    "folders are folders"
                )
            break
    if not create:
        if not path.exists():
            raise ConfigError(
                f"no storage file {path}: check the path (this command only reads a storage "
                "and creates none)"
            )
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot create the storage folder {path.parent} ({error.strerror}): give a "
            "writable path"
        ) from None
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise ConfigError(f"storage {path} is not writable here: give a writable path")


def _check_sqlite_file(path: Path) -> None:
    """Stop with one line when ``path`` is not a sound SQLite database (once per file state)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _CHECKED:
        return
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            # quick_check quotes what it finds: on spoiled pages, bytes that are not UTF-8.
            connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
            found = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as error:
        found = (str(error),)
    except UnicodeDecodeError:  # SQLite's own message quoted bytes that are not UTF-8
        found = ("damaged pages: SQLite's answer is not even text",)
    if found is None or found[0] != "ok":
        problem = "no answer" if found is None else _one_printable_line(found[0])
        raise ConfigError(
            f"{path} is not a sound SQLite database ({problem}): give the path of a study "
            "database, or restore this file from a copy"
        )
    _CHECKED.add(key)


def _one_printable_line(text: str, most: int = 200) -> str:
    """``text`` as one line of printable characters, at most ``most`` long."""
    line = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return line if len(line) <= most else line[: most - 3] + "..."


def _open_journal(path: Path, create: bool) -> optuna.storages.JournalStorage:
    _check_local_path(path, create)
    try:
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:  # JSON errors
        raise ConfigError(
            f"{path} is not an Optuna journal file ({type(error).__name__}: {error}): give the "
            "path of a journal, or move this file away"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"cannot open journal {path} ({error.strerror}): give a writable path"
        ) from None


def _sqlite_settings(storage: optuna.storages.RDBStorage) -> None:
    """Make SQLite's transactions exclusive from their start, and skip the fsync.

    ``BEGIN IMMEDIATE``: Python's sqlite3 starts a transaction only at its first
    write, so a read-then-write such as taking a waiting trial (Optuna reads that
    it waits, then marks it running) is not atomic: two workers could take the same
    budget slot (19 double takes in 300 with 4 processes here, each trial then
    trained twice and its second tell refused). Each transaction now takes the
    write lock at BEGIN (SQLAlchemy's recipe for pysqlite), so they run one after
    another; a waiting process retries for up to 60 s (``timeout``).

    ``PRAGMA synchronous = OFF``: a trial writes about 25 small transactions;
    waiting for an fsync at each cost 0.3 s per trial here, more than training a
    small network's fold. Without it a commit is handed to the operating system,
    so a killed worker still loses no finished trial; only a crash of the machine
    itself can lose or damage the last writes. Both settings are per connection:
    the file's format is unchanged.
    """
    from sqlalchemy import event

    @event.listens_for(storage.engine, "connect")
    def _connect(connection, record) -> None:
        connection.isolation_level = None  # SQLAlchemy's begin event emits BEGIN itself
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()

    @event.listens_for(storage.engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    storage.engine.dispose()  # connections opened before the listeners get the settings too


def _require_driver(url: str) -> None:
    """Stop with one line naming the install when a PostgreSQL URL's driver is missing.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` URL to psycopg 3, which the
    ``postgres`` extra installs; ``postgresql+psycopg2://`` needs psycopg2.
    """
    import importlib.util

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if not url.startswith("postgresql"):
        return
    try:
        driver = make_url(url).get_driver_name()
    except (ArgumentError, NoSuchModuleError) as error:
        raise ConfigError(
            f"cannot read storage URL {redact_password(url)!r} ({error}); {FORMS}"
        ) from None
    module = _POSTGRES_MODULES.get(driver, driver)
    if importlib.util.find_spec(module) is not None:
        return
    shown = redact_password(url)
    if module == "psycopg":
        raise ConfigError(
            f"storage {shown!r} needs the PostgreSQL driver psycopg (3), which is not installed: "
            'pip install -e ".[postgres]" (or pip install "psycopg[binary]")'
        )
    raise ConfigError(
        f"storage {shown!r} needs the PostgreSQL driver {module}, which is not installed: use "
        'postgresql://USER@HOST/DB with pip install -e ".[postgres]" (psycopg 3), or install '
        f"{module}"
    )
