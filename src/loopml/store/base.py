"""Store protocols: one small interface per aggregate.

Every protocol has an in-memory twin (:mod:`loopml.store.memory`) and a SQL
implementation (:mod:`loopml.store.sql`, SQLite and PostgreSQL) that pass the
same contract tests (``tests/store/``). Implementations return entities from
:mod:`loopml.entities`; ORM rows never leave ``loopml.store``.

Errors: :class:`loopml.errors.NotFoundError` for a missing name or id,
:class:`loopml.errors.AlreadyExistsError` for a taken unique name,
:class:`loopml.errors.ConflictError` for a change the current state forbids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

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

__all__ = [
    "AlertStore",
    "AuditStore",
    "CacheStore",
    "ControllerStore",
    "ExperimentStore",
    "LineageStore",
    "MetadataStore",
    "RegistryStore",
    "RunStore",
    "TokenStore",
]


class ExperimentStore(Protocol):
    def create_experiment(self, name: str) -> Experiment: ...
    def get_experiment(self, name: str) -> Experiment: ...
    def list_experiments(self) -> list[Experiment]: ...


class RunStore(Protocol):
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        start_time: datetime,
        git_commit: str | None,
        environment: dict[str, Any],
        artifact_uri: str,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def list_runs(self, experiment_id: str | None = None, *, limit: int = 100) -> list[Run]:
        """Most recent first."""
        ...
    def end_run(self, run_id: str, status: RunStatus, end_time: datetime) -> Run:
        """Raises ConflictError if the run already ended or ``status`` is RUNNING."""
        ...
    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """A param is write-once: logging a different value for a key raises ConflictError
        (and none of the call's params are stored)."""
        ...
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None: ...
    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        """Append many metric values with one bulk insert in one transaction.
        NaN and infinities round-trip."""
        ...
    def get_metric_history(self, run_id: str, key: str | None = None) -> list[Metric]:
        """Ordered by (key, step, timestamp)."""
        ...
    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None: ...


class RegistryStore(Protocol):
    def create_registered_model(self, name: str, *, description: str = "") -> RegisteredModel:
        """Raises AlreadyExistsError."""
        ...
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    def list_registered_models(self) -> list[RegisteredModel]: ...
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
        """Allocate the next version number atomically (creating the registered
        model if needed) and write a ``model_version.create`` audit event in the
        same transaction. Concurrent callers in different processes never get the
        same number and never skip one."""
        ...
    def get_model_version(self, name: str, version: int) -> ModelVersion: ...
    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """Ascending by version."""
        ...
    def delete_model_version(
        self, name: str, version: int, *, actor: str, reason: str, force: bool = False
    ) -> None:
        """Raises ConflictError if an alias points at the version and not ``force``;
        with ``force`` the aliases are removed too. Audited."""
        ...
    def set_alias(
        self, name: str, alias: str, version: int, *, actor: str, reason: str
    ) -> AuditEvent:
        """Point ``alias`` at ``version`` atomically, recording the previous target
        (for rollback) and an ``alias.set`` audit event in the same transaction.
        Setting an alias to the version it already points at records no history.
        Audit targets: ``model:<name>/alias:<alias>``, ``model:<name>/version:<n>``
        (see :mod:`loopml.store.audit_chain`)."""
        ...
    def get_alias(self, name: str, alias: str) -> AliasRecord:
        """Raises NotFoundError."""
        ...
    def list_aliases(self, name: str) -> list[AliasRecord]: ...
    def rollback_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent:
        """Move ``alias`` back to the version it pointed at before its last move
        (repeated rollbacks walk further back through the history). Raises
        ConflictError when there is no earlier version. Audited as ``alias.rollback``.
        Deleted versions drop out of the history; deleting the alias clears it."""
        ...
    def delete_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent: ...


class AuditStore(Protocol):
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
        """Append one hash-chained event."""
        ...
    def list_events(
        self, *, target_prefix: str | None = None, action: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]:
        """The newest ``limit`` matching events, oldest first. ``target_prefix``
        is matched literally (no wildcards)."""
        ...
    def verify_chain(self) -> bool:
        """True if every event's hash matches its content and predecessor."""
        ...


class LineageStore(Protocol):
    def add_edges(self, edges: Sequence[tuple[str, str, str]]) -> None:
        """Add ``(source, target, relation)`` edges; duplicates are ignored."""
        ...
    def edges_to(self, node: str) -> list[LineageEdge]: ...
    def edges_from(self, node: str) -> list[LineageEdge]: ...


class CacheStore(Protocol):
    """Index of cached pipeline step outputs by cache key (hex SHA-256)."""

    def get_cache_entry(self, key: str) -> dict[str, Any] | None: ...
    def put_cache_entry(self, key: str, *, step: str, value: dict[str, Any]) -> None:
        """Idempotent: a second put of the same key keeps the first value."""
        ...


class TokenStore(Protocol):
    """API tokens of the model server, kept as hashes (the secret is never stored).

    Audit target of a token: ``token:<name>`` (actions ``token.create``,
    ``token.revoke``), written in the same transaction as the change.
    """

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
        """Store a new active token. Raises AlreadyExistsError if an active token
        has ``name`` or any token has ``lookup``."""
        ...
    def find_token(self, lookup: str) -> ApiToken | None:
        """The token (active or revoked) whose ``lookup`` matches, or ``None``."""
        ...
    def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Oldest first."""
        ...
    def revoke_token(self, name_or_id: str, *, actor: str, reason: str = "") -> ApiToken:
        """Revoke the active token with this id or name. Raises NotFoundError
        if there is none."""
        ...


class AlertStore(Protocol):
    """History of fired monitoring alerts: the cooldown's memory across processes.

    Statuses are described in :mod:`loopml.store.alert_events`. Value and
    threshold must be finite (:class:`~loopml.errors.StoreError` otherwise).
    """

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
        """Atomically: unless ``(model, rule)`` has an event that is not ``failed`` and
        fired after ``fired_at - cooldown_seconds``, store a ``pending`` event and
        return it; else return ``None`` (suppressed by the cooldown). Concurrent
        claims in different processes: exactly one wins. ``cooldown_seconds <= 0``
        always claims."""
        ...
    def finish_alert(
        self, event_id: int, *, delivered: Sequence[str], failed: Mapping[str, str]
    ) -> AlertEvent:
        """Record which channels received the event and which failed (channel ->
        error). Raises NotFoundError for an unknown id, ConflictError if the event
        was already finished."""
        ...
    def list_alert_events(
        self, *, model: str | None = None, rule: str | None = None, limit: int = 100
    ) -> list[AlertEvent]:
        """Most recently fired first (ties: newest id first)."""
        ...


class ControllerStore(Protocol):
    """Lease and state of the loop controller per model (migration 0004).

    See :mod:`loopml.store.controller_state`. Times are aware UTC; ``now``
    defaults to the caller's clock.
    """

    def acquire_lease(
        self, model: str, holder: str, *, ttl_seconds: float, now: datetime | None = None
    ) -> Lease | None:
        """Atomically take the lease on ``model`` for ``holder`` until ``now + ttl_seconds``,
        or renew it when ``holder`` has it already. Returns ``None`` (and changes nothing)
        while another holder's lease has not expired. Concurrent callers in different
        processes: at most one holds a live lease."""
        ...
    def release_lease(self, model: str, holder: str) -> bool:
        """Drop ``holder``'s lease on ``model``; False when ``holder`` does not hold it."""
        ...
    def get_lease(self, model: str) -> Lease | None:
        """The lease row of ``model`` (possibly expired), or ``None``."""
        ...
    def get_controller_state(self, model: str) -> ControllerState:
        """The stored state, or an ``idle`` state with revision 0 when none was written."""
        ...
    def save_controller_state(
        self, state: ControllerState, *, holder: str | None, now: datetime | None = None
    ) -> ControllerState:
        """Compare-and-set: store ``state`` if the stored revision still equals
        ``state.revision`` (0: nothing stored) and, when ``holder`` is given, ``holder``
        holds a live lease on the model (checked in the same transaction). Returns what
        was stored (revision + 1, ``updated_at``). Raises ConflictError otherwise, and
        StoreError for an unknown phase or data JSON cannot encode."""
        ...
    def list_controller_states(self) -> list[ControllerState]:
        """Every stored state, by model name."""
        ...


class MetadataStore(
    ExperimentStore,
    RunStore,
    RegistryStore,
    AuditStore,
    LineageStore,
    CacheStore,
    TokenStore,
    AlertStore,
    ControllerStore,
    Protocol,
):
    """Everything the metadata store offers; one object per connection."""

    def close(self) -> None: ...
