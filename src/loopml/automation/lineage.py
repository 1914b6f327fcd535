"""Where a model version came from and where it went: datasets -> run -> version -> deployments.

:func:`version_lineage` joins what the store recorded about one model version:

- the tracking run that produced it (lineage edge ``run:<id> -produced->
  model_version:<name>/<v>``, else the version's ``run_id``), with its pipeline
  (``pipeline:<name> -executed-> run:<id>``), params, metrics, git commit;
- the datasets that run read (``dataset:<fingerprint> -input-> run:<id>``), with
  the names, roles and shapes the run logged;
- its deployments: every alias move that pointed an alias at the version or away
  from it (``alias.set``, ``alias.rollback``, ``alias.delete`` audit events), as
  periods per alias;
- other audit events about it (creation, deletion, the loop's and the
  controller's decisions that name it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopml.entities import AuditEvent, Run
from loopml.errors import NotFoundError
from loopml.store.audit_chain import model_target_prefix, version_target

__all__ = [
    "AliasMove",
    "DatasetRef",
    "Deployment",
    "RunRef",
    "VersionLineage",
    "lineage_lines",
    "mentions_version",
    "version_lineage",
]

_EVERY = 2**62  # list_events limit that returns a whole history
_VERSION_KEYS = frozenset({"version", "champion", "challenger", "candidate", "canary", "shadow"})


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a run read, by content fingerprint (see :class:`loopml.entities.DatasetInput`)."""

    fingerprint: str
    name: str
    role: str
    n_rows: int | None
    n_columns: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunRef:
    """The pipeline or tracking run that produced a version."""

    id: str
    name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    pipeline: str | None
    git_commit: str | None
    params: dict[str, str]
    metrics: dict[str, float]
    datasets: tuple[DatasetRef, ...]
    reproducible: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (times ISO 8601)."""
        data = dict(self.__dict__)
        data["start_time"] = self.start_time.isoformat()
        data["end_time"] = None if self.end_time is None else self.end_time.isoformat()
        data["datasets"] = [d.to_dict() for d in self.datasets]
        return data


@dataclass(frozen=True)
class AliasMove:
    """One audited move of an alias that involved the version."""

    event_id: int
    time: datetime
    actor: str
    action: str
    alias: str
    from_version: int | None
    to_version: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {**self.__dict__, "time": self.time.isoformat()}


@dataclass(frozen=True)
class Deployment:
    """A period during which an alias pointed at the version (``end`` None: still does)."""

    alias: str
    start: datetime
    end: datetime | None
    ended_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "alias": self.alias,
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "ended_by": self.ended_by,
        }


@dataclass(frozen=True)
class VersionLineage:
    """Datasets -> run -> model version -> deployments, for one version.

    Attributes
    ----------
    model, version : str, int
        The model version.
    created_at : datetime
        When it was registered.
    source : str
        URI of its model package.
    run : RunRef or None
        The run that produced it (``None`` when registered by hand).
    aliases : tuple of str
        Aliases pointing at it now.
    deployments : tuple of Deployment
        Periods during which an alias pointed at it, oldest first.
    alias_history : tuple of AliasMove
        Every alias move to or from it, oldest first.
    events : tuple of AuditEvent
        Other audit events about it (registration, deletion, loop decisions).
    notes : tuple of str
        What could not be found (a run that no longer exists ...).
    """

    model: str
    version: int
    created_at: datetime
    source: str
    run: RunRef | None
    aliases: tuple[str, ...]
    deployments: tuple[Deployment, ...]
    alias_history: tuple[AliasMove, ...]
    events: tuple[AuditEvent, ...]
    notes: tuple[str, ...] = ()

    @property
    def deployed_at(self) -> datetime | None:
        """When an alias first pointed at the version, or ``None``."""
        return self.deployments[0].start if self.deployments else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "model": self.model,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "source": self.source,
            "run": None if self.run is None else self.run.to_dict(),
            "aliases": list(self.aliases),
            "deployed_at": None if self.deployed_at is None else self.deployed_at.isoformat(),
            "deployments": [d.to_dict() for d in self.deployments],
            "alias_history": [m.to_dict() for m in self.alias_history],
            "events": [
                {"id": e.id, "time": e.time.isoformat(), "actor": e.actor, "action": e.action,
                 "target": e.target, "before": e.before, "after": e.after, "reason": e.reason}
                for e in self.events
            ],
            "notes": list(self.notes),
        }


def mentions_version(state: Any, version: int) -> bool:
    """Whether an audit ``before``/``after`` value names ``version``.

    True for a key ``version``, ``*_version``, ``champion``, ``challenger``,
    ``candidate``, ``canary`` or ``shadow`` holding ``version`` (at any depth).

    Examples
    --------
    >>> mentions_version({"version": 3}, 3), mentions_version({"challenger_version": 3}, 2)
    (True, False)
    """
    if isinstance(state, dict):
        for key, value in state.items():
            named = str(key) in _VERSION_KEYS or str(key).endswith("_version")
            if named and not isinstance(value, bool) and value == version:
                return True
            if isinstance(value, dict | list) and mentions_version(value, version):
                return True
    elif isinstance(state, list):
        return any(mentions_version(item, version) for item in state)
    return False


def _version_of(state: dict[str, Any] | None) -> int | None:
    value = None if state is None else state.get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _run_ref(store: Any, artifacts: Any, run: Run) -> RunRef:
    from loopml.pipeline.record import read_record

    logged = {i.fingerprint: i for i in run.inputs}
    fingerprints = [e.source.removeprefix("dataset:") for e in store.edges_to(f"run:{run.id}")
                    if e.relation == "input" and e.source.startswith("dataset:")]
    for extra in logged:
        if extra not in fingerprints:
            fingerprints.append(extra)
    datasets = []
    for fp in fingerprints:
        info = logged.get(fp)
        datasets.append(DatasetRef(
            fingerprint=fp,
            name="?" if info is None else info.name,
            role="input" if info is None else info.role,
            n_rows=None if info is None else info.n_rows,
            n_columns=None if info is None else info.n_columns,
        ))
    pipelines = [e.source.removeprefix("pipeline:") for e in store.edges_to(f"run:{run.id}")
                 if e.relation == "executed"]
    metrics: dict[str, float] = {}
    for metric in store.get_metric_history(run.id):
        metrics[metric.key] = metric.value  # ordered by key, step, time: the last one wins
    reproducible = artifacts is not None and read_record(artifacts, run.artifact_uri) is not None
    return RunRef(
        id=run.id,
        name=run.name,
        status=run.status.value,
        start_time=run.start_time,
        end_time=run.end_time,
        pipeline=pipelines[0] if pipelines else run.tags.get("pipeline"),
        git_commit=run.git_commit,
        params=dict(run.params),
        metrics=metrics,
        datasets=tuple(datasets),
        reproducible=reproducible,
    )


def _deployments(moves: list[AliasMove], version: int) -> list[Deployment]:
    open_since: dict[str, datetime] = {}
    periods: list[Deployment] = []
    for move in moves:
        if move.to_version == version and move.alias not in open_since:
            open_since[move.alias] = move.time
        elif move.to_version != version and move.alias in open_since:
            how = f"{move.action} to v{move.to_version}" if move.to_version else move.action
            periods.append(Deployment(move.alias, open_since.pop(move.alias), move.time,
                                      f"{how} by {move.actor}"))
    periods.extend(Deployment(alias, start, None, None) for alias, start in open_since.items())
    return sorted(periods, key=lambda d: d.start)


def version_lineage(
    store: Any, name: str, version: int, *, artifacts: Any = None
) -> VersionLineage:
    """Gather the lineage of model version ``name`` v``version`` from the store.

    Parameters
    ----------
    store : MetadataStore
        Read only.
    name : str
        Registered model name.
    version : int
        Version number.
    artifacts : ArtifactStore, optional
        When given, :attr:`RunRef.reproducible` says whether the run kept the
        record ``loopml reproduce`` needs.

    Returns
    -------
    VersionLineage

    Raises
    ------
    NotFoundError
        If the model or the version does not exist (the message names both).

    Examples
    --------
    >>> from loopml.store import MemoryStore
    >>> store = MemoryStore()
    >>> _ = store.create_model_version("churn", source="file:///p", run_id=None, actor="a")
    >>> version_lineage(store, "churn", 1).run is None
    True
    """
    mv = store.get_model_version(name, version)
    notes: list[str] = []
    node = f"model_version:{name}/{version}"
    run_ids = [e.source.removeprefix("run:") for e in store.edges_to(node)
               if e.relation == "produced" and e.source.startswith("run:")]
    if mv.run_id and mv.run_id not in run_ids:
        run_ids.append(mv.run_id)
    run: RunRef | None = None
    for run_id in run_ids[:1]:
        try:
            run = _run_ref(store, artifacts, store.get_run(run_id))
        except NotFoundError:
            notes.append(f"run {run_id} that produced {name} v{version} no longer exists")
    if not run_ids:
        notes.append(f"{name} v{version} was registered without a run (by hand)")
    prefix = model_target_prefix(name)
    history = store.list_events(target_prefix=prefix, limit=_EVERY)
    moves: list[AliasMove] = []
    events: list[AuditEvent] = []
    for event in history:
        alias = event.target.removeprefix(f"{prefix}alias:")
        if alias != event.target:
            before, after = _version_of(event.before), _version_of(event.after)
            if version in (before, after):
                moves.append(AliasMove(event.id, event.time, event.actor, event.action, alias,
                                       before, after, event.reason))
        elif event.target == version_target(name, version) or mentions_version(
            event.before, version
        ) or mentions_version(event.after, version):
            events.append(event)
    return VersionLineage(
        model=name,
        version=version,
        created_at=mv.created_at,
        source=mv.source,
        run=run,
        aliases=tuple(sorted(mv.aliases)),
        deployments=tuple(_deployments(moves, version)),
        alias_history=tuple(moves),
        events=tuple(events),
        notes=tuple(notes),
    )


def _when(time: datetime | None) -> str:
    return "now" if time is None else f"{time:%Y-%m-%d %H:%M:%S}"


def lineage_lines(lineage: VersionLineage) -> list[str]:
    """The lineage as plain text lines, datasets first (for terminals and Markdown code blocks)."""
    lines: list[str] = []
    run = lineage.run
    if run is not None:
        for d in run.datasets:
            shape = "" if d.n_rows is None else f"  {d.n_rows} rows x {d.n_columns} columns"
            lines.append(f"dataset {d.fingerprint[:16]}  {d.role:<6} {d.name}{shape}")
        commit = (run.git_commit or "no git commit")[:12]
        lines.append(
            f"  -> run {run.id}  pipeline {run.pipeline or '-'}  {run.status}  "
            f"{_when(run.start_time)}  code {commit}"
            + ("" if run.reproducible else "  (no pipeline record: reproduce needs --spec)")
        )
    arrow = "  -> " if run is not None else ""
    lines.append(f"{arrow}model version {lineage.model}/{lineage.version}  registered "
                 f"{_when(lineage.created_at)}")
    for period in lineage.deployments:
        ended = "" if period.ended_by is None else f" ({period.ended_by})"
        lines.append(
            f"     -> {period.alias}: {_when(period.start)} .. {_when(period.end)}{ended}"
        )
    if not lineage.deployments:
        lines.append("     -> never deployed (no alias has pointed at it)")
    return lines
