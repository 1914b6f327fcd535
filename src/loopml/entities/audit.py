"""Audit events and lineage edges: append-only records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["AuditEvent", "LineageEdge"]


@dataclass(frozen=True)
class AuditEvent:
    """Who or what changed a model, alias, policy or deployment, and why.

    Events are hash-chained: ``hash`` is the SHA-256 of this event's canonical
    JSON together with ``prev_hash``, so an edited or deleted event breaks the
    chain (:meth:`loopml.store.AuditStore.verify_chain`).
    """

    id: int
    time: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class LineageEdge:
    """A directed edge ``source -> target`` such as ``dataset:<sha> -> run:<id>``.

    Node ids are ``"<kind>:<id>"`` with kind one of ``dataset``, ``run``,
    ``model_version`` (id ``name/version``), ``pipeline_run``.
    """

    source: str
    target: str
    relation: str
    time: datetime
