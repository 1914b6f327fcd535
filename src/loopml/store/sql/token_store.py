"""API tokens of the model server in SQL (hashes only; see :class:`loopml.store.base.TokenStore`).

A token's creation or revocation and its audit event commit in one
transaction. Uniqueness of active names and of lookup ids is enforced by the
database too, so two processes creating the same name at once cannot both
succeed: the loser's retry re-reads and raises
:class:`~loopml.errors.AlreadyExistsError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from loopml.entities import ApiToken
from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store.audit_chain import token_target
from loopml.store.sql.audit_store import SqlAuditStore
from loopml.store.sql.convert import to_token
from loopml.store.sql.rows import ApiTokenRow
from loopml.store.sql.transactions import utcnow

__all__ = ["SqlTokenStore"]


class SqlTokenStore(SqlAuditStore):
    """Token half of :class:`loopml.store.sql.SqlStore`."""

    def create_token(
        self,
        *,
        name: str,
        roles: Sequence[str],
        lookup: str,
        secret_hash: str,
        actor: str,
        reason: str = "",
    ) -> ApiToken:
        def work(session: Session) -> ApiToken:
            taken = session.scalar(
                select(ApiTokenRow.name).where(
                    or_(
                        (ApiTokenRow.name == name) & ApiTokenRow.revoked_at.is_(None),
                        ApiTokenRow.lookup == lookup,
                    )
                )
            )
            if taken is not None:
                raise AlreadyExistsError(
                    f"an active token named {name!r} already exists"
                    if taken == name
                    else f"a token with lookup id {lookup!r} already exists"
                )
            row = ApiTokenRow(
                id=uuid.uuid4().hex,
                name=name,
                roles=sorted(set(roles)),
                lookup=lookup,
                secret_hash=secret_hash,
                created_at=utcnow(),
                created_by=actor,
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                actor=actor,
                action="token.create",
                target=token_target(name),
                before=None,
                after={"id": row.id, "roles": list(row.roles)},
                reason=reason,
            )
            return to_token(row)

        return self._write(work, what=f"creating token {name!r}")

    def find_token(self, lookup: str) -> ApiToken | None:
        query = select(ApiTokenRow).where(ApiTokenRow.lookup == lookup)
        row = self._read(lambda s: s.scalar(query))
        return None if row is None else to_token(row)

    def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if not include_revoked:
            query = query.where(ApiTokenRow.revoked_at.is_(None))
        return [to_token(r) for r in self._read(lambda s: list(s.scalars(query)))]

    def revoke_token(self, name_or_id: str, *, actor: str, reason: str = "") -> ApiToken:
        def work(session: Session) -> ApiToken:
            query = (
                select(ApiTokenRow)
                .where(ApiTokenRow.revoked_at.is_(None))
                .where(or_(ApiTokenRow.id == name_or_id, ApiTokenRow.name == name_or_id))
                .order_by((ApiTokenRow.id == name_or_id).desc())
                .limit(1)
            )
            if self._is_postgres(session):
                query = query.with_for_update()
            row = session.scalar(query)
            if row is None:
                raise NotFoundError(f"no active token with name or id {name_or_id!r}")
            row.revoked_at = utcnow()
            session.flush()
            self._append(
                session,
                actor=actor,
                action="token.revoke",
                target=token_target(row.name),
                before={"id": row.id, "roles": list(row.roles)},
                after=None,
                reason=reason,
            )
            return to_token(row)

        return self._write(work, what=f"revoking token {name_or_id!r}")
