"""Observe a served model and decide whether a retraining trigger fired, with its evidence.

Each trigger of :class:`loopml.automation.policy.Triggers` is checked only
when its evidence reaches its minimum (:meth:`Triggers.min_evidence`): logged
rows in the window for the drift, column drift and CBPE triggers, labelled
rows for the others. A retraining also needs ``min_labelled_rows`` labelled
rows to train and judge on, whichever trigger fired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from loopml.automation.monitor import monitor_model
from loopml.automation.policy import Policy
from loopml.automation.window import labelled_window, realised_metric
from loopml.errors import MonitoringError

if TYPE_CHECKING:
    from loopml.api import Client
    from loopml.monitoring import MonitoringReport

__all__ = ["Observation", "observe"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observation:
    """What one look at the model showed.

    ``reasons`` are the triggers that fired (empty: no retrain, ``why_not``
    says why); ``evidence`` holds every number they were decided on.
    """

    champion: int
    labelled: pd.DataFrame
    reasons: tuple[str, ...]
    why_not: str
    evidence: dict[str, Any] = field(default_factory=dict)


def observe(
    client: Client,
    policy: Policy,
    *,
    champion: int,
    since: datetime,
    last_retrain_at: datetime,
    now: datetime,
) -> Observation:
    """Check every trigger of ``policy`` on the champion's logged traffic.

    Parameters
    ----------
    client : loopml.api.Client
    policy : Policy
    champion : int
        The champion version (its registration metric is the reference).
    since : datetime
        Labelled rows logged after this count as new (``new_labelled_rows``).
    last_retrain_at : datetime
        Base of the cron schedule: it fires once a fire time after this has passed.
    now : datetime
        The controller's clock (UTC).
    """
    t, metric, name = policy.triggers, policy.challenger.metric, policy.model
    labelled = labelled_window(client, policy, now)
    loaded = client.registry.load(name, str(champion))
    reference = loaded.manifest.metrics.get(metric)
    reference = None if reference is None else float(reference)
    realised = realised_metric(labelled[labelled["version"] == champion], metric)
    evidence: dict[str, Any] = {
        "labelled_rows": len(labelled),
        "champion_labelled_rows": int((labelled["version"] == champion).sum()),
        "reference_metric": reference,
        "realised_metric": realised,
        "metric": metric,
    }
    if not labelled.empty:
        evidence["window"] = {
            "start": str(labelled["timestamp"].min()), "end": str(labelled["timestamp"].max())
        }
    report = _report(client, policy, champion, evidence)
    reasons: list[str] = []
    if report is not None:
        auc = loaded.manifest.metrics.get("roc_auc")
        reasons += _drift_reasons(t, report, None if auc is None else float(auc), evidence)
    champion_rows = evidence["champion_labelled_rows"]
    if (
        t.performance_drop is not None and reference is not None and realised is not None
        and champion_rows >= t.min_evidence("performance_drop")
        and reference - realised >= t.performance_drop
    ):
        reasons.append(
            f"realised {metric} {realised:.4f} is {reference - realised:.4f} below "
            f"{reference:.4f} at registration (>= {t.performance_drop}, {champion_rows} rows)"
        )
    if t.new_labelled_rows is not None:
        new = len(client.predictions.read_labelled(name, start=since))
        evidence["new_labelled_rows"] = new
        if new >= t.new_labelled_rows:
            reasons.append(f"{new} labelled rows since {since.isoformat()} (>= {t.new_labelled_rows})")
    if t.schedule is not None:
        from croniter import croniter

        due: datetime = croniter(t.schedule, last_retrain_at).get_next(datetime)
        evidence["schedule"] = {"cron": t.schedule, "due": due.isoformat()}
        if due <= now:
            reasons.append(f"schedule {t.schedule!r} was due at {due.isoformat()}")
    if reasons and len(labelled) < t.min_labelled_rows:
        why_not = (
            f"no retrain, because only {len(labelled)} labelled rows "
            f"(policy needs >= {t.min_labelled_rows}) although " + "; ".join(reasons)
        )
        return Observation(champion, labelled, (), why_not, evidence)
    if not reasons and len(labelled) < t.min_labelled_rows:
        why_not = (
            f"no retrain, because only {len(labelled)} labelled rows "
            f"(policy needs >= {t.min_labelled_rows})"
        )
    else:
        share = evidence.get("drift_share")
        shown = "n/a" if share is None else f"{share:.2f}"
        parts = [
            f"drift share {shown} (trigger off)"
            if t.drift_share is None
            else f"drift share {shown} < {t.drift_share}"
        ]
        if t.performance_drop is None:
            parts.append(f"realised {metric} {_fmt(realised)} (trigger off)")
        elif realised is None:
            parts.append(
                f"realised {metric} n/a (no labelled rows this version served; "
                f"reference {_fmt(reference)})"
            )
        else:
            parts.append(
                f"realised {metric} {_fmt(realised)} is within {t.performance_drop} "
                f"of {_fmt(reference)}"
            )
        why_not = f"no retrain: {'; '.join(parts)}; no other trigger fired"
    return Observation(champion, labelled, tuple(reasons), why_not, evidence)


def _report(
    client: Client, policy: Policy, champion: int, evidence: dict[str, Any]
) -> MonitoringReport | None:
    try:
        report, _, _ = monitor_model(
            client, policy.model, str(champion), max_rows=policy.max_rows, label=policy.label
        )
    except MonitoringError as exc:
        evidence["monitoring"] = f"impossible: {exc}"
        return None
    return report


def _drift_reasons(
    t: Any, report: MonitoringReport, reference: float | None, evidence: dict[str, Any]
) -> list[str]:
    drift, rows = report.drift, report.drift.n_current
    evidence |= {
        "rows": rows,
        "drift_share": drift.share_drifted,
        "drifted_columns": [str(c) for c in drift.drifted_columns],
    }
    reasons = []
    if t.drift_share is not None and rows >= t.min_evidence("drift_share") and (
        drift.share_drifted >= t.drift_share
    ):
        reasons.append(f"drift share {drift.share_drifted:.2f} >= {t.drift_share} ({rows} rows)")
    statistics = {str(c.name): c for c in drift.columns}
    for column, threshold in t.column_drift.items():
        result = statistics.get(column)
        statistic = None if result is None else result.statistic
        evidence.setdefault("column_drift", {})[column] = {
            "statistic": statistic, "method": None if result is None else result.method
        }
        if result is not None and statistic is not None and (
            rows >= t.min_evidence(f"column_drift:{column}") and statistic >= threshold
        ):
            reasons.append(
                f"column {column!r} {result.method} statistic {statistic:.4f} >= {threshold}"
            )
    estimated = None
    if report.estimated is not None and report.estimated.roc_auc is not None:
        estimated = report.estimated.roc_auc.value
    evidence["estimated_roc_auc"] = estimated
    if (
        t.estimated_performance_drop is not None and estimated is not None
        and reference is not None and report.estimated is not None
        and report.estimated.n >= t.min_evidence("estimated_performance_drop")
        and reference - estimated >= t.estimated_performance_drop
    ):
        reasons.append(
            f"CBPE-estimated roc_auc {estimated:.4f} is {reference - estimated:.4f} below "
            f"{reference:.4f} at registration (>= {t.estimated_performance_drop})"
        )
    return reasons


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
