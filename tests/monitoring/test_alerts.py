"""Alerts: rules from YAML, evaluation on real reports, cooldown, real HTTP delivery, gauges.

Webhooks are delivered to a real HTTP server started on 127.0.0.1 in the test
(``http.server`` in a thread); "does not answer" is a listening socket that
never accepts, so the client's read times out.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import loopml.monitoring.alerts as alerts_pkg
from loopml.errors import ConfigurationError
from loopml.monitoring import MonitoringReport, compute_drift, realised_performance
from loopml.monitoring.alerts import (
    AlertConfig,
    AlertRule,
    Channel,
    check_rules,
    deliver,
    evaluate,
    lookup_metric,
    monitored_values,
    run_alerts,
    set_alert_gauges,
    slack_body,
)
from loopml.schema import Schema
from loopml.store import MemoryStore, open_store

FrameMaker = Callable[..., pd.DataFrame]
T0 = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
LOGGER = "loopml.monitoring.alerts"


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def report(schema: Schema, make_frame: FrameMaker) -> MonitoringReport:
    """A real report: income and city drifted (2 of 5 tested columns), ROC AUC 0.75."""
    drift = compute_drift(
        make_frame(500, shifted=False, seed=1), make_frame(400, shifted=True, seed=2), schema
    )
    return MonitoringReport(
        model="churn",
        version=3,
        alias="champion",
        window_start=datetime(2024, 5, 1, tzinfo=UTC),
        window_end=datetime(2024, 5, 2, tzinfo=UTC),
        drift=drift,
        performance=realised_performance([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]),
        labelled_rows=4,
        created_at=T0,
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A local HTTP server that records POSTs and answers with scripted statuses."""

    url: str
    statuses: list[int]
    requests: list[Received] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        receiver = self.server.receiver
        receiver.requests.append(
            Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body))
        )
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        answer = b"ok" if status < 300 else b"receiver says no"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """``receiver(*statuses)`` starts a server on a free port of 127.0.0.1."""
    servers: list[_Server] = []

    def start(*statuses: int) -> Receiver:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hook", list(statuses))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server.receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts TCP connections (kernel backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def _config(*rules: AlertRule, **channels: Channel) -> AlertConfig:
    return AlertConfig(rules=rules, channels={"log": alerts_pkg.LOG_CHANNEL, **channels})


def _hook(url: str, *, kind: str = "webhook", name: str = "hook", **options: Any) -> Channel:
    options = {"retries": 2, "backoff_seconds": 0.01, "timeout_seconds": 2.0, **options}
    return Channel(name=name, kind=kind, url=url, **options)


# ------------------------------------------------------------------ YAML

GOOD_YAML = """
channels:
  team-slack:
    type: slack
    url_env: TEST_SLACK_URL
  ops:
    type: webhook
    url: https://alerts.example.com/loopml
    headers: {Authorization: "Bearer s3cret"}
    timeout_seconds: 3
    retries: 1
    backoff_seconds: 0.25
rules:
  - name: drift-share-high
    metric: drift.share_drifted
    operator: ">="
    threshold: 0.3
    severity: critical
    cooldown_seconds: 600
    channels: [log, team-slack, ops]
    description: Many features drifted.
  - name: auc-low
    metric: performance.roc_auc
    operator: "<"
    threshold: 0.7
"""


def test_yaml_file_is_parsed_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(GOOD_YAML)
    env = {"TEST_SLACK_URL": "https://hooks.slack.com/services/T/B/secret"}
    config = AlertConfig.from_yaml(path, environ=env)
    first, second = config.rules
    assert (first.name, first.metric, first.operator, first.threshold) == (
        "drift-share-high",
        "drift.share_drifted",
        ">=",
        0.3,
    )
    assert (first.severity, first.cooldown_seconds, first.channels) == (
        "critical",
        600.0,
        ("log", "team-slack", "ops"),
    )
    assert first.description == "Many features drifted."
    assert (second.severity, second.cooldown_seconds, second.channels) == (
        "warning",
        3600.0,
        ("log",),
    )
    slack, ops = config.channels["team-slack"], config.channels["ops"]
    assert (slack.kind, slack.url) == ("slack", env["TEST_SLACK_URL"])
    assert (ops.kind, ops.timeout_seconds, ops.retries, ops.backoff_seconds) == (
        "webhook",
        3.0,
        1,
        0.25,
    )
    assert ops.headers == {"Authorization": "Bearer s3cret"}
    assert [c.name for c in config.channels_of(first)] == ["log", "team-slack", "ops"]
    # secrets stay out of repr (and so out of logs and tracebacks)
    assert "secret" not in repr(config) and "s3cret" not in repr(config)


RULE = "  - {name: r, metric: drift.share_drifted, operator: '>=', threshold: 0.3}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []\n", r"field 'rules' must be a non-empty list"),
        ("- a\n", r"must be a mapping with a 'rules' list"),
        ("rules:\n" + RULE + "extra: 1\n", r"unknown field\(s\) in .*alerts.yaml: extra"),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>=', thresold: 1}\n",
            r"unknown field\(s\) in .*alerts.yaml rules\[0\] \(rule 'r'\): thresold",
        ),
        (
            "rules:\n" + RULE + "  - {name: s, metric: m.x, operator: '<'}\n",
            r"alerts.yaml: rule 's': field 'rules\[1\]\.threshold' is required",
        ),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: high}\n",
            r"rule 'r': field 'rules\[0\]\.threshold' must be a finite number, got 'high'",
        ),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: .nan}\n",
            r"threshold' must be a finite number",
        ),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: true}\n",
            r"threshold' must be a finite number, got True",
        ),
        # a bare > starts a YAML folded block: the operator arrives as an empty string
        (
            "rules:\n  - name: r\n    metric: m.x\n    operator: >\n    threshold: 1\n",
            (
                r"rules\[0\]: alert rule 'r': operator must be one of '>', '>=', '<', '<=' "
                r"\(quote it in YAML"
            ),
        ),
        ("rules:\n  - name: r\n    operator: >=\n", r"is not valid YAML"),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: 1, severity: loud}\n",
            r"alert rule 'r': severity must be one of info, warning, critical, got 'loud'",
        ),
        (
            (
                "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: 1,"
                " cooldown_seconds: -5}\n"
            ),
            r"alert rule 'r': cooldown_seconds must be >= 0",
        ),
        (
            "rules:\n  - {name: r, metric: 'drift..x', operator: '>', threshold: 1}\n",
            r"alert rule 'r': metric must be a dotted path",
        ),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: 1, channels: [pager]}\n",
            r"alert rule 'r' names undefined channel\(s\) pager \(defined: log\)",
        ),
        (
            "rules:\n  - {name: r, metric: m.x, operator: '>', threshold: 1, channels: log}\n",
            r"rule 'r': field 'rules\[0\]\.channels' must be a list of channel names",
        ),
        ("rules:\n" + RULE + RULE, r"alert rule name 'r' is used twice"),
        (
            "rules:\n  - {metric: m.x, operator: '>', threshold: 1}\n",
            r"name",
        ),
        (
            "channels:\n  hook: {type: email, url: 'https://x.org'}\nrules:\n" + RULE,
            r"channel 'hook': type must be one of log, webhook, slack, got 'email'",
        ),
        (
            "channels:\n  hook: {type: webhook, url: 'ftp://x.org'}\nrules:\n" + RULE,
            r"channel 'hook': url must be an http:// or https:// address",
        ),
        (
            "channels:\n  hook: {type: slack, url_env: NOT_SET_ANYWHERE}\nrules:\n" + RULE,
            r"channels.hook: environment variable NOT_SET_ANYWHERE \(url_env\) is not set",
        ),
        (
            "channels:\n  log: {type: webhook, url: 'https://x.org'}\nrules:\n" + RULE,
            r"channel name 'log' is not allowed",
        ),
        (
            "channels:\n  hook: {type: webhook, url: 'https://x.org', retries: 1.5}\nrules:\n"
            + RULE,
            r"'channels.hook.retries' must be an integer, got 1.5",
        ),
    ],
)
def test_bad_yaml_names_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as caught:
        AlertConfig.from_yaml(path, environ={})
    assert str(path) in str(caught.value)


def test_docs_example_is_a_valid_alerts_file(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
    example = docs.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "alerts.yaml"
    path.write_text(example)
    config = AlertConfig.from_yaml(path, environ={"LOOPML_SLACK_WEBHOOK_URL": "https://h.x/s"})
    assert [r.name for r in config.rules] == [
        "drift-share-high",
        "distance-drift",
        "auc-below-target",
    ]
    assert sorted(config.channels) == ["log", "ops", "team-slack"]


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read alerts file"):
        AlertConfig.from_yaml(tmp_path / "nope.yaml")


# ------------------------------------------------------------------ metric paths


def test_paths_read_the_real_report(report: MonitoringReport) -> None:
    data = report.to_dict()
    income = next(c for c in report.drift.columns if c.name == "income")
    assert lookup_metric(data, "drift.share_drifted").value == pytest.approx(
        report.drift.share_drifted
    )
    assert report.drift.share_drifted == pytest.approx(0.4)  # 2 of 5 tested columns
    assert lookup_metric(data, "drift.columns.income.statistic").value == income.statistic
    assert lookup_metric(data, "drift.columns.city.drifted").value == 1.0
    assert lookup_metric(data, "drift.columns.age.drifted").value == 0.0
    assert lookup_metric(data, "performance.roc_auc").value == 0.75
    assert lookup_metric(data, "labelled_rows").value == 4.0
    values = monitored_values(data)
    assert monitored_values(report) == values  # the report object works too
    assert values["drift.columns.income.statistic"] == income.statistic
    assert values["drift.dataset_drift"] == 0.0 and values["performance.accuracy"] == 0.5
    assert "schema_version" not in values and "version" not in values
    assert all(math.isfinite(v) for v in values.values())


def test_dotted_column_names_and_estimated_quality_sections() -> None:
    data = {
        "drift": {
            "columns": [{"name": "dep", "statistic": 0.1}, {"name": "dep.delay", "statistic": 0.7}]
        },
        "estimated": {"roc_auc": 0.66},
        "quality": {"columns": [{"name": "age", "missing_share": 0.25}]},
    }
    assert lookup_metric(data, "drift.columns.dep.delay.statistic").value == 0.7
    assert lookup_metric(data, "drift.columns.dep.statistic").value == 0.1
    assert lookup_metric(data, "estimated.roc_auc").value == 0.66
    assert lookup_metric(data, "quality.columns.age.missing_share").value == 0.25


def test_unreadable_paths_are_findings(report: MonitoringReport) -> None:
    data = report.to_dict()
    typo = lookup_metric(data, "drift.share_drift")
    assert typo.value is None and "did you mean 'drift.share_drifted'" in str(typo.finding)
    estimated = lookup_metric(data, "estimated.roc_auc").finding
    assert estimated is not None and "'estimated' is null in the report" in estimated
    assert "not a number" in str(lookup_metric(data, "verdict").finding)
    unlabelled = {**data, "performance": None}
    assert lookup_metric(unlabelled, "performance.roc_auc").finding == (
        "'performance' is null in the report"
    )
    # the report's own finding explains a null statistic
    string_column = lookup_metric(data, "drift.columns.customer_id.statistic").finding
    assert string_column is not None and "missing from the reference window" in string_column
    assert "not finite" in str(lookup_metric({"x": math.inf}, "x").finding)


# ------------------------------------------------------------------ evaluation


@pytest.mark.parametrize(
    ("operator", "fires_below", "fires_at", "fires_above"),
    [
        (">", False, False, True),
        (">=", False, True, True),
        ("<", True, False, False),
        ("<=", True, True, False),
    ],
)
def test_operators(operator: str, fires_below: bool, fires_at: bool, fires_above: bool) -> None:
    rule = AlertRule("r", "x", operator, 0.5)
    assert [rule.crosses(v) for v in (0.4, 0.5, 0.6)] == [fires_below, fires_at, fires_above]
    assert not rule.crosses(math.nan) and not rule.crosses(
        math.inf if operator[0] == ">" else -math.inf
    )


def test_evaluate_real_report(report: MonitoringReport) -> None:
    rules = [
        AlertRule("drift-high", "drift.share_drifted", ">=", 0.3, severity="critical"),
        AlertRule("drift-extreme", "drift.share_drifted", ">", 0.9),
        AlertRule("income", "drift.columns.income.statistic", ">", 0.0),
        AlertRule("auc-low", "performance.roc_auc", "<", 0.8),
        AlertRule("est", "estimated.roc_auc", "<", 0.8),
    ]
    alerts = evaluate(rules, report, model="churn", now=T0)
    assert [a.rule.name for a in alerts] == ["drift-high", "income", "auc-low"]
    first = alerts[0]
    assert (first.model, first.threshold) == ("churn", 0.3)
    assert first.value == pytest.approx(0.4)
    assert (first.version, first.alias, first.fired_at) == (3, "champion", T0)
    assert (first.window_start, first.window_end) == (
        "2024-05-01T00:00:00+00:00",
        "2024-05-02T00:00:00+00:00",
    )
    assert first.reason == "drift.share_drifted = 0.4, >= threshold 0.3"
    body = first.to_dict()
    assert body["severity"] == "critical" and body["window"]["start"].startswith("2024-05-01")
    assert body["fired_at"] == "2024-05-02T12:00:00+00:00"
    # a dict report works the same as the object
    assert [a.rule.name for a in evaluate(rules, report.to_dict(), model="churn", now=T0)] == [
        "drift-high",
        "income",
        "auc-low",
    ]
    checks = check_rules(rules, report)
    assert [c.firing for c in checks] == [True, False, True, True, False]
    assert checks[4].value is None
    assert "alert rule 'est' not evaluated" in str(checks[4].finding)


def test_non_finite_values_never_fire_nor_reach_json() -> None:
    data = {"model": "m", "drift": {"share_drifted": math.nan, "n": math.inf}, "ok": 2.0}
    rules = [
        AlertRule("nan", "drift.share_drifted", "<", 1.0),
        AlertRule("inf", "drift.n", ">", 0.0),
        AlertRule("ok", "ok", ">", 1.0),
    ]
    alerts = evaluate(rules, data, model="m", now=T0)
    assert [a.rule.name for a in alerts] == ["ok"]
    checks = check_rules(rules, data)
    assert [c.finding is not None for c in checks] == [True, True, False]
    for alert in alerts:
        json.dumps(alert.to_dict(), allow_nan=False)
        json.dumps(slack_body(alert), allow_nan=False)
    assert monitored_values(data) == {"ok": 2.0}


# ------------------------------------------------------------------ cooldown


def test_cooldown_across_evaluations_with_an_injected_clock(
    report: MonitoringReport, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    config = _config(
        AlertRule("drift-high", "drift.share_drifted", ">=", 0.3, cooldown_seconds=3600)
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        first = run_alerts(config, report, store=store, now=T0)
        second = run_alerts(config, report, store=store, now=T0 + timedelta(minutes=30))
        other_model = run_alerts(
            config, report, store=store, model="other", now=T0 + timedelta(minutes=30)
        )
        third = run_alerts(config, report, store=store, now=T0 + timedelta(minutes=61))
    assert [len(r.fired) for r in (first, second, other_model, third)] == [1, 0, 1, 1]
    assert [len(r.suppressed) for r in (first, second, other_model, third)] == [0, 1, 0, 0]
    event = first.fired[0].event
    assert (event.model, event.rule, event.status, event.delivered) == (
        "churn",
        "drift-high",
        "delivered",
        ("log",),
    )
    assert event.payload == first.fired[0].alert.to_dict()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # one per fired alert, none for the suppressed one
    assert "drift-high" in warnings[0].getMessage() and "churn" in warnings[0].getMessage()
    assert any("suppressed" in r.getMessage() for r in caplog.records)
    assert [e.fired_at for e in store.list_alert_events(model="churn")] == [
        T0 + timedelta(minutes=61),
        T0,
    ]


def test_cooldown_holds_across_store_connections(report: MonitoringReport, sqlite_url: str) -> None:
    config = _config(AlertRule("drift-high", "drift.share_drifted", ">=", 0.3))
    store = open_store(sqlite_url)
    try:
        assert len(run_alerts(config, report, store=store, now=T0).fired) == 1
    finally:
        store.close()
    again = open_store(sqlite_url)  # as a later `loopml monitor` process would
    try:
        later = run_alerts(config, report, store=again, now=T0 + timedelta(minutes=5))
        assert (len(later.fired), len(later.suppressed)) == (0, 1)
    finally:
        again.close()


def test_findings_are_logged_not_raised(
    report: MonitoringReport, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(AlertRule("est", "estimated.roc_auc", "<", 0.8))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        run = run_alerts(config, report, store=MemoryStore(), now=T0)
    assert run.fired == () and "est" in run.findings
    assert "'estimated' is null in the report" in run.findings["est"]
    assert any("alert rule 'est' not evaluated" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ real delivery


def test_webhook_and_slack_receive_the_alert(
    report: MonitoringReport, receiver: Callable[..., Receiver]
) -> None:
    hook, slack = receiver(), receiver()
    config = _config(
        AlertRule(
            "drift-high",
            "drift.share_drifted",
            ">=",
            0.3,
            severity="critical",
            channels=("log", "hook", "slack"),
            description="Features <moved> & more",
        ),
        hook=_hook(hook.url, headers={"Authorization": "Bearer t0ken"}),
        slack=_hook(slack.url, kind="slack", name="slack"),
    )
    store = MemoryStore()
    run = run_alerts(config, report, store=store, now=T0)
    assert len(run.fired) == 1 and run.failed_deliveries == []
    alert = run.fired[0].alert
    # generic webhook: the alert's JSON, as documented
    [got] = hook.requests
    assert got.path == "/hook" and got.headers["content-type"] == "application/json"
    assert got.headers["authorization"] == "Bearer t0ken"
    assert got.body == alert.to_dict()
    assert got.body["rule"] == "drift-high" and got.body["model"] == "churn"
    assert got.body["value"] == pytest.approx(0.4) and got.body["threshold"] == 0.3
    assert got.body["operator"] == ">=" and got.body["type"] == "loopml.alert"
    # Slack: text + blocks, mrkdwn escaped
    [posted] = slack.requests
    body = posted.body
    assert set(body) == {"text", "blocks"}
    assert body["text"] == (
        "[CRITICAL] churn v3 (champion): drift-high: drift.share_drifted = 0.4, &gt;= threshold 0.3"
    )
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
    header = body["blocks"][0]["text"]
    assert header == {
        "type": "plain_text",
        "text": ":rotating_light: CRITICAL: drift-high",
        "emoji": True,
    }
    section = body["blocks"][1]
    assert "Features &lt;moved&gt; &amp; more" in section["text"]["text"]
    assert {f["text"] for f in section["fields"]} == {
        "*Model*\nchurn v3 (champion)",
        "*Metric*\ndrift.share_drifted",
        "*Value*\n0.4",
        "*Threshold*\n&gt;= 0.3",
    }
    assert "2024-05-01T00:00:00+00:00" in body["blocks"][2]["elements"][0]["text"]
    event = store.list_alert_events()[0]
    assert (event.status, event.delivered, event.failed) == (
        "delivered",
        ("log", "hook", "slack"),
        {},
    )


def test_server_error_is_retried_then_recorded_as_failed(
    report: MonitoringReport,
    receiver: Callable[..., Receiver],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, flaky, picky = receiver(500, 500, 500, 500), receiver(503), receiver(400)
    config = _config(
        AlertRule(
            "drift-high",
            "drift.share_drifted",
            ">=",
            0.3,
            channels=("log", "broken", "flaky", "picky"),
        ),
        broken=_hook(broken.url, name="broken"),
        flaky=_hook(flaky.url, name="flaky"),
        picky=_hook(picky.url, name="picky"),
    )
    store = MemoryStore()
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        run = run_alerts(config, report, store=store, now=T0)
    deliveries = {d.channel: d for d in run.fired[0].deliveries}
    assert (len(broken.requests), len(flaky.requests), len(picky.requests)) == (3, 2, 1)
    assert (deliveries["broken"].ok, deliveries["broken"].attempts) == (False, 3)
    assert deliveries["broken"].status_code == 500
    assert "HTTP 500" in str(deliveries["broken"].error)
    assert (deliveries["flaky"].ok, deliveries["flaky"].attempts) == (True, 2)
    assert (deliveries["picky"].ok, deliveries["picky"].attempts) == (False, 1)  # 4xx: final
    event = store.list_alert_events()[0]
    assert event.status == "partial" and event.delivered == ("log", "flaky")
    assert set(event.failed) == {"broken", "picky"}
    assert "after 3 attempts" in event.failed["broken"]
    assert [name for name, _ in run.failed_deliveries] == ["drift-high", "drift-high"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and "channel broken" in errors[0]
    assert broken.url not in " ".join(errors)


def test_silent_receiver_times_out_and_monitoring_continues(
    report: MonitoringReport, receiver: Callable[..., Receiver], silent_url: str
) -> None:
    healthy = receiver()
    config = _config(
        AlertRule("drift-high", "drift.share_drifted", ">=", 0.3, channels=("silent",)),
        AlertRule("auc-low", "performance.roc_auc", "<", 0.8, channels=("healthy",)),
        silent=_hook(silent_url, name="silent", timeout_seconds=0.3, retries=1),
        healthy=_hook(healthy.url, name="healthy"),
    )
    store = MemoryStore()
    started = time.monotonic()
    run = run_alerts(config, report, store=store, now=T0)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0  # 2 attempts x 0.3 s + backoff, not a hang
    silent, healthy_delivery = (f.deliveries[0] for f in run.fired)
    assert (silent.ok, silent.attempts, silent.status_code) == (False, 2, None)
    assert "Timeout" in str(silent.error)
    assert healthy_delivery.ok and len(healthy.requests) == 1  # the next rule still went out
    statuses = {e.rule: e.status for e in store.list_alert_events()}
    assert statuses == {"drift-high": "failed", "auc-low": "delivered"}


def test_failed_alert_does_not_start_a_cooldown(
    report: MonitoringReport, receiver: Callable[..., Receiver]
) -> None:
    port_holder = socket.socket()
    port_holder.bind(("127.0.0.1", 0))
    refused_url = f"http://127.0.0.1:{port_holder.getsockname()[1]}/hook"
    port_holder.close()  # nothing listens there now: connection refused
    rule = AlertRule("drift-high", "drift.share_drifted", ">=", 0.3, channels=("hook",))
    store = MemoryStore()
    down = run_alerts(
        _config(rule, hook=_hook(refused_url, retries=1)), report, store=store, now=T0
    )
    assert down.fired[0].event.status == "failed"
    assert "ConnectError" in down.fired[0].event.failed["hook"]
    up = receiver()
    retried = run_alerts(
        _config(rule, hook=_hook(up.url)), report, store=store, now=T0 + timedelta(minutes=1)
    )
    assert retried.fired[0].event.status == "delivered" and len(up.requests) == 1
    later = run_alerts(
        _config(rule, hook=_hook(up.url)), report, store=store, now=T0 + timedelta(minutes=2)
    )
    assert later.fired == () and len(later.suppressed) == 1


def test_deliver_never_raises(report: MonitoringReport) -> None:
    [alert] = evaluate(
        [AlertRule("r", "drift.share_drifted", ">", 0.1)], report, model="churn", now=T0
    )
    channel = _hook("http://127.0.0.1:1/hook", retries=0)
    with httpx.Client() as client:
        result = deliver(alert, channel, client=client)
    assert not result.ok and result.attempts == 1 and result.error is not None


# ------------------------------------------------------------------ Prometheus


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_gauges_render_values_and_firing_rules(report: MonitoringReport) -> None:
    registry = CollectorRegistry()
    config = _config(
        AlertRule("drift-high", "drift.share_drifted", ">=", 0.3),
        AlertRule("auc-low", "performance.roc_auc", "<", 0.5),
        AlertRule("est", "estimated.roc_auc", "<", 0.5),
    )
    run_alerts(config, report, store=MemoryStore(), now=T0, registry=registry)
    samples = _samples(registry)
    share = ("loopml_monitored_value", (("metric", "drift.share_drifted"), ("model", "churn")))
    assert samples[share] == pytest.approx(0.4)
    income = next(c for c in report.drift.columns if c.name == "income")
    key = (
        "loopml_monitored_value",
        (("metric", "drift.columns.income.statistic"), ("model", "churn")),
    )
    assert samples[key] == pytest.approx(income.statistic)
    firing = {
        dict(labels)["rule"]: value
        for (name, labels), value in samples.items()
        if name == "loopml_alert_firing"
    }
    assert firing == {"drift-high": 1.0, "auc-low": 0.0, "est": 0.0}
    # a second pass on the same registry replaces the model's series; vanished ones go
    fewer = {"drift.share_drifted": 0.1}
    set_alert_gauges(
        registry,
        model="churn",
        values=fewer,
        checks=check_rules(
            [AlertRule("drift-high", "drift.share_drifted", ">=", 0.3)], {"drift": fewer}
        ),
    )
    samples = _samples(registry)
    assert samples[share] == pytest.approx(0.1) and key not in samples
    assert [
        dict(labels)["rule"] for (name, labels) in samples if name == "loopml_alert_firing"
    ] == ["drift-high"]
    assert samples[("loopml_alert_firing", (("model", "churn"), ("rule", "drift-high")))] == 0.0


def test_package_table_of_contents() -> None:
    assert sorted(alerts_pkg.__all__) == sorted(
        [
            "ALERT_FIRING",
            "ALERT_LOGGER",
            "ALERT_SCHEMA_VERSION",
            "LOG_CHANNEL",
            "MONITORED_VALUE",
            "OPERATORS",
            "SEVERITIES",
            "Alert",
            "AlertConfig",
            "AlertRule",
            "AlertRun",
            "Channel",
            "Delivery",
            "FiredAlert",
            "MetricLookup",
            "RuleCheck",
            "check_rules",
            "deliver",
            "evaluate",
            "lookup_metric",
            "monitored_values",
            "run_alerts",
            "set_alert_gauges",
            "slack_body",
            "webhook_body",
        ]
    )
    for name in alerts_pkg.__all__:
        assert getattr(alerts_pkg, name) is not None
    assert callable(alerts_pkg.evaluate)  # the function, not a submodule of that name
