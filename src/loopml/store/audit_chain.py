"""The hash chain that makes audit events tamper-evident.

Each event's ``hash`` is the SHA-256 (hex) of the canonical JSON of its
content (time, actor, action, target, before, after, reason) together with
``prev_hash``, the hash of the event before it. The first event's
``prev_hash`` is :data:`GENESIS_HASH`. Editing, deleting or reordering any
event changes a hash further down the chain, which :func:`verify_events`
detects. Memory and SQL stores share this module so their chains agree.

References
----------
.. [1] S. Haber and W. S. Stornetta, "How to time-stamp a digital document",
   Journal of Cryptology 3(2), 1991.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from loopml.entities import AuditEvent

__all__ = [
    "GENESIS_HASH",
    "BreakKind",
    "ChainBreak",
    "ChainCheck",
    "alias_target",
    "canonical_time",
    "check_chain",
    "event_hash",
    "model_target_prefix",
    "token_target",
    "verify_events",
    "verify_store",
    "version_target",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event in a chain."""


def canonical_time(time: datetime) -> str:
    """ISO 8601 text of ``time`` in UTC with microseconds; naive times are taken as UTC."""
    aware = time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def event_hash(
    *,
    time: datetime,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex digest of one event's canonical JSON and its predecessor's hash.

    Canonical JSON: keys sorted, no insignificant whitespace, UTF-8, times in
    UTC ISO 8601 with microseconds.

    Raises
    ------
    TypeError
        If ``before`` or ``after`` hold values JSON cannot encode.
    """
    payload = {
        "time": canonical_time(time),
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_events(events: Iterable[AuditEvent]) -> bool:
    """True if ``events`` (oldest first, the whole chain) link up and hash correctly."""
    prev = GENESIS_HASH
    for event in events:
        expected = event_hash(
            time=event.time,
            actor=event.actor,
            action=event.action,
            target=event.target,
            before=event.before,
            after=event.after,
            reason=event.reason,
            prev_hash=prev,
        )
        if event.prev_hash != prev or event.hash != expected:
            return False
        prev = event.hash
    return True


class BreakKind(str, enum.Enum):
    """How an audit chain is broken at one position.

    Attributes
    ----------
    EDITED
        The event's stored content no longer hashes to its stored hash, or
        (ids consecutive, next event orphaned) it was rewritten with a
        recomputed hash.
    DELETED
        An event is missing: the next one links to a hash no event has, or the
        anchored head is gone.
    REORDERED
        Every link holds but the stored order (by id) is not the chain's order.
    INSERTED
        An event no other event links to, which the chain passes around (a
        forged event), or a second event claiming an existing predecessor.
    """

    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain is broken.

    Attributes
    ----------
    position : int
        1-based position in stored order (ascending event id); ``n + 1`` for
        events missing after the last one (anchor check).
    event_id : int or None
        Id of the event at ``position``; ``None`` past the end.
    kind : BreakKind
        What kind of break.
    detail : str
        One sentence naming the events involved.
    """

    position: int
    event_id: int | None
    kind: BreakKind
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "kind": self.kind.value,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of :func:`check_chain`.

    Attributes
    ----------
    n_events : int
        Events checked.
    breaks : tuple of ChainBreak
        Every break found, by position; empty when the chain is intact.
    head_id : int or None
        Id of the newest event (``None`` for an empty chain).
    head_hash : str
        Hash of the newest event, :data:`GENESIS_HASH` for an empty chain;
        record it elsewhere and pass it later as ``anchor``.
    anchor : str or None
        The anchor checked, if one was given.
    """

    n_events: int
    breaks: tuple[ChainBreak, ...]
    head_id: int | None
    head_hash: str
    anchor: str | None = None

    @property
    def ok(self) -> bool:
        """True when no break was found."""
        return not self.breaks

    @property
    def first(self) -> ChainBreak | None:
        """The break at the lowest position, or ``None``."""
        return self.breaks[0] if self.breaks else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``ok``, ``first_break``, ``breaks``, head, anchor)."""
        first = self.first
        return {
            "ok": self.ok,
            "n_events": self.n_events,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "anchor": self.anchor,
            "first_break": None if first is None else first.to_dict(),
            "breaks": [b.to_dict() for b in self.breaks],
        }


def _content_ok(event: AuditEvent) -> bool:
    try:
        expected = event_hash(
            time=event.time,
            actor=event.actor,
            action=event.action,
            target=event.target,
            before=event.before,
            after=event.after,
            reason=event.reason,
            prev_hash=event.prev_hash,
        )
    except TypeError:  # before/after no longer JSON: edited
        return False
    return expected == event.hash


def _segments(
    events: Sequence[AuditEvent], index_of: dict[str, int]
) -> tuple[list[list[int]], dict[int, int]]:
    """Maximal runs of events linked by ``prev_hash`` (chain order), and successor links.

    A head is an event whose ``prev_hash`` is the genesis hash, unknown, or
    already claimed by an earlier-stored event (a fork).
    """
    claimed: dict[str, int] = {}
    successor: dict[int, int] = {}
    heads: list[int] = []
    for i, event in enumerate(events):
        parent = index_of.get(event.prev_hash)
        if event.prev_hash == GENESIS_HASH or parent is None or parent == i:
            heads.append(i)
        elif event.prev_hash in claimed:
            heads.append(i)  # a second event claims the same predecessor
        else:
            claimed[event.prev_hash] = i
            successor[parent] = i
    segments: list[list[int]] = []
    seen: set[int] = set()
    for start in [*heads, *range(len(events))]:  # range: defensive, a cycle has no head
        if start in seen:
            continue
        run: list[int] = []
        node: int | None = start
        while node is not None and node not in seen:
            seen.add(node)
            run.append(node)
            node = successor.get(node)
        segments.append(run)
    return segments, successor


def _ids(events: Sequence[AuditEvent], indexes: Iterable[int]) -> str:
    return ", ".join(str(events[i].id) for i in indexes)


def check_chain(events: Iterable[AuditEvent], *, anchor: str | None = None) -> ChainCheck:
    """Find where and how an audit chain is broken.

    Parameters
    ----------
    events : iterable of AuditEvent
        The whole chain in stored order (ascending id), as
        :meth:`loopml.store.AuditStore.list_events` returns it.
    anchor : str, optional
        A head hash recorded earlier (:attr:`ChainCheck.head_hash`). If no
        event has it any more, events were deleted from the end or the chain
        was rewritten: a ``deleted`` break past the last position.

    Returns
    -------
    ChainCheck
        ``ok``, every break by position (``first`` is the first broken
        position), the head to anchor next time.

    Notes
    -----
    Three checks, each O(n):

    1. *Content*: each event's hash is recomputed from its fields and its
       ``prev_hash``; a mismatch is ``edited`` at that position.
    2. *Links*: events are joined into runs by ``prev_hash`` -> ``hash``. A run
       that does not start at the genesis hash starts after a missing event
       (``deleted``), unless the chain passes around it (the event stored just
       before it links straight to one stored after it): then the run was
       ``inserted``. When the event before it still links correctly and the
       two ids are consecutive, nothing can have been deleted in between: that
       event was ``edited`` and its hash recomputed.
    3. *Order*: the runs (inserted ones left out) must be stored in chain
       order; the first position where they are not is ``reordered``.

    A chain cut off at its end, or rewritten with recomputed hashes from some
    event on, is still consistent; only an ``anchor`` reveals it.

    References
    ----------
    .. [1] S. Haber and W. S. Stornetta, "How to time-stamp a digital
       document", Journal of Cryptology 3(2), 1991.
    .. [2] B. Schneier and J. Kelsey, "Secure audit logs to support computer
       forensics", ACM TISSEC 2(2), 1999.

    Examples
    --------
    >>> check_chain([]).ok
    True
    """
    chain = list(events)
    n = len(chain)
    index_of: dict[str, int] = {}
    for i, event in enumerate(chain):
        index_of.setdefault(event.hash, i)
    found: dict[int, ChainBreak] = {}

    def add(i: int, kind: BreakKind, detail: str) -> None:
        found.setdefault(i, ChainBreak(i + 1, chain[i].id if i < n else None, kind, detail))

    for i, event in enumerate(chain):
        if not _content_ok(event):
            add(i, BreakKind.EDITED, (
                f"event id {event.id} ({event.action} on {event.target}) no longer hashes to its "
                "stored hash: its content was changed after it was written"
            ))
    segments, successor = _segments(chain, index_of)
    inserted: set[int] = set()
    genesis_seen = False
    for run in sorted(segments, key=lambda r: r[0]):
        head = run[0]
        event = chain[head]
        ids = _ids(chain, run)
        if event.prev_hash == GENESIS_HASH and not genesis_seen:
            genesis_seen = True
            continue
        if event.prev_hash == GENESIS_HASH or event.prev_hash in index_of:
            inserted.update(run)
            claim = "starts a second chain" if event.prev_hash == GENESIS_HASH else (
                f"claims the predecessor of event id {chain[successor[index_of[event.prev_hash]]].id}"
            )
            add(head, BreakKind.INSERTED, f"event id(s) {ids} {claim}: not part of the chain")
            continue
        before = head - 1
        if before < 0:
            add(head, BreakKind.DELETED, (
                f"the first event(s) of the chain are missing: event id {event.id} links to a "
                "hash no stored event has"
            ))
            continue
        around = successor.get(before)
        if around is not None and around > head:
            inserted.update(run)
            add(head, BreakKind.INSERTED, (
                f"event id(s) {ids} were inserted: no event links to them, and event id "
                f"{chain[before].id} links straight to event id {chain[around].id}"
            ))
        elif around is None and event.id == chain[before].id + 1:
            add(before, BreakKind.EDITED, (
                f"event id {chain[before].id} was rewritten with a recomputed hash: event id "
                f"{event.id}, stored right after it (consecutive ids), links to its old hash"
            ))
        else:
            add(head, BreakKind.DELETED, (
                f"an event is missing before event id {event.id}: it links to a hash no stored "
                f"event has (the event stored before it is id {chain[before].id})"
            ))
    expected = [i for run in sorted(segments, key=lambda r: r[0]) for i in run if i not in inserted]
    stored = sorted(expected)
    displaced = [k for k in range(len(stored)) if stored[k] != expected[k]]
    if displaced:
        k = displaced[0]
        add(stored[k], BreakKind.REORDERED, (
            f"events are not stored in chain order: event id {chain[stored[k]].id} is stored "
            f"where event id {chain[expected[k]].id} belongs; displaced positions "
            f"{', '.join(str(stored[d] + 1) for d in displaced)}"
        ))
    if anchor is not None and anchor not in index_of and anchor != GENESIS_HASH:
        add(n, BreakKind.DELETED, (
            f"the anchored event (hash {anchor[:12]}...) is no longer in the chain: events were "
            "deleted from its end, or it was rewritten with recomputed hashes"
        ))
    return ChainCheck(
        n_events=n,
        breaks=tuple(found[i] for i in sorted(found)),
        head_id=chain[-1].id if chain else None,
        head_hash=chain[-1].hash if chain else GENESIS_HASH,
        anchor=anchor,
    )


class _EventSource(Protocol):
    def list_events(
        self, *, target_prefix: str | None = None, action: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]: ...


_EVERY_EVENT = 2**62
"""``limit`` that lists a whole chain (SQLite and PostgreSQL take 64-bit limits)."""


def verify_store(store: _EventSource, *, anchor: str | None = None) -> ChainCheck:
    """:func:`check_chain` over every audit event of ``store``.

    Parameters
    ----------
    store : AuditStore
        Any metadata store (memory, SQLite, PostgreSQL).
    anchor : str, optional
        A head hash recorded earlier; see :func:`check_chain`.

    Returns
    -------
    ChainCheck

    Examples
    --------
    >>> from loopml.store import MemoryStore
    >>> store = MemoryStore()
    >>> _ = store.append_event(actor="a", action="x", target="t", before=None, after=None,
    ...                        reason="")
    >>> verify_store(store).ok
    True
    """
    return check_chain(store.list_events(limit=_EVERY_EVENT), anchor=anchor)


def model_target_prefix(name: str) -> str:
    """Prefix shared by the ``target`` of every audit event about model ``name``."""
    return f"model:{name}/"


def version_target(name: str, version: int) -> str:
    """Audit ``target`` of a model version, e.g. ``model:churn/version:3``."""
    return f"{model_target_prefix(name)}version:{version}"


def alias_target(name: str, alias: str) -> str:
    """Audit ``target`` of an alias, e.g. ``model:churn/alias:champion``."""
    return f"{model_target_prefix(name)}alias:{alias}"


def token_target(name: str) -> str:
    """Audit ``target`` of an API token, e.g. ``token:quickstart``."""
    return f"token:{name}"
