"""``loopml monitor``: drift settings from the command line, clear errors without data."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.cli.monitor import drift_config
from loopml.settings import Settings

runner = CliRunner()


def test_settings_become_a_drift_config() -> None:
    config = drift_config(["wasserstein_threshold=0.2", "drift_share=0.3", "large_reference=500"])
    assert config.wasserstein_threshold == 0.2
    assert config.drift_share == 0.3
    assert config.large_reference == 500


@pytest.mark.parametrize("item", ["nope=1", "drift_share", "drift_share=2", "ks_threshold=abc"])
def test_bad_settings_are_usage_errors(item: str) -> None:
    with pytest.raises(typer.BadParameter):
        drift_config([item])


def test_monitor_without_reference_or_traffic_is_one_line(home: Settings, package: Path) -> None:
    with loopml.connect(home) as client:
        client.registry.register("m", package, reason="first")
        client.registry.set_alias("m", "champion", 1, reason="test")
    result = runner.invoke(app, ["monitor", "m@champion"])
    assert result.exit_code == 1
    assert "no stored reference data" in result.output
    assert "Traceback" not in result.output
    unknown = runner.invoke(app, ["monitor", "ghost@champion"])
    assert unknown.exit_code == 1 and "ghost" in unknown.output


def test_monitor_delivers_alerts_once_per_cooldown(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drifted traffic -> ``loopml monitor --alerts`` posts to a real local webhook, and a
    second run inside the cooldown stays quiet."""
    import json
    import threading
    import uuid
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from importlib import resources

    import pandas as pd

    from loopml.data.demo import FLIGHTS_LABEL, FLIGHTS_TIME, load_flights
    from loopml.store.predictions import PredictionRecord

    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flights = load_flights().rename(columns={FLIGHTS_TIME: "timestamp"})
    pipeline = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(pipeline) as path, loopml.connect(home) as client:
        client.run_pipeline(path, inputs={"train": flights[flights["month"] == 1]})
        model = client.registry.load("flights", "champion")
        july = flights[flights["month"] == 7].head(1500)
        features = july[list(model.schema.feature_names)]
        scores = model.positive_score(features)
        writer = client.open_prediction_writer()
        start = datetime(2026, 7, 1, tzinfo=UTC)
        ids = [uuid.uuid4().hex for _ in range(len(features))]
        for i, record in enumerate(features.to_dict(orient="records")):
            writer.append(
                PredictionRecord(
                    request_id=ids[i],
                    model="flights",
                    version=1,
                    route="champion",
                    timestamp=start + timedelta(seconds=i),
                    latency_ms=1.0,
                    features={k: (None if pd.isna(v) else v) for k, v in record.items()},
                    prediction=int(scores[i] >= 0.5),
                    score=float(scores[i]),
                )
            )
        writer.close()
        labels = july[FLIGHTS_LABEL].tolist()
        client.append_feedback("flights", [(ids[i], int(labels[i]), start) for i in range(1000)])
        # feedback takes any scalar: bad labels are left out and reported, never fatal
        client.append_feedback("flights", [(ids[1000], 3.7, start), (ids[1001], "yes", start)])
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "channels:\n"
        f"  ops: {{type: webhook, url: 'http://127.0.0.1:{server.server_port}/hook'}}\n"
        "rules:\n"
        "  - {name: drift-share, metric: drift.share_drifted, operator: '>=', threshold: 0.2,\n"
        "     cooldown_seconds: 3600, channels: [log, ops]}\n"
        "  - {name: typo, metric: drift.share_drift, operator: '>', threshold: 0.5}\n"
    )
    try:
        first = runner.invoke(
            app, ["monitor", "flights@champion", "--alerts", str(rules), "--json"]
        )
        assert first.exit_code == 0, first.output
        data = json.loads(first.stdout[first.stdout.index("{") :])
        alerts = data["alerts"]
        import jsonschema

        from loopml.monitoring.report import REPORT_JSON_SCHEMA

        report = {k: v for k, v in data.items() if k not in ("alerts", "report_path")}
        jsonschema.validate(report, json.loads(REPORT_JSON_SCHEMA.read_text()))  # every section
        assert data["schema_version"] == 2
        assert data["quality"]["n_current"] == 1500
        assert data["prediction_drift"]["scores"]["method"] == "ks"
        assert len(data["over_time"]["windows"]) == 10
        assert 0.5 < data["estimated"]["roc_auc"]["value"] < 1.0  # CBPE, no labels needed
        assert data["estimated"]["calibration"]  # calibrated on the 1,000 labelled rows
        assert data["performance"]["n"] == 1000
        assert data["performance"]["finding"].startswith("2 labels are not 0 or 1")
        assert data["concept_drift"]["n"] == 1000
        assert {d["detector"] for d in data["concept_drift"]["detectors"]} == {
            "adwin",
            "page_hinkley",
            "ddm",
        }
        assert data["over_time"]["windows"][0]["estimated"] is not None
        assert [a["rule"] for a in alerts["fired"]] == ["drift-share"]
        assert "did you mean" in alerts["findings"]["typo"]
        assert [body["rule"] for body in received] == ["drift-share"]
        assert received[0]["model"] == "flights" and received[0]["value"] >= 0.2
        second = runner.invoke(app, ["monitor", "flights@champion", "--alerts", str(rules)])
        assert second.exit_code == 0, second.output
        assert "drift-share: firing, quiet for its cooldown" in second.output
        assert len(received) == 1
        bad = rules.with_name("bad.yaml")
        bad.write_text(
            "rules:\n  - {name: x, metric: drift.share_drifted, operator: '~', threshold: 1}\n"
        )
        refused = runner.invoke(app, ["monitor", "flights@champion", "--alerts", str(bad)])
        assert refused.exit_code != 0 and "operator" in refused.output
        assert "Traceback" not in refused.output
    finally:
        server.shutdown()
