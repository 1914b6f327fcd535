"""ControllerStore contract: memory, SQLite and PostgreSQL keep the same lease and state.

The SQL-only tests at the end check what the twin cannot: many connections
racing for one lease at once, a lease that a second process cannot take, state
writes racing on one revision, and the 0003 -> 0004 migration of a database
that already holds data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loopml.errors import ConflictError, StoreError
from loopml.store import MetadataStore, open_store
from loopml.store.controller_state import ControllerState, Lease
from loopml.store.sql import SqlStore
from loopml.store.sql.migrate import current_revision, upgrade

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_lease_is_taken_renewed_refused_and_released(metadata_store: MetadataStore) -> None:
    store = metadata_store
    first = store.acquire_lease("flights", "a", ttl_seconds=60, now=T0)
    assert first == Lease("flights", "a", T0, T0 + timedelta(seconds=60))
    assert store.get_lease("flights") == first
    # another holder is refused while the lease lives, and nothing changes
    assert store.acquire_lease("flights", "b", ttl_seconds=60, now=T0 + timedelta(seconds=59)) is None
    assert store.get_lease("flights") == first
    # the holder renews: same acquisition time, later expiry
    renewed = store.acquire_lease("flights", "a", ttl_seconds=60, now=T0 + timedelta(seconds=30))
    assert renewed == Lease("flights", "a", T0, T0 + timedelta(seconds=90))
    # leases are per model
    assert store.acquire_lease("churn", "b", ttl_seconds=5, now=T0) is not None
    assert store.release_lease("flights", "b") is False
    assert store.release_lease("flights", "a") is True
    assert store.get_lease("flights") is None
    assert store.release_lease("flights", "a") is False
    taken = store.acquire_lease("flights", "b", ttl_seconds=1, now=T0 + timedelta(seconds=31))
    assert taken is not None and taken.holder == "b"


def test_expired_lease_is_taken_over(metadata_store: MetadataStore) -> None:
    store = metadata_store
    store.acquire_lease("flights", "a", ttl_seconds=10, now=T0)
    over = store.acquire_lease("flights", "b", ttl_seconds=10, now=T0 + timedelta(seconds=10))
    assert over == Lease("flights", "b", T0 + timedelta(seconds=10), T0 + timedelta(seconds=20))
    assert store.acquire_lease("flights", "a", ttl_seconds=10, now=T0 + timedelta(seconds=11)) is None


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
def test_lease_needs_a_positive_ttl(metadata_store: MetadataStore, ttl: float) -> None:
    with pytest.raises(StoreError, match="time to live"):
        metadata_store.acquire_lease("flights", "a", ttl_seconds=ttl)
    assert metadata_store.get_lease("flights") is None


def test_state_defaults_to_idle_and_round_trips(metadata_store: MetadataStore) -> None:
    store = metadata_store
    assert store.get_controller_state("flights") == ControllerState("flights")
    assert store.list_controller_states() == []
    store.acquire_lease("flights", "a", ttl_seconds=60, now=T0)
    state = ControllerState(
        "flights",
        phase="canary",
        challenger_version=3,
        canary_started_at=T0,
        data={"gate": {"p_value": 0.001, "delta": 0.02}, "reasons": ["drift share 0.50 >= 0.3"]},
    )
    saved = store.save_controller_state(state, holder="a", now=T0 + timedelta(seconds=1))
    assert saved.revision == 1 and saved.updated_at == T0 + timedelta(seconds=1)
    assert saved.canary_started_at == T0 and saved.canary_started_at.tzinfo is not None
    assert store.get_controller_state("flights") == saved
    assert saved.data == state.data and saved.phase == "canary" and saved.challenger_version == 3
    assert store.list_controller_states() == [saved]


def test_state_write_is_a_compare_and_set_on_the_revision(metadata_store: MetadataStore) -> None:
    store = metadata_store
    first = store.save_controller_state(ControllerState("flights", phase="retraining"), holder=None)
    second = store.save_controller_state(
        ControllerState("flights", phase="gating", revision=first.revision), holder=None
    )
    assert second.revision == 2
    with pytest.raises(ConflictError, match="revision 2, expected 1"):
        store.save_controller_state(
            ControllerState("flights", phase="idle", revision=first.revision), holder=None
        )
    assert store.get_controller_state("flights").phase == "gating"
    with pytest.raises(ConflictError, match="revision 2, expected 0"):
        store.save_controller_state(ControllerState("flights", phase="idle"), holder=None)


def test_state_write_needs_the_live_lease_of_its_holder(metadata_store: MetadataStore) -> None:
    store = metadata_store
    state = ControllerState("flights", phase="retraining")
    with pytest.raises(ConflictError, match="no live lease"):
        store.save_controller_state(state, holder="a", now=T0)
    store.acquire_lease("flights", "b", ttl_seconds=30, now=T0)
    with pytest.raises(ConflictError, match="held by 'b'"):
        store.save_controller_state(state, holder="a", now=T0)
    # b's lease expired: a paused controller may not write either, even as its holder
    with pytest.raises(ConflictError, match="no live lease"):
        store.save_controller_state(state, holder="b", now=T0 + timedelta(seconds=30))
    assert store.get_controller_state("flights").revision == 0
    saved = store.save_controller_state(state, holder="b", now=T0 + timedelta(seconds=29))
    assert saved.revision == 1


def test_state_refuses_unknown_phases_and_non_json_data(metadata_store: MetadataStore) -> None:
    with pytest.raises(StoreError, match="'bogus'"):
        metadata_store.save_controller_state(ControllerState("m", phase="bogus"), holder=None)
    with pytest.raises(StoreError, match="not JSON"):
        metadata_store.save_controller_state(
            ControllerState("m", data={"x": float("nan")}), holder=None
        )
    with pytest.raises(StoreError, match="not JSON"):
        metadata_store.save_controller_state(ControllerState("m", data={"x": {1, 2}}), holder=None)
    assert metadata_store.list_controller_states() == []


# ----------------------------------------------------------------- SQL only


def test_concurrent_acquires_give_one_holder(store_url: str) -> None:
    """Eight connections race for one free lease: exactly one gets it."""
    n = 8
    stores = [open_store(store_url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[Lease | None] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = stores[i].acquire_lease("flights", f"c{i}", ttl_seconds=60)
        except Exception as exc:  # noqa: BLE001 - re-raised by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        lease = stores[0].get_lease("flights")
        assert lease is not None and lease.holder == winners[0].holder
    finally:
        for store in stores:
            store.close()


def test_concurrent_state_writes_on_one_revision(store_url: str) -> None:
    """Eight writers read revision 0 and write at once: one wins, seven conflict."""
    n = 8
    stores = [open_store(store_url) for _ in range(n)]
    barrier = threading.Barrier(n)
    outcomes: list[str] = [""] * n

    def worker(i: int) -> None:
        state = ControllerState("flights", phase="retraining", data={"writer": i})
        barrier.wait(timeout=30)
        try:
            stores[i].save_controller_state(state, holder=None)
            outcomes[i] = "saved"
        except ConflictError:
            outcomes[i] = "conflict"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * (n - 1) + ["saved"]
        stored = stores[0].get_controller_state("flights")
        assert stored.revision == 1 and outcomes[stored.data["writer"]] == "saved"
    finally:
        for store in stores:
            store.close()


ACQUIRE_IN_CHILD = r"""
import json, sys
from loopml.store import open_store
store = open_store(sys.argv[1])
lease = store.acquire_lease("flights", sys.argv[2], ttl_seconds=float(sys.argv[3]))
store.close()
print(json.dumps(None if lease is None else lease.holder))
"""


def _acquire_in_child(url: str, holder: str, ttl: float) -> str | None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", ACQUIRE_IN_CHILD, url, holder, str(ttl)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: str | None = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_second_process_cannot_take_a_live_lease(store_url: str) -> None:
    assert _acquire_in_child(store_url, "first", 600) == "first"
    assert _acquire_in_child(store_url, "second", 600) is None
    store = open_store(store_url)
    try:
        lease = store.get_lease("flights")
        assert lease is not None and lease.holder == "first"
        assert store.acquire_lease("flights", "third", ttl_seconds=5) is None
        assert store.release_lease("flights", "first")
    finally:
        store.close()
    assert _acquire_in_child(store_url, "second", 600) == "second"


def test_migration_0004_keeps_existing_data(empty_store_url: str) -> None:
    from loopml.store.sql.engine import make_engine

    engine = make_engine(empty_store_url)
    try:
        upgrade(engine, "0003")
        old = SqlStore(engine)
        old.create_model_version("flights", source="file:///m/1", run_id=None, actor="a")
        upgrade(engine)
        assert current_revision(engine) == "0004"
        store = SqlStore(engine)
        assert [v.version for v in store.list_model_versions("flights")] == [1]
        assert store.acquire_lease("flights", "a", ttl_seconds=5) is not None
        saved = store.save_controller_state(ControllerState("flights", phase="gating"), holder="a")
        assert store.get_controller_state("flights") == saved
    finally:
        engine.dispose()
