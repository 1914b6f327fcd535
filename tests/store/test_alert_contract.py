"""AlertStore contract: memory, SQLite and PostgreSQL keep the same cooldown memory.

The SQL-only tests at the end check what the twin cannot: claims from
separate connections at once, a cooldown that survives a new process, and the
0002 -> 0003 migration of a database that already holds data.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loopml.errors import ConflictError, NotFoundError, StoreError
from loopml.store import MetadataStore, open_store
from loopml.store.alert_events import AlertEvent
from loopml.store.sql import SqlStore
from loopml.store.sql.migrate import current_revision, upgrade

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _claim(
    store: MetadataStore,
    *,
    at: datetime = T0,
    model: str = "flights",
    rule: str = "drift-high",
    cooldown: float = 3600.0,
    value: float = 0.6,
) -> AlertEvent | None:
    return store.claim_alert(
        model=model,
        rule=rule,
        fired_at=at,
        cooldown_seconds=cooldown,
        value=value,
        threshold=0.3,
        severity="warning",
        payload={"rule": rule, "value": value, "window": {"start": None}},
    )


def test_claim_stores_a_pending_event(metadata_store: MetadataStore) -> None:
    event = _claim(metadata_store)
    assert event is not None
    assert (event.model, event.rule, event.status, event.severity) == (
        "flights",
        "drift-high",
        "pending",
        "warning",
    )
    assert event.fired_at == T0 and event.fired_at.tzinfo is not None
    assert (event.value, event.threshold) == (0.6, 0.3)
    assert event.payload == {"rule": "drift-high", "value": 0.6, "window": {"start": None}}
    assert event.delivered == () and event.failed == {} and event.finished_at is None
    assert metadata_store.list_alert_events() == [event]


def test_cooldown_per_model_and_rule(metadata_store: MetadataStore) -> None:
    store = metadata_store
    first = _claim(store)
    assert first is not None
    assert _claim(store, at=T0 + timedelta(minutes=30)) is None
    assert _claim(store, at=T0 + timedelta(seconds=3599)) is None
    assert _claim(store, at=T0 + timedelta(minutes=30), rule="auc-low") is not None
    assert _claim(store, at=T0 + timedelta(minutes=30), model="churn") is not None
    # exactly one cooldown later the rule may fire again, and that restarts the cooldown
    again = _claim(store, at=T0 + timedelta(seconds=3600))
    assert again is not None and again.id > first.id
    assert _claim(store, at=T0 + timedelta(seconds=3601)) is None
    assert [e.id for e in store.list_alert_events(model="flights", rule="drift-high")] == [
        again.id,
        first.id,
    ]


def test_zero_cooldown_always_claims(metadata_store: MetadataStore) -> None:
    assert _claim(metadata_store, cooldown=0) is not None
    assert _claim(metadata_store, cooldown=0) is not None
    assert len(metadata_store.list_alert_events()) == 2


def test_finish_records_channels_and_status(metadata_store: MetadataStore) -> None:
    store = metadata_store
    event = _claim(store)
    assert event is not None
    done = store.finish_alert(
        event.id, delivered=["log", "slack"], failed={"pager": "HTTP 500 after 3 attempts"}
    )
    assert done.status == "partial" and done.delivered == ("log", "slack")
    assert done.failed == {"pager": "HTTP 500 after 3 attempts"}
    assert done.finished_at is not None and done.finished_at.tzinfo is not None
    assert store.list_alert_events() == [done]
    with pytest.raises(ConflictError, match="already finished"):
        store.finish_alert(event.id, delivered=["log"], failed={})
    with pytest.raises(NotFoundError, match="424242"):
        store.finish_alert(424242, delivered=["log"], failed={})
    other = _claim(store, rule="auc-low")
    assert other is not None
    with pytest.raises(StoreError, match="log"):
        store.finish_alert(other.id, delivered=["log"], failed={"log": "?"})
    assert store.finish_alert(other.id, delivered=["log"], failed={}).status == "delivered"


def test_failed_events_do_not_start_a_cooldown(metadata_store: MetadataStore) -> None:
    store = metadata_store
    event = _claim(store)
    assert event is not None
    store.finish_alert(event.id, delivered=[], failed={"hook": "connection refused"})
    retried = _claim(store, at=T0 + timedelta(minutes=5))
    assert retried is not None  # nothing reached anyone: try again next time
    assert _claim(store, at=T0 + timedelta(minutes=6)) is None  # pending cools
    store.finish_alert(retried.id, delivered=["hook"], failed={})
    assert _claim(store, at=T0 + timedelta(minutes=7)) is None  # delivered cools
    statuses = [e.status for e in store.list_alert_events()]
    assert statuses == ["delivered", "failed"]


def test_list_filters_order_and_limit(metadata_store: MetadataStore) -> None:
    store = metadata_store
    for minutes, model, rule in [(0, "a", "r1"), (2, "a", "r2"), (1, "b", "r1"), (3, "a", "r1")]:
        _claim(store, at=T0 + timedelta(minutes=minutes), model=model, rule=rule, cooldown=0)
    listed = store.list_alert_events()
    assert [(e.model, e.rule, e.fired_at - T0) for e in listed] == [
        ("a", "r1", timedelta(minutes=3)),
        ("a", "r2", timedelta(minutes=2)),
        ("b", "r1", timedelta(minutes=1)),
        ("a", "r1", timedelta(minutes=0)),
    ]
    assert [e.rule for e in store.list_alert_events(model="a")] == ["r1", "r2", "r1"]
    assert [e.model for e in store.list_alert_events(rule="r1")] == ["a", "b", "a"]
    assert len(store.list_alert_events(model="a", rule="r1", limit=1)) == 1
    assert store.list_alert_events(limit=0) == []
    assert store.list_alert_events(model="nobody") == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(metadata_store: MetadataStore, bad: float) -> None:
    with pytest.raises(StoreError, match="finite"):
        _claim(metadata_store, value=bad)
    assert metadata_store.list_alert_events() == []


# ----------------------------------------------------------------- SQL only


def test_concurrent_claims_notify_once(store_url: str) -> None:
    """Eight connections claim the same (model, rule) at once: exactly one wins."""
    n = 8
    stores = [open_store(store_url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[AlertEvent | None] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = _claim(stores[i], at=T0 + timedelta(milliseconds=i))
        except Exception as exc:  # noqa: BLE001 - re-raised by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(r is not None for r in results) == 1
        assert len(stores[0].list_alert_events()) == 1
    finally:
        for store in stores:
            store.close()


CLAIM_IN_CHILD = r"""
import json, sys
from datetime import datetime
from loopml.store import open_store
store = open_store(sys.argv[1])
event = store.claim_alert(
    model="flights", rule="drift-high", fired_at=datetime.fromisoformat(sys.argv[2]),
    cooldown_seconds=3600, value=0.7, threshold=0.3, severity="warning", payload={},
)
store.close()
print(json.dumps(None if event is None else event.id))
"""


def _claim_in_child(url: str, at: datetime) -> int | None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", CLAIM_IN_CHILD, url, at.isoformat()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: int | None = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_cooldown_survives_the_process(store_url: str) -> None:
    first = _claim_in_child(store_url, T0)
    assert isinstance(first, int)
    assert _claim_in_child(store_url, T0 + timedelta(minutes=10)) is None
    store = open_store(store_url)
    try:
        assert _claim(store, at=T0 + timedelta(minutes=20)) is None
        later = _claim(store, at=T0 + timedelta(hours=1, seconds=1))
        assert later is not None and later.id != first
    finally:
        store.close()


def test_migration_0003_keeps_existing_data(empty_store_url: str) -> None:
    from loopml.store.sql.engine import make_engine

    engine = make_engine(empty_store_url)
    try:
        upgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        old = SqlStore(engine)
        old.create_token(name="web", roles=["predict"], lookup="a" * 64, secret_hash="h", actor="a")
        upgrade(engine, "0003")
        assert current_revision(engine) == "0003"
        store = SqlStore(engine)
        assert [t.name for t in store.list_tokens()] == ["web"]
        assert _claim(store) is not None and len(store.list_alert_events()) == 1
    finally:
        engine.dispose()
