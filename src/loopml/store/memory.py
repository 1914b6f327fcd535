"""In-memory metadata store: the twin of the SQL store, for tests and notebooks.

:class:`MemoryStore` implements every protocol in :mod:`loopml.store.base`
with plain dictionaries behind one :class:`threading.RLock`, and passes the
same contract tests as SQLite and PostgreSQL (``tests/store/test_contract.py``).
Nothing is persisted; every object handed out is a fresh frozen entity.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

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
from loopml.errors import AlreadyExistsError, ConflictError, NotFoundError, StoreError
from loopml.store.alert_events import (
    COOLING_STATUSES,
    AlertEvent,
    check_alert_values,
    delivery_status,
)
from loopml.store.audit_chain import (
    GENESIS_HASH,
    alias_target,
    event_hash,
    token_target,
    verify_events,
    version_target,
)
from loopml.store.controller_state import (
    ControllerState,
    Lease,
    check_phase,
    check_ttl,
    lease_conflict,
)

__all__ = ["MemoryStore"]


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def _json_copy(data: dict[str, Any], model: str) -> dict[str, Any]:
    """A deep copy of ``data`` as JSON would return it (what the SQL store keeps)."""
    try:
        copied: dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"controller state data of model {model!r} is not JSON: {exc}") from exc
    return copied


@dataclass
class _Model:
    name: str
    description: str
    created_at: datetime
    latest_version: int = 0
    versions: dict[int, ModelVersion] = field(default_factory=dict)
    aliases: dict[str, AliasRecord] = field(default_factory=dict)
    # alias -> stack of versions it pointed at before each move (last = most recent)
    alias_history: dict[str, list[int]] = field(default_factory=dict)


class MemoryStore:
    """A :class:`loopml.store.base.MetadataStore` held in process memory.

    Thread-safe: every method holds one re-entrant lock, so each call is
    atomic, like one transaction of the SQL store.

    Examples
    --------
    >>> store = MemoryStore()
    >>> store.create_model_version("churn", source="file:///m/1", run_id=None, actor="me").version
    1
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._experiments: dict[str, Experiment] = {}
        self._runs: dict[str, Run] = {}
        self._run_order: list[str] = []
        self._metrics: dict[str, list[Metric]] = {}
        self._models: dict[str, _Model] = {}
        self._events: list[AuditEvent] = []
        self._edges: dict[tuple[str, str, str], LineageEdge] = {}
        self._cache: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, ApiToken] = {}
        self._alerts: dict[int, AlertEvent] = {}
        self._leases: dict[str, Lease] = {}
        self._controller: dict[str, ControllerState] = {}

    # ---------------------------------------------------------------- experiments
    def create_experiment(self, name: str) -> Experiment:
        with self._lock:
            if any(e.name == name for e in self._experiments.values()):
                raise AlreadyExistsError(f"experiment {name!r} already exists")
            experiment = Experiment(id=uuid.uuid4().hex, name=name, created_at=_now())
            self._experiments[experiment.id] = experiment
            return experiment

    def get_experiment(self, name: str) -> Experiment:
        with self._lock:
            for experiment in self._experiments.values():
                if experiment.name == name:
                    return experiment
            raise NotFoundError(f"experiment {name!r} not found")

    def list_experiments(self) -> list[Experiment]:
        with self._lock:
            return sorted(self._experiments.values(), key=lambda e: (e.created_at, e.name))

    # ----------------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        start_time: datetime,
        git_commit: str | None,
        environment: dict[str, Any],
        artifact_uri: str,
    ) -> Run:
        with self._lock:
            if experiment_id not in self._experiments:
                raise NotFoundError(f"experiment id {experiment_id!r} not found")
            run = Run(
                id=uuid.uuid4().hex,
                experiment_id=experiment_id,
                name=name,
                status=RunStatus.RUNNING,
                start_time=_utc(start_time),
                end_time=None,
                git_commit=git_commit,
                environment=copy.deepcopy(environment),
                artifact_uri=artifact_uri,
            )
            self._runs[run.id] = run
            self._run_order.append(run.id)
            self._metrics[run.id] = []
            return run

    def _run(self, run_id: str) -> Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise NotFoundError(f"run {run_id!r} not found") from None

    def get_run(self, run_id: str) -> Run:
        with self._lock:
            run = self._run(run_id)
            return replace(
                run,
                params=dict(run.params),
                tags=dict(run.tags),
                environment=copy.deepcopy(run.environment),
            )

    def list_runs(self, experiment_id: str | None = None, *, limit: int = 100) -> list[Run]:
        with self._lock:
            order = {run_id: i for i, run_id in enumerate(self._run_order)}
            runs = [
                r
                for r in self._runs.values()
                if experiment_id is None or r.experiment_id == experiment_id
            ]
            runs.sort(key=lambda r: (r.start_time, order[r.id]), reverse=True)
            return [self.get_run(r.id) for r in runs[: max(limit, 0)]]

    def end_run(self, run_id: str, status: RunStatus, end_time: datetime) -> Run:
        with self._lock:
            run = self._run(run_id)
            status = RunStatus(status)
            if status is RunStatus.RUNNING:
                raise ConflictError(f"run {run_id!r} cannot end with status RUNNING")
            if run.status is not RunStatus.RUNNING:
                raise ConflictError(f"run {run_id!r} already ended as {run.status.value}")
            self._runs[run_id] = replace(run, status=status, end_time=_utc(end_time))
            return self.get_run(run_id)

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        with self._lock:
            run = self._run(run_id)
            for key, value in params.items():
                old = run.params.get(key)
                if old is not None and old != str(value):
                    raise ConflictError(
                        f"param {key!r} of run {run_id!r} is already {old!r}; "
                        f"refusing to change it to {str(value)!r}"
                    )
            merged = {**run.params, **{k: str(v) for k, v in params.items()}}
            self._runs[run_id] = replace(run, params=merged)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with self._lock:
            run = self._run(run_id)
            merged = {**run.tags, **{k: str(v) for k, v in tags.items()}}
            self._runs[run_id] = replace(run, tags=merged)

    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        with self._lock:
            self._run(run_id)
            self._metrics[run_id].extend(
                Metric(key=m.key, value=float(m.value), step=int(m.step), timestamp=_utc(m.timestamp))
                for m in metrics
            )

    def get_metric_history(self, run_id: str, key: str | None = None) -> list[Metric]:
        with self._lock:
            self._run(run_id)
            chosen = [m for m in self._metrics[run_id] if key is None or m.key == key]
            return sorted(chosen, key=lambda m: (m.key, m.step, m.timestamp))

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        with self._lock:
            run = self._run(run_id)
            seen = {(i.fingerprint, i.name, i.role) for i in run.inputs}
            added: list[DatasetInput] = []
            for item in inputs:
                ident = (item.fingerprint, item.name, item.role)
                if ident not in seen:
                    seen.add(ident)
                    added.append(item)
            self._runs[run_id] = replace(run, inputs=run.inputs + tuple(added))

    # ------------------------------------------------------------------- registry
    def _model(self, name: str) -> _Model:
        try:
            return self._models[name]
        except KeyError:
            raise NotFoundError(f"registered model {name!r} not found") from None

    def _version(self, name: str, version: int) -> ModelVersion:
        model = self._model(name)
        try:
            return model.versions[int(version)]
        except KeyError:
            raise NotFoundError(f"model {name!r} has no version {version}") from None

    def _with_aliases(self, model: _Model, mv: ModelVersion) -> ModelVersion:
        names = tuple(sorted(a for a, rec in model.aliases.items() if rec.version == mv.version))
        return replace(mv, tags=dict(mv.tags), aliases=names)

    def _model_entity(self, model: _Model) -> RegisteredModel:
        return RegisteredModel(
            name=model.name,
            description=model.description,
            created_at=model.created_at,
            latest_version=model.latest_version,
            aliases={a: rec.version for a, rec in sorted(model.aliases.items())},
        )

    def create_registered_model(self, name: str, *, description: str = "") -> RegisteredModel:
        with self._lock:
            if name in self._models:
                raise AlreadyExistsError(f"registered model {name!r} already exists")
            self._models[name] = _Model(name=name, description=description, created_at=_now())
            return self._model_entity(self._models[name])

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._lock:
            return self._model_entity(self._model(name))

    def list_registered_models(self) -> list[RegisteredModel]:
        with self._lock:
            return [self._model_entity(self._models[n]) for n in sorted(self._models)]

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
        with self._lock:
            if run_id is not None:
                self._run(run_id)
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = _Model(name=name, description="", created_at=_now())
            model.latest_version += 1
            mv = ModelVersion(
                name=name,
                version=model.latest_version,
                source=source,
                run_id=run_id,
                created_at=_now(),
                description=description,
                tags={k: str(v) for k, v in (tags or {}).items()},
            )
            model.versions[mv.version] = mv
            self._append(
                actor=actor,
                action="model_version.create",
                target=version_target(name, mv.version),
                before=None,
                after={"source": source, "run_id": run_id},
                reason=reason,
            )
            return self._with_aliases(model, mv)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with self._lock:
            return self._with_aliases(self._model(name), self._version(name, version))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        with self._lock:
            model = self._model(name)
            return [self._with_aliases(model, model.versions[v]) for v in sorted(model.versions)]

    def delete_model_version(
        self, name: str, version: int, *, actor: str, reason: str, force: bool = False
    ) -> None:
        with self._lock:
            model = self._model(name)
            mv = self._version(name, version)
            pointing = sorted(a for a, rec in model.aliases.items() if rec.version == mv.version)
            if pointing and not force:
                raise ConflictError(
                    f"model {name!r} version {mv.version} is the target of alias(es) "
                    f"{', '.join(pointing)}; move them first or delete with force (CLI: --force)"
                )
            for alias in pointing:
                del model.aliases[alias]
                model.alias_history.pop(alias, None)
            for alias, stack in model.alias_history.items():
                model.alias_history[alias] = [v for v in stack if v != mv.version]
            del model.versions[mv.version]
            self._append(
                actor=actor,
                action="model_version.delete",
                target=version_target(name, mv.version),
                before={"source": mv.source, "run_id": mv.run_id, "aliases": pointing},
                after=None,
                reason=reason,
            )

    def set_alias(
        self, name: str, alias: str, version: int, *, actor: str, reason: str
    ) -> AuditEvent:
        with self._lock:
            model = self._model(name)
            mv = self._version(name, version)
            current = model.aliases.get(alias)
            if current is not None and current.version != mv.version:
                model.alias_history.setdefault(alias, []).append(current.version)
            model.aliases[alias] = AliasRecord(name, alias, mv.version, _now())
            return self._append(
                actor=actor,
                action="alias.set",
                target=alias_target(name, alias),
                before=None if current is None else {"version": current.version},
                after={"version": mv.version},
                reason=reason,
            )

    def get_alias(self, name: str, alias: str) -> AliasRecord:
        with self._lock:
            try:
                return self._model(name).aliases[alias]
            except KeyError:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}") from None

    def list_aliases(self, name: str) -> list[AliasRecord]:
        with self._lock:
            model = self._model(name)
            return [model.aliases[a] for a in sorted(model.aliases)]

    def rollback_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent:
        with self._lock:
            model = self._model(name)
            current = self.get_alias(name, alias)
            stack = model.alias_history.get(alias, [])
            if not stack:
                raise ConflictError(
                    f"alias {alias!r} of model {name!r} has no earlier version to roll back to"
                )
            previous = stack.pop()
            model.aliases[alias] = AliasRecord(name, alias, previous, _now())
            return self._append(
                actor=actor,
                action="alias.rollback",
                target=alias_target(name, alias),
                before={"version": current.version},
                after={"version": previous},
                reason=reason,
            )

    def delete_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AuditEvent:
        with self._lock:
            model = self._model(name)
            current = self.get_alias(name, alias)
            del model.aliases[alias]
            model.alias_history.pop(alias, None)
            return self._append(
                actor=actor,
                action="alias.delete",
                target=alias_target(name, alias),
                before={"version": current.version},
                after=None,
                reason=reason,
            )

    # --------------------------------------------------------------------- tokens
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
        with self._lock:
            for token in self._tokens.values():
                if token.active and token.name == name:
                    raise AlreadyExistsError(f"an active token named {name!r} already exists")
                if token.lookup == lookup:
                    raise AlreadyExistsError(f"a token with lookup id {lookup!r} already exists")
            token = ApiToken(
                id=uuid.uuid4().hex,
                name=name,
                roles=tuple(sorted(set(roles))),
                lookup=lookup,
                secret_hash=secret_hash,
                created_at=_now(),
                created_by=actor,
            )
            self._tokens[token.id] = token
            self._append(
                actor=actor,
                action="token.create",
                target=token_target(name),
                before=None,
                after={"id": token.id, "roles": list(token.roles)},
                reason=reason,
            )
            return token

    def find_token(self, lookup: str) -> ApiToken | None:
        with self._lock:
            return next((t for t in self._tokens.values() if t.lookup == lookup), None)

    def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        with self._lock:
            return [t for t in self._tokens.values() if include_revoked or t.active]

    def revoke_token(self, name_or_id: str, *, actor: str, reason: str = "") -> ApiToken:
        with self._lock:
            token = next(
                (
                    t
                    for t in self._tokens.values()
                    if t.active and name_or_id in (t.id, t.name)
                ),
                None,
            )
            if token is None:
                raise NotFoundError(f"no active token with name or id {name_or_id!r}")
            revoked = replace(token, revoked_at=_now())
            self._tokens[token.id] = revoked
            self._append(
                actor=actor,
                action="token.revoke",
                target=token_target(token.name),
                before={"id": token.id, "roles": list(token.roles)},
                after=None,
                reason=reason,
            )
            return revoked

    # --------------------------------------------------------------------- alerts
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
        fired_at = _utc(fired_at)
        with self._lock:
            if cooldown_seconds > 0:
                since = fired_at - timedelta(seconds=cooldown_seconds)
                if any(
                    e.model == model
                    and e.rule == rule
                    and e.fired_at > since
                    and e.status in COOLING_STATUSES
                    for e in self._alerts.values()
                ):
                    return None
            event = AlertEvent(
                id=len(self._alerts) + 1,
                model=model,
                rule=rule,
                fired_at=fired_at,
                value=float(value),
                threshold=float(threshold),
                severity=severity,
                payload=copy.deepcopy(payload),
            )
            self._alerts[event.id] = event
            return copy.deepcopy(event)

    def finish_alert(
        self, event_id: int, *, delivered: Sequence[str], failed: Mapping[str, str]
    ) -> AlertEvent:
        status = delivery_status(delivered, failed)
        with self._lock:
            event = self._alerts.get(int(event_id))
            if event is None:
                raise NotFoundError(f"alert event {event_id} not found")
            if event.finished_at is not None:
                raise ConflictError(
                    f"alert event {event_id} ({event.rule!r} of model {event.model!r}) "
                    f"is already finished as {event.status}"
                )
            finished = replace(
                event,
                status=status,
                delivered=tuple(delivered),
                failed={str(k): str(v) for k, v in failed.items()},
                finished_at=_now(),
            )
            self._alerts[event.id] = finished
            return copy.deepcopy(finished)

    def list_alert_events(
        self, *, model: str | None = None, rule: str | None = None, limit: int = 100
    ) -> list[AlertEvent]:
        with self._lock:
            chosen = [
                e
                for e in self._alerts.values()
                if (model is None or e.model == model) and (rule is None or e.rule == rule)
            ]
            chosen.sort(key=lambda e: (e.fired_at, e.id), reverse=True)
            return copy.deepcopy(chosen[: max(limit, 0)])

    # ----------------------------------------------------------------- controller
    def acquire_lease(
        self, model: str, holder: str, *, ttl_seconds: float, now: datetime | None = None
    ) -> Lease | None:
        ttl = check_ttl(ttl_seconds)
        now = _utc(now or _now())
        with self._lock:
            lease = self._leases.get(model)
            if lease is not None and lease.holder != holder and lease.expires_at > now:
                return None
            acquired = lease.acquired_at if lease is not None and lease.holder == holder else now
            self._leases[model] = Lease(model, holder, acquired, now + timedelta(seconds=ttl))
            return self._leases[model]

    def release_lease(self, model: str, holder: str) -> bool:
        with self._lock:
            lease = self._leases.get(model)
            if lease is None or lease.holder != holder:
                return False
            del self._leases[model]
            return True

    def get_lease(self, model: str) -> Lease | None:
        with self._lock:
            return self._leases.get(model)

    def get_controller_state(self, model: str) -> ControllerState:
        with self._lock:
            return copy.deepcopy(self._controller.get(model, ControllerState(model)))

    def save_controller_state(
        self, state: ControllerState, *, holder: str | None, now: datetime | None = None
    ) -> ControllerState:
        check_phase(state.phase)
        data = _json_copy(state.data, state.model)
        now = _utc(now or _now())
        with self._lock:
            stored = self._controller.get(state.model)
            revision = 0 if stored is None else stored.revision
            if revision != state.revision:
                raise ConflictError(
                    f"controller state of model {state.model!r} changed meanwhile "
                    f"(revision {revision}, expected {state.revision})"
                )
            lease = self._leases.get(state.model)
            if holder is not None and (
                lease is None or lease.holder != holder or lease.expires_at <= now
            ):
                raise lease_conflict(state.model, holder, lease, now)
            started = state.canary_started_at
            saved = replace(
                state,
                data=data,
                canary_started_at=None if started is None else _utc(started),
                updated_at=now,
                revision=revision + 1,
            )
            self._controller[state.model] = saved
            return copy.deepcopy(saved)

    def list_controller_states(self) -> list[ControllerState]:
        with self._lock:
            return copy.deepcopy([self._controller[m] for m in sorted(self._controller)])

    # ---------------------------------------------------------------------- audit
    def _append(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str,
    ) -> AuditEvent:
        prev_hash = self._events[-1].hash if self._events else GENESIS_HASH
        time = _now()
        before, after = copy.deepcopy(before), copy.deepcopy(after)
        digest = event_hash(
            time=time,
            actor=actor,
            action=action,
            target=target,
            before=before,
            after=after,
            reason=reason,
            prev_hash=prev_hash,
        )
        event = AuditEvent(
            id=len(self._events) + 1,
            time=time,
            actor=actor,
            action=action,
            target=target,
            before=before,
            after=after,
            reason=reason,
            prev_hash=prev_hash,
            hash=digest,
        )
        self._events.append(event)
        return copy.deepcopy(event)

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
        with self._lock:
            return self._append(
                actor=actor, action=action, target=target, before=before, after=after, reason=reason
            )

    def list_events(
        self, *, target_prefix: str | None = None, action: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]:
        with self._lock:
            chosen = [
                e
                for e in self._events
                if (target_prefix is None or e.target.startswith(target_prefix))
                and (action is None or e.action == action)
            ]
            return copy.deepcopy(chosen[-limit:] if limit > 0 else [])

    def verify_chain(self) -> bool:
        with self._lock:
            return verify_events(self._events)

    # -------------------------------------------------------------------- lineage
    def add_edges(self, edges: Sequence[tuple[str, str, str]]) -> None:
        with self._lock:
            time = _now()
            for source, target, relation in edges:
                self._edges.setdefault(
                    (source, target, relation), LineageEdge(source, target, relation, time)
                )

    def edges_to(self, node: str) -> list[LineageEdge]:
        with self._lock:
            return [e for e in self._edges.values() if e.target == node]

    def edges_from(self, node: str) -> list[LineageEdge]:
        with self._lock:
            return [e for e in self._edges.values() if e.source == node]

    # ---------------------------------------------------------------------- cache
    def get_cache_entry(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._cache.get(key)
            return None if entry is None else copy.deepcopy(entry["value"])

    def put_cache_entry(self, key: str, *, step: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._cache.setdefault(key, {"step": step, "value": copy.deepcopy(value)})

    def close(self) -> None:
        """Nothing to release; present so a MemoryStore can stand in for a SQL store."""
