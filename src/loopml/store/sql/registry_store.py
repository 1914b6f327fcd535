"""Registered models, model versions and aliases in SQL.

Every change to one model starts by locking its ``registered_models`` row
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the ``BEGIN IMMEDIATE``
write lock already serializes writers), so version allocation, alias moves,
the alias history and the audit event of one change commit together or not at
all. Version numbers come from ``UPDATE registered_models SET latest_version =
latest_version + 1 ... RETURNING`` in the transaction that inserts the
version, backed by a unique ``(model_name, version)`` constraint: concurrent
registrations get 1, 2, 3 ... with no duplicate and no gap.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loopml.entities import AliasRecord, AuditEvent, ModelVersion, RegisteredModel
from loopml.errors import AlreadyExistsError, ConflictError, NotFoundError
from loopml.store.audit_chain import alias_target, version_target
from loopml.store.sql.audit_store import SqlAuditStore
from loopml.store.sql.convert import to_alias, to_model, to_model_version
from loopml.store.sql.rows import (
    AliasHistoryRow,
    AliasRow,
    ModelVersionRow,
    RegisteredModelRow,
    RunRow,
)
from loopml.store.sql.transactions import utcnow

__all__ = ["SqlRegistryStore"]


def _aliases(session: Session, name: str) -> list[AliasRow]:
    return list(session.scalars(select(AliasRow).where(AliasRow.model_name == name)))


def _locked_model(session: Session, name: str) -> RegisteredModelRow:
    row = session.scalar(
        select(RegisteredModelRow).where(RegisteredModelRow.name == name).with_for_update()
    )
    if row is None:
        raise NotFoundError(f"registered model {name!r} not found")
    return row


def _version_row(session: Session, name: str, version: int) -> ModelVersionRow:
    row = session.scalar(
        select(ModelVersionRow).where(
            ModelVersionRow.model_name == name, ModelVersionRow.version == int(version)
        )
    )
    if row is None:
        raise NotFoundError(f"model {name!r} has no version {version}")
    return row


def _alias_row(session: Session, name: str, alias: str) -> AliasRow:
    row = session.get(AliasRow, (name, alias))
    if row is None:
        raise NotFoundError(f"model {name!r} has no alias {alias!r}")
    return row


class SqlRegistryStore(SqlAuditStore):
    """Registry half of :class:`loopml.store.sql.SqlStore`."""

    def create_registered_model(self, name: str, *, description: str = "") -> RegisteredModel:
        def work(session: Session) -> RegisteredModel:
            if session.get(RegisteredModelRow, name) is not None:
                raise AlreadyExistsError(f"registered model {name!r} already exists")
            row = RegisteredModelRow(
                name=name, description=description, created_at=utcnow(), latest_version=0
            )
            session.add(row)
            session.flush()
            return to_model(row, [])

        return self._write(work, what=f"creating registered model {name!r}")

    def get_registered_model(self, name: str) -> RegisteredModel:
        def work(session: Session) -> RegisteredModel:
            row = session.get(RegisteredModelRow, name)
            if row is None:
                raise NotFoundError(f"registered model {name!r} not found")
            return to_model(row, _aliases(session, name))

        return self._read(work)

    def list_registered_models(self) -> list[RegisteredModel]:
        def work(session: Session) -> list[RegisteredModel]:
            rows = session.scalars(select(RegisteredModelRow).order_by(RegisteredModelRow.name))
            by_model: dict[str, list[AliasRow]] = {}
            for alias in session.scalars(select(AliasRow)):
                by_model.setdefault(alias.model_name, []).append(alias)
            return [to_model(r, by_model.get(r.name, [])) for r in rows]

        return self._read(work)

    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        run_id: str | None,
        description: str = "",
        tags: dict[str, str] | None = None,
        actor: str,
        reason: str = "",
    ) -> ModelVersion:
        clean_tags = {str(k): str(v) for k, v in (tags or {}).items()}

        def work(session: Session) -> ModelVersion:
            if run_id is not None and session.get(RunRow, run_id) is None:
                raise NotFoundError(f"run {run_id!r} not found (registering model {name!r})")
            session.execute(
                self._insert(session, RegisteredModelRow).on_conflict_do_nothing(
                    index_elements=["name"]
                ),
                [{"name": name, "description": "", "created_at": utcnow(), "latest_version": 0}],
            )
            version = session.execute(
                update(RegisteredModelRow)
                .where(RegisteredModelRow.name == name)
                .values(latest_version=RegisteredModelRow.latest_version + 1)
                .returning(RegisteredModelRow.latest_version)
            ).scalar_one()
            row = ModelVersionRow(
                model_name=name,
                version=version,
                source=source,
                run_id=run_id,
                created_at=utcnow(),
                description=description,
                tags=clean_tags,
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                actor=actor,
                action="model_version.create",
                target=version_target(name, version),
                before=None,
                after={"source": source, "run_id": run_id},
                reason=reason,
            )
            return to_model_version(row, [])

        return self._write(work, what=f"registering a version of model {name!r}")

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        def work(session: Session) -> ModelVersion:
            if session.get(RegisteredModelRow, name) is None:
                raise NotFoundError(f"registered model {name!r} not found")
            return to_model_version(_version_row(session, name, version), _aliases(session, name))

        return self._read(work)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        def work(session: Session) -> list[ModelVersion]:
            if session.get(RegisteredModelRow, name) is None:
                raise NotFoundError(f"registered model {name!r} not found")
            aliases = _aliases(session, name)
            rows = session.scalars(
                select(ModelVersionRow)
                .where(ModelVersionRow.model_name == name)
                .order_by(ModelVersionRow.version)
            )
            return [to_model_version(r, aliases) for r in rows]

        return self._read(work)

    def delete_model_version(
        self, name: str, version: int, *, actor: str, reason: str, force: bool = False
    ) -> None:
        def work(session: Session) -> None:
            _locked_model(session, name)
            row = _version_row(session, name, version)
            pointing = sorted(a.alias for a in _aliases(session, name) if a.version == row.version)
            if pointing and not force:
                raise ConflictError(
                    f"model {name!r} version {row.version} is the target of alias(es) "
                    f"{', '.join(pointing)}; move them first or delete with force (CLI: --force)"
                )
            history = delete(AliasHistoryRow).where(AliasHistoryRow.model_name == name)
            if pointing:
                session.execute(
                    delete(AliasRow).where(AliasRow.model_name == name, AliasRow.alias.in_(pointing))
                )
                session.execute(history.where(AliasHistoryRow.alias.in_(pointing)))
            session.execute(history.where(AliasHistoryRow.version == row.version))
            before: dict[str, Any] = {"source": row.source, "run_id": row.run_id, "aliases": pointing}
            session.delete(row)
            session.flush()
            self._append(
                session,
                actor=actor,
                action="model_version.delete",
                target=version_target(name, int(version)),
                before=before,
                after=None,
                reason=reason,
            )

        self._write(work, what=f"deleting model {name!r} version {version}")

    def set_alias(
        self, name: str, alias: str, version: int, *, actor: str, reason: str
    ) -> AuditEvent:
        def work(session: Session) -> AuditEvent:
            _locked_model(session, name)
            target = _version_row(session, name, version)
            now = utcnow()
            current = session.get(AliasRow, (name, alias))
            before = None if current is None else {"version": current.version}
            if current is None:
                session.add(AliasRow(model_name=name, alias=alias, version=target.version, updated_at=now))
            else:
                if current.version != target.version:
                    session.add(
                        AliasHistoryRow(
                            model_name=name, alias=alias, version=current.version, moved_at=now
                        )
                    )
                current.version = target.version
                current.updated_at = now
            session.flush()
            return self._append(
                session,
                actor=actor,
                action="alias.set",
                target=alias_target(name, alias),
                before=before,
                after={"version": target.version},
                reason=reason,
            )

        return self._write(work, what=f"setting alias {alias!r} of model {name!r}")

    def get_alias(self, name: str, alias: str) -> AliasRecord:
        def work(session: Session) -> AliasRecord:
            if session.get(RegisteredModelRow, name) is None:
                raise NotFoundError(f"registered model {name!r} not found")
            return to_alias(_alias_row(session, name, alias))

        return self._read(work)

    def list_aliases(self, name: str) -> list[AliasRecord]:
        def work(session: Session) -> list[AliasRecord]:
            if session.get(RegisteredModelRow, name) is None:
                raise NotFoundError(f"registered model {name!r} not found")
            return [to_alias(a) for a in sorted(_aliases(session, name), key=lambda a: a.alias)]

        return self._read(work)

    def rollback_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent:
        def work(session: Session) -> AuditEvent:
            _locked_model(session, name)
            current = _alias_row(session, name, alias)
            previous = session.scalar(
                select(AliasHistoryRow)
                .where(AliasHistoryRow.model_name == name, AliasHistoryRow.alias == alias)
                .order_by(AliasHistoryRow.id.desc())
                .limit(1)
            )
            if previous is None:
                raise ConflictError(
                    f"alias {alias!r} of model {name!r} has no earlier version to roll back to"
                )
            before = {"version": current.version}
            current.version = previous.version
            current.updated_at = utcnow()
            session.delete(previous)
            session.flush()
            return self._append(
                session,
                actor=actor,
                action="alias.rollback",
                target=alias_target(name, alias),
                before=before,
                after={"version": current.version},
                reason=reason,
            )

        return self._write(work, what=f"rolling back alias {alias!r} of model {name!r}")

    def delete_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent:
        def work(session: Session) -> AuditEvent:
            _locked_model(session, name)
            current = _alias_row(session, name, alias)
            before = {"version": current.version}
            session.delete(current)
            session.execute(
                delete(AliasHistoryRow).where(
                    AliasHistoryRow.model_name == name, AliasHistoryRow.alias == alias
                )
            )
            session.flush()
            return self._append(
                session,
                actor=actor,
                action="alias.delete",
                target=alias_target(name, alias),
                before=before,
                after=None,
                reason=reason,
            )

        return self._write(work, what=f"deleting alias {alias!r} of model {name!r}")
