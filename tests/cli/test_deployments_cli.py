"""``loopml deployments validate|compare`` over a real prediction log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings
from loopml.store.predictions import PredictionRecord

runner = CliRunner()


def _log(home: Settings) -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with loopml.connect(home) as client:
        writer = client.open_prediction_writer()
        rows = [("a", 1, 0.9, 1), ("b", 0, 0.2, 0), ("c", 1, 0.7, 0), ("d", 0, 0.4, 1)]
        for rid, pred, score, _ in rows:
            writer.append(PredictionRecord(rid, "m", 1, "champion", now, 10.0, {"x": 1.0}, pred, score))
            writer.append(PredictionRecord(rid, "m", 2, "shadow", now, 14.0, {"x": 1.0}, 1 - pred,
                                           1.0 - score))
        writer.close()
        client.append_feedback("m", [(rid, label, now) for rid, _, _, label in rows])


def test_compare_shadow_json(home: Settings) -> None:
    _log(home)
    result = runner.invoke(app, ["deployments", "compare", "m", "--route", "shadow", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["paired"] == 4
    assert data["agreement_rate"] == 0.0
    assert data["champion_versions"] == [1] and data["candidate_versions"] == [2]
    assert data["latency_p50_delta_ms"] == 4.0
    assert data["champion_metric"] == 0.75 and data["candidate_metric"] == 0.25
    human = runner.invoke(app, ["deployments", "compare", "m", "--route", "shadow"])
    assert human.exit_code == 0 and "agreement on 4 paired requests: 0.0%" in human.output


def test_compare_without_canary_rows_is_one_line(home: Settings) -> None:
    _log(home)
    result = runner.invoke(app, ["deployments", "compare", "m", "--route", "canary"])
    assert result.exit_code == 1
    assert "0 canary" in result.output and "Traceback" not in result.output


def test_validate(tmp_path: Path) -> None:
    spec = tmp_path / "d.yaml"
    spec.write_text("name: prod\nmodel: m\ncanary: {alias: challenger, weight: 10}\n")
    result = runner.invoke(app, ["deployments", "validate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "canary" in result.output and "10 % of requests" in result.output
    spec.write_text("name: prod\nmodel: m\ncanary: {alias: challenger, weight: 150}\n")
    bad = runner.invoke(app, ["deployments", "validate", str(spec)])
    assert bad.exit_code == 1 and "canary.weight" in bad.output
