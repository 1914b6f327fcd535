"""Fixtures for the model server: a tiny registered model and a real uvicorn server.

``home``
    A connected :class:`loopml.api.Client` on a fresh SQLite home under ``tmp_path``
    with model ``churn`` version 1 registered and aliased ``champion``.
``register_model``
    ``register_model(client, seed=..., invert=...) -> version``: fit, save,
    register a new version of ``churn`` and point ``champion`` at it.
``port``
    A free TCP port on 127.0.0.1.
``serve``
    Starts a real uvicorn server for an app on a free 127.0.0.1 port in a
    background thread; returns a :class:`RunningServer` (stopped after the test).
    When the app requires tokens, ``server.http`` sends one holding every role
    (``server.token``); build another ``httpx.Client`` to call without it.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from loopml.api import Client, connect
from loopml.entities import TOKEN_ROLES
from loopml.schema import infer_schema
from loopml.settings import Settings

MODEL = "churn"


def training_frame(seed: int = 0, n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    """A small frame with a categorical and an integer column, and a binary label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "pro", "team"], size=n),
            "tenure": rng.integers(0, 60, size=n),
        }
    )
    label = ((frame["tenure"] > 24) ^ (frame["plan"] == "team")).astype(int)
    return frame, label.rename("churned")


def fit(seed: int = 0, *, invert: bool = False) -> tuple[Pipeline, pd.DataFrame]:
    """LogisticRegression over one-hot ``plan`` and numeric ``tenure``."""
    frame, label = training_frame(seed)
    if invert:
        label = 1 - label
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                    remainder="passthrough",
                ),
            ),
            ("model", LogisticRegression(max_iter=500)),
        ]
    )
    return pipeline.fit(frame, label), frame


def register(client: Client, tmp_path: Path, *, seed: int = 0, invert: bool = False) -> int:
    """Save a fitted pipeline as a model package, register it, point ``champion`` at it."""
    from loopml.models import save_model

    estimator, frame = fit(seed, invert=invert)
    package = tmp_path / f"package-{uuid.uuid4().hex[:8]}"
    save_model(estimator, package, schema=infer_schema(frame), metrics={"seed": float(seed)})
    version = client.registry.register(MODEL, package, run_id=None, reason="test")
    client.registry.set_alias(MODEL, "champion", version.version, reason="test")
    return int(version.version)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """A uvicorn server in a background thread, with an httpx client bound to it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}")
        self.http = httpx.Client(base_url=self.url, timeout=10.0)
        self.token: str | None = None
        authenticator = getattr(app.state, "authenticator", None)
        if authenticator is not None and authenticator.enabled:
            _, self.token = authenticator.tokens.create(
                f"test-{self.port}-{uuid.uuid4().hex[:6]}", TOKEN_ROLES, reason="test server"
            )
            self.http.headers["Authorization"] = f"Bearer {self.token}"

    def start(self, *, ready: bool = True, timeout: float = 15.0) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.02)
        if ready:
            self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, *, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.http.get("/v2/health/ready").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"server on port {self.port} not ready: {self.http.get('/healthz').text}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop uvicorn; the app's lifespan flushes the prediction log before this returns."""
        if self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(timeout=20)
            assert not self.thread.is_alive(), "uvicorn did not stop"
        self.http.close()


@pytest.fixture
def register_model(tmp_path: Path) -> Callable[..., int]:
    def _register(client: Client, *, seed: int = 0, invert: bool = False) -> int:
        return register(client, tmp_path, seed=seed, invert=invert)

    return _register


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Client]:
    client = connect(Settings.for_home(tmp_path / "home"))
    register(client, tmp_path)
    yield client
    client.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def _serve(app: FastAPI, **options: Any) -> RunningServer:
        server = RunningServer(app).start(**options)
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()
