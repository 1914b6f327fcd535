"""/metrics in Prometheus text format, request ids and JSON access-log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loopml.api import Client
from loopml.serving import create_app
from loopml.serving.logs import REQUEST_ID, JsonFormatter, log_config

Serve = Callable[..., Any]
MODEL = "churn"
ROW = {"plan": "basic", "tenure": 3}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scrape: dict[Any, float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_by_route_status_and_version(home: Client, serve: Serve) -> None:
    app = create_app(home, MODEL, "champion", poll_interval=0.1)
    server = serve(app)
    for _ in range(3):
        assert server.http.post("/predict", json=[ROW]).status_code == 200
    assert server.http.post("/predict", json={"records": [{"plan": "basic"}]}).status_code == 422
    infer = {
        "inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "BYTES", "data": [["pro", 30]]}]
    }
    assert server.http.post(f"/v2/models/{MODEL}/infer", json=infer).status_code == 200
    assert server.http.get("/no/such/path").status_code == 404
    app.state.metrics.observe_batch(4)  # the micro-batcher's hook

    response = server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    scrape = samples(response.text)
    model = {"model": MODEL}
    ok = {**model, "route": "/predict", "status": "200", "version": "1"}
    assert value(scrape, "loopml_requests_total", **ok) == 3
    refused = {**model, "route": "/predict", "status": "422", "version": ""}
    assert value(scrape, "loopml_requests_total", **refused) == 1
    v2 = {**model, "route": "/v2/models/{name}/infer", "status": "200", "version": "1"}
    assert value(scrape, "loopml_requests_total", **v2) == 1
    unknown = {**model, "route": "<unmatched>", "status": "404", "version": ""}
    assert value(scrape, "loopml_requests_total", **unknown) == 1
    predict_latency = {**model, "route": "/predict"}
    assert value(scrape, "loopml_request_duration_seconds_count", **predict_latency) == 4
    # five sequential requests -> five one-row batches from the micro-batcher, plus the hook call
    assert value(scrape, "loopml_batch_size_count", **model) == 6
    assert value(scrape, "loopml_batch_size_sum", **model) == 9
    assert value(scrape, "loopml_model_load_seconds_count", **model) == 1
    assert value(scrape, "loopml_model_load_seconds_sum", **model) > 0
    assert ("loopml_prediction_log_queue_depth", frozenset(model.items())) in scrape
    assert value(scrape, "loopml_prediction_log_dropped_total", **model) == 0


def test_dropped_log_records_are_exported(home: Client, serve: Serve) -> None:
    app = create_app(home, MODEL, "champion", poll_interval=0.1)
    server = serve(app)
    app.state.metrics.count_dropped(2)  # what the writer's on_drop reports
    scrape = samples(server.http.get("/metrics").text)
    assert value(scrape, "loopml_prediction_log_dropped_total", model=MODEL) == 2


def test_request_id_is_echoed_logged_and_carried_to_the_prediction_log(
    home: Client, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(create_app(home, MODEL, "champion", poll_interval=0.1))
    with caplog.at_level(logging.INFO, logger="loopml.access"):
        given = server.http.post("/predict", json=[ROW], headers={"X-Request-ID": "abc-1"})
        fresh = server.http.post("/predict", json=[ROW])
    assert given.headers["x-request-id"] == "abc-1"
    generated = fresh.headers["x-request-id"]
    assert len(generated) == 32 and fresh.json()["request_ids"] == [generated]

    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "loopml.access"
    ]
    by_id = {line["request_id"]: line for line in lines}
    line = by_id["abc-1"]
    assert line["message"] == "POST /predict 200" and line["logger"] == "loopml.access"
    assert (line["model"], line["version"], line["route"], line["status"]) == (
        MODEL,
        1,
        "/predict",
        200,
    )
    assert line["latency_ms"] > 0 and line["level"] == "INFO" and line["time"].endswith("Z")
    assert by_id[generated]["status"] == 200
    server.stop()
    logged = home.predictions.read_predictions(MODEL)
    assert sorted(logged["request_id"]) == sorted(["abc-1", generated])


def test_json_formatter_has_every_field_and_the_context_request_id() -> None:
    record = logging.LogRecord("loopml.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    token = REQUEST_ID.set("req-9")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert list(line) == [
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "model",
        "version",
        "route",
        "status",
        "latency_ms",
    ]
    assert (line["message"], line["level"], line["request_id"]) == ("a b", "WARNING", "req-9")
    assert line["model"] is None


def test_log_config_sends_uvicorn_and_loopml_through_the_json_formatter() -> None:
    config = log_config("warning")
    assert config["formatters"]["json"]["()"] == "loopml.serving.logs.JsonFormatter"
    for name in ("uvicorn", "loopml"):
        assert config["loggers"][name] == {
            "handlers": ["json"],
            "level": "WARNING",
            "propagate": False,
        }
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
