"""Request limits on a real uvicorn server: 413 size and rows, 415 media type, 400 bad JSON, no NaN."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from loopml.api import Client
from loopml.serving import StrictJSONResponse, create_app
from loopml.serving.limits import Limits, count_rows

Serve = Callable[..., Any]
MODEL = "churn"
ROW = {"plan": "basic", "tenure": 3}


def app_for(client: Client, **limits: int) -> Any:
    return create_app(client, MODEL, "champion", poll_interval=0.1, limits=Limits(**limits))


def post(http: httpx.Client, path: str, body: bytes, content_type: str | None = "application/json",
         **headers: str) -> httpx.Response:
    if content_type is not None:
        headers["Content-Type"] = content_type
    return http.post(path, content=body, headers=headers)


def test_body_size_limit_names_the_limit(home: Client, serve: Serve) -> None:
    server = serve(app_for(home, max_body_bytes=2_000))
    http = server.http
    small = json.dumps({"records": [ROW] * 20}).encode()
    assert len(small) < 2_000 and post(http, "/predict", small).status_code == 200
    big = json.dumps({"records": [ROW] * 100}).encode()
    for path in ("/predict", f"/v2/models/{MODEL}/infer", "/feedback"):
        refused = post(http, path, big)
        assert refused.status_code == 413, (path, refused.text)
        body = refused.json()
        assert body["type"] == "PayloadTooLarge"
        assert body["limit"] == {"name": "max_body_bytes", "value": 2_000}
        assert "2,000 bytes" in body["error"] and "max_body_bytes" in body["error"]

    # no Content-Length (chunked upload): refused while streaming, never read whole
    def chunks() -> Any:
        for _ in range(50):
            yield b" " * 1_000

    streamed = http.post("/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["limit"]["name"] == "max_body_bytes"
    assert http.post("/predict", json=[ROW]).status_code == 200  # the server is fine afterwards


def test_row_limit_names_the_limit(home: Client, serve: Serve) -> None:
    server = serve(app_for(home, max_rows=50))
    http = server.http
    assert http.post("/predict", json={"records": [ROW] * 50}).status_code == 200
    over = [
        ("/predict", {"records": [ROW] * 51}),
        ("/predict", [ROW] * 51),
        ("/feedback", {"feedback": [{"request_id": f"r{i}", "label": 1} for i in range(51)]}),
        (f"/v2/models/{MODEL}/infer", {"inputs": [
            {"name": "plan", "shape": [51], "datatype": "BYTES", "data": ["pro"] * 51},
            {"name": "tenure", "shape": [51], "datatype": "INT64", "data": [3] * 51},
        ]}),
    ]
    for path, payload in over:
        refused = http.post(path, json=payload)
        assert refused.status_code == 413, (path, refused.text)
        assert refused.json()["limit"] == {"name": "max_rows", "value": 50}
        assert "51 rows" in refused.json()["error"] and "max_rows" in refused.json()["error"]


def test_media_types(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    body = json.dumps([ROW]).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/json; charset=latin-1"):
        refused = post(http, "/predict", body, content_type)
        assert refused.status_code == 415, (content_type, refused.text)
        assert refused.json()["accepted"] == ["application/json"]
        assert "application/json" in refused.json()["error"]
        assert refused.headers["accept-post"] == "application/json"
    for content_type in ("application/json", "application/json; charset=utf-8",
                         "Application/JSON;Charset=UTF-8", 'application/json; charset="utf-8"',
                         None):
        assert post(http, "/predict", body, content_type).status_code == 200, content_type
    infer = {"inputs": [
        {"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["pro"]},
        {"name": "tenure", "shape": [1], "datatype": "INT64", "data": [30]},
    ]}
    ok = post(http, f"/v2/models/{MODEL}/infer", json.dumps(infer).encode(),
              "application/json; charset=utf-8")
    assert ok.status_code == 200, ok.text


def test_malformed_json_is_400(home: Client, serve: Serve) -> None:
    server = serve(app_for(home, max_rows=5))
    http = server.http
    for path in ("/predict", "/feedback", f"/v2/models/{MODEL}/infer"):
        for body in (b"{", b'{"records": [', b"\xff\xfe", b"not json"):
            refused = post(http, path, body)
            assert refused.status_code == 400, (path, body, refused.text)
            assert refused.json()["error"]
    # a malformed body larger than the row-count threshold is a 400 too, not a 413
    assert post(http, "/predict", b"[" + b" " * 100).status_code == 400


def _refuse_constant(token: str) -> Any:
    pytest.fail(f"{token} token in a response body")


def test_no_nan_or_infinity_in_any_response(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    http = server.http
    bodies = [
        b'{"records": [{"plan": "basic", "tenure": NaN}]}',
        b'{"records": [{"plan": "basic", "tenure": Infinity}]}',
        b'[{"plan": "basic", "tenure": -Infinity}]',
        b'{"request_id": "x", "label": NaN}',
        json.dumps({"records": [ROW]}).encode(),
    ]
    for path in ("/predict", "/feedback", f"/v2/models/{MODEL}/infer"):
        for body in bodies:
            text = post(http, path, body).text
            # strict JSON: a NaN/Infinity token (not the word in a message) fails the parse
            json.loads(text, parse_constant=_refuse_constant)
    rendered = StrictJSONResponse({"a": math.nan, "b": [math.inf, -math.inf, 1.5]}).body
    assert json.loads(rendered) == {"a": None, "b": [None, None, 1.5]}


def test_count_rows() -> None:
    assert count_rows(b"[1, 2, 3]") == 3
    assert count_rows(b'{"records": []}') == 0
    assert count_rows(b'{"feedback": [{}, {}]}') == 2
    assert count_rows(b'{"request_id": "x", "label": 1}') == 0
    assert count_rows(b'{"inputs": [{"shape": [2, 1], "data": [1, 2]}, {"data": [1, 2, 3]}]}') == 3
    assert count_rows(b"{") is None and count_rows(b"\xff") is None
