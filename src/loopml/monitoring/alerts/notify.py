"""One alerting pass over a monitoring report: evaluate, deduplicate, deliver, record, export.

For each rule that fires, :func:`run_alerts` first *claims* the alert in the
store (:meth:`loopml.store.base.AlertStore.claim_alert`). The claim fails
while the same (model, rule) is in its cooldown, including when another
process claimed it a moment ago, and the alert is then *suppressed*. A
claimed alert goes to each of its rule's channels and the outcome (channels
delivered, channels failed with the error) is written back to the event.
Failed deliveries are logged and returned, never raised; an alert that
reached no channel at all does not start a cooldown, so the next pass retries.
Store errors do propagate: without the store there is no cooldown to trust.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from prometheus_client import CollectorRegistry

from loopml.monitoring.alerts.delivery import ALERT_LOGGER, Delivery, deliver
from loopml.monitoring.alerts.evaluation import (
    Alert,
    ReportLike,
    RuleCheck,
    alerts_from_checks,
    check_rules,
    report_dict,
)
from loopml.monitoring.alerts.gauges import set_alert_gauges
from loopml.monitoring.alerts.paths import monitored_values
from loopml.monitoring.alerts.rules import AlertConfig
from loopml.store.alert_events import AlertEvent
from loopml.store.base import AlertStore

__all__ = ["AlertRun", "FiredAlert", "run_alerts"]

_log = logging.getLogger(ALERT_LOGGER)


@dataclass(frozen=True)
class FiredAlert:
    """An alert that was claimed and sent.

    Attributes
    ----------
    alert : Alert
    event : AlertEvent
        The stored event, finished (status, delivered and failed channels).
    deliveries : tuple of Delivery
        One per channel of the rule, in its order.
    """

    alert: Alert
    event: AlertEvent
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class AlertRun:
    """What one :func:`run_alerts` pass did.

    Attributes
    ----------
    checks : tuple of RuleCheck
        Every rule, with its value or finding.
    fired : tuple of FiredAlert
        Alerts sent (whether or not every channel took them).
    suppressed : tuple of Alert
        Alerts that fired but were within their cooldown.
    """

    checks: tuple[RuleCheck, ...]
    fired: tuple[FiredAlert, ...]
    suppressed: tuple[Alert, ...]

    @property
    def findings(self) -> dict[str, str]:
        """Rule name -> why it could not be evaluated."""
        return {c.rule.name: c.finding for c in self.checks if c.finding is not None}

    @property
    def failed_deliveries(self) -> list[tuple[str, Delivery]]:
        """(rule name, delivery) for every channel that did not take its alert."""
        return [(f.alert.rule.name, d) for f in self.fired for d in f.deliveries if not d.ok]


def run_alerts(
    config: AlertConfig,
    report: ReportLike,
    *,
    store: AlertStore,
    model: str | None = None,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    registry: CollectorRegistry | None = None,
) -> AlertRun:
    """Evaluate ``config``'s rules on ``report``, notify within the cooldowns, record it all.

    Parameters
    ----------
    config : AlertConfig
        Rules and channels (:meth:`AlertConfig.from_yaml`).
    report : MonitoringReport or its dict
    store : AlertStore
        Remembers fired alerts across processes (any :class:`MetadataStore`).
    model : str, optional
        Registered model name; default the report's ``model``.
    now : datetime, optional
        Evaluation time; default now (UTC). Inject it to test cooldowns.
    client : httpx.Client, optional
        Shared HTTP client for the webhooks; default: one for this pass.
    registry : prometheus_client.CollectorRegistry, optional
        When given, :func:`~loopml.monitoring.alerts.gauges.set_alert_gauges` is called.

    Returns
    -------
    AlertRun

    Raises
    ------
    loopml.errors.StoreError
        The store failed (deliveries never raise).
    """
    data = report_dict(report)
    name = model if model is not None else str(data.get("model", ""))
    now = now or datetime.now(UTC)
    checks = check_rules(config.rules, data)
    for check in checks:
        if check.finding is not None:
            _log.warning("model %s: %s", name, check.finding)
    alerts = alerts_from_checks(checks, data, model=name, now=now)
    fired: list[FiredAlert] = []
    suppressed: list[Alert] = []
    http = httpx.Client(follow_redirects=False) if client is None and alerts else client
    try:
        for alert in alerts:
            event = store.claim_alert(
                model=name,
                rule=alert.rule.name,
                fired_at=alert.fired_at,
                cooldown_seconds=alert.rule.cooldown_seconds,
                value=alert.value,
                threshold=alert.threshold,
                severity=alert.rule.severity,
                payload=alert.to_dict(),
            )
            if event is None:
                _log.info(
                    "alert %s for model %s suppressed: within its cooldown of %gs",
                    alert.rule.name,
                    name,
                    alert.rule.cooldown_seconds,
                )
                suppressed.append(alert)
                continue
            deliveries = tuple(
                deliver(alert, channel, client=http) for channel in config.channels_of(alert.rule)
            )
            finished = store.finish_alert(
                event.id,
                delivered=[d.channel for d in deliveries if d.ok],
                failed={d.channel: d.error or "failed" for d in deliveries if not d.ok},
            )
            fired.append(FiredAlert(alert, finished, deliveries))
    finally:
        if client is None and http is not None:
            http.close()
    if registry is not None:
        set_alert_gauges(registry, model=name, values=monitored_values(data), checks=checks)
    return AlertRun(tuple(checks), tuple(fired), tuple(suppressed))
