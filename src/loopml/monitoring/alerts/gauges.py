"""Prometheus gauges of monitored values and firing alert rules.

=============================  =====  =============  =======================================
metric                         type   labels         value
=============================  =====  =============  =======================================
``loopml_monitored_value``     gauge  model, metric  every number of the last report, by
                                                     metric path (``drift.share_drifted``)
``loopml_alert_firing``        gauge  model, rule    1 while the rule's condition holds,
                                                     else 0 (cooldown does not matter)
=============================  =====  =============  =======================================

:func:`set_alert_gauges` sets them on a given
:class:`~prometheus_client.CollectorRegistry`, which the model server's
``/metrics``, a textfile collector or ``push_to_gateway`` can export. The
gauges are created once per registry; each call replaces that model's series
(series of metrics or rules that are gone are removed).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge

from loopml.monitoring.alerts.evaluation import RuleCheck

__all__ = ["ALERT_FIRING", "MONITORED_VALUE", "set_alert_gauges"]

MONITORED_VALUE = "loopml_monitored_value"
ALERT_FIRING = "loopml_alert_firing"


@dataclass
class _Gauges:
    monitored: Gauge
    firing: Gauge
    # model -> label values currently exported, so that vanished ones can be removed
    metrics: dict[str, set[str]] = field(default_factory=dict)
    rules: dict[str, set[str]] = field(default_factory=dict)


_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, _Gauges] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _gauges(registry: CollectorRegistry) -> _Gauges:
    gauges = _BY_REGISTRY.get(registry)
    if gauges is None:
        gauges = _Gauges(
            monitored=Gauge(
                MONITORED_VALUE,
                "Numbers of the latest monitoring report, by metric path",
                ["model", "metric"],
                registry=registry,
            ),
            firing=Gauge(
                ALERT_FIRING,
                "1 while an alert rule's condition holds for the model, else 0",
                ["model", "rule"],
                registry=registry,
            ),
        )
        _BY_REGISTRY[registry] = gauges
    return gauges


def set_alert_gauges(
    registry: CollectorRegistry,
    *,
    model: str,
    values: Mapping[str, float],
    checks: Sequence[RuleCheck],
) -> None:
    """Export ``model``'s monitored values and rule states on ``registry``.

    Parameters
    ----------
    registry : prometheus_client.CollectorRegistry
    model : str
        Registered model name (the ``model`` label).
    values : mapping of str to float
        Metric path -> value, e.g. :func:`~loopml.monitoring.alerts.paths.monitored_values`
        of the report; non-finite values are skipped.
    checks : sequence of RuleCheck
        From :func:`~loopml.monitoring.alerts.evaluation.check_rules`; a rule with a
        finding exports 0.

    Raises
    ------
    ValueError
        If ``registry`` already holds another collector with these metric names.
    """
    with _LOCK:
        gauges = _gauges(registry)
        finite = {k: float(v) for k, v in values.items() if math.isfinite(v)}
        for metric in gauges.metrics.get(model, set()) - set(finite):
            gauges.monitored.remove(model, metric)
        for metric, value in finite.items():
            gauges.monitored.labels(model, metric).set(value)
        gauges.metrics[model] = set(finite)
        states = {check.rule.name: check.firing for check in checks}
        for rule in gauges.rules.get(model, set()) - set(states):
            gauges.firing.remove(model, rule)
        for rule, firing in states.items():
            gauges.firing.labels(model, rule).set(1.0 if firing else 0.0)
        gauges.rules[model] = set(states)
