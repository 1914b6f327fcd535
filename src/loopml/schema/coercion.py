"""Turn one column of raw values into the dtype its contract calls for.

Validation and conforming share this module, so that "``validate`` reports no
blocking violation" and "``conform`` succeeds" mean the same thing. The rules
follow what JSON clients send: integers are valid floats, integral floats
(``3.0``) are valid integers, ``0``/``1`` are valid booleans, integers are
valid category labels (``7`` -> ``"7"``), ISO-8601 strings are valid
datetimes. Strings are never numbers: ``"3"`` in a float column is a
``wrong_type``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api import types as ptypes

from loopml.schema.column import ColumnSchema
from loopml.schema.types import LogicalType

__all__ = ["CoercedColumn", "coerce_column"]

BoolArray = npt.NDArray[np.bool_]

_BAD = object()
"""Sentinel returned by element converters for a value of the wrong type."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class CoercedColumn:
    """A column converted to its model dtype, with per-row diagnostics.

    Attributes
    ----------
    values : pandas.Series
        ``Int64`` (integer), ``float64`` (float), ``boolean`` (boolean),
        ``object`` holding ``str`` or ``NaN`` (categorical, string),
        ``datetime64`` in the column's time zone (datetime). Rows that were
        missing or of the wrong type are missing here.
    missing : ndarray of bool, shape (n_rows,)
        The input value was missing (``None``, ``NaN``, ``NaT``, ``pd.NA``).
    bad : ndarray of bool, shape (n_rows,)
        The input value was present but cannot be read as the logical type.
    """

    values: pd.Series
    missing: BoolArray
    bad: BoolArray


def coerce_column(series: pd.Series, column: ColumnSchema) -> CoercedColumn:
    """Convert ``series`` to the dtype of ``column.logical_type``.

    Parameters
    ----------
    series : pandas.Series
        Raw values of any dtype (numeric, ``boolean``, ``category``, string,
        ``object`` with Python scalars, ``datetime64``).
    column : ColumnSchema
        The contract; only ``logical_type`` and ``timezone`` are used here.

    Returns
    -------
    CoercedColumn
        The converted values (index preserved) and the missing/bad masks.
    """
    converter = _CONVERTERS[column.logical_type]
    missing = np.asarray(series.isna(), dtype=bool)
    values, bad = converter(series, missing, column)
    values.index = series.index
    return CoercedColumn(values=values, missing=missing, bad=bad & ~missing)


def _elementwise(
    series: pd.Series, missing: BoolArray, convert: Callable[[Any], Any]
) -> tuple[list[Any], BoolArray]:
    raw = series.to_numpy(dtype=object)
    out: list[Any] = [None] * len(raw)
    bad = np.zeros(len(raw), dtype=bool)
    for i, value in enumerate(raw):
        if missing[i]:
            continue
        converted = convert(value)
        if converted is _BAD:
            bad[i] = True
        else:
            out[i] = converted
    return out, bad


def _all_bad(series: pd.Series, missing: BoolArray) -> BoolArray:
    return ~missing


def _is_plain_numeric(dtype: Any) -> bool:
    return bool(
        (ptypes.is_integer_dtype(dtype) or ptypes.is_float_dtype(dtype))
        and not ptypes.is_bool_dtype(dtype)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _to_int(value: Any) -> Any:
    if not _is_number(value):
        return _BAD
    number = float(value) if isinstance(value, (float, np.floating)) else int(value)
    if isinstance(number, float):
        if not (math.isfinite(number) and number.is_integer()):
            return _BAD
        number = int(number)
    return number if _INT64_MIN <= number <= _INT64_MAX else _BAD


def _integer(
    series: pd.Series, missing: BoolArray, column: ColumnSchema
) -> tuple[pd.Series, BoolArray]:
    dtype = series.dtype
    if ptypes.is_integer_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
        try:
            return series.astype("Int64"), np.zeros(len(series), dtype=bool)
        except (OverflowError, TypeError, ValueError):
            pass  # uint64 beyond int64: fall through to the element path
    elif ptypes.is_float_dtype(dtype):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(floats) & (floats == np.round(floats))
            ok &= (floats >= _INT64_MIN) & (floats < _INT64_MAX)
        data = pd.array(np.where(ok, floats, 0).astype(np.int64), dtype="Int64")
        data[~ok] = pd.NA
        return pd.Series(data), ~missing & ~ok
    elif not (dtype == object or isinstance(dtype, pd.CategoricalDtype)):
        return pd.Series(pd.array([None] * len(series), dtype="Int64")), _all_bad(series, missing)
    out, bad = _elementwise(series, missing, _to_int)
    return pd.Series(pd.array(out, dtype="Int64")), bad


def _float(
    series: pd.Series, missing: BoolArray, column: ColumnSchema
) -> tuple[pd.Series, BoolArray]:
    dtype = series.dtype
    if _is_plain_numeric(dtype):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(floats, dtype="float64"), np.zeros(len(series), dtype=bool)
    if not (dtype == object or isinstance(dtype, pd.CategoricalDtype)):
        return pd.Series(np.full(len(series), np.nan)), _all_bad(series, missing)
    out, bad = _elementwise(series, missing, lambda v: float(v) if _is_number(v) else _BAD)
    return pd.Series([np.nan if v is None else v for v in out], dtype="float64"), bad


def _to_bool(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_number(value) and value in (0, 1):
        return bool(value)
    return _BAD


def _boolean(
    series: pd.Series, missing: BoolArray, column: ColumnSchema
) -> tuple[pd.Series, BoolArray]:
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) and dtype != object:
        return series.astype("boolean"), np.zeros(len(series), dtype=bool)
    if _is_plain_numeric(dtype):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        ok = (floats == 0) | (floats == 1)
        data = pd.array(floats == 1, dtype="boolean")
        data[~ok] = pd.NA
        return pd.Series(data), ~missing & ~ok
    if not (dtype == object or isinstance(dtype, pd.CategoricalDtype)):
        return pd.Series(pd.array([None] * len(series), dtype="boolean")), _all_bad(series, missing)
    out, bad = _elementwise(series, missing, _to_bool)
    return pd.Series(pd.array(out, dtype="boolean")), bad


def category_label(value: Any) -> Any:
    """Return the string label of a categorical/string value, or a bad-value sentinel.

    Strings are kept; integers (not booleans) become their decimal text, so
    ``7`` and ``"7"`` are the same level. Anything else is a wrong type.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return _BAD


def _textual(
    series: pd.Series, missing: BoolArray, column: ColumnSchema
) -> tuple[pd.Series, BoolArray]:
    dtype = series.dtype
    n = len(series)
    if isinstance(dtype, pd.CategoricalDtype):
        labels = [category_label(c) for c in dtype.categories]
        lookup = np.array(
            [np.nan if lab is _BAD else lab for lab in labels] + [np.nan], dtype=object
        )
        bad_level = np.array([lab is _BAD for lab in labels] + [False], dtype=bool)
        codes = series.cat.codes.to_numpy()
        return pd.Series(lookup[codes], dtype=object), bad_level[codes]
    if ptypes.is_string_dtype(dtype) and dtype != object:
        return pd.Series(series.to_numpy(dtype=object, na_value=np.nan), dtype=object), np.zeros(
            n, bool
        )
    if ptypes.is_integer_dtype(dtype) and not ptypes.is_bool_dtype(dtype) or dtype == object:
        out, bad = _elementwise(series, missing, category_label)
    else:
        return pd.Series(np.full(n, np.nan, dtype=object), dtype=object), _all_bad(series, missing)
    return pd.Series([np.nan if v is None else v for v in out], dtype=object), bad


def _to_timestamp(value: Any, timezone: str | None) -> Any:
    if not isinstance(value, (str, dt.date, np.datetime64)):
        return _BAD
    try:
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return _BAD
        if stamp.tzinfo is None:
            return stamp.tz_localize(timezone) if timezone else stamp
        return stamp.tz_convert(timezone) if timezone else stamp.tz_convert("UTC").tz_localize(None)
    except (ValueError, TypeError, OverflowError, KeyError):  # KeyError: unknown zone name
        return _BAD


def _datetime(
    series: pd.Series, missing: BoolArray, column: ColumnSchema
) -> tuple[pd.Series, BoolArray]:
    dtype = series.dtype
    tz = column.timezone
    n = len(series)
    if ptypes.is_datetime64_any_dtype(dtype):
        aware = getattr(dtype, "tz", None) is not None
        try:
            if aware:
                values = (
                    series.dt.tz_convert(tz)
                    if tz
                    else series.dt.tz_convert("UTC").dt.tz_localize(None)
                )
            else:
                values = (
                    series.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT") if tz else series
                )
        except (ValueError, TypeError, KeyError):
            pass  # unknown time zone name: fall through to the element path
        else:
            return values, np.asarray(values.isna(), dtype=bool) & ~missing
    elif not (
        dtype == object or isinstance(dtype, pd.CategoricalDtype) or ptypes.is_string_dtype(dtype)
    ):
        empty = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
        return empty, _all_bad(series, missing)
    out, bad = _elementwise(series, missing, lambda v: _to_timestamp(v, tz))
    values = pd.Series(pd.to_datetime(pd.Series(out, dtype=object)))
    if tz and getattr(values.dtype, "tz", None) is None:
        values = values.dt.tz_localize(tz)
    return values, bad


_Converter = Callable[[pd.Series, BoolArray, ColumnSchema], tuple[pd.Series, BoolArray]]

_CONVERTERS: dict[LogicalType, _Converter] = {
    LogicalType.INTEGER: _integer,
    LogicalType.FLOAT: _float,
    LogicalType.BOOLEAN: _boolean,
    LogicalType.CATEGORICAL: _textual,
    LogicalType.STRING: _textual,
    LogicalType.DATETIME: _datetime,
}
