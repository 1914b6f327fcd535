"""``loopml models list|show|alias|rollback|delete|audit`` on a real SQLite home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def _register_two(home: Settings, package: Path) -> None:
    with loopml.connect(home) as client:
        client.registry.register("m", package, reason="first")
        client.registry.register("m", package, reason="second")


def test_alias_rollback_and_audit(home: Settings, package: Path) -> None:
    _register_two(home, package)
    assert runner.invoke(app, ["models", "alias", "m", "champion", "1", "-r", "initial"]).exit_code == 0
    moved = runner.invoke(app, ["models", "alias", "m", "champion", "2", "-r", "better"])
    assert moved.exit_code == 0, moved.output
    assert "v1 → v2" in moved.output

    back = runner.invoke(app, ["models", "rollback", "m", "champion", "-r", "latency"])
    assert back.exit_code == 0, back.output
    assert "v2 → v1" in back.output

    listed = json.loads(runner.invoke(app, ["models", "list", "--json"]).output.splitlines()[-1])
    assert listed[0]["name"] == "m" and listed[0]["aliases"] == {"champion": 1}

    shown = json.loads(runner.invoke(app, ["models", "show", "m", "--json"]).output.splitlines()[-1])
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    actions = [e["action"] for e in shown["audit"]]
    assert actions.count("alias.set") == 2 and "alias.rollback" in actions
    reasons = [e["reason"] for e in shown["audit"]]
    assert "latency" in reasons
    assert all(e["actor"] == "tester" for e in shown["audit"])


def test_delete_version_behind_alias_is_refused(home: Settings, package: Path) -> None:
    _register_two(home, package)
    runner.invoke(app, ["models", "alias", "m", "champion", "2"])
    refused = runner.invoke(app, ["models", "delete", "m", "2"])
    assert refused.exit_code == 1
    assert "champion" in refused.output
    assert runner.invoke(app, ["models", "delete", "m", "1"]).exit_code == 0
    forced = runner.invoke(app, ["models", "delete", "m", "2", "--force"])
    assert forced.exit_code == 0, forced.output


def test_unknown_model_and_bad_version(home: Settings) -> None:
    result = runner.invoke(app, ["models", "show", "ghost"])
    assert result.exit_code == 1 and "ghost" in result.output
    result = runner.invoke(app, ["models", "alias", "ghost", "champion", "0"])
    assert result.exit_code == 2
