"""What the loop controller keeps in the store: its lease and its state per model.

Only one controller may act on a model at a time. It holds a **lease**: a
row ``(model, holder, expires_at)`` taken with an atomic compare-and-set (free,
expired, or already ours), renewed while working and released when done. A
controller that dies simply lets its lease expire.

The **state** says which phase the model's loop is in and carries the intent
of the step being taken (challenger version, canary start, evidence), so a
restarted controller resumes where the previous one stopped. Every write is a
compare-and-set on :attr:`ControllerState.revision`, and a controller's write
also checks, in the same transaction, that it still holds the lease (a
controller whose lease expired while it was paused cannot overwrite the state
of the one that took over). An approval (``loopml approve``) writes without a
lease but with the same revision check.

:class:`Lease` and :class:`ControllerState` are plain frozen values like those
in :mod:`loopml.entities`; they live here because the controller feature owns
only ``loopml.store`` (as :mod:`loopml.store.alert_events` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopml.errors import ConflictError, StoreError

__all__ = ["PHASES", "ControllerState", "Lease", "check_phase", "check_ttl", "lease_conflict"]

PHASES = (
    "idle",
    "retraining",
    "gating",
    "canary",
    "pending_approval",
    "promoting",
    "withdrawing",
    "rolling_back",
)
"""Every value of :attr:`ControllerState.phase` (see :mod:`loopml.automation.controller`)."""


@dataclass(frozen=True)
class Lease:
    """The right of one controller process to act on one model until ``expires_at``.

    Attributes
    ----------
    model : str
        Registered model name.
    holder : str
        Who holds it, e.g. ``host:pid:uuid`` of a controller process.
    acquired_at, expires_at : datetime
        Aware UTC; the lease is free for others from ``expires_at`` on.
    """

    model: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ControllerState:
    """The loop's phase for one model and the intent of its current step.

    Attributes
    ----------
    model : str
        Registered model name.
    phase : str
        One of :data:`PHASES`; ``idle`` when nothing is in flight.
    challenger_version : int or None
        The version being judged, in canary or awaiting approval.
    canary_started_at : datetime or None
        When the canary alias was (to be) moved to the challenger; live
        evidence is counted from here.
    data : dict
        JSON-able evidence and intent of the step (windows, metrics, run id).
    updated_at : datetime or None
        When the state was written; ``None`` before the first write.
    revision : int
        Number of writes so far; a write must name the revision it read.
    """

    model: str
    phase: str = "idle"
    challenger_version: int | None = None
    canary_started_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    revision: int = 0


def check_phase(phase: str) -> str:
    """Return ``phase`` if it is one of :data:`PHASES`.

    Raises
    ------
    loopml.errors.StoreError
        Naming the phase.
    """
    if phase not in PHASES:
        raise StoreError(f"controller phase {phase!r} is not one of {', '.join(PHASES)}")
    return phase


def check_ttl(ttl_seconds: float) -> float:
    """Return ``ttl_seconds`` if it is a positive finite number of seconds.

    Raises
    ------
    loopml.errors.StoreError
    """
    if not math.isfinite(ttl_seconds) or ttl_seconds <= 0:
        raise StoreError(f"lease time to live must be positive seconds, got {ttl_seconds!r}")
    return float(ttl_seconds)


def lease_conflict(model: str, holder: str, lease: Lease | None, now: datetime) -> ConflictError:
    """The error of a state write by ``holder`` that does not hold the lease on ``model``."""
    if lease is None or lease.expires_at <= now:
        why = "no live lease"
    else:
        why = f"the lease is held by {lease.holder!r} until {lease.expires_at.isoformat()}"
    return ConflictError(f"controller {holder!r} may not write the state of model {model!r}: {why}")
