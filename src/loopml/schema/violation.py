"""One way a table breaks its contract."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from loopml.schema.column import ColumnName

__all__ = ["Violation", "ViolationKind"]


class ViolationKind(str, enum.Enum):
    """Kinds of contract violation; members compare equal to their string values.

    ``missing_column``, ``wrong_type`` and ``null_in_non_nullable`` are
    *blocking*: :func:`loopml.schema.conform` refuses such data because no
    model input can be built from it. ``out_of_range``, ``unknown_category``
    and ``unexpected_column`` are *advisory*: the model can still score the
    rows, and monitoring reports them.
    """

    MISSING_COLUMN = "missing_column"
    UNEXPECTED_COLUMN = "unexpected_column"
    WRONG_TYPE = "wrong_type"
    NULL_IN_NON_NULLABLE = "null_in_non_nullable"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CATEGORY = "unknown_category"

    @property
    def blocking(self) -> bool:
        """Whether data with this violation cannot be turned into model input."""
        return self in (
            ViolationKind.MISSING_COLUMN,
            ViolationKind.WRONG_TYPE,
            ViolationKind.NULL_IN_NON_NULLABLE,
        )


@dataclass(frozen=True)
class Violation:
    """A column that breaks its contract, with example rows.

    Parameters
    ----------
    column : str or int
        The offending column.
    kind : ViolationKind
        What is wrong.
    count : int
        Number of offending rows; for column-level kinds (``missing_column``,
        ``unexpected_column``) the number of rows in the table.
    rows : tuple of int
        Up to ``max_examples`` 0-based row positions (not index labels) of
        offending rows, ascending; empty for column-level kinds.
    detail : str
        Human-readable explanation with example values.
    """

    column: ColumnName
    kind: ViolationKind
    count: int
    rows: tuple[int, ...]
    detail: str

    def __str__(self) -> str:
        where = f" (e.g. row {', '.join(map(str, self.rows))})" if self.rows else ""
        return f"column {self.column!r}: {self.kind.value} in {self.count} row(s){where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict, e.g. for an error response body."""
        return {
            "column": self.column,
            "kind": self.kind.value,
            "count": self.count,
            "rows": list(self.rows),
            "detail": self.detail,
        }
