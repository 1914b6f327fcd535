"""``loopml tokens create|list|revoke`` on a real SQLite home."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def test_create_list_revoke(home: Settings) -> None:
    created = runner.invoke(app, ["tokens", "create", "--name", "web", "--role", "predict",
                                  "--role", "feedback", "--reason", "frontend"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("lml_")

    listed = runner.invoke(app, ["tokens", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output.strip().splitlines()[-1])
    assert [(r["name"], r["roles"], r["created_by"]) for r in rows] == [
        ("web", ["feedback", "predict"], "tester")
    ]
    assert secret not in listed.output
    human = runner.invoke(app, ["tokens", "list"])
    assert human.exit_code == 0 and "web" in human.output and secret not in human.output

    with loopml.connect(home) as client:
        token = client.tokens.authenticate(secret)
        assert token is not None and token.roles == ("feedback", "predict")

    revoked = runner.invoke(app, ["tokens", "revoke", rows[0]["id"], "--reason", "leaked"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(runner.invoke(app, ["tokens", "list", "--json"]).output) == []
    every = json.loads(runner.invoke(app, ["tokens", "list", "--all", "--json"]).output)
    assert every[0]["revoked_at"] is not None

    with loopml.connect(home) as client:
        assert client.tokens.authenticate(secret) is None
        events = client.store.list_events(target_prefix="token:")
        assert [(e.action, e.actor, e.reason) for e in events] == [
            ("token.create", "tester", "frontend"),
            ("token.revoke", "tester", "leaked"),
        ]


def test_refusals_exit_1_with_a_message(home: Settings) -> None:
    bad_role = runner.invoke(app, ["tokens", "create", "--name", "x", "--role", "root"])
    assert bad_role.exit_code == 1 and "root" in bad_role.output
    assert runner.invoke(app, ["tokens", "create", "--name", "x", "--role", "admin"]).exit_code == 0
    again = runner.invoke(app, ["tokens", "create", "--name", "x", "--role", "admin"])
    assert again.exit_code == 1 and "already exists" in again.output
    missing = runner.invoke(app, ["tokens", "revoke", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
