"""Bearer tokens with roles on a real uvicorn server: 401, 403, open routes, no-auth mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from loopml.api import Client
from loopml.serving import create_app

Serve = Callable[..., Any]
MODEL = "churn"
ROWS = [{"plan": "basic", "tenure": 3}]
INFER = {"inputs": [
    {"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["pro"]},
    {"name": "tenure", "shape": [1], "datatype": "INT64", "data": [30]},
]}


def app_for(client: Client, **options: Any) -> Any:
    return create_app(client, MODEL, "champion", poll_interval=0.1, **options)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def calls(http: httpx.Client, headers: dict[str, str]) -> dict[str, int]:
    """Status of each guarded route for a caller sending ``headers``."""
    return {
        "predict": http.post("/predict", json=ROWS, headers=headers).status_code,
        "infer": http.post(f"/v2/models/{MODEL}/infer", json=INFER, headers=headers).status_code,
        "feedback": http.post(
            "/feedback", json={"request_id": "r-1", "label": 1}, headers=headers
        ).status_code,
        "reload": http.post("/admin/reload", headers=headers).status_code,
    }


def test_each_route_needs_its_role(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    _, predict = home.tokens.create("p", ["predict"])
    _, feedback = home.tokens.create("f", ["feedback"])
    _, admin = home.tokens.create("a", ["admin"])
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert calls(http, bearer(predict)) == {
            "predict": 200, "infer": 200, "feedback": 403, "reload": 403}
        assert calls(http, bearer(feedback)) == {
            "predict": 403, "infer": 403, "feedback": 200, "reload": 403}
        assert calls(http, bearer(admin)) == {
            "predict": 403, "infer": 403, "feedback": 403, "reload": 200}
        forbidden = http.post("/predict", json=ROWS, headers=bearer(feedback))
        assert "'predict'" in forbidden.json()["error"]
        assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
        reloaded = http.post("/admin/reload", headers=bearer(admin)).json()
        assert reloaded == {"model": MODEL, "ref": "champion", "version": 1, "changed": False}


def test_missing_or_invalid_token_is_401_with_www_authenticate(
    home: Client, serve: Serve
) -> None:
    server = serve(app_for(home))
    token, secret = home.tokens.create("p", ["predict", "feedback", "admin"])
    wrong = secret[:-2] + ("xy" if not secret.endswith("xy") else "zz")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for headers in (
            {},
            {"Authorization": secret},  # no scheme
            {"Authorization": f"Basic {secret}"},
            {"Authorization": "Bearer"},
            bearer("not-a-token"),
            bearer(wrong),
        ):
            assert set(calls(http, headers).values()) == {401}, headers
            refused = http.post("/predict", json=ROWS, headers=headers)
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert refused.json()["error"] and secret not in refused.text
        assert http.post("/predict", json=ROWS, headers=bearer(wrong)).headers[
            "www-authenticate"
        ].endswith('error="invalid_token"')
        assert http.post("/predict", json=ROWS, headers={"authorization": f"bearer {secret}"}
                         ).status_code == 200  # the scheme is case-insensitive
        home.tokens.revoke(token.id)  # same client as the server: takes effect at once
        assert http.post("/predict", json=ROWS, headers=bearer(secret)).status_code == 401


def test_health_metadata_and_metrics_stay_open(home: Client, serve: Serve) -> None:
    server = serve(app_for(home))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for path in ("/healthz", "/v2/health/live", "/v2/health/ready", f"/v2/models/{MODEL}",
                     f"/v2/models/{MODEL}/ready", "/metrics"):
            assert http.get(path).status_code == 200, path


def test_no_auth_is_explicit_and_warned(
    home: Client, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="loopml.serving"):
        app = app_for(home, auth=False)
    assert any(
        r.levelno == logging.WARNING and "authentication is OFF" in r.getMessage()
        for r in caplog.records
    )
    server = serve(app)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert calls(http, {}) == {"predict": 200, "infer": 200, "feedback": 200, "reload": 200}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="loopml.serving"):
        app_for(home)
    assert not any("authentication is OFF" in r.getMessage() for r in caplog.records)
