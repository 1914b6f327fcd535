"""Loop controller lease and state in SQL (see :class:`loopml.store.base.ControllerStore`).

Every write of one model's lease or state runs in one write transaction that
is serialized with every other write for that model: on SQLite the write
transaction holds the database write lock from its start (``BEGIN
IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock on the model is
taken first (two-key form with its own first key, so it never meets the alert
or migration locks). Inside that transaction the lease is read, compared and
written, which makes acquiring a lease, and a state write that checks the lease
and the revision, atomic compare-and-sets on both databases.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from loopml.errors import ConflictError, StoreError
from loopml.store.controller_state import (
    ControllerState,
    Lease,
    check_phase,
    check_ttl,
    lease_conflict,
)
from loopml.store.sql.convert import to_controller_state, to_lease
from loopml.store.sql.rows import ControllerLeaseRow, ControllerStateRow
from loopml.store.sql.transactions import Transactions, utcnow

__all__ = ["CONTROLLER_LOCK_CLASS", "SqlControllerStore"]

CONTROLLER_LOCK_CLASS = 731_603
"""First key of the PostgreSQL advisory lock taken while writing a model's lease or state."""


def _model_key(model: str) -> int:
    digest = hashlib.blake2b(model.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlControllerStore(Transactions):
    """Controller half of :class:`loopml.store.sql.SqlStore`."""

    def _lock_model(self, session: Session, model: str) -> None:
        if self._is_postgres(session):
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"),
                {"space": CONTROLLER_LOCK_CLASS, "key": _model_key(model)},
            )

    def acquire_lease(
        self, model: str, holder: str, *, ttl_seconds: float, now: datetime | None = None
    ) -> Lease | None:
        ttl = check_ttl(ttl_seconds)
        moment = now or utcnow()

        def work(session: Session) -> Lease | None:
            self._lock_model(session, model)
            row = session.get(ControllerLeaseRow, model)
            expires = moment + timedelta(seconds=ttl)
            if row is None:
                row = ControllerLeaseRow(
                    model=model, holder=holder, acquired_at=moment, expires_at=expires
                )
                session.add(row)
            elif row.holder == holder:
                row.expires_at = expires
            elif row.expires_at <= moment:
                row.holder, row.acquired_at, row.expires_at = holder, moment, expires
            else:
                return None
            session.flush()
            return to_lease(row)

        return self._write(work, what=f"taking the controller lease of model {model!r}")

    def release_lease(self, model: str, holder: str) -> bool:
        def work(session: Session) -> bool:
            self._lock_model(session, model)
            result = session.execute(
                delete(ControllerLeaseRow).where(
                    ControllerLeaseRow.model == model, ControllerLeaseRow.holder == holder
                )
            )
            return bool(getattr(result, "rowcount", 0))

        return self._write(work, what=f"releasing the controller lease of model {model!r}")

    def get_lease(self, model: str) -> Lease | None:
        row = self._read(lambda s: s.get(ControllerLeaseRow, model))
        return None if row is None else to_lease(row)

    def get_controller_state(self, model: str) -> ControllerState:
        row = self._read(lambda s: s.get(ControllerStateRow, model))
        return ControllerState(model) if row is None else to_controller_state(row)

    def save_controller_state(
        self, state: ControllerState, *, holder: str | None, now: datetime | None = None
    ) -> ControllerState:
        check_phase(state.phase)
        try:
            data = json.loads(json.dumps(state.data, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"controller state data of model {state.model!r} is not JSON: {exc}"
            ) from exc
        moment = now or utcnow()

        def work(session: Session) -> ControllerState:
            self._lock_model(session, state.model)
            row = session.get(ControllerStateRow, state.model)
            revision = 0 if row is None else int(row.revision)
            if revision != state.revision:
                raise ConflictError(
                    f"controller state of model {state.model!r} changed meanwhile "
                    f"(revision {revision}, expected {state.revision})"
                )
            if holder is not None:
                lease = session.get(ControllerLeaseRow, state.model)
                if lease is None or lease.holder != holder or lease.expires_at <= moment:
                    raise lease_conflict(
                        state.model, holder, None if lease is None else to_lease(lease), moment
                    )
            if row is None:
                row = ControllerStateRow(model=state.model)
                session.add(row)
            row.phase = state.phase
            row.challenger_version = state.challenger_version
            row.canary_started_at = state.canary_started_at
            row.data = data
            row.updated_at = moment
            row.revision = revision + 1
            session.flush()
            return to_controller_state(row)

        return self._write(work, what=f"saving the controller state of model {state.model!r}")

    def list_controller_states(self) -> list[ControllerState]:
        query = select(ControllerStateRow).order_by(ControllerStateRow.model)
        return [to_controller_state(r) for r in self._read(lambda s: list(s.scalars(query)))]
