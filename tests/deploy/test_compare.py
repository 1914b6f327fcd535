"""Canary and shadow against the champion: agreement, metric delta, latency delta."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from loopml.deploy import compare_routes
from loopml.errors import MonitoringError


def _rows(route: str, version: int, ids: list[str], preds: list[int], scores: list[float],
          latency: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"request_id": ids, "version": version, "route": route,
                         "latency_ms": latency, "prediction": preds, "score": scores})


def test_shadow_is_paired() -> None:
    ids = ["a", "b", "c", "d"]
    log = pd.concat([
        _rows("champion", 1, ids, [1, 0, 1, 0], [0.9, 0.2, 0.6, 0.4], [10, 10, 10, 50]),
        _rows("shadow", 2, ids, [1, 0, 0, 0], [0.8, 0.1, 0.3, 0.45], [20, 20, 20, 60]),
    ])
    labels = pd.DataFrame({"request_id": ids, "label": [1, 0, 0, 1]})
    result = compare_routes(log, route="shadow", labels=labels)
    assert result.paired == 4
    assert result.agreement_rate == pytest.approx(0.75)
    y = [1, 0, 0, 1]
    assert result.champion_metric == pytest.approx(roc_auc_score(y, [0.9, 0.2, 0.6, 0.4]))
    assert result.candidate_metric == pytest.approx(roc_auc_score(y, [0.8, 0.1, 0.3, 0.45]))
    assert result.metric_delta == pytest.approx(result.candidate_metric - result.champion_metric)
    assert result.latency_p50_delta_ms == pytest.approx(10.0)
    assert result.champion_versions == (1,) and result.candidate_versions == (2,)
    assert result.findings == ()


def test_canary_has_no_agreement_but_has_metric_and_latency() -> None:
    log = pd.concat([
        _rows("champion", 1, ["a", "b", "c"], [1, 0, 1], [0.9, 0.1, 0.4], [5, 5, 5]),
        _rows("canary", 2, ["d", "e", "f"], [1, 0, 0], [0.7, 0.2, 0.6], [7, 7, 7]),
    ])
    labels = pd.DataFrame({"request_id": list("abcdef"), "label": [1, 0, 0, 1, 0, 1]})
    result = compare_routes(log, route="canary", labels=labels)
    assert result.paired == 0 and result.agreement_rate is None
    assert any("agreement" in f for f in result.findings)
    assert result.champion_metric == pytest.approx(roc_auc_score([1, 0, 0], [0.9, 0.1, 0.4]))
    assert result.candidate_metric == pytest.approx(roc_auc_score([1, 0, 1], [0.7, 0.2, 0.6]))
    assert result.latency_p99_delta_ms == pytest.approx(2.0)
    assert result.to_dict()["agreement_rate"] is None


def test_without_feedback_metric_waits() -> None:
    log = pd.concat([
        _rows("champion", 1, ["a"], [1], [0.9], [5]),
        _rows("shadow", 2, ["a"], [1], [0.8], [6]),
    ])
    result = compare_routes(log, route="shadow")
    assert result.metric_delta is None
    assert "no feedback yet" in " ".join(result.findings)


@pytest.mark.parametrize("route", ["champion", "blue"])
def test_unknown_route(route: str) -> None:
    with pytest.raises(MonitoringError, match="route must be"):
        compare_routes(pd.DataFrame(), route=route)


def test_empty_window_is_a_clear_error() -> None:
    log = _rows("champion", 1, ["a"], [1], [0.9], [5])
    with pytest.raises(MonitoringError, match="0 shadow"):
        compare_routes(log, route="shadow")


def test_champion_rows_before_the_canary_are_left_out() -> None:
    before = _rows("champion", 1, ["old1", "old2"], [0, 0], [0.1, 0.2], [100, 100])
    before["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC")
    during = _rows("champion", 1, ["a", "b"], [1, 0], [0.9, 0.1], [5, 5])
    canary = _rows("canary", 2, ["c", "d"], [1, 0], [0.8, 0.3], [6, 6])
    for frame in (during, canary):
        frame["timestamp"] = pd.Timestamp("2026-02-01", tz="UTC")
    result = compare_routes(pd.concat([before, during, canary]), route="canary")
    assert result.n_champion == 2
    assert result.latency_p50_delta_ms == pytest.approx(1.0)  # 100 ms rows not counted
    assert any("2 champion rows from before the first canary row" in f for f in result.findings)
