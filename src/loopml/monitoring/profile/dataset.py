"""The profile of a table: one :class:`ColumnProfile` per profiled column."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from loopml.errors import MonitoringError
from loopml.monitoring.profile.column import PROFILE_FORMAT_VERSION, ColumnProfile
from loopml.schema import ColumnName

__all__ = ["DatasetProfile"]


@dataclass(frozen=True)
class DatasetProfile:
    """Per-column profiles of one table (or of the union of several partitions).

    Build one with :func:`loopml.monitoring.profile.profile_frame`; merge
    partitions with :func:`loopml.monitoring.profile.merge_all`.

    Attributes
    ----------
    columns : tuple of ColumnProfile
        One profile per column, in the order they were asked for; each has
        ``count == n_rows``.
    n_rows : int
        Rows profiled.

    Examples
    --------
    >>> import pandas as pd
    >>> from loopml.monitoring.profile import profile_frame
    >>> profile = profile_frame(pd.DataFrame({"x": [1.0, None]}), {"x": "numeric"})
    >>> DatasetProfile.from_json(profile.to_json()) == profile
    True
    >>> profile["x"].missing
    1
    """

    columns: tuple[ColumnProfile, ...]
    n_rows: int

    @property
    def names(self) -> tuple[ColumnName | None, ...]:
        """Column names, in order."""
        return tuple(c.name for c in self.columns)

    def __getitem__(self, name: ColumnName) -> ColumnProfile:
        """Return the profile of column ``name``.

        Raises
        ------
        KeyError
            If no column has that name; the message lists the names.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"profile has no column {name!r}; columns are {list(self.names)!r}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self) -> Iterator[ColumnProfile]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict; :meth:`from_dict` restores an equal profile."""
        return {
            "format_version": PROFILE_FORMAT_VERSION,
            "n_rows": self.n_rows,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Rebuild a profile from :meth:`to_dict` output.

        Raises
        ------
        MonitoringError
            If the layout is unknown or a column is malformed (see
            :meth:`ColumnProfile.from_dict`).
        """
        if not isinstance(data, Mapping):
            raise MonitoringError(f"dataset profile must be a JSON object, got {data!r}")
        version = data.get("format_version", PROFILE_FORMAT_VERSION)
        if version != PROFILE_FORMAT_VERSION:
            raise MonitoringError(
                f"profile format_version {version!r} is not supported "
                f"(this loopml reads version {PROFILE_FORMAT_VERSION})"
            )
        n_rows, raw = data.get("n_rows"), data.get("columns")
        if isinstance(n_rows, bool) or not isinstance(n_rows, int) or not isinstance(raw, list):
            raise MonitoringError("dataset profile needs an integer 'n_rows' and a 'columns' list")
        return cls(columns=tuple(ColumnProfile.from_dict(c) for c in raw), n_rows=n_rows)

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise :meth:`to_dict` to strict JSON (no ``NaN``/``Infinity`` tokens)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> DatasetProfile:
        """Parse :meth:`to_json` output.

        Raises
        ------
        MonitoringError
            If the text is not JSON or not a dataset profile.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MonitoringError(f"dataset profile is not valid JSON: {exc}") from None
        return cls.from_dict(data)
