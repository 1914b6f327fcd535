"""What a new user can get wrong, against a real uvicorn server: each refusal is a 4xx
naming the column or body field, and nothing refused reaches the prediction log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopml.api import Client
from loopml.errors import NotFoundError
from loopml.serving import create_app, run_server

Serve = Callable[..., Any]
MODEL = "churn"
ROWS = [{"plan": "basic", "tenure": 3}, {"plan": "team", "tenure": 40}]
SURROGATE = b'"bad \\ud800"'  # a JSON string holding a lone UTF-16 surrogate


def app_for(client: Client, ref: str = "champion") -> Any:
    return create_app(
        client, MODEL, ref, poll_interval=0.1, writer_options={"flush_interval": 0.05}
    )


def post(http: httpx.Client, path: str, content: bytes) -> httpx.Response:
    return http.post(path, content=content, headers={"content-type": "application/json"})


def columns(response: httpx.Response) -> list[Any]:
    return [v["column"] for v in response.json()["violations"]]


def fields(response: httpx.Response) -> list[Any]:
    return [v["field"] for v in response.json()["violations"]]


def tensor(name: str, datatype: str, data: list[Any]) -> dict[str, Any]:
    return {"name": name, "shape": [len(data)], "datatype": datatype, "data": data}


def test_lone_surrogates_are_refused_and_never_logged(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    value = post(http, "/predict", b'{"records": [{"plan": ' + SURROGATE + b', "tenure": 3}]}')
    assert value.status_code == 422, value.text
    assert columns(value) == ["plan"] and "not valid Unicode" in value.json()["error"]
    name = post(
        http, "/predict", b'{"records": [{"plan": "pro", "tenure": 3, ' + SURROGATE + b": 1}]}"
    )
    assert name.status_code == 422 and columns(name) == ["bad \\ud800"]  # escaped, valid JSON

    v2_value = post(
        http,
        f"/v2/models/{MODEL}/infer",
        b'{"inputs": [{"name": "plan", "shape": [1], "datatype": "BYTES", "data": ['
        + SURROGATE
        + b']}, {"name": "tenure", "shape": [1], "datatype": "INT64", "data": [3]}]}',
    )
    assert v2_value.status_code == 422 and columns(v2_value) == ["plan"], v2_value.text
    v2_id = post(
        http,
        f"/v2/models/{MODEL}/infer",
        b'{"id": ' + SURROGATE + b', "inputs": [{"name": "input-0", "shape": [1, 2], '
        b'"datatype": "BYTES", "data": [["pro", 3]]}]}',
    )
    assert v2_id.status_code == 422 and fields(v2_id) == ["id"], v2_id.text

    for body, field in [
        (b'{"request_id": ' + SURROGATE + b', "label": 1}', "request_id"),
        (b'{"request_id": "r1", "label": ' + SURROGATE + b"}", "label"),
    ]:
        refused = post(http, "/feedback", body)
        assert refused.status_code == 422 and fields(refused) == [field], refused.text

    assert http.post("/predict", json=ROWS).status_code == 200  # still serving
    server.stop()
    logged = home.predictions.read_predictions(MODEL)  # reading the log does not crash
    assert len(logged) == 2
    assert home.predictions.read_labelled(MODEL)["label"].isna().all()


def test_feedback_refusals_and_unmatched_ids(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    refusals = [
        (b'{"request_id": "x", "label": NaN}', "label"),
        (b'{"request_id": "x", "label": null}', "label"),
        (b'{"request_id": "x", "label": [1, 2]}', "label"),
        (b'{"request_id": "x", "label": {"a": 1}}', "label"),
        (b'{"label": 1}', "request_id"),
        (b'{"request_id": "", "label": 1}', "request_id"),
        (b'{"request_id": 7, "label": 1}', "request_id"),
        (
            b'{"feedback": [{"request_id": "x", "label": 1}, {"request_id": "y"}]}',
            "feedback.1.label",
        ),
    ]
    for body, field in refusals:
        refused = post(http, "/feedback", body)
        assert refused.status_code == 422, (body, refused.text)
        assert fields(refused) == [field], (body, refused.json())
        assert columns(refused) == [None]
        assert f"field {field!r}" in refused.json()["error"]

    ids = http.post("/predict", json={"records": ROWS}).json()["request_ids"]
    known = http.post("/feedback", json={"request_id": ids[0], "label": 1})
    assert known.json() == {"model": MODEL, "accepted": 1, "unmatched": 0}
    batch = [
        {"request_id": ids[1], "label": 0},
        {"request_id": "from-another-worker", "label": True},
        {"request_id": "before-restart", "label": "yes"},
    ]
    mixed = http.post("/feedback", json={"feedback": batch})
    assert mixed.status_code == 200
    assert mixed.json() == {"model": MODEL, "accepted": 3, "unmatched": 2}
    server.stop()
    labelled = home.predictions.read_labelled(MODEL).set_index("request_id")
    assert labelled.loc[ids, "label"].tolist() == [1, 0]


def test_v2_datatype_must_fit_the_column(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    url = f"/v2/models/{MODEL}/infer"

    def infer(*inputs: dict[str, Any]) -> httpx.Response:
        response: httpx.Response = server.http.post(url, json={"inputs": list(inputs)})
        return response

    good = infer(tensor("plan", "BYTES", ["pro"]), tensor("tenure", "FP32", [30]))
    assert good.status_code == 200, good.text
    assert (
        infer(tensor("plan", "BYTES", ["pro"]), tensor("tenure", "UINT8", [30])).status_code == 200
    )

    weird = infer(tensor("plan", "WEIRD", ["pro"]), tensor("tenure", "INT64", [30]))
    assert weird.status_code == 422 and columns(weird) == ["plan"]
    assert "'WEIRD' is not an Open Inference Protocol datatype" in weird.json()["error"]
    number_as_bytes = infer(tensor("plan", "BYTES", ["pro"]), tensor("tenure", "BYTES", ["30"]))
    assert number_as_bytes.status_code == 422 and columns(number_as_bytes) == ["tenure"]
    assert "expected INT8" in number_as_bytes.json()["violations"][0]["detail"]
    string_as_float = infer(tensor("plan", "FP32", [1.0]), tensor("tenure", "INT64", [30]))
    assert string_as_float.status_code == 422 and columns(string_as_float) == ["plan"]
    assert "expected BYTES" in string_as_float.json()["violations"][0]["detail"]

    matrix = {"name": "input-0", "shape": [1, 2], "datatype": "FP64", "data": [["pro", 30]]}
    refused = infer(matrix)
    assert refused.status_code == 422 and fields(refused) == ["inputs.0"], refused.text
    assert infer({**matrix, "datatype": "BYTES"}).status_code == 200
    server.stop()
    assert home.predictions.count(MODEL) == 3  # only the accepted requests were logged


def test_body_errors_name_fields_not_columns(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    not_object = post(http, "/predict", b'"hello"')
    assert not_object.status_code == 422 and fields(not_object) == ["body"]
    assert "column" not in not_object.json()["error"]
    empty = http.post("/predict", json={})
    assert empty.status_code == 422 and fields(empty) == ["records"]
    assert "field 'records': missing_field" in empty.json()["error"]
    assert "column" not in empty.json()["error"]
    extra = http.post("/predict", json={"records": ROWS, "rows": 1})
    assert extra.status_code == 422 and fields(extra) == ["rows"]
    row = http.post("/predict", json={"records": [ROWS[0], 7]})
    assert fields(row) == ["records.1"] and row.json()["violations"][0]["rows"] == [1]
    v2 = http.post(f"/v2/models/{MODEL}/infer", json={"inputs": []})
    assert v2.status_code == 422 and fields(v2) == ["inputs"]
    lengths = http.post(
        f"/v2/models/{MODEL}/infer",
        json={"inputs": [tensor("plan", "BYTES", ["pro"]), tensor("tenure", "INT64", [1, 2])]},
    )
    assert lengths.status_code == 422 and fields(lengths) == ["inputs"]
    column = http.post("/predict", json={"records": [{"plan": "pro", "tenure": "ten"}]})
    assert column.status_code == 422 and columns(column) == ["tenure"] and fields(column) == [None]
    assert "column 'tenure'" in column.json()["error"]


def test_healthz_is_503_until_a_model_loads(home: Client, serve: Serve) -> None:
    server = serve(app_for(home, ref="canary"), ready=False)
    health = server.http.get("/healthz")
    assert health.status_code == 503, health.text
    assert health.json()["status"] in {"loading", "unavailable"}
    assert health.json()["version"] is None
    deadline = time.monotonic() + 10
    while server.http.get("/healthz").json()["error"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    failed = server.http.get("/healthz").json()
    assert failed["status"] == "unavailable" and "canary" in failed["error"]
    home.registry.set_alias(MODEL, "canary", 1, reason="test")
    server.wait_ready(timeout=10)
    ok = server.http.get("/healthz")
    assert ok.status_code == 200 and ok.json()["status"] == "ok" and ok.json()["version"] == 1
    head = server.http.head("/healthz")  # load balancers probe with HEAD
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "model,ref", [("nosuchmodel", "champion"), (MODEL, "nosuchalias"), (MODEL, "9")]
)
def test_run_server_fails_fast_on_an_unknown_model(
    home: Client, port: int, model: str, ref: str
) -> None:
    with pytest.raises(NotFoundError):
        run_server(home.settings, model, ref, port=port, log_level="warning")
    with pytest.raises(httpx.TransportError):  # nothing was started
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_cli_serve_of_an_unknown_model_is_one_line_and_exit_1(home: Client, port: int) -> None:
    env = {
        **os.environ,
        **home.settings.as_env(),
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    for ref in ("nosuchmodel@champion", f"{MODEL}@nosuchalias"):
        done = subprocess.run(
            [sys.executable, "-m", "loopml", "serve", ref, "--port", str(port)],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, (ref, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
        assert "Traceback" not in done.stderr + done.stdout


def test_deep_nesting_and_huge_integers_are_4xx_never_5xx(home: Client, serve: Serve) -> None:
    """Found by a fresh-user pass: both used to answer 500 (RecursionError, ValueError)."""
    server = serve(app_for(home))
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = b'{"records": [{"plan": ' + b"[" * 50_000 + b"]" * 50_000 + b', "tenure": 1}]}'
    infer = f"/v2/models/{MODEL}/infer"
    for path in ("/predict", "/feedback", infer):
        response = post(server.http, path, deep)
        assert response.status_code == 400, (path, response.text[:200])
        assert "nested too deeply" in response.json()["error"]
        inner = post(server.http, path, nested)  # too deep, or a nested value: never a 5xx
        assert inner.status_code in (400, 422), (path, inner.text[:200])
    binary = server.http.post(
        infer, content=deep, headers={"Inference-Header-Content-Length": str(len(deep))}
    )
    assert binary.status_code == 400 and "nested too deeply" in binary.json()["error"]

    huge = "9" * 5000
    predict = post(server.http, "/predict", f'[{{"plan": "basic", "tenure": {huge}}}]'.encode())
    assert predict.status_code == 422, predict.text[:300]
    assert columns(predict) == ["tenure"]
    negative = post(server.http, "/predict", f'[{{"plan": "basic", "tenure": -{huge}}}]'.encode())
    assert negative.status_code == 422 and columns(negative) == ["tenure"]
    label = post(server.http, "/feedback", f'{{"request_id": "r", "label": {huge}}}'.encode())
    assert label.status_code in (200, 422), label.text[:300]  # a label is any JSON scalar
    shape = post(
        server.http,
        infer,
        f'{{"inputs": [{{"name": "tenure", "shape": [{huge}], "datatype": "INT64", "data": [1]}}]}}'.encode(),
    )
    assert 400 <= shape.status_code < 500, shape.text[:300]
    assert server.http.post("/predict", json=ROWS).status_code == 200  # still answering


def test_no_auth_values() -> None:
    from loopml.errors import ConfigurationError
    from loopml.serving.auth import no_auth_requested

    assert [no_auth_requested(v) for v in ("1", "true", "YES", " on ")] == [True] * 4
    assert [no_auth_requested(v) for v in (None, "", "0", "false", "Off")] == [False] * 5
    with pytest.raises(ConfigurationError, match="LOOPML_SERVE_NO_AUTH='maybe'"):
        no_auth_requested("maybe")


def test_overlong_request_ids_and_duplicate_v2_inputs_are_refused(
    home: Client, serve: Serve
) -> None:
    server = serve(app_for(home))
    long_id = server.http.post("/predict", json=ROWS, headers={"X-Request-ID": "x" * 60_000})
    assert long_id.status_code == 400 and "at most 200" in long_id.json()["error"]
    fine = server.http.post("/predict", json=ROWS[:1], headers={"X-Request-ID": "x" * 200})
    assert fine.status_code == 200 and fine.json()["request_ids"] == ["x" * 200]
    twice = server.http.post(
        f"/v2/models/{MODEL}/infer",
        json={
            "inputs": [
                tensor("plan", "BYTES", ["basic"]),
                tensor("tenure", "INT64", [3]),
                tensor("tenure", "INT64", [40]),
            ]
        },
    )
    assert twice.status_code == 422 and "given twice" in twice.text
