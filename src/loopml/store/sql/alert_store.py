"""Monitoring alert events in SQL (see :class:`loopml.store.base.AlertStore`).

A claim reads the newest cooling event of a (model, rule) and inserts the new
one in the same write transaction, and claims of one (model, rule) serialize:
on SQLite the write transaction holds the database write lock (``BEGIN
IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock on the pair is
taken first (two-key form, so it never meets the single-key locks used for
migrations and the audit chain). Two processes that evaluate the same rule at
once therefore notify once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loopml.errors import ConflictError, NotFoundError
from loopml.store.alert_events import (
    COOLING_STATUSES,
    AlertEvent,
    check_alert_values,
    delivery_status,
)
from loopml.store.sql.convert import to_alert_event
from loopml.store.sql.rows import AlertEventRow
from loopml.store.sql.transactions import Transactions, utcnow

__all__ = ["ALERT_LOCK_CLASS", "SqlAlertStore", "alert_lock_key"]

ALERT_LOCK_CLASS = 731_602
"""First key of the PostgreSQL advisory lock taken while claiming an alert."""


def alert_lock_key(model: str, rule: str) -> int:
    """Second advisory-lock key: a signed 32-bit hash of ``(model, rule)``.

    A collision between two pairs only makes their claims wait for each other.
    """
    digest = hashlib.blake2b(f"{model}\0{rule}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlAlertStore(Transactions):
    """Alert half of :class:`loopml.store.sql.SqlStore`."""

    def claim_alert(
        self,
        *,
        model: str,
        rule: str,
        fired_at: datetime,
        cooldown_seconds: float,
        value: float,
        threshold: float,
        severity: str,
        payload: dict[str, Any],
    ) -> AlertEvent | None:
        check_alert_values(model, rule, value, threshold)

        def work(session: Session) -> AlertEvent | None:
            if self._is_postgres(session):
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:space, :key)"),
                    {"space": ALERT_LOCK_CLASS, "key": alert_lock_key(model, rule)},
                )
            if cooldown_seconds > 0:
                since = fired_at - timedelta(seconds=cooldown_seconds)
                cooling = session.scalar(
                    select(AlertEventRow.id)
                    .where(AlertEventRow.model == model, AlertEventRow.rule == rule)
                    .where(AlertEventRow.fired_at > since)
                    .where(AlertEventRow.status.in_(COOLING_STATUSES))
                    .limit(1)
                )
                if cooling is not None:
                    return None
            row = AlertEventRow(
                model=model,
                rule=rule,
                fired_at=fired_at,
                value=float(value),
                threshold=float(threshold),
                severity=severity,
                status="pending",
                delivered=[],
                failed={},
                payload=payload,
                finished_at=None,
            )
            session.add(row)
            session.flush()
            return to_alert_event(row)

        return self._write(work, what=f"claiming alert {rule!r} of model {model!r}")

    def finish_alert(
        self, event_id: int, *, delivered: Sequence[str], failed: Mapping[str, str]
    ) -> AlertEvent:
        status = delivery_status(delivered, failed)

        def work(session: Session) -> AlertEvent:
            query = select(AlertEventRow).where(AlertEventRow.id == int(event_id))
            if self._is_postgres(session):
                query = query.with_for_update()
            row = session.scalar(query)
            if row is None:
                raise NotFoundError(f"alert event {event_id} not found")
            if row.finished_at is not None:
                raise ConflictError(
                    f"alert event {event_id} ({row.rule!r} of model {row.model!r}) "
                    f"is already finished as {row.status}"
                )
            row.status = status
            row.delivered = list(delivered)
            row.failed = {str(k): str(v) for k, v in failed.items()}
            row.finished_at = utcnow()
            session.flush()
            return to_alert_event(row)

        return self._write(work, what=f"recording deliveries of alert event {event_id}")

    def list_alert_events(
        self, *, model: str | None = None, rule: str | None = None, limit: int = 100
    ) -> list[AlertEvent]:
        query = select(AlertEventRow).order_by(
            AlertEventRow.fired_at.desc(), AlertEventRow.id.desc()
        )
        if model is not None:
            query = query.where(AlertEventRow.model == model)
        if rule is not None:
            query = query.where(AlertEventRow.rule == rule)
        query = query.limit(max(limit, 0))
        return [to_alert_event(r) for r in self._read(lambda s: list(s.scalars(query)))]
