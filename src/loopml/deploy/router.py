"""Deterministic traffic split by request id."""

from __future__ import annotations

import hashlib

__all__ = ["canary_share", "route_for"]

_SCALE = float(2**64)


def canary_share(request_id: str, *, salt: str = "") -> float:
    """Position of ``request_id`` in [0, 1): the first 8 bytes of SHA-256(salt, id) as a fraction.

    SHA-256 spreads ids uniformly, so the share of ids below ``w`` converges to
    ``w`` whatever their format (uuid4, counters, client-chosen strings).
    ``salt`` (e.g. the deployment name) decorrelates splits of different
    deployments.
    """
    digest = hashlib.sha256(f"{salt}\x00{request_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def route_for(request_id: str, canary_weight: float | None, *, salt: str = "") -> str:
    """``"canary"`` for ``canary_weight`` percent of request ids, else ``"champion"``.

    Parameters
    ----------
    request_id : str
        The request's id; the same id always gets the same route.
    canary_weight : float or None
        Percent of traffic for the canary (0..100); ``None`` or 0 means no canary.
    salt : str
        Mixed into the hash, usually the deployment name.

    Examples
    --------
    >>> route_for("req-1", None)
    'champion'
    >>> route_for("req-1", 100.0)
    'canary'
    """
    if not canary_weight:
        return "champion"
    return "canary" if canary_share(request_id, salt=salt) * 100.0 < canary_weight else "champion"
