"""Build model input from request records or a table, enforcing the contract."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import DataError, SchemaViolationError
from loopml.schema.coercion import coerce_column
from loopml.schema.column import ColumnName
from loopml.schema.locate import match_columns
from loopml.schema.schema import Schema
from loopml.schema.validation import check_column, missing_column
from loopml.schema.violation import Violation

__all__ = ["conform"]

Records = Sequence[Mapping[Any, Any]]


def conform(data: pd.DataFrame | Records | Any, schema: Schema) -> pd.DataFrame:
    """Turn JSON-like records or a table into a model-ready frame.

    Parameters
    ----------
    data : pandas.DataFrame, list of dict, or table with ``to_pandas()``
        The input: a DataFrame, a sequence of records (one mapping per row,
        as parsed from a JSON request body; keys are column names, and the
        key ``"0"`` also finds the integer column ``0``), or any object with
        a ``to_pandas()`` method (a pyarrow Table, a polars DataFrame).
    schema : Schema
        The contract. Its target column, if any, is not part of the output.

    Returns
    -------
    pandas.DataFrame
        Exactly the schema's feature columns, in schema order, with dtypes a
        model can consume: integer -> ``Int64``, float -> ``float64``,
        boolean -> ``boolean``, categorical and string -> ``object`` holding
        ``str``, datetime -> ``datetime64`` in the column's time zone.
        Missing values of nullable columns are ``pd.NA`` (integer, boolean),
        ``NaN`` (float, categorical, string) or ``NaT`` (datetime). A missing
        nullable column is filled with missing values. The index of a
        DataFrame input is kept; records get a ``RangeIndex``. Columns not in
        the schema are dropped.

    Raises
    ------
    SchemaViolationError
        For the blocking violations, each naming the column and example rows:
        a missing non-nullable column, a value of the wrong type (``"abc"``
        for a float column), a missing value in a non-nullable column.
    DataError
        If ``data`` is neither records nor a table, or a record is not a
        mapping (the message gives its position).

    Notes
    -----
    Out-of-range numbers and unknown categories do **not** make ``conform``
    fail: the model can still score such rows (one-hot and ordinal encoders
    map unseen levels to "unknown"), and refusing them at serving would turn
    data drift into an outage. :func:`loopml.schema.validate` reports them,
    and monitoring counts them from the prediction log.

    Examples
    --------
    >>> import pandas as pd
    >>> from loopml.schema import infer_schema
    >>> schema = infer_schema(pd.DataFrame({"x": [1.5, 2.0], "c": ["a", "b"]}))
    >>> conform([{"c": "z", "x": 3}], schema).dtypes.astype(str).tolist()
    ['float64', 'object']
    """
    if hasattr(data, "to_pandas") and not isinstance(data, pd.DataFrame):
        data = data.to_pandas()
    if isinstance(data, pd.DataFrame):
        return _conform_frame(data, schema)
    if isinstance(data, (Mapping, str, bytes)) or not isinstance(data, Sequence):
        raise DataError(
            f"conform expects a DataFrame or a list of records, got {type(data).__name__}"
        )
    return _conform_records(data, schema)


def _conform_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    match = match_columns(frame.columns, schema)
    columns: dict[ColumnName, pd.Series | None] = {
        column.name: None
        if match.positions[column.name] is None
        else frame.iloc[:, match.positions[column.name]]
        for column in schema.features
    }
    return _build(columns, schema, frame.index)


def _conform_records(records: Records, schema: Schema) -> pd.DataFrame:
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise DataError(f"record at row {i} is a {type(record).__name__}, not an object")
    n_rows = len(records)
    keys: list[Any] = list(dict.fromkeys(key for record in records for key in record))
    match = match_columns(keys, schema)
    columns: dict[ColumnName, pd.Series | None] = {}
    for column in schema.features:
        position = match.positions[column.name]
        if position is None and n_rows > 0:
            columns[column.name] = None
            continue
        key = keys[position] if position is not None else column.name
        values = np.empty(n_rows, dtype=object)
        values[:] = [record.get(key) for record in records]
        columns[column.name] = pd.Series(values, dtype=object)
    return _build(columns, schema, pd.RangeIndex(n_rows))


def _build(
    columns: dict[ColumnName, pd.Series | None], schema: Schema, index: pd.Index
) -> pd.DataFrame:
    violations: list[Violation] = []
    out: dict[ColumnName, pd.Series] = {}
    for column in schema.features:
        series = columns[column.name]
        if series is None:
            if not column.nullable:
                violations.append(missing_column(column, len(index)))
                continue
            series = pd.Series(np.full(len(index), None, dtype=object), dtype=object)
        series = series.reset_index(drop=True)
        coerced = coerce_column(series, column)
        violations.extend(
            v for v in check_column(series, column, coerced=coerced) if v.kind.blocking
        )
        out[column.name] = coerced.values
    if violations:
        raise SchemaViolationError(violations)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(index)))
    frame.index = index
    return frame
