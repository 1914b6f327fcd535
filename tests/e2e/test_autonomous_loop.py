"""The whole autonomous path against a real ``loopml serve --deployment`` process.

On the shipped flights data: a champion trained on January serves July
traffic (drift) -> the controller retrains a challenger -> the paired gate
passes -> the challenger answers the canary share of live requests -> it is
promoted on live evidence. Then a deliberately bad version (trained on
inverted labels) is forced in as champion by hand -> the controller rolls it
back on its live ROC AUC. The audit chain verifies and carries every
transition with its evidence. Bounded: small windows, one server process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import loopml
from loopml.api import Client
from loopml.automation import Policy, loop_once
from loopml.cli.traffic import free_port, post_feedback, send_rows
from loopml.data.demo import FLIGHTS_LABEL, FLIGHTS_TIME, load_flights
from loopml.settings import Settings
from loopml.store.audit_chain import verify_events

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SRC = str(Path(__file__).resolve().parents[2] / "src")
MODEL = "flights"


class DeploymentServer:
    """``python -m loopml serve --deployment FILE`` on a free port, with a predict+feedback token."""

    def __init__(self, client: Client, deployment: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        _, self.token = client.tokens.create(
            f"e2e-{self.port}", ["predict", "feedback"], reason="e2e"
        )
        env = {**os.environ, **client.settings.as_env(), "PYTHONPATH": SRC}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self._log = log.open("wb")
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loopml", "serve", "--deployment", str(deployment),
             "--port", str(self.port), "--poll-interval", "0.2", "--log-level", "warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait(lambda: httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200)

    def routes(self) -> dict[str, Any]:
        body = httpx.get(f"{self.url}/healthz", timeout=5).json()
        routes: dict[str, Any] = body["deployment"]["routes"]
        return routes

    def wait_route(self, route: str, version: int | None) -> None:
        """Until ``route`` serves ``version`` (``None``: the canary's alias is gone)."""
        def ok() -> bool:
            entry = self.routes()[route]
            return entry["error"] is not None if version is None else entry["version"] == version
        self._wait(ok)

    def _wait(self, condition: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if condition():
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"timed out; server log:\n{self.log.read_text()}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def pipeline_path() -> Iterator[Path]:
    source = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(source) as path:
        yield Path(path)


def _traffic(server: DeploymentServer, client: Client, rows: pd.DataFrame) -> None:
    """Send ``rows`` in time order, post their labels, wait until the log holds them."""
    before = int(client.predictions.count(MODEL))
    features = list(client.registry.load(MODEL, "champion").schema.feature_names)
    ids, _ = send_rows(server.url, rows[features], batch_size=25, token=server.token)
    post_feedback(server.url, ids, rows[FLIGHTS_LABEL].tolist(), token=server.token)
    deadline = time.monotonic() + 30
    while int(client.predictions.count(MODEL)) < before + len(ids):
        assert time.monotonic() < deadline, "prediction log not flushed"
        time.sleep(0.1)


def test_drift_canary_promote_then_rollback_of_a_forced_bad_model(
    tmp_path: Path, pipeline_path: Path
) -> None:
    started = time.monotonic()
    flights = load_flights().rename(columns={FLIGHTS_TIME: "timestamp"})
    client = loopml.connect(Settings.for_home(tmp_path / "home"))
    january = flights[flights["month"] == 1].sample(n=4000, random_state=0)
    first_run = client.run_pipeline(pipeline_path, inputs={"train": january})
    assert first_run.model_version == (MODEL, 1)
    client.registry.set_alias(MODEL, "champion", 1, reason="e2e: first model")
    # `loopml serve --deployment` resolves every alias once at start: the canary alias
    # exists (on the champion) until the controller's first cycle removes it
    client.registry.set_alias(MODEL, "canary", 1, reason="e2e: serve resolves every alias")
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        f"name: flights-prod\nmodel: {MODEL}\ncanary: {{alias: canary, weight: 40}}\n"
    )
    server = DeploymentServer(client, deployment, tmp_path / "server.log")
    policy = Policy.from_dict({
        "model": MODEL, "pipeline": str(pipeline_path),
        "triggers": {"drift_share": 0.3, "performance_drop": None, "min_labelled_rows": 600,
                     "min_rows": 600},
        "window": {"max_rows": 2400},
        "challenger": {"margin": 0.0, "alpha": 0.2, "resamples": 500, "holdout_fraction": 0.3},
        "canary": {"weight": 40, "min_requests": 150, "min_labelled_rows": 100,
                   "max_metric_drop": 0.1, "max_latency_p99_ms": 5000, "max_error_rate": 0.05},
        "rollback": {"metric_drop": 0.1, "min_labelled_rows": 150},
        "serving": {"metrics_url": f"{server.url}/metrics"},
    })
    july = flights[flights["month"] == 7].sample(n=4000, random_state=1)
    july = july.sort_values("timestamp", kind="stable").reset_index(drop=True)
    try:
        # 1. drift appears: July traffic against a January champion
        _traffic(server, client, july.iloc[:2400])
        first = loop_once(client, policy)
        assert first.action == "canary", first.reasons
        assert any("drift share" in r for r in first.reasons)
        challenger = first.challenger_version
        assert challenger == 2 and first.phase == "canary"
        gate = first.evidence["gate"]["gate"] if "gate" in first.evidence.get("gate", {}) else None
        events = client.registry.audit_events(MODEL)
        canary_event = next(e for e in reversed(events) if e.action == "loop.canary")
        assert canary_event.after["evidence"]["gate"]["passed"] is True
        assert canary_event.after["evidence"]["gate"]["p_value"] <= 0.2
        assert gate is None or gate["passed"]
        server.wait_route("canary", challenger)

        # 2. the canary answers its share; after the minimum requests it is promoted
        _traffic(server, client, july.iloc[2400:3200])
        second = loop_once(client, policy)
        assert second.action == "promoted", second.reasons
        assert client.registry.resolve(MODEL, "champion").version == challenger
        server.wait_route("champion", challenger)
        server.wait_route("canary", None)  # canary alias removed: all traffic to the champion
        promoted = next(e for e in reversed(client.registry.audit_events(MODEL))
                        if e.action == "loop.promoted")
        live = promoted.after["evidence"]["canary"]["canary"]
        assert live["canary_requests"] >= 150 and live["comparison"]["labelled_candidate"] >= 100
        assert live["error_rate"] is not None and live["error_rate"] <= 0.05

        # 3. a bad version is forced in by hand; the loop notices and rolls it back
        inverted = july.iloc[:2000].assign(**{FLIGHTS_LABEL: 1 - july[FLIGHTS_LABEL].iloc[:2000]})
        bad = client.run_pipeline(
            pipeline_path, inputs={"train": inverted}, params={"promote.alias": "bad"}
        ).model_version
        assert bad is not None
        client.registry.set_alias(MODEL, "champion", bad[1], reason="e2e: someone forces it in")
        server.wait_route("champion", bad[1])
        _traffic(server, client, july.iloc[3200:3600])
        rollback = loop_once(client, policy)
        assert rollback.action == "rolled_back", rollback.reasons
        assert (rollback.champion_before, rollback.champion_after) == (bad[1], challenger)
        assert client.registry.resolve(MODEL, "champion").version == challenger
        server.wait_route("champion", challenger)
    finally:
        server.stop()

    # 4. the audit chain verifies and tells the story with its evidence
    assert verify_events(client.store.list_events(limit=1_000_000))
    assert client.store.verify_chain()
    loop_actions = [e.action for e in client.registry.audit_events(MODEL)
                    if e.target == f"model:{MODEL}/loop"]
    for action in ("loop.retrained", "loop.canary", "loop.promoted", "loop.watch",
                   "loop.rolled_back"):
        assert loop_actions.count(action) == 1, loop_actions
    back = next(e for e in client.registry.audit_events(MODEL) if e.action == "loop.rolled_back")
    assert back.after["evidence"]["realised_roc_auc"] < back.after["evidence"]["baseline_roc_auc"]
    client.close()
    print(f"e2e autonomous loop: {time.monotonic() - started:.1f} s")
