"""``loopml runs list|show`` on a real SQLite home."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def test_runs_list_and_show(home: Settings) -> None:
    with loopml.connect(home) as client:
        with client.start_run("exp", run_name="first") as run:
            run.log_param("lr", 0.1)
            for step in range(5):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
        run_id = run.id

    listed = runner.invoke(app, ["runs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output.strip().splitlines()[-1])
    assert [r["id"] for r in rows] == [run_id]
    assert rows[0]["status"] == "FINISHED"

    shown = runner.invoke(app, ["runs", "show", run_id, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output.strip().splitlines()[-1])
    assert data["params"] == {"lr": "0.1"}
    assert data["metrics"] == {"loss": 0.2}
    assert data["metric_points"] == 5

    human = runner.invoke(app, ["runs", "show", run_id])
    assert human.exit_code == 0 and "lr" in human.output


def test_unknown_run_is_a_clear_error(home: Settings) -> None:
    result = runner.invoke(app, ["runs", "show", "nope"])
    assert result.exit_code == 1
    assert "nope" in result.output
