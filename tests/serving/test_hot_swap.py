"""Hot swap under load: concurrent traffic through an alias move loses no request, and every
response is computed by the version it names."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd

from loopml.api import Client
from loopml.serving import create_app

from .conftest import MODEL, RunningServer

Serve = Callable[..., RunningServer]
ROWS = [{"plan": "basic", "tenure": 3}, {"plan": "team", "tenure": 40}, {"plan": "pro", "tenure": 30},
        {"plan": "team", "tenure": 2}]


def test_swap_under_concurrent_load(home: Client, serve: Serve, register_model: Any) -> None:
    server = serve(create_app(home, MODEL, "champion", poll_interval=0.05,
                              writer_options={"flush_interval": 0.05}))
    headers = dict(server.http.headers)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def drive() -> None:
        with httpx.Client(base_url=server.url, timeout=10.0, headers=headers) as http:
            while not stop.is_set():
                response = http.post("/predict", json={"records": ROWS})
                body = response.json() if response.status_code == 200 else response.text
                with lock:
                    results.append((response.status_code, body))

    threads = [threading.Thread(target=drive) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.7)
    new_version = register_model(home, seed=1, invert=True)  # moves champion
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with lock:
            if sum(1 for s, b in results if s == 200 and b["version"] == new_version) >= 30:
                break
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=20)

    assert results, "no request completed"
    failed = [(s, b) for s, b in results if s != 200]
    assert failed == []
    versions = {b["version"] for _, b in results}
    assert versions == {1, new_version}

    frame = pd.DataFrame(ROWS)
    expected = {
        v: [int(p) for p in home.registry.load(MODEL, str(v)).predict(frame)] for v in versions
    }
    assert expected[1] != expected[new_version]  # the versions are distinguishable
    wrong = [b for _, b in results if b["predictions"] != expected[b["version"]]]
    assert wrong == []


def test_version_failing_warm_up_is_not_swapped_in(
    home: Client, serve: Serve, tmp_path: Any
) -> None:
    from loopml.models import save_model
    from loopml.schema import infer_schema

    from .conftest import fit

    server = serve(create_app(home, MODEL, "champion", poll_interval=0.05))
    estimator, frame = fit(seed=2)
    broken_reference = frame.assign(tenure="not a number")
    package = tmp_path / "broken"
    save_model(estimator, package, schema=infer_schema(frame), reference=broken_reference)
    version = home.registry.register(MODEL, package, run_id=None, reason="test").version
    home.registry.set_alias(MODEL, "champion", version, reason="test")
    time.sleep(0.5)
    response = server.http.post("/predict", json={"records": ROWS})
    assert response.status_code == 200
    assert response.json()["version"] == 1
    health = server.http.get("/healthz").json()
    assert "warm-up" in str(health.get("error"))
