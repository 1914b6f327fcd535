"""Strict-JSON pieces of a stored profile: base64 bytes, non-finite floats, typed fields."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from loopml.errors import MonitoringError
from loopml.monitoring.profile._convert import where

__all__ = ["Reader", "b64", "float_out"]


def b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def float_out(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return repr(value)  # "inf", "-inf" or "nan": strict JSON has no such numbers


class Reader:
    """Typed field access to one JSON object, with messages naming column and field."""

    def __init__(self, data: Any, name: object, *, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            raise MonitoringError(f"{where(name)}: profile must be a JSON object, got {data!r}")
        self.data, self.name, self.prefix = data, name, prefix

    def _fail(self, key: str, wanted: str) -> MonitoringError:
        got = self.data.get(key, "<absent>")
        return MonitoringError(
            f"{where(self.name)}: profile field {self.prefix}{key} must be {wanted}, got {got!r}"
        )

    def get(self, key: str, kind: type) -> Any:
        value = self.data.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self._fail(key, kind.__name__)
        return value

    def number(self, key: str, *, optional: bool = False) -> float | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if value in ("inf", "-inf", "nan"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        return float(value)

    def floats(self, key: str) -> tuple[float, ...]:
        raw = self.sketch(key, optional=False) or b""
        if len(raw) % 8:
            raise self._fail(key, "base64 of little-endian float64 values")
        return tuple(float(v) for v in np.frombuffer(raw, dtype="<f8"))

    def sketch(self, key: str, *, optional: bool) -> bytes | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a base64 string")
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise self._fail(key, "a base64 string") from None
