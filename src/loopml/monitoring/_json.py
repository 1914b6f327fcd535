"""Strict-JSON helpers: no NaN, no infinity, no numpy scalars."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd

__all__ = ["datetime_or_none", "finite_or_none", "iso_or_none"]


def finite_or_none(value: float | None) -> float | None:
    """Return ``value`` as a Python float, or ``None`` when missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def iso_or_none(value: datetime | None) -> str | None:
    """Return an ISO 8601 string, or ``None``."""
    return None if value is None else value.isoformat()


def datetime_or_none(value: Any) -> datetime | None:
    """A pandas/numpy timestamp (or datetime) as a ``datetime``; ``None`` for missing."""
    if value is None or pd.isna(value):
        return None
    stamp: datetime = pd.Timestamp(value).to_pydatetime()
    return stamp
