"""A data contract: the ordered columns a table must have."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loopml.errors import DataError
from loopml.schema.column import ColumnName, ColumnSchema, column_label

__all__ = ["SCHEMA_FORMAT_VERSION", "Schema"]

SCHEMA_FORMAT_VERSION = 1
"""Version of the dict/JSON layout written by :meth:`Schema.to_dict`."""


@dataclass(frozen=True)
class Schema:
    """The data contract of a table: ordered columns and, optionally, the label.

    A schema is inferred from training data (:func:`loopml.schema.infer_schema`),
    stored with the dataset and in every model package, checked by
    :func:`loopml.schema.validate` and enforced at serving by
    :func:`loopml.schema.conform`.

    Parameters
    ----------
    columns : tuple of ColumnSchema
        The columns, in the order a model expects them. Names are unique.
    target : str or int or None, default=None
        Name of the label column, when the schema describes training data.
        The target is not a feature: it is left out of :attr:`feature_names`,
        may be absent from serving requests and is not returned by ``conform``.

    Examples
    --------
    >>> from loopml.schema import ColumnSchema, LogicalType, Schema
    >>> schema = Schema((ColumnSchema("age", LogicalType.INTEGER, False, 18.0, 99.0),))
    >>> Schema.from_json(schema.to_json()) == schema
    True
    >>> schema["age"].maximum
    99.0
    """

    columns: tuple[ColumnSchema, ...]
    target: ColumnName | None = None

    @property
    def names(self) -> tuple[ColumnName, ...]:
        """All column names, in order (target included)."""
        return tuple(column.name for column in self.columns)

    @property
    def feature_names(self) -> tuple[ColumnName, ...]:
        """Column names a model consumes: every column except the target."""
        return tuple(c.name for c in self.columns if c.name != self.target)

    @property
    def features(self) -> tuple[ColumnSchema, ...]:
        """Column contracts of :attr:`feature_names`, in order."""
        return tuple(c for c in self.columns if c.name != self.target)

    def __getitem__(self, name: ColumnName) -> ColumnSchema:
        """Return the column called ``name``.

        Raises
        ------
        KeyError
            If there is no such column; the message lists the known names.
        """
        try:
            label = column_label(name)
        except DataError:
            label = None
        for column in self.columns:
            if label is not None and column.name == label:
                return column
        raise KeyError(f"schema has no column {name!r}; columns are {list(self.names)!r}")

    def __contains__(self, name: object) -> bool:
        try:
            label = column_label(name)
        except DataError:
            return False
        return any(c.name == label for c in self.columns)

    def __iter__(self) -> Iterator[ColumnSchema]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def select(self, names: tuple[ColumnName, ...] | list[ColumnName]) -> Schema:
        """Return the sub-schema of ``names`` in the given order (target kept if selected).

        Raises
        ------
        KeyError
            If a name is not in the schema.
        """
        columns = tuple(self[name] for name in names)
        target = self.target if self.target in names else None
        return Schema(columns, target=target)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; :meth:`from_dict` restores an equal schema."""
        return {
            "format_version": SCHEMA_FORMAT_VERSION,
            "columns": [column.to_dict() for column in self.columns],
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output.

        Raises
        ------
        DataError
            If the layout is unknown, a column is malformed, names repeat or
            the target is not one of the columns.
        """
        version = data.get("format_version", SCHEMA_FORMAT_VERSION)
        if version != SCHEMA_FORMAT_VERSION:
            raise DataError(
                f"schema format_version {version!r} is not supported "
                f"(this loopml reads version {SCHEMA_FORMAT_VERSION})"
            )
        raw_columns = data.get("columns")
        if not isinstance(raw_columns, list):
            raise DataError("schema must have a 'columns' list")
        columns = tuple(ColumnSchema.from_dict(c) for c in raw_columns)
        names = [c.name for c in columns]
        duplicates = sorted({repr(name) for name in names if names.count(name) > 1})
        if duplicates:
            raise DataError(f"schema repeats column(s) {', '.join(duplicates)}")
        raw_target = data.get("target")
        target = None if raw_target is None else column_label(raw_target)
        schema = cls(columns, target=target)
        if target is not None and target not in schema:
            raise DataError(f"schema target {target!r} is not one of its columns")
        return schema

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialise to strict JSON (no ``NaN``/``Infinity`` literals)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        """Parse :meth:`to_json` output.

        Raises
        ------
        DataError
            If the text is not JSON or not a schema.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"schema is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise DataError("schema JSON must be an object")
        return cls.from_dict(data)
