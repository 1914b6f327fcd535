"""One column of a data contract."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopml.errors import DataError
from loopml.schema.types import LogicalType

__all__ = ["ColumnName", "ColumnSchema", "column_label"]

ColumnName = str | int
"""A column label: a string, or an integer such as the ``0`` of ``DataFrame(ndarray)``."""


def column_label(name: object) -> ColumnName:
    """Normalise a pandas column label to ``str`` or ``int``.

    Parameters
    ----------
    name : object
        A label as found in ``DataFrame.columns`` (NumPy integers included).

    Returns
    -------
    str or int

    Raises
    ------
    DataError
        If the label is neither a string nor an integer (floats, tuples of a
        MultiIndex, ``None``, booleans): such labels cannot round-trip JSON.
    """
    if isinstance(name, str):
        return name
    if isinstance(name, bool):
        raise DataError(f"column label {name!r} is a boolean; use a string or an integer")
    if isinstance(name, (int, np.integer)):
        return int(name)
    raise DataError(
        f"column label {name!r} ({type(name).__name__}) is not supported; "
        "column labels must be strings or integers"
    )


def _number_to_json(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "inf" if value > 0 else "-inf"


def _number_from_json(value: Any, *, field: str, column: ColumnName) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DataError(f"column {column!r}: {field} must be a number or null, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise DataError(f"column {column!r}: {field} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class ColumnSchema:
    """The contract of one column.

    Parameters
    ----------
    name : str or int
        Column label. Integer labels (``0``, ``1`` ...) are kept as integers,
        also through JSON.
    logical_type : LogicalType
        What the values mean (see :class:`LogicalType`).
    nullable : bool
        Whether missing values (``None``, ``NaN``, ``NaT``, ``pd.NA``) are
        allowed.
    minimum, maximum : float or None
        Inclusive range of numeric columns, as seen in the training data;
        ``None`` when unknown, for non-numeric columns and for datetimes
        (a time column's range would flag every future timestamp).
        Infinite bounds are allowed.
    categories : tuple of str or None
        Allowed levels of a categorical column; ``None`` for other types.
    timezone : str or None, default=None
        IANA name (``"UTC"``) of a time-zone-aware datetime column; ``None``
        for naive datetimes and for other types.
    """

    name: ColumnName
    logical_type: LogicalType
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | None = None
    timezone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (infinite bounds become ``"inf"``/``"-inf"``)."""
        return {
            "name": self.name,
            "logical_type": self.logical_type.value,
            "nullable": self.nullable,
            "minimum": _number_to_json(self.minimum),
            "maximum": _number_to_json(self.maximum),
            "categories": None if self.categories is None else list(self.categories),
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSchema:
        """Rebuild a column from :meth:`to_dict` output.

        Raises
        ------
        DataError
            If a field is missing or has the wrong type; the message names
            the column and the field.
        """
        try:
            raw_name = data["name"]
            raw_type = data["logical_type"]
            nullable = data["nullable"]
        except KeyError as exc:
            raise DataError(f"column schema {data!r} lacks field {exc.args[0]!r}") from None
        name = column_label(raw_name)
        try:
            logical_type = LogicalType(raw_type)
        except ValueError:
            allowed = ", ".join(t.value for t in LogicalType)
            raise DataError(
                f"column {name!r}: unknown logical type {raw_type!r} (allowed: {allowed})"
            ) from None
        if not isinstance(nullable, bool):
            raise DataError(f"column {name!r}: nullable must be true or false, got {nullable!r}")
        raw_categories = data.get("categories")
        categories: tuple[str, ...] | None = None
        if raw_categories is not None:
            if not isinstance(raw_categories, list) or not all(
                isinstance(c, str) for c in raw_categories
            ):
                raise DataError(f"column {name!r}: categories must be a list of strings")
            categories = tuple(raw_categories)
        timezone = data.get("timezone")
        if timezone is not None and not isinstance(timezone, str):
            raise DataError(f"column {name!r}: timezone must be a string or null")
        return cls(
            name=name,
            logical_type=logical_type,
            nullable=nullable,
            minimum=_number_from_json(data.get("minimum"), field="minimum", column=name),
            maximum=_number_from_json(data.get("maximum"), field="maximum", column=name),
            categories=categories,
            timezone=timezone,
        )
