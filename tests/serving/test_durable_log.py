"""The durable prediction log: flushed on SIGTERM, complete across workers, drops counted.

The process tests run ``python -m loopml serve`` on a free 127.0.0.1 port
against a real SQLite home, with bounded request counts and timeouts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from loopml.api import Client
from loopml.entities import TOKEN_ROLES
from loopml.serving import create_app
from loopml.store import predictions
from loopml.store.predictions import PredictionLogWriter, PredictionRecord

MODEL = "churn"
ROW = {"plan": "pro", "tenure": 30}
SRC = str(Path(__file__).parents[2] / "src")


class ServeProcess:
    """``loopml serve churn@champion`` in a child process; stderr (JSON logs) to a file.

    Requests carry a bearer token holding every role (:meth:`http`).
    """

    def __init__(self, client: Client, port: int, log_file: Path, *args: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = log_file
        _, token = client.tokens.create(f"test-{port}", TOKEN_ROLES, reason="durable log test")
        self.headers = {"Authorization": f"Bearer {token}"}
        command = [
            sys.executable,
            "-m",
            "loopml",
            "serve",
            f"{MODEL}@champion",
            "--port",
            str(port),
            "--poll-interval",
            "0.2",
            *args,
        ]
        env = {**os.environ, **client.settings.as_env(), "PYTHONPATH": SRC}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self._stderr = log_file.open("wb")
        self.process = subprocess.Popen(command, env=env, stderr=self._stderr)

    def wait_ready(self, workers: int = 1, timeout: float = 45.0) -> None:
        """Until ``/v2/health/ready`` answers 200 and every worker logged its first load."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ready = httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200
                if ready and self.loaded_workers() >= workers:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, f"server exited: {self.log_file.read_text()}"
            assert time.monotonic() < deadline, "server not ready"
            time.sleep(0.1)

    def loaded_workers(self) -> int:
        """Processes that logged loading version 1 (each worker loads on its own)."""
        return sum("serving churn version 1" in line["message"] for line in self.json_lines())

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, headers=self.headers)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit status (uvicorn flushes the log before exiting)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._stderr.close()

    def json_lines(self) -> list[dict[str, Any]]:
        lines = self.log_file.read_text().splitlines()
        # every line is JSON; a line still being written when read is skipped
        return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]


@pytest.fixture
def start(home: Client, port: int, tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def _start(*args: str) -> ServeProcess:
        server = ServeProcess(home, port, tmp_path / f"server-{len(started)}.log", *args)
        started.append(server)
        workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
        server.wait_ready(workers)
        return server

    yield _start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


def predict(http: httpx.Client, request_id: str, *, close: bool = False) -> httpx.Response:
    headers = {"X-Request-ID": request_id, **({"Connection": "close"} if close else {})}
    response = http.post("/predict", json=[ROW], headers=headers)
    assert response.status_code == 200, response.text
    return response


def log_pids(client: Client) -> set[str]:
    """Process ids in the names of the prediction log files (``part-<pid>-<uuid>``)."""
    root = Path(client.settings.prediction_log_root)
    return {p.name.split("-")[1] for p in root.glob("model=*/date=*/part-*.parquet")}


def requests_total(text: str, status: str = "200") -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "loopml_requests_total"
        and s.labels["route"] == "/predict"
        and s.labels["status"] == status
    )


def test_sigterm_after_n_requests_leaves_exactly_n_records(
    home: Client, start: Callable[..., ServeProcess]
) -> None:
    n = 40
    server = start()
    sent = [f"req-{i}" for i in range(n)]
    with server.http() as http:
        for request_id in sent:
            assert predict(http, request_id).headers["x-request-id"] == request_id
    # uvicorn finishes, flushes in the lifespan shutdown, then re-raises SIGTERM
    assert server.terminate() in (0, -signal.SIGTERM)
    logged = home.predictions.read_predictions(MODEL)
    assert len(logged) == n
    assert sorted(logged["request_id"]) == sorted(sent)

    lines = server.json_lines()
    access = [line for line in lines if line["logger"] == "loopml.access"]
    predicted = {line["request_id"] for line in access if line["route"] == "/predict"}
    assert predicted == set(sent)
    assert all(
        line["version"] == 1 and line["status"] == 200
        for line in access
        if line["route"] == "/predict"
    )
    assert any("rows written" in line["message"] for line in lines)


def test_two_workers_under_concurrent_load_lose_nothing(
    home: Client, start: Callable[..., ServeProcess]
) -> None:
    server = start("--workers", "2")
    sent: list[str] = []
    lock = threading.Lock()

    def burst(worker: int) -> None:
        # a new connection per request spreads the load over both workers
        with server.http() as http:
            for i in range(15):
                request_id = f"w{worker}-{i}-{uuid.uuid4().hex[:6]}"
                predict(http, request_id, close=True)
                with lock:
                    sent.append(request_id)

    deadline = time.monotonic() + 30
    rounds = 0
    while rounds < 2 or (len(log_pids(home)) < 2 and time.monotonic() < deadline):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(burst, range(8)))
        rounds += 1
        time.sleep(0.6)  # the writer's flush interval, so files show their pids

    with server.http() as http:  # fresh connections: any worker may answer
        scrapes = [
            requests_total(http.get("/metrics", headers={"Connection": "close"}).text)
            for _ in range(4)
        ]
    assert scrapes == [len(sent)] * 4  # any worker answers /metrics with all workers' counts

    assert server.terminate() == 0  # the supervisor stops both workers and exits 0
    logged = home.predictions.read_predictions(MODEL)
    assert len(logged) == len(sent)
    assert sorted(logged["request_id"]) == sorted(sent)
    assert len(log_pids(home)) == 2, "both workers wrote their own files"


def test_hot_swap_and_logging_work_in_every_worker(
    home: Client,
    start: Callable[..., ServeProcess],
    register_model: Callable[..., int],
) -> None:
    server = start("--workers", "2")
    sent: list[str] = []
    versions: list[int] = []

    http = server.http()

    def one_call() -> None:
        request_id = uuid.uuid4().hex
        response = predict(http, request_id, close=True)  # a new connection: either worker
        versions.append(response.json()["version"])
        sent.append(request_id)

    for _ in range(20):
        one_call()
    assert set(versions) == {1}
    assert register_model(home, seed=1, invert=True) == 2  # moves champion to v2

    deadline = time.monotonic() + 20
    while versions[-30:] != [2] * 30:
        assert time.monotonic() < deadline, f"still answering {versions[-30:]}"
        one_call()

    http.close()
    assert server.terminate() == 0
    logged = home.predictions.read_predictions(MODEL)
    assert sorted(logged["request_id"]) == sorted(sent)
    assert set(logged["version"]) == {1, 2}
    assert len(log_pids(home)) == 2, "both workers logged"
    lines = server.json_lines()
    swaps = [line for line in lines if "serving churn version 2" in line["message"]]
    assert len(swaps) == 2, "each worker swapped on its own"
    access = {line["request_id"] for line in lines if line["logger"] == "loopml.access"}
    assert set(sent) <= access


def record(i: int) -> PredictionRecord:
    return PredictionRecord(
        request_id=f"r{i}",
        model=MODEL,
        version=1,
        route="champion",
        timestamp=datetime.now(UTC),
        latency_ms=1.0,
        features=ROW,
        prediction=1,
    )


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Writes block until ``release`` is set; ``entered`` is set when one starts."""
    entered, release = threading.Event(), threading.Event()
    write = predictions._write_partition

    def slow_write(*args: Any) -> None:
        entered.set()
        assert release.wait(timeout=10)
        write(*args)

    monkeypatch.setattr(predictions, "_write_partition", slow_write)
    yield entered, release
    release.set()


def test_drop_policy_counts_and_warns_every_drop(
    tmp_path: Path,
    slow_disk: tuple[threading.Event, threading.Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered, release = slow_disk
    reported: list[int] = []
    writer = PredictionLogWriter(
        tmp_path, max_queue=2, batch_size=1, on_full="drop", on_drop=reported.append
    ).start()
    writer.append(record(0))
    assert entered.wait(timeout=5)  # the writer thread is stuck writing record 0
    with caplog.at_level(logging.WARNING, logger="loopml.predictions"):
        for i in range(1, 11):
            writer.append(record(i))  # never blocks
    assert writer.dropped == 8 and sum(reported) == 8  # 2 fit in the queue
    warnings = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(warnings) == 1 and "dropped 1 records" in warnings[0].getMessage()
    release.set()
    writer.close(timeout=10)
    assert writer.written == 3
    assert predictions.PredictionLogReader(tmp_path).count(MODEL) == 3


def test_block_policy_waits_instead_of_dropping(
    tmp_path: Path, slow_disk: tuple[threading.Event, threading.Event]
) -> None:
    entered, release = slow_disk
    writer = PredictionLogWriter(tmp_path, max_queue=1, batch_size=1).start()
    writer.append(record(0))
    assert entered.wait(timeout=5)
    writer.append(record(1))  # fills the queue
    blocked = threading.Thread(target=writer.append, args=(record(2),))
    blocked.start()
    blocked.join(timeout=0.3)
    assert blocked.is_alive()  # waits for room
    release.set()
    blocked.join(timeout=10)
    writer.close(timeout=10)
    assert (writer.written, writer.dropped) == (3, 0)


def test_server_exports_the_drops_it_counts(
    home: Client, serve: Callable[..., Any], slow_disk: tuple[threading.Event, threading.Event]
) -> None:
    _, release = slow_disk
    options = {"on_full": "drop", "max_queue": 2, "batch_size": 1}
    app = create_app(home, MODEL, "champion", poll_interval=0.1, writer_options=options)
    server = serve(app)
    n = 12
    for i in range(n):
        predict(server.http, f"d{i}")  # answered although the log cannot keep up
    writer = app.state.predictor.writer
    assert writer.dropped > 0
    scrape = server.http.get("/metrics").text
    dropped = next(
        s.value
        for family in text_string_to_metric_families(scrape)
        for s in family.samples
        if s.name == "loopml_prediction_log_dropped_total"
    )
    assert dropped == writer.dropped
    release.set()
    server.stop()
    assert home.predictions.count(MODEL) + writer.dropped == n  # nothing lost silently


def test_workers_serve_a_deployment_from_the_first_ready_answer(
    home: Client,
    port: int,
    tmp_path: Path,
    register_model: Callable[..., int],
) -> None:
    """``--workers 2 --deployment``: each worker loads every route before it takes a
    connection, answers its share by the same hash split, and logs shadows."""
    from loopml.deploy import route_for

    canary = register_model(home, seed=1, invert=True)
    shadow = register_model(home, seed=2)
    home.registry.set_alias(MODEL, "challenger", canary, reason="test")
    home.registry.set_alias(MODEL, "candidate", shadow, reason="test")
    home.registry.set_alias(MODEL, "champion", 1, reason="test")
    spec = tmp_path / "deployment.yaml"
    spec.write_text(
        "name: churn-prod\n"
        f"model: {MODEL}\n"
        "champion: champion\n"
        "canary: {alias: challenger, weight: 40}\n"
        "shadow: {alias: candidate}\n"
    )
    server = ServeProcess(
        home, port, tmp_path / "server.log", "--workers", "2", "--deployment", str(spec)
    )
    try:
        # Only the first ready answer: from then on every worker must answer, since a
        # worker accepts connections only after loading all of its routes.
        server.wait_ready(workers=0)
        http = server.http()
        routes: dict[str, str] = {}
        for i in range(60):
            response = predict(http, f"dep-{i}", close=True)  # a new connection: either worker
            body = response.json()
            expected = route_for(f"dep-{i}", 40.0, salt="churn-prod")
            assert body["route"] == expected, body
            assert body["version"] == (canary if expected == "canary" else 1)
            routes[f"dep-{i}"] = body["route"]
        http.close()
        assert server.terminate() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)
    log = home.predictions.read_predictions(MODEL)
    answered = log[log["route"] != "shadow"]
    assert dict(zip(answered["request_id"], answered["route"], strict=True)) == routes
    shadowed = log[log["route"] == "shadow"]
    assert sorted(shadowed["request_id"]) == sorted(routes)
    assert set(shadowed["version"]) == {shadow}
    assert len(log_pids(home)) == 2, "both workers answered and logged"
    loads = [line for line in server.json_lines() if "serving churn version" in line["message"]]
    assert len(loads) == 6, "each of 2 workers loaded champion, canary and shadow"


def test_sigterm_under_load_keeps_every_shadow_row(
    home: Client, port: int, tmp_path: Path, register_model: Callable[..., int]
) -> None:
    """Concurrent traffic through a deployment with a shadow, SIGTERM right after the last
    answer: every answered request has its answering row and its shadow row in the log
    (found missing by a fresh-user pass: shutdown closed the log while the last batches
    were still writing)."""
    shadow = register_model(home, seed=2)
    home.registry.set_alias(MODEL, "candidate", shadow, reason="test")
    home.registry.set_alias(MODEL, "champion", 1, reason="test")
    spec = tmp_path / "deployment.yaml"
    spec.write_text(f"name: d\nmodel: {MODEL}\nshadow: {{alias: candidate}}\n")
    server = ServeProcess(home, port, tmp_path / "server.log", "--deployment", str(spec))
    answered: list[str] = []
    try:
        server.wait_ready()
        http = server.http()

        def client(worker: int) -> None:
            for i in range(10_000):
                request_id = f"sig-{worker}-{i}"
                try:
                    response = http.post(
                        "/predict", json=[ROW], headers={"X-Request-ID": request_id}
                    )
                except httpx.TransportError:
                    return  # the server stopped taking requests
                if response.status_code != 200:
                    return
                answered.append(request_id)

        with ThreadPoolExecutor(max_workers=8) as pool:
            for worker in range(8):
                pool.submit(client, worker)
            deadline = time.monotonic() + 30
            while len(answered) < 150 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.process.send_signal(signal.SIGTERM)  # in the middle of the traffic
        assert server.terminate() == -signal.SIGTERM
        http.close()
        assert len(answered) >= 150
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)
    log = home.predictions.read_predictions(MODEL)
    assert sorted(log.loc[log["route"] == "champion", "request_id"]) == sorted(answered)
    assert sorted(log.loc[log["route"] == "shadow", "request_id"]) == sorted(answered)
