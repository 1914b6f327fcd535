"""Live evidence: is a canary good enough to promote, has a new champion to be rolled back?

Both judgements read the prediction log (rows name the route and version that
answered, and the latency) and the feedback joined to it:

- **canary**: rows of route ``canary`` answered by the challenger against rows
  of route ``champion`` over the same period (:func:`loopml.deploy.compare_routes`);
  judged once ``min_requests`` canary rows were logged, the metric once
  ``min_labelled_rows`` of them have feedback.
- **rollback**: rows answered by the new champion since it became champion,
  against the previous champion's realised metric before that (the baseline,
  fixed when the change was noticed).

The live metric is ROC AUC. Error rates come from the server's Prometheus
counter ``loopml_requests_total`` (``serving.metrics_url``), as differences
from a snapshot taken when the stage began. A 5xx response that names no
model version (the model failed before answering) is counted against the
version being judged, so the rate is an upper bound.

A judgement is ``ok=None`` while the evidence is short of its minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loopml.automation.policy import CanaryStage, RollbackRule
from loopml.automation.window import score_metric
from loopml.deploy import compare_routes
from loopml.errors import MonitoringError

__all__ = ["LiveCheck", "error_counts", "error_rate", "judge_canary", "judge_rollback"]

_PREDICTION_PATHS = ("/predict", "/infer")


@dataclass(frozen=True)
class LiveCheck:
    """``ok``: criteria hold (True), broken (False) or not enough evidence yet (None)."""

    ok: bool | None
    reasons: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)


def judge_canary(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    challenger: int,
    stage: CanaryStage,
    error_rates: Mapping[str, float | None] | None = None,
) -> LiveCheck:
    """Judge the canary route (rows since the canary started) against the champion route.

    Parameters
    ----------
    predictions : DataFrame
        Logged predictions since the canary started (``route``, ``version``,
        ``latency_ms``, ``score``, ``request_id``, ``timestamp``).
    labels : DataFrame
        Feedback (``request_id``, ``label``).
    challenger : int
        The canary's version; canary rows of other versions are ignored.
    stage : CanaryStage
    error_rates : mapping, optional
        Version -> 5xx share since the canary started (:func:`error_rate`);
        ``None`` when unavailable (then ``max_error_rate`` waits).
    """
    canary = (predictions["route"] == "canary") & (predictions["version"] == challenger)
    frame = predictions[canary | (predictions["route"] == "champion")]
    n = int(canary.sum())
    evidence: dict[str, Any] = {"canary_requests": n, "min_requests": stage.min_requests}
    if n < stage.min_requests:
        return LiveCheck(None, (f"canary has {n} of {stage.min_requests} requests",), evidence)
    try:
        comparison = compare_routes(frame, route="canary", labels=labels)
    except MonitoringError as exc:
        return LiveCheck(None, (f"canary cannot be compared yet: {exc}",), evidence)
    evidence["comparison"] = comparison.to_dict()
    broken, waiting = [], []
    if stage.max_metric_drop is not None:
        labelled = comparison.labelled_candidate
        if labelled < stage.min_labelled_rows or comparison.metric_delta is None:
            waiting.append(f"canary has {labelled} of {stage.min_labelled_rows} labelled rows "
                           "with both classes on both routes")
        elif comparison.metric_delta < -stage.max_metric_drop:
            broken.append(
                f"canary roc_auc {comparison.candidate_metric:.4f} trails the champion's "
                f"{comparison.champion_metric:.4f} by more than {stage.max_metric_drop}"
            )
    p99 = _p99(predictions[canary])
    evidence["latency_p99_ms"] = p99
    if stage.max_latency_p99_ms is not None and p99 > stage.max_latency_p99_ms:
        broken.append(f"canary p99 latency {p99:.1f} ms > {stage.max_latency_p99_ms} ms")
    if stage.max_error_rate is not None:
        broken, waiting = _errors(
            error_rates, str(challenger), stage.max_error_rate, evidence, broken, waiting
        )
    if broken:
        return LiveCheck(False, tuple(broken), evidence)
    if waiting:
        return LiveCheck(None, tuple(waiting), evidence)
    delta = comparison.metric_delta
    held = (
        f"canary held for {n} requests: roc_auc delta "
        f"{'n/a' if delta is None else f'{delta:+.4f}'}, p99 {p99:.1f} ms"
    )
    return LiveCheck(True, (held,), evidence)


def judge_rollback(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    version: int,
    baseline: float | None,
    rule: RollbackRule,
    error_rates: Mapping[str, float | None] | None = None,
) -> LiveCheck:
    """Judge the new champion ``version`` on its rows since it became champion.

    ``baseline`` is the previous champion's realised ROC AUC (``None``: the
    metric criterion cannot be judged and is reported as such).
    """
    own = predictions[predictions["version"] == version]
    labelled = own.merge(
        labels.drop_duplicates("request_id", keep="last")[["request_id", "label"]],
        on="request_id",
    ).dropna(subset=["score", "label"])
    y = pd.to_numeric(labelled["label"], errors="coerce").to_numpy(dtype=float)
    realised = score_metric("roc_auc", y, labelled["score"].to_numpy(dtype=float))
    p99 = _p99(own)
    evidence: dict[str, Any] = {
        "version": version, "requests": len(own), "labelled_rows": len(labelled),
        "realised_roc_auc": realised, "baseline_roc_auc": baseline, "latency_p99_ms": p99,
    }
    broken, waiting = [], []
    if rule.metric_drop is not None and baseline is not None:
        if len(labelled) < rule.min_labelled_rows or realised is None:
            waiting.append(f"{len(labelled)} of {rule.min_labelled_rows} labelled rows")
        elif baseline - realised > rule.metric_drop:
            broken.append(
                f"live roc_auc {realised:.4f} of v{version} is {baseline - realised:.4f} below "
                f"the previous champion's {baseline:.4f} (> {rule.metric_drop}, "
                f"{len(labelled)} labelled rows)"
            )
    if rule.max_latency_p99_ms is not None and p99 > rule.max_latency_p99_ms:
        broken.append(f"p99 latency {p99:.1f} ms of v{version} > {rule.max_latency_p99_ms} ms")
    if rule.max_error_rate is not None:
        broken, waiting = _errors(
            error_rates, str(version), rule.max_error_rate, evidence, broken, waiting
        )
    if broken:
        return LiveCheck(False, tuple(broken), evidence)
    if waiting:
        return LiveCheck(None, tuple(waiting), evidence)
    return LiveCheck(True, (f"v{version} holds the rollback criteria",), evidence)


def error_counts(metrics_text: str) -> dict[str, dict[str, float]]:
    """Prediction responses by model version: ``{version: {"ok": n, "error": n}}``.

    From ``loopml_requests_total`` in Prometheus text; only prediction paths
    count, ``error`` is 5xx, 4xx (the caller's fault) is left out, version
    ``""`` holds errors that named no version.
    """
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name != "loopml_requests_total" or not labels.get("route", "").endswith(
                _PREDICTION_PATHS
            ):
                continue
            status = labels.get("status", "")
            kind = "error" if status.startswith("5") else "ok" if status.startswith("2") else None
            if kind is not None:
                entry = counts.setdefault(labels.get("version", ""), {"ok": 0.0, "error": 0.0})
                entry[kind] += float(sample.value)
    return counts


def error_rate(
    now: Mapping[str, Mapping[str, float]], then: Mapping[str, Mapping[str, float]], version: str
) -> tuple[float | None, int]:
    """5xx share of ``version``'s responses between two :func:`error_counts` snapshots.

    Unattributed errors count against ``version``. A counter that went down
    (the server restarted) counts from zero. Returns ``(rate, responses)``;
    the rate is ``None`` without responses.
    """
    def delta(key: str, kind: str) -> float:
        current = now.get(key, {}).get(kind, 0.0)
        before = then.get(key, {}).get(kind, 0.0)
        return current - before if current >= before else current

    errors = delta(version, "error") + delta("", "error")
    total = errors + delta(version, "ok")
    return (errors / total if total else None), int(total)


def _errors(
    rates: Mapping[str, float | None] | None,
    version: str,
    limit: float,
    evidence: dict[str, Any],
    broken: list[str],
    waiting: list[str],
) -> tuple[list[str], list[str]]:
    if rates is None:
        return broken, [*waiting, "error counts unavailable (serving.metrics_url)"]
    rate = rates.get(version)
    evidence["error_rate"] = rate
    if rate is not None and rate > limit:
        broken = [*broken, f"error rate {rate:.4f} of v{version} > {limit}"]
    return broken, waiting


def _p99(rows: pd.DataFrame) -> float:
    latency = pd.to_numeric(rows["latency_ms"], errors="coerce").dropna()
    return float(np.quantile(latency, 0.99)) if len(latency) else 0.0
