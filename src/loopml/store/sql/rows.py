"""ORM rows of the SQL metadata store (SQLAlchemy 2.0 typed declarative mapping).

Rows never leave :mod:`loopml.store`: :mod:`loopml.store.sql.convert` turns
them into :mod:`loopml.entities` values. The schema is created and evolved
only by the Alembic migrations in ``migrations/versions``; a test checks that
the migrations and these classes agree.

Times are stored as naive UTC (``UTCDateTime``) and read back as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING_CONVENTION",
    "AlertEventRow",
    "AliasHistoryRow",
    "AliasRow",
    "ApiTokenRow",
    "AuditEventRow",
    "Base",
    "CacheEntryRow",
    "ControllerLeaseRow",
    "ControllerStateRow",
    "ExperimentRow",
    "LineageEdgeRow",
    "MetricRow",
    "ModelVersionRow",
    "ParamRow",
    "RegisteredModelRow",
    "RunInputRow",
    "RunRow",
    "TagRow",
    "UTCDateTime",
]

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit surrogate key; plain INTEGER on SQLite so that it is the rowid (autoincrement)."""


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database, aware UTC in Python; naive inputs are taken as UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, so that migrations can refer to them on every backend."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ExperimentRow(Base):
    __tablename__ = "experiments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index(None, "experiment_id", "start_time"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    git_commit: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[dict[str, Any]]
    artifact_uri: Mapped[str] = mapped_column(Text)
    params: Mapped[list[ParamRow]] = relationship(order_by="ParamRow.key", lazy="selectin")
    tags: Mapped[list[TagRow]] = relationship(order_by="TagRow.key", lazy="selectin")
    inputs: Mapped[list[RunInputRow]] = relationship(order_by="RunInputRow.id", lazy="selectin")


class ParamRow(Base):
    __tablename__ = "params"
    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TagRow(Base):
    __tablename__ = "tags"
    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricRow(Base):
    __tablename__ = "metrics"
    __table_args__ = (Index(None, "run_id", "key", "step"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    # NULL stands for NaN: SQLite cannot store NaN in a REAL column.
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[datetime]


class RunInputRow(Base):
    __tablename__ = "run_inputs"
    __table_args__ = (UniqueConstraint("run_id", "fingerprint", "name", "role"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    n_rows: Mapped[int] = mapped_column(BigInteger)
    n_columns: Mapped[int] = mapped_column(Integer)


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    latest_version: Mapped[int] = mapped_column(Integer)


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_name", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]


class AliasRow(Base):
    __tablename__ = "aliases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["model_name", "version"], ["model_versions.model_name", "model_versions.version"]
        ),
    )
    model_name: Mapped[str] = mapped_column(Text, primary_key=True)
    alias: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class AliasHistoryRow(Base):
    """One earlier target of an alias; the newest row per alias is popped by a rollback."""

    __tablename__ = "alias_history"
    __table_args__ = (Index(None, "model_name", "alias", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(Text)
    alias: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    moved_at: Mapped[datetime]


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text, index=True)
    target: Mapped[str] = mapped_column(Text, index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    reason: Mapped[str] = mapped_column(Text)
    # unique: two writers that read the same chain head cannot both append
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LineageEdgeRow(Base):
    __tablename__ = "lineage_edges"
    __table_args__ = (UniqueConstraint("source", "target", "relation"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text, index=True)
    target: Mapped[str] = mapped_column(Text, index=True)
    relation: Mapped[str] = mapped_column(Text)
    time: Mapped[datetime]


class CacheEntryRow(Base):
    __tablename__ = "cache_entries"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    step: Mapped[str] = mapped_column(Text)
    value: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    """A bearer token of the model server: hashes only, never the secret.

    ``name`` is unique among active tokens (a partial unique index), so a
    revoked token's name can be given to a new one.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        Index(
            "ix_api_tokens_active_name",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(JSON)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]


class AlertEventRow(Base):
    """One firing of a monitoring alert rule; see :mod:`loopml.store.alert_events`.

    The index serves the cooldown check (newest event of a model and rule).
    """

    __tablename__ = "alert_events"
    __table_args__ = (Index(None, "model", "rule", "fired_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    fired_at: Mapped[datetime]
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    delivered: Mapped[list[str]] = mapped_column(JSON)
    failed: Mapped[dict[str, Any]]
    payload: Mapped[dict[str, Any]]
    finished_at: Mapped[datetime | None]


class ControllerLeaseRow(Base):
    """Which controller process may act on a model, until when (migration 0004)."""

    __tablename__ = "controller_leases"
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ControllerStateRow(Base):
    """The loop controller's phase and step intent for a model (migration 0004)."""

    __tablename__ = "controller_state"
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    phase: Mapped[str] = mapped_column(String(32))
    challenger_version: Mapped[int | None] = mapped_column(Integer)
    canary_started_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(BigInteger)
