"""Compare a canary or shadow route with the champion over a window of logged predictions.

For a **shadow** every request is scored twice (champion answers, shadow is
logged with the same request id), so the comparison is paired: agreement rate
over the same requests, metric on the same labelled rows. A **canary**
answers its own share of requests, so agreement is undefined (no request is
scored by both; reported as ``None`` with a finding) and the metric of each
route is computed on its own labelled rows — comparable because the split by
request id is random with respect to the inputs.

Latency is compared on the 50th and 99th percentiles of ``latency_ms``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import MonitoringError

__all__ = ["RouteComparison", "compare_routes"]

_ROUTES = ("canary", "shadow")


@dataclass(frozen=True)
class RouteComparison:
    """Canary or shadow against the champion over one window.

    Deltas are ``candidate - champion``: a positive ``metric_delta`` means the
    candidate scores better (ROC AUC), a positive latency delta means it is
    slower (milliseconds).
    """

    route: str
    champion_versions: tuple[int, ...]
    candidate_versions: tuple[int, ...]
    n_champion: int
    n_candidate: int
    paired: int
    agreement_rate: float | None
    metric: str
    labelled_champion: int
    labelled_candidate: int
    champion_metric: float | None
    candidate_metric: float | None
    metric_delta: float | None
    latency_p50_delta_ms: float | None
    latency_p99_delta_ms: float | None
    findings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON dict: tuples become lists, non-finite numbers ``None``."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
            elif isinstance(value, float) and not math.isfinite(value):
                data[key] = None
        return data


def compare_routes(
    predictions: pd.DataFrame,
    *,
    route: str,
    labels: pd.DataFrame | None = None,
    metric: str = "roc_auc",
) -> RouteComparison:
    """Compare ``route`` (``"canary"`` or ``"shadow"``) with ``"champion"``.

    Parameters
    ----------
    predictions : DataFrame
        Logged predictions with columns ``request_id``, ``version``, ``route``,
        ``latency_ms``, ``prediction`` and ``score`` (positive-class probability,
        may be missing), one row per scored request row. With a ``timestamp``
        column, champion rows older than the first ``route`` row are left out
        (and counted in ``findings``), so both sides cover the same period.
    route : {"canary", "shadow"}
        The route compared with the champion.
    labels : DataFrame, optional
        Ground truth with columns ``request_id`` and ``label`` (0/1); rows
        without a label are ignored for the metric.
    metric : {"roc_auc"}
        Metric of the delta; ROC AUC (Hanley & McNeil 1982) via scikit-learn.

    Returns
    -------
    RouteComparison

    Raises
    ------
    loopml.errors.MonitoringError
        ``route`` is not canary or shadow, a required column is missing, or the
        window has no champion rows or no rows of ``route``.
    """
    if route not in _ROUTES:
        raise MonitoringError(f"route must be one of {', '.join(_ROUTES)}, got {route!r}")
    if metric != "roc_auc":
        raise MonitoringError(f"metric must be roc_auc, got {metric!r}")
    missing = {"request_id", "version", "route", "latency_ms", "prediction", "score"} - set(
        predictions.columns
    )
    if missing:
        raise MonitoringError(f"predictions lack column(s) {sorted(missing)}")
    champion = predictions[predictions["route"] == "champion"]
    candidate = predictions[predictions["route"] == route]
    if champion.empty or candidate.empty:
        raise MonitoringError(
            f"the window has {len(champion)} champion and {len(candidate)} {route} predictions; "
            "both are needed"
        )
    findings: list[str] = []
    if "timestamp" in predictions.columns:
        # Same period on both sides: champion traffic from before the candidate's first
        # request (before the deployment existed) would compare different data.
        first = candidate["timestamp"].min()
        paired_ids = champion["request_id"].isin(set(candidate["request_id"]))
        earlier = (champion["timestamp"] < first) & ~paired_ids  # a shadow row follows its pair
        if earlier.any():
            findings.append(
                f"{int(earlier.sum())} champion rows from before the first {route} row "
                "left out (same period on both sides)"
            )
            champion = champion[~earlier]
        if champion.empty:
            raise MonitoringError(f"no champion predictions since the first {route} prediction")
    pairs = champion.merge(candidate, on="request_id", suffixes=("_champion", "_candidate"))
    agreement = None
    if len(pairs):
        same = pairs["prediction_champion"].astype(str) == pairs["prediction_candidate"].astype(str)
        agreement = float(same.mean())
    elif route == "canary":
        findings.append("agreement needs requests scored by both versions; a canary answers its own")
    else:
        findings.append("no shadow row shares a request id with a champion row")

    labelled_champion, labelled_candidate = _labelled(champion, labels), _labelled(candidate, labels)
    if route == "shadow" and len(pairs):
        # paired: the same labelled requests for both
        common = set(labelled_champion["request_id"]) & set(labelled_candidate["request_id"])
        labelled_champion = labelled_champion[labelled_champion["request_id"].isin(common)]
        labelled_candidate = labelled_candidate[labelled_candidate["request_id"].isin(common)]
    champion_metric = _roc_auc(labelled_champion)
    candidate_metric = _roc_auc(labelled_candidate)
    if labels is None or not len(labels):
        findings.append("no feedback yet: metric delta waits for labels")
    elif champion_metric is None or candidate_metric is None:
        findings.append("ROC AUC needs labelled rows of both classes on both routes")
    delta = (
        None if champion_metric is None or candidate_metric is None
        else candidate_metric - champion_metric
    )
    return RouteComparison(
        route=route,
        champion_versions=_versions(champion),
        candidate_versions=_versions(candidate),
        n_champion=len(champion),
        n_candidate=len(candidate),
        paired=len(pairs),
        agreement_rate=agreement,
        metric=metric,
        labelled_champion=len(labelled_champion),
        labelled_candidate=len(labelled_candidate),
        champion_metric=champion_metric,
        candidate_metric=candidate_metric,
        metric_delta=delta,
        latency_p50_delta_ms=_quantile_delta(candidate, champion, 0.5),
        latency_p99_delta_ms=_quantile_delta(candidate, champion, 0.99),
        findings=tuple(findings),
    )


def _versions(frame: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted(int(v) for v in frame["version"].dropna().unique()))


def _labelled(frame: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    if labels is None or labels.empty:
        return frame.iloc[0:0].assign(label=pd.Series(dtype=float))
    latest = labels.drop_duplicates("request_id", keep="last")[["request_id", "label"]]
    joined = frame.merge(latest, on="request_id", how="inner")
    joined = joined[pd.to_numeric(joined["label"], errors="coerce").notna()]
    return joined[pd.to_numeric(joined["score"], errors="coerce").notna()]


def _roc_auc(frame: pd.DataFrame) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=float)
    if len(y) == 0 or len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, pd.to_numeric(frame["score"]).to_numpy(dtype=float)))


def _quantile_delta(candidate: pd.DataFrame, champion: pd.DataFrame, q: float) -> float | None:
    a = pd.to_numeric(candidate["latency_ms"], errors="coerce").dropna()
    b = pd.to_numeric(champion["latency_ms"], errors="coerce").dropna()
    if a.empty or b.empty:
        return None
    return float(np.quantile(a, q) - np.quantile(b, q))
