"""ORM rows to :mod:`loopml.entities` values; the only way data leaves the SQL store."""

from __future__ import annotations

import math

from loopml.entities import (
    AliasRecord,
    ApiToken,
    AuditEvent,
    DatasetInput,
    Experiment,
    LineageEdge,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunStatus,
)
from loopml.store.alert_events import AlertEvent
from loopml.store.controller_state import ControllerState, Lease
from loopml.store.sql.rows import (
    AlertEventRow,
    AliasRow,
    ApiTokenRow,
    AuditEventRow,
    ControllerLeaseRow,
    ControllerStateRow,
    ExperimentRow,
    LineageEdgeRow,
    MetricRow,
    ModelVersionRow,
    RegisteredModelRow,
    RunRow,
)

__all__ = [
    "to_alert_event",
    "to_alias",
    "to_controller_state",
    "to_edge",
    "to_event",
    "to_experiment",
    "to_lease",
    "to_metric",
    "to_model",
    "to_model_version",
    "to_run",
    "to_token",
]


def to_experiment(row: ExperimentRow) -> Experiment:
    return Experiment(id=row.id, name=row.name, created_at=row.created_at)


def to_run(row: RunRow) -> Run:
    return Run(
        id=row.id,
        experiment_id=row.experiment_id,
        name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        params={p.key: p.value for p in row.params},
        tags={t.key: t.value for t in row.tags},
        inputs=tuple(
            DatasetInput(
                fingerprint=i.fingerprint,
                name=i.name,
                role=i.role,
                n_rows=i.n_rows,
                n_columns=i.n_columns,
            )
            for i in row.inputs
        ),
        git_commit=row.git_commit,
        environment=dict(row.environment),
        artifact_uri=row.artifact_uri,
    )


def to_metric(row: MetricRow) -> Metric:
    value = math.nan if row.value is None else row.value
    return Metric(key=row.key, value=value, step=row.step, timestamp=row.timestamp)


def to_model(row: RegisteredModelRow, aliases: list[AliasRow]) -> RegisteredModel:
    return RegisteredModel(
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        latest_version=row.latest_version,
        aliases={a.alias: a.version for a in sorted(aliases, key=lambda a: a.alias)},
    )


def to_model_version(row: ModelVersionRow, aliases: list[AliasRow]) -> ModelVersion:
    return ModelVersion(
        name=row.model_name,
        version=row.version,
        source=row.source,
        run_id=row.run_id,
        created_at=row.created_at,
        description=row.description,
        tags={str(k): str(v) for k, v in row.tags.items()},
        aliases=tuple(sorted(a.alias for a in aliases if a.version == row.version)),
    )


def to_alias(row: AliasRow) -> AliasRecord:
    return AliasRecord(
        model=row.model_name, alias=row.alias, version=row.version, updated_at=row.updated_at
    )


def to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        time=row.time,
        actor=row.actor,
        action=row.action,
        target=row.target,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def to_edge(row: LineageEdgeRow) -> LineageEdge:
    return LineageEdge(source=row.source, target=row.target, relation=row.relation, time=row.time)


def to_token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        roles=tuple(sorted(str(r) for r in row.roles)),
        lookup=row.lookup,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


def to_alert_event(row: AlertEventRow) -> AlertEvent:
    return AlertEvent(
        id=row.id,
        model=row.model,
        rule=row.rule,
        fired_at=row.fired_at,
        value=row.value,
        threshold=row.threshold,
        severity=row.severity,
        status=row.status,
        delivered=tuple(str(c) for c in row.delivered),
        failed={str(k): str(v) for k, v in row.failed.items()},
        payload=dict(row.payload),
        finished_at=row.finished_at,
    )


def to_lease(row: ControllerLeaseRow) -> Lease:
    return Lease(
        model=row.model, holder=row.holder, acquired_at=row.acquired_at, expires_at=row.expires_at
    )


def to_controller_state(row: ControllerStateRow) -> ControllerState:
    return ControllerState(
        model=row.model,
        phase=row.phase,
        challenger_version=row.challenger_version,
        canary_started_at=row.canary_started_at,
        data=dict(row.data),
        updated_at=row.updated_at,
        revision=int(row.revision),
    )
