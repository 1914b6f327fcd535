"""The hash chain that makes audit events tamper-evident.

Each event's ``hash`` is the SHA-256 (hex) of the canonical JSON of its
content (time, actor, action, target, before, after, reason) together with
``prev_hash``, the hash of the event before it. The first event's
``prev_hash`` is :data:`GENESIS_HASH`. Editing, deleting or reordering any
event changes a hash further down the chain, which :func:`verify_events`
detects. Memory and SQL stores share this module so their chains agree.

References
----------
.. [1] S. Haber and W. S. Stornetta, "How to time-stamp a digital document",
   Journal of Cryptology 3(2), 1991.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from loopml.entities import AuditEvent

__all__ = [
    "GENESIS_HASH",
    "alias_target",
    "canonical_time",
    "event_hash",
    "model_target_prefix",
    "token_target",
    "verify_events",
    "version_target",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event in a chain."""


def canonical_time(time: datetime) -> str:
    """ISO 8601 text of ``time`` in UTC with microseconds; naive times are taken as UTC."""
    aware = time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def event_hash(
    *,
    time: datetime,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex digest of one event's canonical JSON and its predecessor's hash.

    Canonical JSON: keys sorted, no insignificant whitespace, UTF-8, times in
    UTC ISO 8601 with microseconds.

    Raises
    ------
    TypeError
        If ``before`` or ``after`` hold values JSON cannot encode.
    """
    payload = {
        "time": canonical_time(time),
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_events(events: Iterable[AuditEvent]) -> bool:
    """True if ``events`` (oldest first, the whole chain) link up and hash correctly."""
    prev = GENESIS_HASH
    for event in events:
        expected = event_hash(
            time=event.time,
            actor=event.actor,
            action=event.action,
            target=event.target,
            before=event.before,
            after=event.after,
            reason=event.reason,
            prev_hash=prev,
        )
        if event.prev_hash != prev or event.hash != expected:
            return False
        prev = event.hash
    return True


def model_target_prefix(name: str) -> str:
    """Prefix shared by the ``target`` of every audit event about model ``name``."""
    return f"model:{name}/"


def version_target(name: str, version: int) -> str:
    """Audit ``target`` of a model version, e.g. ``model:churn/version:3``."""
    return f"{model_target_prefix(name)}version:{version}"


def alias_target(name: str, alias: str) -> str:
    """Audit ``target`` of an alias, e.g. ``model:churn/alias:champion``."""
    return f"{model_target_prefix(name)}alias:{alias}"


def token_target(name: str) -> str:
    """Audit ``target`` of an API token, e.g. ``token:quickstart``."""
    return f"token:{name}"
