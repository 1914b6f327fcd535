"""Plain frozen values that cross every layer; no I/O, no ORM rows."""

from loopml.entities.audit import AuditEvent, LineageEdge
from loopml.entities.registry import AliasRecord, ModelVersion, RegisteredModel
from loopml.entities.tokens import TOKEN_ROLES, ApiToken
from loopml.entities.tracking import DatasetInput, Experiment, Metric, Run, RunStatus

__all__ = [
    "TOKEN_ROLES",
    "AliasRecord",
    "ApiToken",
    "AuditEvent",
    "DatasetInput",
    "Experiment",
    "LineageEdge",
    "Metric",
    "ModelVersion",
    "RegisteredModel",
    "Run",
    "RunStatus",
]
