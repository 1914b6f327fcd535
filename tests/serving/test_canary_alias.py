"""A canary route whose alias is missing or removed leaves every request to the champion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loopml.api import Client
from loopml.deploy import DeploymentSpec
from loopml.serving import create_app

from .conftest import MODEL, RunningServer

ROW = {"plan": "basic", "tenure": 3}
SPEC = DeploymentSpec.from_dict(
    {"name": "churn-prod", "model": MODEL, "canary": {"alias": "canary", "weight": 50}}
)


def _routes(server: RunningServer, n: int = 40) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i in range(n):
        response = server.http.post(
            "/predict", json={"records": [ROW]}, headers={"X-Request-ID": f"r-{i}"}
        )
        assert response.status_code == 200, response.text
        seen[response.json()["route"]] = seen.get(response.json()["route"], 0) + 1
    return seen


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_canary_alias_missing_then_set_then_removed(
    home: Client, serve: Callable[..., RunningServer], register_model: Any
) -> None:
    challenger = register_model(home, seed=3, invert=True)
    home.registry.set_alias(MODEL, "champion", 1, reason="test")
    app = create_app(home, MODEL, "champion", poll_interval=0.05, deployment=SPEC,
                     writer_options={"flush_interval": 0.05})
    server = serve(app)  # ready although the canary alias does not exist
    canary = app.state.routes.routes["canary"]
    assert canary.holder.current is None
    assert _routes(server) == {"champion": 40}

    home.registry.set_alias(MODEL, "canary", challenger, reason="canary starts")
    _wait(lambda: canary.holder.current is not None)
    split = _routes(server)
    assert split.get("canary", 0) > 0 and split.get("champion", 0) > 0

    home.registry.delete_alias(MODEL, "canary", reason="canary ends")
    _wait(lambda: canary.holder.last_error is not None)
    assert canary.holder.current is not None  # the holder keeps its version ...
    assert _routes(server) == {"champion": 40}  # ... but the route no longer answers
    assert server.http.get("/v2/health/ready").status_code == 200
