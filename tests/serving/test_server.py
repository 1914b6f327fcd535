"""The model server end to end: real registry on SQLite, real uvicorn, real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopml.api import Client
from loopml.serving import create_app

Serve = Callable[..., Any]
MODEL = "churn"
ROWS = [
    {"plan": "basic", "tenure": 3},
    {"plan": "team", "tenure": 40},
    {"plan": "pro", "tenure": 30},
]


def app_for(client: Client, **options: Any) -> Any:
    return create_app(
        client,
        MODEL,
        "champion",
        poll_interval=0.1,
        writer_options={"flush_interval": 0.05},
        **options,
    )


def test_predict_logs_every_row_under_its_request_id(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    first = server.http.post("/predict", json={"records": ROWS}, headers={"X-Request-ID": "batch"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["model"] == MODEL and body["version"] == 1
    assert body["request_ids"] == ["batch-0", "batch-1", "batch-2"]
    assert body["predictions"] == [0, 0, 1]
    assert len(body["scores"]) == 3 and all(0.0 <= s <= 1.0 for s in body["scores"])
    assert first.headers["x-model-version"] == "1"

    bare = server.http.post("/predict", json=ROWS[:1])  # a bare list works too
    assert bare.status_code == 200
    generated = bare.json()["request_ids"]
    assert len(generated) == 1 and generated[0] not in body["request_ids"]

    server.stop()  # lifespan shutdown flushes the writer
    logged = home.predictions.read_predictions(MODEL)
    assert sorted(logged["request_id"]) == sorted(body["request_ids"] + generated)
    one = logged.set_index("request_id").loc["batch-1"]
    assert (one["plan"], one["tenure"], one["version"], one["route"]) == ("team", 40, 1, "champion")
    assert one["prediction"] == 0 and one["score"] == pytest.approx(body["scores"][1])


def test_open_inference_protocol(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    assert http.get("/v2/health/live").status_code == 200
    assert http.get(f"/v2/models/{MODEL}/ready").status_code == 200

    meta = http.get(f"/v2/models/{MODEL}").json()
    assert meta["name"] == MODEL and meta["versions"] == ["1"]
    assert {i["name"]: i["datatype"] for i in meta["inputs"]} == {
        "plan": "BYTES",
        "tenure": "INT64",
    }
    assert [o["name"] for o in meta["outputs"]] == ["predict", "probability"]

    request = {
        "id": "call-7",
        "inputs": [
            {"name": "plan", "shape": [3], "datatype": "BYTES", "data": [r["plan"] for r in ROWS]},
            {
                "name": "tenure",
                "shape": [3],
                "datatype": "INT64",
                "data": [r["tenure"] for r in ROWS],
            },
        ],
    }
    answer = http.post(f"/v2/models/{MODEL}/infer", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "call-7" and body["model_name"] == MODEL and body["model_version"] == "1"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["predict"]["data"] == [0, 0, 1] and outputs["predict"]["shape"] == [3]
    assert outputs["probability"]["shape"] == [3, 2]
    assert outputs["probability"]["parameters"]["classes"] == [0, 1]

    matrix = {
        "inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "BYTES", "data": [["pro", 30]]}]
    }
    assert http.post(f"/v2/models/{MODEL}/infer", json=matrix).json()["outputs"][0]["data"] == [1]

    missing = http.post("/v2/models/fraud/infer", json=request)
    assert missing.status_code == 404 and "'fraud'" in missing.json()["error"]
    assert http.get("/v2/models/fraud").status_code == 404
    wrong_version = http.post(f"/v2/models/{MODEL}/versions/9/infer", json=request)
    assert wrong_version.status_code == 404


BAD_INPUTS = [
    ("malformed json", b'{"records": [{"plan": "basic",', 400, None),
    ("not an object", b'"hello"', 422, None),
    ("empty records", b'{"records": []}', 400, None),
    ("missing column", b'{"records": [{"plan": "basic"}]}', 422, "tenure"),
    ("wrong type", b'{"records": [{"plan": "basic", "tenure": "ten"}]}', 422, "tenure"),
    ("NaN string", b'{"records": [{"plan": "basic", "tenure": "NaN"}]}', 422, "tenure"),
    ("NaN literal", b'{"records": [{"plan": "basic", "tenure": NaN}]}', 422, "tenure"),
    (
        "huge integer",
        b'{"records": [{"plan": "basic", "tenure": 1' + b"0" * 40 + b"}]}",
        422,
        "tenure",
    ),
    ("huge float", b'{"records": [{"plan": "basic", "tenure": 1e400}]}', 422, "tenure"),
    ("nested value", b'{"records": [{"plan": {"a": 1}, "tenure": 3}]}', 422, "plan"),
    ("number as category", b'{"records": [{"plan": true, "tenure": 3}]}', 422, "plan"),
]


def test_bad_input_is_a_json_4xx_naming_the_column(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    for name, content, status, column in BAD_INPUTS:
        response = server.http.post(
            "/predict", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (name, response.text)
        body = response.json()
        assert body["error"], name
        if column is not None:
            assert column in [v["column"] for v in body["violations"]], (name, body)
            assert all(v["kind"] for v in body["violations"])
    bad_v2 = server.http.post(
        f"/v2/models/{MODEL}/infer",
        json={"inputs": [{"name": "tenure", "shape": [2], "datatype": "INT64", "data": [1]}]},
    )
    assert bad_v2.status_code == 422 and bad_v2.json()["violations"][0]["column"] == "tenure"
    assert server.http.get("/healthz").json()["version"] == 1  # still serving
    server.stop()
    assert home.predictions.count(MODEL) == 0  # refused rows are not logged


def test_feedback_is_joined_to_logged_predictions(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    ids = server.http.post("/predict", json={"records": ROWS}).json()["request_ids"]
    one = server.http.post("/feedback", json={"request_id": ids[0], "label": 1})
    assert one.status_code == 200
    assert one.json() == {"model": MODEL, "accepted": 1, "unmatched": 0}
    batch = [{"request_id": ids[1], "label": 0}, {"request_id": ids[2], "label": 1}]
    assert server.http.post("/feedback", json={"feedback": batch}).json()["accepted"] == 2
    assert server.http.post("/feedback", json={"feedback": []}).status_code == 422
    assert server.http.post("/feedback", json={"label": 1}).status_code == 422
    server.stop()
    labelled = home.predictions.read_labelled(MODEL).set_index("request_id")
    assert labelled.loc[ids, "label"].tolist() == [1, 0, 1]


def test_hot_swap_follows_the_alias(
    home: Client, serve: Serve, register_model: Callable[..., int]
) -> None:
    server = serve(app_for(home))
    assert server.http.post("/predict", json=ROWS).json()["version"] == 1
    assert register_model(home, seed=1, invert=True) == 2  # moves champion to v2

    deadline = time.monotonic() + 10
    versions = []
    while time.monotonic() < deadline:
        body = server.http.post("/predict", json=ROWS).json()
        versions.append(body["version"])
        if body["version"] == 2:
            break
        time.sleep(0.05)
    assert versions[-1] == 2, versions
    assert set(versions) <= {1, 2}
    assert body["predictions"] == [1, 1, 0]  # the inverted model computed it
    assert server.http.get(f"/v2/models/{MODEL}").json()["versions"] == ["2"]
    server.stop()
    logged = home.predictions.read_predictions(MODEL)
    assert len(logged) == 3 * (len(versions) + 1)
    assert set(logged["version"]) == {1, 2}
    v2 = home.predictions.read_predictions(MODEL, version=2).set_index("request_id")
    assert v2.loc[body["request_ids"], "prediction"].tolist() == [1, 1, 0]


def test_not_ready_until_the_alias_exists(home: Client, serve: Serve) -> None:
    app = create_app(home, MODEL, "canary", poll_interval=0.1)
    server = serve(app, ready=False)
    assert server.http.get("/v2/health/live").status_code == 200
    ready = server.http.get("/v2/health/ready")
    assert ready.status_code == 503 and "canary" in (ready.json()["error"] or "canary")
    refused = server.http.post("/predict", json=ROWS)
    assert refused.status_code == 503 and "churn@canary" in refused.json()["error"]
    home.registry.set_alias(MODEL, "canary", 1, reason="test")
    server.wait_ready(timeout=10)
    assert server.http.post("/predict", json=ROWS).json()["version"] == 1


def test_run_server_process_flushes_the_log_on_sigterm(home: Client, port: int) -> None:
    code = (
        "import sys; from loopml.serving import run_server; from loopml.settings import Settings; "
        f"run_server(Settings.from_env(), {MODEL!r}, 'champion', port={port}, log_level='warning')"
    )
    env = {
        **os.environ,
        **home.settings.as_env(),
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    _, token = home.tokens.create("sigterm-test", ["predict"])
    auth = {"Authorization": f"Bearer {token}"}
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "server process exited"
            assert time.monotonic() < deadline, "server process not ready"
            time.sleep(0.1)
        sent = [
            httpx.post(f"{url}/predict", json=ROWS, headers=auth).json()["request_ids"]
            for _ in range(5)
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    logged = home.predictions.read_predictions(MODEL)
    assert sorted(logged["request_id"]) == sorted(i for ids in sent for i in ids)
