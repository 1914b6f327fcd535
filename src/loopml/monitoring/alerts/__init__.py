"""Alerts on monitored values: rules, delivery, cooldown, Prometheus gauges.

A rule watches one number of a monitoring report (a *metric path* such as
``drift.share_drifted``, ``drift.columns.distance.statistic``,
``performance.roc_auc``) and fires when it crosses a threshold. Fired alerts go
to channels (the log, generic JSON webhooks, Slack incoming webhooks); the
same (model, rule) stays quiet for its cooldown, remembered in the metadata
store so the cooldown holds across processes.

- :class:`AlertConfig`, :class:`AlertRule`, :class:`Channel` — rules and
  channels, read from YAML (:mod:`loopml.monitoring.alerts.rules`).
- :func:`lookup_metric`, :func:`monitored_values` — metric paths
  (:mod:`loopml.monitoring.alerts.paths`).
- :func:`check_rules` -> :class:`RuleCheck`; :func:`evaluate` -> :class:`Alert`
  — pure evaluation, no I/O.
- :func:`deliver` -> :class:`Delivery`; :func:`webhook_body`, :func:`slack_body`.
- :func:`set_alert_gauges` — ``loopml_monitored_value`` and ``loopml_alert_firing``.
- :func:`run_alerts` -> :class:`AlertRun` — all of it in one pass, with the
  cooldown from the store.
"""

from loopml.monitoring.alerts.delivery import (
    ALERT_LOGGER,
    Delivery,
    deliver,
    slack_body,
    webhook_body,
)
from loopml.monitoring.alerts.evaluation import (
    ALERT_SCHEMA_VERSION,
    Alert,
    RuleCheck,
    check_rules,
    evaluate,
)
from loopml.monitoring.alerts.gauges import ALERT_FIRING, MONITORED_VALUE, set_alert_gauges
from loopml.monitoring.alerts.notify import AlertRun, FiredAlert, run_alerts
from loopml.monitoring.alerts.paths import MetricLookup, lookup_metric, monitored_values
from loopml.monitoring.alerts.rules import (
    LOG_CHANNEL,
    OPERATORS,
    SEVERITIES,
    AlertConfig,
    AlertRule,
    Channel,
)

__all__ = [
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
