"""Audit chain, lineage edges and the step cache index in SQL.

Appending to the chain reads the newest event's hash and inserts the next
event in the caller's write transaction. Appends serialize: on SQLite the
write transaction already holds the database write lock (``BEGIN
IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock is taken
first. ``prev_hash`` is unique, so even a writer that bypassed the lock could
not fork the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loopml.entities import AuditEvent, LineageEdge
from loopml.store.audit_chain import GENESIS_HASH, event_hash, verify_events
from loopml.store.sql.convert import to_edge, to_event
from loopml.store.sql.rows import AuditEventRow, CacheEntryRow, LineageEdgeRow
from loopml.store.sql.transactions import Transactions, utcnow

__all__ = ["AUDIT_LOCK_KEY", "SqlAuditStore"]

AUDIT_LOCK_KEY = 7_316_021_915_002
"""PostgreSQL advisory lock key held while appending to the audit chain."""


class SqlAuditStore(Transactions):
    """Audit, lineage and cache half of :class:`loopml.store.sql.SqlStore`."""

    def _append(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str,
    ) -> AuditEvent:
        if self._is_postgres(session):
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        head = session.scalar(
            select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
        )
        prev_hash = head or GENESIS_HASH
        time = utcnow()
        row = AuditEventRow(
            time=time,
            actor=actor,
            action=action,
            target=target,
            before=before,
            after=after,
            reason=reason,
            prev_hash=prev_hash,
            hash=event_hash(
                time=time,
                actor=actor,
                action=action,
                target=target,
                before=before,
                after=after,
                reason=reason,
                prev_hash=prev_hash,
            ),
        )
        session.add(row)
        session.flush()
        return to_event(row)

    def append_event(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str,
    ) -> AuditEvent:
        return self._write(
            lambda s: self._append(
                s, actor=actor, action=action, target=target, before=before, after=after, reason=reason
            ),
            what=f"appending audit event {action!r} on {target!r}",
        )

    def list_events(
        self, *, target_prefix: str | None = None, action: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]:
        if limit <= 0:
            return []
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if target_prefix is not None:
            query = query.where(AuditEventRow.target.startswith(target_prefix, autoescape=True))
        if action is not None:
            query = query.where(AuditEventRow.action == action)
        rows = self._read(lambda s: list(s.scalars(query)))
        return [to_event(r) for r in reversed(rows)]

    def verify_chain(self) -> bool:
        def work(session: Session) -> bool:
            rows = session.scalars(
                select(AuditEventRow).order_by(AuditEventRow.id).execution_options(yield_per=1000)
            )
            return verify_events(to_event(r) for r in rows)

        return self._read(work)

    # -------------------------------------------------------------------- lineage
    def add_edges(self, edges: Sequence[tuple[str, str, str]]) -> None:
        unique = list(dict.fromkeys((str(s), str(t), str(r)) for s, t, r in edges))
        if not unique:
            return

        def work(session: Session) -> None:
            time = utcnow()
            rows = [{"source": s, "target": t, "relation": r, "time": time} for s, t, r in unique]
            stmt = self._insert(session, LineageEdgeRow).on_conflict_do_nothing(
                index_elements=["source", "target", "relation"]
            )
            session.execute(stmt, rows)

        self._write(work, what=f"adding {len(unique)} lineage edge(s)")

    def _edges(self, column: Any, node: str) -> list[LineageEdge]:
        query = select(LineageEdgeRow).where(column == node).order_by(LineageEdgeRow.id)
        return self._read(lambda s: [to_edge(r) for r in s.scalars(query)])

    def edges_to(self, node: str) -> list[LineageEdge]:
        return self._edges(LineageEdgeRow.target, node)

    def edges_from(self, node: str) -> list[LineageEdge]:
        return self._edges(LineageEdgeRow.source, node)

    # ---------------------------------------------------------------------- cache
    def get_cache_entry(self, key: str) -> dict[str, Any] | None:
        row = self._read(lambda s: s.get(CacheEntryRow, key))
        return None if row is None else dict(row.value)

    def put_cache_entry(self, key: str, *, step: str, value: dict[str, Any]) -> None:
        def work(session: Session) -> None:
            stmt = self._insert(session, CacheEntryRow).on_conflict_do_nothing(index_elements=["key"])
            session.execute(stmt, [{"key": key, "step": step, "value": value, "created_at": utcnow()}])

        self._write(work, what=f"caching step {step!r} under key {key!r}")
