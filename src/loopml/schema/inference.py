"""Infer a data contract from a training table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from loopml.errors import DataError
from loopml.schema.coercion import category_label, coerce_column
from loopml.schema.column import ColumnName, ColumnSchema, column_label
from loopml.schema.schema import Schema
from loopml.schema.types import LogicalType

__all__ = ["infer_schema"]


def infer_schema(
    frame: pd.DataFrame, *, max_categories: int = 50, target: ColumnName | None = None
) -> Schema:
    """Infer the data contract a table satisfies.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training data, one row per example. Column labels must be strings or
        integers; the index is ignored.
    max_categories : int, default=50
        A string column with at most this many distinct non-missing values is
        :attr:`~LogicalType.CATEGORICAL` (its levels become the allowed
        categories); with more it is free :attr:`~LogicalType.STRING`.
        Columns of pandas ``category`` dtype are categorical whatever their
        cardinality, with every level of the dtype allowed.
    target : str or int or None, default=None
        Name of the label column, recorded as :attr:`Schema.target`.

    Returns
    -------
    Schema
        One :class:`ColumnSchema` per column, in frame order. ``nullable`` is
        true when the column holds at least one missing value; numeric columns
        get their observed minimum and maximum (``None`` when every value is
        missing); datetime columns keep their time zone but no range.
        ``validate(frame, infer_schema(frame))`` is always empty.

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame, has repeated or unsupported column
        labels, has an ``object`` column mixing incompatible kinds of value,
        or ``target`` is not one of its columns.

    Notes
    -----
    Mapping from dtype to logical type: numpy/pandas integers (``Int64``
    included) -> integer; floats -> float; ``bool`` and ``boolean`` ->
    boolean; ``datetime64`` (naive or tz-aware) -> datetime; ``category`` ->
    categorical; strings -> categorical or string by cardinality. ``object``
    columns are classified by their non-missing values (all ``bool`` ->
    boolean, all numbers -> integer or float, all ``str`` -> textual, all
    timestamps -> datetime); an all-missing ``object`` column is a nullable
    string.

    Examples
    --------
    >>> import pandas as pd
    >>> schema = infer_schema(pd.DataFrame({"x": [1, 2], "c": ["a", None]}))
    >>> [(c.name, c.logical_type.value, c.nullable) for c in schema.columns]
    [('x', 'integer', False), ('c', 'categorical', True)]
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"infer_schema expects a pandas DataFrame, got {type(frame).__name__}")
    labels = [column_label(name) for name in frame.columns]
    repeated = sorted({repr(n) for n in labels if labels.count(n) > 1})
    if repeated:
        raise DataError(f"frame repeats column label(s) {', '.join(repeated)}")
    if target is not None and column_label(target) not in labels:
        raise DataError(f"target column {target!r} is not in the frame")
    columns = tuple(
        _infer_column(label, frame.iloc[:, i], max_categories=max_categories)
        for i, label in enumerate(labels)
    )
    return Schema(columns, target=None if target is None else column_label(target))


def _infer_column(name: ColumnName, series: pd.Series, *, max_categories: int) -> ColumnSchema:
    logical_type = _logical_type(name, series, max_categories=max_categories)
    nullable = bool(series.isna().any())
    timezone = _timezone(series) if logical_type is LogicalType.DATETIME else None
    draft = ColumnSchema(name, logical_type, nullable, timezone=timezone)
    coerced = coerce_column(series, draft)
    present = ~coerced.missing
    minimum = maximum = None
    if logical_type.is_numeric and present.any():
        numbers = coerced.values.to_numpy(dtype=float, na_value=np.nan)[present]
        minimum, maximum = float(numbers.min()), float(numbers.max())
    categories: tuple[str, ...] | None = None
    if logical_type is LogicalType.CATEGORICAL:
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = tuple(str(category_label(c)) for c in series.dtype.categories)
        else:
            categories = tuple(sorted(set(coerced.values[present].tolist())))
    return ColumnSchema(name, logical_type, nullable, minimum, maximum, categories, timezone)


def _timezone(series: pd.Series) -> str | None:
    """Return the zone of a tz-aware datetime column (``None`` when naive or mixed)."""
    tz = getattr(series.dtype, "tz", None)
    if tz is not None:
        return str(tz)
    if series.dtype != object:
        return None
    zones = {str(getattr(v, "tzinfo", None)) for v in series.dropna()}
    zone = zones.pop() if len(zones) == 1 else "None"
    return None if zone == "None" else zone


def _logical_type(name: ColumnName, series: pd.Series, *, max_categories: int) -> LogicalType:
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) and dtype != object:
        return LogicalType.BOOLEAN
    if ptypes.is_integer_dtype(dtype):
        return LogicalType.INTEGER
    if ptypes.is_float_dtype(dtype):
        return LogicalType.FLOAT
    if ptypes.is_datetime64_any_dtype(dtype):
        return LogicalType.DATETIME
    if isinstance(dtype, pd.CategoricalDtype):
        levels = [category_label(c) for c in dtype.categories]
        if not all(isinstance(level, str) for level in levels):
            raise DataError(
                f"column {name!r}: category levels must be strings or integers, "
                f"got {dtype.categories.dtype}"
            )
        return LogicalType.CATEGORICAL
    if ptypes.is_string_dtype(dtype) and dtype != object:
        return _textual_type(series, max_categories)
    if dtype == object:
        return _object_type(name, series, max_categories)
    raise DataError(f"column {name!r}: dtype {dtype} has no logical type")


def _textual_type(series: pd.Series, max_categories: int) -> LogicalType:
    distinct = series.nunique(dropna=True)
    return LogicalType.CATEGORICAL if 0 < distinct <= max_categories else LogicalType.STRING


def _object_type(name: ColumnName, series: pd.Series, max_categories: int) -> LogicalType:
    values = series.dropna().to_numpy(dtype=object)
    if len(values) == 0:
        return LogicalType.STRING
    kinds = {_kind(v) for v in values}
    if kinds == {"bool"}:
        return LogicalType.BOOLEAN
    if kinds == {"int"}:
        return LogicalType.INTEGER
    if kinds <= {"int", "float"}:
        return LogicalType.FLOAT
    if kinds == {"str"}:
        return _textual_type(series, max_categories)
    if kinds == {"datetime"}:
        return LogicalType.DATETIME
    found = ", ".join(sorted(kinds))
    raise DataError(
        f"column {name!r}: object column mixes values of kinds {found}; "
        "cast it to one type before inferring a schema"
    )


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (dt.date, np.datetime64)):  # datetime and pd.Timestamp included
        return "datetime"
    return type(value).__name__
