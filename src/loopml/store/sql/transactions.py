"""Shared plumbing of the SQL store: read and write transactions, dialect-aware inserts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from loopml.errors import StoreError
from loopml.store.sql.engine import WRITE
from loopml.store.sql.retry import retrying

__all__ = ["Transactions", "utcnow"]

T = TypeVar("T")


def utcnow() -> datetime:
    """Now, aware UTC, truncated to what every backend stores (microseconds)."""
    return datetime.now(UTC)


class Transactions:
    """Base of the SQL store: one engine, short sessions, retried write transactions.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Built by :func:`loopml.store.sql.engine.make_engine`, already migrated.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and diagnostics; rows stay inside the store)."""
        return self._engine

    def _read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read-only transaction (plain ``BEGIN``; never blocks writers in WAL).

        Raises
        ------
        StoreError
            If the database fails (unreachable, locked past the busy timeout ...).
        """
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            raise StoreError(f"reading the metadata store failed: {exc.orig}") from exc

    def _write(self, work: Callable[[Session], T], *, what: str) -> T:
        """Run ``work`` in one write transaction, retried when it loses a race.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``; loopml
        errors raised by ``work`` roll back and propagate unchanged.
        """
        write_engine = self._engine.execution_options(**WRITE)

        def attempt() -> T:
            with Session(write_engine, expire_on_commit=False) as session, session.begin():
                return work(session)

        return retrying(attempt, what=what)

    def _insert(self, session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
        """``INSERT`` for ``table`` in the session's dialect (so ``on_conflict_*`` is available)."""
        if session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _is_postgres(self, session: Session) -> bool:
        return session.get_bind().dialect.name == "postgresql"

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards."""
        self._engine.dispose()
