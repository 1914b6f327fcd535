"""Live judgements of a canary and of a new champion, and error rates from /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from loopml.automation.live import error_counts, error_rate, judge_canary, judge_rollback
from loopml.automation.policy import CanaryStage, RollbackRule

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _rows(route: str, version: int, n: int, *, good: bool, latency: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    signal = label if good else 1 - label
    score = np.clip(0.5 + 0.3 * (signal - 0.5) + rng.normal(0, 0.2, n), 0, 1)
    return pd.DataFrame({
        "request_id": [f"{route}-{version}-{seed}-{i}" for i in range(n)],
        "version": version, "route": route,
        "timestamp": [T0 + timedelta(seconds=i) for i in range(n)],
        "latency_ms": latency, "prediction": (score >= 0.5).astype(int), "score": score,
        "label": label,
    })


def _split(*frames: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = pd.concat(frames, ignore_index=True)
    return rows.drop(columns="label"), rows[["request_id", "label"]]


def test_canary_waits_for_its_minimum_then_holds() -> None:
    stage = CanaryStage(min_requests=200, min_labelled_rows=100, max_metric_drop=0.05,
                        max_latency_p99_ms=50)
    predictions, labels = _split(_rows("champion", 1, 400, good=True, latency=5, seed=1),
                                 _rows("canary", 2, 150, good=True, latency=6, seed=2))
    waiting = judge_canary(predictions, labels, challenger=2, stage=stage)
    assert waiting.ok is None and waiting.reasons == ("canary has 150 of 200 requests",)
    predictions, labels = _split(_rows("champion", 1, 400, good=True, latency=5, seed=1),
                                 _rows("canary", 2, 250, good=True, latency=6, seed=2),
                                 _rows("canary", 9, 500, good=False, latency=6, seed=3))
    held = judge_canary(predictions, labels, challenger=2, stage=stage)
    assert held.ok is True, held.reasons
    assert held.evidence["canary_requests"] == 250  # rows of another canary version ignored
    comparison = held.evidence["comparison"]
    canary = predictions.merge(labels).query("route == 'canary' and version == 2")
    assert comparison["candidate_metric"] == pytest.approx(
        roc_auc_score(canary["label"], canary["score"])
    )


def test_canary_breaks_on_metric_and_latency() -> None:
    stage = CanaryStage(min_requests=100, min_labelled_rows=50, max_metric_drop=0.05,
                        max_latency_p99_ms=50)
    predictions, labels = _split(_rows("champion", 1, 300, good=True, latency=5, seed=1),
                                 _rows("canary", 2, 200, good=False, latency=80, seed=2))
    broken = judge_canary(predictions, labels, challenger=2, stage=stage)
    assert broken.ok is False
    assert any("trails the champion" in r for r in broken.reasons)
    assert any("p99 latency 80.0 ms > 50" in r for r in broken.reasons)


def test_canary_error_rate_needs_counts() -> None:
    stage = CanaryStage(min_requests=100, max_metric_drop=None, max_error_rate=0.01)
    predictions, labels = _split(_rows("champion", 1, 300, good=True, latency=5, seed=1),
                                 _rows("canary", 2, 200, good=True, latency=5, seed=2))
    assert judge_canary(predictions, labels, challenger=2, stage=stage).ok is None
    assert judge_canary(predictions, labels, challenger=2, stage=stage,
                        error_rates={"2": 0.0}).ok is True
    bad = judge_canary(predictions, labels, challenger=2, stage=stage, error_rates={"2": 0.2})
    assert bad.ok is False and bad.reasons == ("error rate 0.2000 of v2 > 0.01",)


def test_rollback_against_the_previous_champions_baseline() -> None:
    rule = RollbackRule(metric_drop=0.05, min_labelled_rows=100)
    predictions, labels = _split(_rows("champion", 3, 60, good=False, latency=5, seed=4))
    assert judge_rollback(predictions, labels, version=3, baseline=0.8, rule=rule).ok is None
    predictions, labels = _split(_rows("champion", 3, 300, good=False, latency=5, seed=4))
    check = judge_rollback(predictions, labels, version=3, baseline=0.8, rule=rule)
    assert check.ok is False and "below the previous champion's 0.8000" in check.reasons[0]
    assert check.evidence["realised_roc_auc"] < 0.5 and check.evidence["labelled_rows"] == 300
    fine, labels = _split(_rows("champion", 3, 300, good=True, latency=5, seed=4))
    assert judge_rollback(fine, labels, version=3, baseline=0.8, rule=rule).ok is True
    # no baseline (the previous champion had no labelled rows): only the other criteria
    assert judge_rollback(predictions, labels, version=3, baseline=None, rule=rule).ok is True


METRICS = """\
# TYPE loopml_requests_total counter
loopml_requests_total{{model="m",route="/predict",status="200",version="1"}} {a}
loopml_requests_total{{model="m",route="/predict",status="200",version="2"}} {b}
loopml_requests_total{{model="m",route="/predict",status="500",version=""}} {err}
loopml_requests_total{{model="m",route="/predict",status="422",version=""}} 40.0
loopml_requests_total{{model="m",route="/v2/models/{{name}}/infer",status="200",version="2"}} 5.0
loopml_requests_total{{model="m",route="/feedback",status="500",version=""}} 9.0
"""


def test_error_rate_from_prometheus_counters() -> None:
    then = error_counts(METRICS.format(a=100.0, b=10.0, err=1.0))
    assert then == {"1": {"ok": 100.0, "error": 0.0}, "2": {"ok": 15.0, "error": 0.0},
                    "": {"ok": 0.0, "error": 1.0}}
    now = error_counts(METRICS.format(a=200.0, b=100.0, err=10.0))
    rate, total = error_rate(now, then, "2")
    assert (rate, total) == (pytest.approx(9 / 99), 99)  # 9 new 5xx against 90 new answers
    # the server restarted: counters start again from zero
    restarted = error_counts(METRICS.format(a=5.0, b=5.0, err=0.0))
    assert error_rate(restarted, then, "2") == (0.0, 10)
    assert error_rate({}, {}, "2") == (None, 0)
