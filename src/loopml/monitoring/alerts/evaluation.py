"""Evaluate alert rules against one monitoring report: checks and alerts.

:func:`check_rules` gives one :class:`RuleCheck` per rule (the value read, whether
it crosses the threshold, or a finding when it cannot be read);
:func:`evaluate` turns the checks that fire into :class:`Alert` values. Neither
does I/O: delivery, cooldown and gauges are in the sibling modules.

:meth:`Alert.to_dict` (version 1) is the body of the generic webhook::

    {"schema_version": 1, "type": "loopml.alert",
     "model": "flights", "version": 3, "alias": "champion",
     "rule": "drift-share-high", "severity": "warning",
     "metric": "drift.share_drifted", "operator": ">=",
     "value": 0.6, "threshold": 0.3,
     "reason": "drift.share_drifted = 0.6, >= threshold 0.3",
     "description": "...", "fired_at": "2024-05-01T12:00:00+00:00",
     "window": {"start": "<ISO 8601>" | null, "end": "<ISO 8601>" | null},
     "cooldown_seconds": 3600.0}

``value`` and ``threshold`` are always finite: a non-finite value never fires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loopml.monitoring._json import iso_or_none
from loopml.monitoring.alerts.paths import lookup_metric
from loopml.monitoring.alerts.rules import AlertRule
from loopml.monitoring.report import MonitoringReport

__all__ = [
    "ALERT_SCHEMA_VERSION",
    "Alert",
    "ReportLike",
    "RuleCheck",
    "check_rules",
    "evaluate",
    "report_dict",
]

ALERT_SCHEMA_VERSION = 1
"""Version of the JSON shape of :meth:`Alert.to_dict` (the generic webhook body)."""

ReportLike = MonitoringReport | Mapping[str, Any]
"""A :class:`MonitoringReport` or its ``to_dict()``."""


def report_dict(report: ReportLike) -> Mapping[str, Any]:
    """The report as its strict-JSON dict."""
    return report.to_dict() if isinstance(report, MonitoringReport) else report


@dataclass(frozen=True)
class RuleCheck:
    """One rule against one report.

    Attributes
    ----------
    rule : AlertRule
    value : float or None
        The finite value at ``rule.metric``; ``None`` when ``finding`` is set.
    firing : bool
        ``value`` crosses the threshold. Never true without a value.
    finding : str or None
        Why the rule could not be evaluated (names the rule and the path).
    """

    rule: AlertRule
    value: float | None
    firing: bool
    finding: str | None = None


@dataclass(frozen=True)
class Alert:
    """A rule that fired for a model on one monitoring window.

    Attributes
    ----------
    rule : AlertRule
    model : str
        Registered model name.
    value, threshold : float
        The monitored value (finite) and the rule's threshold.
    fired_at : datetime
        When the rule was evaluated (aware UTC).
    reason : str
        One sentence: ``drift.share_drifted = 0.6, >= threshold 0.3``.
    window_start, window_end : str or None
        ISO 8601 bounds of the report's current window.
    version : int or None
        Model version the report monitored.
    alias : str or None
        Alias it was reached through.
    """

    rule: AlertRule
    model: str
    value: float
    threshold: float
    fired_at: datetime
    reason: str
    window_start: str | None = None
    window_end: str | None = None
    version: int | None = None
    alias: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The alert as strict JSON (no NaN or infinity): the generic webhook body."""
        return {
            "schema_version": ALERT_SCHEMA_VERSION,
            "type": "loopml.alert",
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "rule": self.rule.name,
            "severity": self.rule.severity,
            "metric": self.rule.metric,
            "operator": self.rule.operator,
            "value": self.value,
            "threshold": self.threshold,
            "reason": self.reason,
            "description": self.rule.description,
            "fired_at": iso_or_none(self.fired_at),
            "window": {"start": self.window_start, "end": self.window_end},
            "cooldown_seconds": self.rule.cooldown_seconds,
        }


def check_rules(rules: Sequence[AlertRule], report: ReportLike) -> list[RuleCheck]:
    """Read every rule's metric from ``report`` and compare it with the threshold.

    A missing, null, non-numeric or non-finite value is a finding, never an
    error and never a firing rule.
    """
    data = report_dict(report)
    checks = []
    for rule in rules:
        found = lookup_metric(data, rule.metric)
        if found.value is None:
            finding = f"alert rule {rule.name!r} not evaluated: {found.finding}"
            checks.append(RuleCheck(rule, None, False, finding))
        else:
            checks.append(RuleCheck(rule, found.value, rule.crosses(found.value)))
    return checks


def evaluate(
    rules: Sequence[AlertRule],
    report: ReportLike,
    *,
    model: str,
    now: datetime | None = None,
) -> list[Alert]:
    """The alerts that ``report`` raises, in rule order (cooldown not applied).

    Parameters
    ----------
    rules : sequence of AlertRule
    report : MonitoringReport or its dict
    model : str
        Registered model name the alerts are about.
    now : datetime, optional
        Evaluation time (naive means UTC); default: now. Inject it in tests.

    Returns
    -------
    list of Alert
        One per firing rule; rules with a finding are left out (see
        :func:`check_rules` for them).

    Examples
    --------
    >>> rule = AlertRule("drift", "drift.share_drifted", ">=", 0.3)
    >>> [a.reason for a in evaluate([rule], {"drift": {"share_drifted": 0.5}}, model="m")]
    ['drift.share_drifted = 0.5, >= threshold 0.3']
    """
    return alerts_from_checks(check_rules(rules, report), report, model=model, now=now)


def alerts_from_checks(
    checks: Sequence[RuleCheck],
    report: ReportLike,
    *,
    model: str,
    now: datetime | None = None,
) -> list[Alert]:
    """:class:`Alert` for each firing check (what :func:`evaluate` returns)."""
    data = report_dict(report)
    fired_at = _utc(now or datetime.now(UTC))
    raw_window = data.get("window")
    window: Mapping[str, Any] = raw_window if isinstance(raw_window, Mapping) else {}
    version = data.get("version")
    alias = data.get("alias")
    alerts = []
    for check in checks:
        if not check.firing or check.value is None:
            continue
        rule = check.rule
        alerts.append(
            Alert(
                rule=rule,
                model=model,
                value=check.value,
                threshold=rule.threshold,
                fired_at=fired_at,
                reason=(
                    f"{rule.metric} = {check.value:.6g}, {rule.operator} threshold "
                    f"{rule.threshold:.6g}"
                ),
                window_start=_str_or_none(window.get("start")),
                window_end=_str_or_none(window.get("end")),
                version=version if isinstance(version, int) else None,
                alias=alias if isinstance(alias, str) else None,
            )
        )
    return alerts


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
