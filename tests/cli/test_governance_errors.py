"""Clear one-line errors of the loop and governance commands (found by a fresh-user pass)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def test_audit_verify_refuses_a_bad_anchor_and_a_missing_store(home: Settings) -> None:
    bad = runner.invoke(app, ["audit", "verify", "--anchor", "deadbeef"])
    assert bad.exit_code == 2 and "64-hex-digit" in bad.output
    missing = runner.invoke(app, ["audit", "verify"])  # LOOPML_HOME has no database yet
    assert missing.exit_code == 1 and "no metadata store" in missing.output
    assert not Path(home.store_url.removeprefix("sqlite:///")).exists()  # and none was made


def test_an_emptied_audit_log_is_not_intact(home: Settings, package: Path) -> None:
    with loopml.connect(home) as client:
        client.registry.register("m", package, reason="first")
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    import sqlite3

    with sqlite3.connect(home.store_url.removeprefix("sqlite:///")) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        audit = next(t for t in tables if "audit" in t)
        db.execute(f"DELETE FROM {audit}")
    emptied = runner.invoke(app, ["audit", "verify"])
    assert emptied.exit_code == 1 and "audit log is empty" in emptied.output


def test_unknown_models_and_missing_pipelines_are_named(
    home: Settings, package: Path, tmp_path: Path
) -> None:
    with loopml.connect(home) as client:
        client.registry.register("m", package, reason="first")
        client.registry.set_alias("m", "champion", 1, reason="test")
    for command in (["loop", "status", "ghost"], ["approve", "ghost", "-r", "x"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1 and "model 'ghost' is not registered" in result.output
    policy = tmp_path / "policy.yaml"
    policy.write_text("model: m\npipeline: nope.yaml\n")
    result = runner.invoke(app, ["loop", "once", str(policy)])
    assert (
        result.exit_code == 1 and "pipeline file" in result.output and "nope.yaml" in result.output
    )
    status = runner.invoke(app, ["loop", "status", "m"])
    assert status.exit_code == 0 and "retraining" not in status.output  # nothing half-started
