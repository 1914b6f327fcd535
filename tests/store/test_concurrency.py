"""Several real processes hit one SQL store at once: first migration, registrations, alias moves.

Workers import loopml, signal that they are ready, and start together when the
test touches a ``go`` file, so their transactions really overlap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopml.errors import ConflictError
from loopml.store import open_store

SRC = str(Path(__file__).resolve().parents[2] / "src")

WORKER = r"""
import json, os, random, sys, time
from pathlib import Path

from loopml.errors import ConflictError
from loopml.store import open_store
import loopml.store.sql

mode, url, go, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
Path(f"{go}.ready.{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.005)

store = open_store(url)
out = []
if mode == "register":
    for _ in range(count):
        mv = store.create_model_version(
            "churn", source="file:///m", run_id=None, actor=f"pid{os.getpid()}"
        )
        out.append(mv.version)
elif mode == "alias":
    rng = random.Random(os.getpid())
    for _ in range(count):
        if rng.random() < 0.3:
            try:
                store.rollback_alias("churn", "champion", actor="w", reason="")
                out.append("rollback")
            except ConflictError:
                out.append("empty")
        else:
            store.set_alias("churn", "champion", rng.randint(1, 5), actor="w", reason="")
            out.append("set")
store.close()
print(json.dumps(out))
"""


def _run_workers(mode: str, url: str, tmp_path: Path, *, processes: int, count: int) -> list[list[object]]:
    go = tmp_path / f"go-{mode}"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, url, str(go), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob(f"{go.name}.ready.*"))) < processes:  # all imported, waiting
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), "a worker died before the start"
        time.sleep(0.01)
    go.touch()
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


def test_concurrent_first_migration_and_registrations(
    empty_store_url: str, tmp_path: Path
) -> None:
    """4 processes migrate a fresh database at once, then register 10 versions each."""
    results = _run_workers("register", empty_store_url, tmp_path, processes=4, count=10)
    numbers = sorted(v for worker in results for v in worker)
    assert numbers == list(range(1, 41))
    for worker in results:  # each process sees its own numbers increase
        assert worker == sorted(worker)
    store = open_store(empty_store_url)
    try:
        assert [v.version for v in store.list_model_versions("churn")] == list(range(1, 41))
        assert store.get_registered_model("churn").latest_version == 40
        assert len(store.list_events(action="model_version.create")) == 40
        assert store.verify_chain()
    finally:
        store.close()


def test_concurrent_alias_moves_stay_consistent(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    try:
        for _ in range(5):
            store.create_model_version("churn", source="s", run_id=None, actor="a")
        store.set_alias("churn", "champion", 1, actor="a", reason="")
    finally:
        store.close()
    results = _run_workers("alias", store_url, tmp_path, processes=4, count=15)
    outcomes = [o for worker in results for o in worker]
    store = open_store(store_url)
    try:
        assert store.verify_chain()
        events = store.list_events(target_prefix="model:churn/alias:champion")
        assert len(events) == 1 + outcomes.count("set") + outcomes.count("rollback")
        # Replay the audit trail with the documented semantics; it must explain the state.
        stack: list[int] = []
        current = None
        for event in events:
            before = None if event.before is None else event.before["version"]
            assert before == current, f"event {event.id} starts from {before}, alias was {current}"
            after = event.after["version"] if event.after else None
            if event.action == "alias.set" and before is not None and before != after:
                stack.append(before)
            elif event.action == "alias.rollback":
                assert stack.pop() == after
            current = after
        assert store.get_alias("churn", "champion").version == current
        while stack:  # the stored history is exactly the replayed one
            store.rollback_alias("churn", "champion", actor="t", reason="")
            assert store.get_alias("churn", "champion").version == stack.pop()
        with pytest.raises(ConflictError):
            store.rollback_alias("churn", "champion", actor="t", reason="")
    finally:
        store.close()
