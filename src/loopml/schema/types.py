"""Logical column types of a data contract."""

from __future__ import annotations

import enum

__all__ = ["LogicalType"]


class LogicalType(str, enum.Enum):
    """What a column means, independent of how pandas happens to store it.

    A logical type is deliberately coarser than a dtype: ``int8``, ``int64``
    and pandas ``Int64`` are all :attr:`INTEGER`; ``category`` columns and
    low-cardinality strings are :attr:`CATEGORICAL`. Members compare equal to
    their string values (``LogicalType.FLOAT == "float"``), which is also how
    they are written to JSON.

    Attributes
    ----------
    INTEGER
        Whole numbers. Floats with integral values (``3.0``, as JSON clients
        often send) are accepted.
    FLOAT
        Real numbers; integers are accepted. ``NaN`` counts as missing.
    BOOLEAN
        ``True``/``False``; the integers ``0`` and ``1`` are accepted.
    CATEGORICAL
        A label from a known, small set of levels (strings).
    STRING
        Free text (high-cardinality labels, identifiers).
    DATETIME
        A point in time, naive or with a time zone.
    """

    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"
    STRING = "string"
    DATETIME = "datetime"

    @property
    def is_numeric(self) -> bool:
        """Whether values are numbers that can carry a ``[minimum, maximum]`` range."""
        return self in (LogicalType.INTEGER, LogicalType.FLOAT)

    @property
    def is_textual(self) -> bool:
        """Whether values are strings (categorical levels or free text)."""
        return self in (LogicalType.CATEGORICAL, LogicalType.STRING)
