"""Bounded retries of a transaction that lost a race with another process.

Retried: SQLite "database is locked"/"busy" (the busy timeout ran out),
PostgreSQL serialization failures and deadlocks (SQLSTATE 40001, 40P01), and
unique-key violations (two writers created the same row at once; the retry
re-reads and either succeeds or raises the proper loopml error). Anything
else propagates at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from loopml.errors import StoreError

__all__ = ["MAX_ATTEMPTS", "is_transient", "retrying"]

T = TypeVar("T")

MAX_ATTEMPTS = 12
"""Attempts before giving up (with exponential back-off, about 10 s in all)."""

_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_transient(exc: BaseException) -> bool:
    """True if ``exc`` means "another transaction got there first; try again"."""
    if isinstance(exc, IntegrityError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return "database is locked" in message or "database is busy" in message
    return False


def retrying(work: Callable[[], T], *, what: str, attempts: int = MAX_ATTEMPTS) -> T:
    """Call ``work()`` until it succeeds or fails for a non-transient reason.

    Parameters
    ----------
    work : callable
        Runs one whole transaction; it must be safe to call again after a
        rollback.
    what : str
        Words for the error message, e.g. ``"registering model 'churn'"``.
    attempts : int, keyword-only
        Maximum number of calls.

    Raises
    ------
    StoreError
        When the last attempt still failed transiently; chained to the cause.
    """
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as exc:
            if not is_transient(exc):
                raise StoreError(f"{what} failed: {exc.orig}") from exc
            if attempt == attempts - 1:
                raise StoreError(f"{what} failed after {attempts} attempts: {exc.orig}") from exc
            time.sleep(min(1.5, 0.005 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
