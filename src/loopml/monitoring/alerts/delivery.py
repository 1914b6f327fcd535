"""Deliver an alert to a channel: the log, a generic JSON webhook, a Slack incoming webhook.

:func:`deliver` never raises: whatever goes wrong (refused connection, timeout,
HTTP error, a bad URL) comes back as a failed :class:`Delivery` and one ERROR
record, so a broken receiver cannot break a monitoring run. HTTP channels are
tried ``1 + retries`` times; a network error, HTTP 5xx or 429 is retried after
``backoff_seconds * 2 ** (n - 1)``, any other non-2xx answer is final. Error
texts name the channel, never its URL (a Slack webhook URL is a secret).

Bodies: the generic webhook receives :meth:`Alert.to_dict` as JSON; Slack
receives ``{"text": ..., "blocks": [...]}`` (Block Kit: header, section with
fields, context), with ``&``, ``<`` and ``>`` escaped as Slack's mrkdwn requires.

References
----------
.. [1] Slack, "Sending messages using incoming webhooks",
   https://api.slack.com/messaging/webhooks
.. [2] Slack, "Formatting text for app surfaces" (escaping),
   https://api.slack.com/reference/surfaces/formatting#escaping
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from loopml.monitoring.alerts.evaluation import Alert
from loopml.monitoring.alerts.rules import Channel

__all__ = ["ALERT_LOGGER", "Delivery", "deliver", "slack_body", "webhook_body"]

ALERT_LOGGER = "loopml.monitoring.alerts"
"""Logger of the ``log`` channel and of failed deliveries."""

_log = logging.getLogger(ALERT_LOGGER)

_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Delivery:
    """What happened when an alert was sent to one channel.

    Attributes
    ----------
    channel : str
        Channel name.
    ok : bool
        The channel took the alert (log written, HTTP 2xx).
    attempts : int
        HTTP requests made (1 for the log).
    status_code : int or None
        Last HTTP status; ``None`` for the log or when no answer came.
    error : str or None
        Why it failed, after the last attempt.
    """

    channel: str
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


def webhook_body(alert: Alert) -> dict[str, Any]:
    """The generic webhook body: :meth:`Alert.to_dict`."""
    return alert.to_dict()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook body: fallback ``text`` plus Block Kit ``blocks``."""
    rule = alert.rule
    severity = rule.severity.upper()
    subject = f"{alert.model}" + (f" v{alert.version}" if alert.version is not None else "")
    if alert.alias:
        subject += f" ({alert.alias})"
    reason = _escape(alert.reason)
    text = f"[{severity}] {_escape(subject)}: {_escape(rule.name)}: {reason}"
    summary = f"*{_escape(rule.name)}* on *{_escape(subject)}*\n{reason}"
    if rule.description:
        summary += f"\n{_escape(rule.description)}"
    window = f"{alert.window_start or '?'} to {alert.window_end or '?'}"
    return {
        "text": text[:3000],
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": f"{_EMOJI[rule.severity]} {severity}: {rule.name}"[:150],
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": summary[:3000]},
                "fields": [
                    {"type": "mrkdwn", "text": f"*Model*\n{_escape(subject)}"[:2000]},
                    {"type": "mrkdwn", "text": f"*Metric*\n{_escape(rule.metric)}"[:2000]},
                    {"type": "mrkdwn", "text": f"*Value*\n{alert.value:.6g}"},
                    {
                        "type": "mrkdwn",
                        "text": f"*Threshold*\n{_escape(rule.operator)} {alert.threshold:.6g}",
                    },
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _escape(
                            f"window {window} | fired {alert.fired_at.isoformat()} | loopml"
                        )[:3000],
                    }
                ],
            },
        ],
    }


def deliver(
    alert: Alert,
    channel: Channel,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send ``alert`` to ``channel``; never raises.

    Parameters
    ----------
    alert : Alert
    channel : Channel
    client : httpx.Client, optional
        Shared client (connection reuse); default: a new one for this call.
    sleep : callable, default time.sleep
        Used between retries (inject a fake in tests).

    Returns
    -------
    Delivery
    """
    if channel.kind == "log":
        _log.warning(
            "alert %s (%s) for model %s: %s",
            alert.rule.name,
            alert.rule.severity,
            alert.model,
            alert.reason,
            extra={"alert": alert.to_dict()},
        )
        return Delivery(channel.name, ok=True, attempts=1)
    body = slack_body(alert) if channel.kind == "slack" else webhook_body(alert)
    own = client is None
    http = httpx.Client(follow_redirects=False) if client is None else client
    try:
        result = _post(http, channel, json.dumps(body, allow_nan=False).encode(), sleep)
    finally:
        if own:
            http.close()
    if not result.ok:
        _log.error(
            "alert %s for model %s not delivered to channel %s: %s",
            alert.rule.name,
            alert.model,
            channel.name,
            result.error,
        )
    return result


def _post(
    http: httpx.Client, channel: Channel, content: bytes, sleep: Callable[[float], None]
) -> Delivery:
    headers = {"Content-Type": "application/json", "User-Agent": "loopml-alerts"}
    headers.update(channel.headers)
    attempts = 1 + channel.retries
    status: int | None = None
    error = "not attempted"
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(channel.backoff_seconds * 2 ** (attempt - 2))
        try:
            response = http.post(
                channel.url or "",
                content=content,
                headers=headers,
                timeout=httpx.Timeout(channel.timeout_seconds),
            )
        except httpx.TransportError as exc:  # refused, reset, timed out: retry
            status, error = None, f"{type(exc).__name__}: {exc or 'no detail'}"
            continue
        except Exception as exc:  # noqa: BLE001 -- a bad URL or header must not break monitoring
            return Delivery(channel.name, False, attempt, None, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            return Delivery(channel.name, True, attempt, status)
        error = f"HTTP {status}: {response.text[:200]!r}"
        if status not in _RETRY_STATUS:
            return Delivery(channel.name, False, attempt, status, error)
    return Delivery(channel.name, False, attempts, status, f"{error} (after {attempts} attempts)")
