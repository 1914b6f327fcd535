"""Engine factory: SQLite in WAL mode with up-front write locks, or PostgreSQL via psycopg 3.

SQLite notes. Python's ``sqlite3`` driver (before 3.12's ``autocommit``)
starts transactions lazily and only for DML, which breaks serializable
behaviour and transactional DDL. Following the SQLAlchemy documentation
("Transactions with SQLite and the sqlite3 driver" / "Serializable isolation
/ Savepoints / Transactional DDL"), :func:`make_engine` switches the driver's
own transaction handling off and emits ``BEGIN`` itself. A connection with
the execution option ``loopml_write=True`` begins with ``BEGIN IMMEDIATE``,
taking the database write lock before its first read, so read-then-write
transactions in different processes serialize instead of failing with
"database is locked" half-way through. Readers use plain ``BEGIN`` and, in
WAL mode, never block writers.

References
----------
.. [1] SQLite, "Write-Ahead Logging", https://www.sqlite.org/wal.html
.. [2] SQLite, "BEGIN TRANSACTION", https://www.sqlite.org/lang_transaction.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from loopml.errors import ConfigurationError

__all__ = ["BUSY_TIMEOUT_SECONDS", "WRITE", "make_engine", "normalise_url"]

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite connection waits for a lock held by another process."""

WRITE = {"loopml_write": True}
"""Execution options of a connection that will write (``BEGIN IMMEDIATE`` on SQLite)."""


def normalise_url(url: str) -> URL:
    """Parse ``url`` and pick the driver loopml supports for its dialect.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``.

    Raises
    ------
    ConfigurationError
        If the URL cannot be parsed or names another database.
    """
    text = url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    try:
        parsed = make_url(text)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and ValueError
        raise ConfigurationError(f"store URL {url!r} cannot be parsed: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.get_driver_name() not in ("pysqlite", ""):
            raise ConfigurationError(f"store URL {url!r}: only the built-in sqlite3 driver is supported")
        return parsed
    raise ConfigurationError(
        f"store URL {url!r}: loopml supports sqlite:/// and postgresql+psycopg:// only"
    )


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for ``url``; no connection is opened yet.

    For a SQLite file the parent folder is created if missing.

    Raises
    ------
    ConfigurationError
        If the URL names an unsupported database.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_SECONDS}}
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        kwargs = {
            "connect_args": {"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            "poolclass": StaticPool,
        }
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    _install_sqlite_hooks(engine, wal=not in_memory)
    return engine


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    busy_ms = int(BUSY_TIMEOUT_SECONDS * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("loopml_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
