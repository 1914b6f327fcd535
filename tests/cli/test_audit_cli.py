"""``loopml audit verify`` on a real SQLite home, before and after tampering with sqlite3."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def _history(home: Settings, package: Path) -> list[int]:
    with loopml.connect(home) as client:
        client.registry.register("churn", package, reason="first")
        client.registry.register("churn", package, reason="second")
        client.registry.set_alias("churn", "champion", 1, reason="only one judged")
        client.registry.set_alias("churn", "champion", 2, reason="better")
        return [e.id for e in client.store.list_events()]


def _db(home: Settings) -> sqlite3.Connection:
    return sqlite3.connect(home.store_url.removeprefix("sqlite:///"))


def test_verify_intact_then_edited(home: Settings, package: Path) -> None:
    ids = _history(home, package)
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 4 events" in ok.output
    head = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).output)["head_hash"]

    with _db(home) as conn:
        conn.execute("UPDATE audit_events SET reason = 'looked fine' WHERE id = ?", (ids[2],))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"at position 3 (event id {ids[2]}): edited" in broken.output

    result = runner.invoke(app, ["audit", "verify", "--json", "--anchor", head])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["first_break"] == {
        "position": 3, "event_id": ids[2], "kind": "edited", "detail": data["first_break"]["detail"]
    }


def test_verify_names_a_deleted_and_a_reordered_event(home: Settings, package: Path) -> None:
    ids = _history(home, package)
    with _db(home) as conn:
        conn.execute("UPDATE audit_events SET id = -1 WHERE id = ?", (ids[0],))
        conn.execute("UPDATE audit_events SET id = ? WHERE id = ?", (ids[0], ids[1]))
        conn.execute("UPDATE audit_events SET id = ? WHERE id = -1", (ids[1],))
    swapped = runner.invoke(app, ["audit", "verify"])
    assert swapped.exit_code == 1
    assert "at position 1" in swapped.output and "reordered" in swapped.output

    with _db(home) as conn:  # put them back, then delete one
        conn.execute("UPDATE audit_events SET id = -1 WHERE id = ?", (ids[0],))
        conn.execute("UPDATE audit_events SET id = ? WHERE id = ?", (ids[0], ids[1]))
        conn.execute("UPDATE audit_events SET id = ? WHERE id = -1", (ids[1],))
        conn.execute("DELETE FROM audit_events WHERE id = ?", (ids[2],))
    deleted = runner.invoke(app, ["audit", "verify"])
    assert deleted.exit_code == 1
    assert f"at position 3 (event id {ids[3]}): deleted" in deleted.output
