"""Match a table's column labels to a schema's column names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loopml.errors import DataError
from loopml.schema.column import ColumnName, column_label
from loopml.schema.schema import Schema

__all__ = ["ColumnMatch", "match_columns"]


@dataclass(frozen=True)
class ColumnMatch:
    """Where each schema column sits in a table.

    Attributes
    ----------
    positions : dict
        Schema column name -> 0-based position of the table column holding
        it, or ``None`` when the table lacks it.
    unexpected : tuple
        Table labels that match no schema column, in table order.
    """

    positions: dict[ColumnName, int | None]
    unexpected: tuple[object, ...]


def match_columns(labels: Iterable[object], schema: Schema) -> ColumnMatch:
    """Find every schema column among ``labels``.

    A label matches a column of the same name; failing that, a label whose
    text equals the name's text (the JSON key ``"0"`` for the integer column
    ``0``, or the other way round).

    Raises
    ------
    DataError
        If two labels are equal (the table has repeated columns).
    """
    raw = list(labels)
    normalised: list[ColumnName | None] = []
    for label in raw:
        try:
            normalised.append(column_label(label))
        except DataError:
            normalised.append(None)
    seen: set[tuple[type, ColumnName]] = set()
    for label in normalised:
        if label is None:
            continue
        key = (type(label), label)
        if key in seen:
            raise DataError(f"table repeats column label {label!r}")
        seen.add(key)
    exact = {label: i for i, label in enumerate(normalised) if label is not None}
    textual: dict[str, int] = {}
    for i, label in enumerate(normalised):
        if label is not None:
            textual.setdefault(str(label), i)
    positions: dict[ColumnName, int | None] = {}
    used: set[int] = set()
    for name in schema.names:
        position = exact.get(name)
        if position is None or position in used:
            position = textual.get(str(name))
        if position is not None and position in used:
            position = None
        positions[name] = position
        if position is not None:
            used.add(position)
    unexpected = tuple(label for i, label in enumerate(raw) if i not in used)
    return ColumnMatch(positions=positions, unexpected=unexpected)
