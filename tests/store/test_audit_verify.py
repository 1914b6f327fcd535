"""check_chain / verify_store: tampering done with real SQL on the database finds its kind and place.

Each test writes a real chain through the store (SQLite file and PostgreSQL),
then changes the ``audit_events`` table behind the store's back with plain
SQL (``sqlite3`` / ``psycopg``), as an attacker with database access would.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from loopml.entities import AuditEvent
from loopml.store import MetadataStore, open_store
from loopml.store.audit_chain import (
    GENESIS_HASH,
    BreakKind,
    check_chain,
    event_hash,
    verify_store,
)


def _sql(url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run statements in one transaction straight on the database (no loopml code)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for statement, params in statements:
                conn.execute(statement.replace("%s", "?"), params)
            conn.commit()
        finally:
            conn.close()
        return
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as conn:
        for statement, params in statements:
            conn.execute(statement, params)  # type: ignore[arg-type]


def _chain(url: str, n: int = 6) -> list[AuditEvent]:
    store = open_store(url)
    try:
        for i in range(n):
            store.append_event(
                actor="alice",
                action="alias.set",
                target=f"model:churn/alias:a{i}",
                before=None if i == 0 else {"version": i},
                after={"version": i + 1},
                reason=f"move {i}",
            )
        return store.list_events()
    finally:
        store.close()


def _verify(url: str, anchor: str | None = None) -> Any:
    store: MetadataStore = open_store(url)
    try:
        return verify_store(store, anchor=anchor), store.verify_chain()
    finally:
        store.close()


def test_untouched_chain_is_ok(store_url: str) -> None:
    events = _chain(store_url)
    result, legacy = _verify(store_url, anchor=events[-1].hash)
    assert result.ok and legacy
    assert result.first is None
    assert result.n_events == 6
    assert (result.head_id, result.head_hash) == (events[-1].id, events[-1].hash)
    assert result.to_dict()["first_break"] is None


def test_edited_reason_is_found_at_its_position(store_url: str) -> None:
    events = _chain(store_url)
    _sql(store_url, [("UPDATE audit_events SET reason = %s WHERE id = %s",
                      ("nothing to see", events[2].id))])
    result, legacy = _verify(store_url)
    assert not result.ok and not legacy
    assert result.first.kind is BreakKind.EDITED
    assert (result.first.position, result.first.event_id) == (3, events[2].id)
    assert len(result.breaks) == 1  # links still hold: one break, not a cascade
    assert f"event id {events[2].id}" in result.first.detail


def test_edit_with_recomputed_hash_is_edited(store_url: str) -> None:
    events = _chain(store_url)
    forged = replace(events[2], reason="nothing to see")
    new_hash = event_hash(
        time=forged.time, actor=forged.actor, action=forged.action, target=forged.target,
        before=forged.before, after=forged.after, reason=forged.reason, prev_hash=forged.prev_hash,
    )
    _sql(store_url, [("UPDATE audit_events SET reason = %s, hash = %s WHERE id = %s",
                      (forged.reason, new_hash, events[2].id))])
    result, _ = _verify(store_url)
    assert result.first.kind is BreakKind.EDITED
    assert (result.first.position, result.first.event_id) == (3, events[2].id)
    assert "recomputed hash" in result.first.detail


def test_deleted_event_is_found(store_url: str) -> None:
    events = _chain(store_url)
    _sql(store_url, [("DELETE FROM audit_events WHERE id = %s", (events[3].id,))])
    result, legacy = _verify(store_url)
    assert not legacy
    assert result.first.kind is BreakKind.DELETED
    assert (result.first.position, result.first.event_id) == (4, events[4].id)
    assert result.n_events == 5


def test_deleted_first_event_is_found(store_url: str) -> None:
    events = _chain(store_url)
    _sql(store_url, [("DELETE FROM audit_events WHERE id = %s", (events[0].id,))])
    result, _ = _verify(store_url)
    assert result.first.kind is BreakKind.DELETED
    assert (result.first.position, result.first.event_id) == (1, events[1].id)


def test_swapped_events_are_reordered(store_url: str) -> None:
    events = _chain(store_url)
    a, b = events[2].id, events[3].id
    _sql(store_url, [
        ("UPDATE audit_events SET id = %s WHERE id = %s", (-1, a)),
        ("UPDATE audit_events SET id = %s WHERE id = %s", (a, b)),
        ("UPDATE audit_events SET id = %s WHERE id = %s", (b, -1)),
    ])
    result, legacy = _verify(store_url)
    assert not legacy
    assert [x.kind for x in result.breaks] == [BreakKind.REORDERED]
    assert result.first.position == 3
    assert "positions 3, 4" in result.first.detail


def test_forged_event_in_the_middle_is_inserted(store_url: str) -> None:
    events = _chain(store_url, n=4)
    top = events[-1].id
    time = datetime(2024, 1, 1, tzinfo=UTC)
    prev = "f" * 64
    forged_hash = event_hash(time=time, actor="mallory", action="alias.set",
                             target="model:churn/alias:champion", before=None,
                             after={"version": 9}, reason="forged", prev_hash=prev)
    # make room after the first event: shift ids 2.. up by one, highest first
    shifts = [("UPDATE audit_events SET id = %s WHERE id = %s", (i + 1, i))
              for i in range(top, events[0].id, -1)]
    insert = (
        (
            "INSERT INTO audit_events (id, time, actor, action, target, before, after, reason, "
            "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, NULL, %s, %s, %s, %s)"
        ),
        (events[0].id + 1, time.replace(tzinfo=None) if store_url.startswith("sqlite") else time,
         "mallory", "alias.set", "model:churn/alias:champion", '{"version": 9}', "forged", prev,
         forged_hash),
    )
    _sql(store_url, [*shifts, insert])
    result, _ = _verify(store_url)
    assert [x.kind for x in result.breaks] == [BreakKind.INSERTED]
    assert (result.first.position, result.first.event_id) == (2, events[0].id + 1)


def test_deleting_the_end_needs_an_anchor(store_url: str) -> None:
    events = _chain(store_url)
    head = events[-1].hash
    _sql(store_url, [("DELETE FROM audit_events WHERE id >= %s", (events[4].id,))])
    without, _ = _verify(store_url)
    assert without.ok  # a cut chain is still consistent: the documented limit
    result, _ = _verify(store_url, anchor=head)
    assert result.first.kind is BreakKind.DELETED
    assert (result.first.position, result.first.event_id) == (5, None)


# -- check_chain on hand-built chains (no database) ----------------------------------


def _events(n: int) -> list[AuditEvent]:
    out: list[AuditEvent] = []
    prev = GENESIS_HASH
    for i in range(n):
        time = datetime(2024, 1, 1, 0, i, tzinfo=UTC)
        digest = event_hash(time=time, actor="a", action="x", target="t", before=None,
                            after={"i": i}, reason="", prev_hash=prev)
        out.append(AuditEvent(i + 1, time, "a", "x", "t", None, {"i": i}, "", prev, digest))
        prev = digest
    return out


def test_empty_chain_is_ok() -> None:
    result = check_chain([])
    assert result.ok and result.head_hash == GENESIS_HASH and result.head_id is None


def test_second_event_claiming_a_predecessor_is_inserted() -> None:
    events = _events(3)
    time = datetime(2024, 2, 1, tzinfo=UTC)
    fork_hash = event_hash(time=time, actor="m", action="x", target="t", before=None, after=None,
                           reason="fork", prev_hash=events[1].hash)
    fork = AuditEvent(4, time, "m", "x", "t", None, None, "fork", events[1].hash, fork_hash)
    result = check_chain([*events, fork])
    assert [(b.kind, b.event_id) for b in result.breaks] == [(BreakKind.INSERTED, 4)]


def test_moving_the_first_event_later_is_reordered() -> None:
    a, b, c = _events(3)
    result = check_chain([b, a, c])
    assert [(x.kind, x.position) for x in result.breaks] == [(BreakKind.REORDERED, 1)]


def test_every_independent_edit_is_listed() -> None:
    events = _events(5)
    events[1] = replace(events[1], reason="x")
    events[3] = replace(events[3], actor="y")
    result = check_chain(events)
    assert [(x.kind, x.position) for x in result.breaks] == [
        (BreakKind.EDITED, 2), (BreakKind.EDITED, 4)
    ]
    assert result.first.position == 2


@pytest.mark.parametrize("anchor", [None, GENESIS_HASH])
def test_anchor_is_optional(anchor: str | None) -> None:
    assert check_chain(_events(2), anchor=anchor).ok
