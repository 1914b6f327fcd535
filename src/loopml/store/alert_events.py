"""The record of one fired monitoring alert, as the store keeps it.

An alert event is written *before* its notifications go out (status
``pending``), which is what lets the cooldown hold across processes: a second
process that evaluates the same rule for the same model within the cooldown
finds the event and stays quiet. Once the channels have been tried the event
is finished with the channels that received it and those that failed.

=============  ==================================================================
status         meaning
=============  ==================================================================
``pending``    claimed; notifications are being sent (or the sender died)
``delivered``  every channel received it
``partial``    some channels received it, some failed
``failed``     every channel failed; does **not** start a cooldown, so the next
               evaluation tries again
=============  ==================================================================

:class:`AlertEvent` is a plain frozen value like those in :mod:`loopml.entities`
(it lives here because the alerts feature owns only ``loopml.store``; moving it
to ``loopml.entities.alerts`` with a re-export is a one-line change).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopml.errors import StoreError

__all__ = [
    "ALERT_STATUSES",
    "COOLING_STATUSES",
    "AlertEvent",
    "check_alert_values",
    "delivery_status",
]

ALERT_STATUSES = ("pending", "delivered", "partial", "failed")
"""Every value of :attr:`AlertEvent.status`."""

COOLING_STATUSES = ("pending", "delivered", "partial")
"""Statuses of an event that starts a cooldown for its (model, rule)."""


@dataclass(frozen=True)
class AlertEvent:
    """One firing of an alert rule for a model.

    Attributes
    ----------
    id : int
        Increasing integer, unique in the store.
    model : str
        Registered model name.
    rule : str
        Name of the alert rule that fired.
    fired_at : datetime
        When the rule fired (aware UTC); the cooldown is measured from here.
    value, threshold : float
        The monitored value and the threshold it crossed (always finite).
    severity : str
        ``info``, ``warning`` or ``critical``.
    status : str
        One of :data:`ALERT_STATUSES`.
    delivered : tuple of str
        Channels that received the alert, in the order they were tried.
    failed : dict of str to str
        Channel -> why the delivery failed (last error after the retries).
    payload : dict
        The alert as sent to webhooks (strict JSON).
    finished_at : datetime or None
        When the deliveries were recorded; ``None`` while ``pending``.
    """

    id: int
    model: str
    rule: str
    fired_at: datetime
    value: float
    threshold: float
    severity: str
    status: str = "pending"
    delivered: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None


def check_alert_values(model: str, rule: str, value: float, threshold: float) -> None:
    """Refuse a non-finite value or threshold (they never fire, so they are never stored).

    Raises
    ------
    loopml.errors.StoreError
        Naming the model and rule.
    """
    for name, number in (("value", value), ("threshold", threshold)):
        if not math.isfinite(number):
            raise StoreError(
                f"alert {rule!r} of model {model!r}: {name} must be finite, got {number!r}"
            )


def delivery_status(delivered: Sequence[str], failed: Mapping[str, str]) -> str:
    """``failed`` when nothing was delivered but something failed, ``partial`` when
    both, else ``delivered``.

    Raises
    ------
    loopml.errors.StoreError
        If a channel is both delivered and failed.
    """
    both = sorted(set(delivered) & set(failed))
    if both:
        raise StoreError(f"alert channel(s) {', '.join(both)} cannot be delivered and failed")
    if failed and not delivered:
        return "failed"
    return "partial" if failed else "delivered"
