"""Turn one chunk of a column into what a profile counts: floats or category labels.

Numeric columns become ``float64`` arrays with ``NaN`` for every missing
value. Categorical columns become counts per *label*, the string a value is
known by in a profile (so that labels survive JSON and merge across chunks
whose dtypes differ, e.g. ``int64`` in one chunk and ``float64`` with ``NaN``
in the next):

==========================  ===============================================
value                       label
==========================  ===============================================
``str``                     itself
``bool``, ``numpy.bool_``   ``"True"`` / ``"False"``
integer (Python or NumPy)   decimal digits: ``7`` -> ``"7"``
float with an integral      the integer: ``3.0`` -> ``"3"`` (as an integer
value, ``|x| < 2**53``      column with missing values arrives as floats)
any other float             shortest round-trip ``repr``: ``"0.1"``,
                            ``"1e+300"``, ``"inf"``, ``"-inf"``
``None``, ``NaN``, ``NaT``, missing (counted, never labelled)
``pd.NA``
anything else               :class:`loopml.errors.MonitoringError`
==========================  ===============================================

So ``1``, ``1.0`` and ``"1"`` are one category, as in
:mod:`loopml.schema.coercion` ("integers are valid category labels").
"""

from __future__ import annotations

import decimal
import numbers
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api import types as ptypes

from loopml.errors import MonitoringError

__all__ = ["label", "label_counts", "numeric_values", "where"]

_EXACT_INTEGER = 2.0**53
# Object columns whose values cannot compare equal across labels (``True == 1``
# would merge "True" and "1" in a hash table), so value_counts is safe.
_SAFE_OBJECT = frozenset(
    {"string", "integer", "floating", "mixed-integer-float", "boolean", "empty"}
)
_NUMBER_OBJECT = frozenset(
    {"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"}
)


def where(name: object) -> str:
    """Return ``"column 'x'"`` for messages, or ``"the column"`` when unnamed."""
    return "the column" if name is None else f"column {name!r}"


def label(value: Any, *, name: object = None) -> str:
    """Return the label of one non-missing category value (rules in the module docstring).

    Raises
    ------
    MonitoringError
        If the value is not a string, boolean, integer or float; the message
        names the column and the type.

    Examples
    --------
    >>> label(3.0), label(0.1), label(True), label(np.int8(7))
    ('3', '0.1', 'True', '7')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < _EXACT_INTEGER:
            return str(int(number))
        return repr(number)
    raise MonitoringError(
        f"{where(name)}: a categorical profile takes strings, booleans and numbers, "
        f"got {type(value).__name__} value {value!r}"
    )


def label_counts(series: pd.Series, *, name: object = None) -> tuple[dict[str, int], int]:
    """Count the labels of one chunk of a categorical column.

    Parameters
    ----------
    series : pandas.Series of shape (n_rows,)
        Any dtype: object, string, category, boolean, integer, float.
    name : str or int, optional
        Column name for messages.

    Returns
    -------
    counts : dict of str to int
        Label -> number of rows (labels with zero rows, such as unused
        levels of a ``category`` dtype, are left out).
    missing : int
        Rows holding ``None``, ``NaN``, ``NaT`` or ``pd.NA``.

    Raises
    ------
    MonitoringError
        If a value cannot be labelled (see :func:`label`).
    """
    missing = int(series.isna().sum())
    kept = series.dropna()
    if kept.dtype == object and ptypes.infer_dtype(kept, skipna=False) not in _SAFE_OBJECT:
        kept = pd.Series([label(v, name=name) for v in kept.to_numpy()], dtype=object)
    counts: dict[str, int] = {}
    for value, count in kept.value_counts(sort=False).items():
        if count:
            key = label(value, name=name)
            counts[key] = counts.get(key, 0) + int(count)
    return counts, missing


def numeric_values(series: pd.Series, *, name: object = None) -> NDArray[np.float64]:
    """Return one chunk of a numeric column as ``float64``, ``NaN`` where missing.

    Booleans count as 0 and 1. Integers beyond ``2**53`` are rounded to the
    nearest ``float64``.

    Parameters
    ----------
    series : pandas.Series of shape (n_rows,)
        Numeric, boolean or nullable (``Int64``, ``Float64``, ``boolean``)
        dtype, or object/category dtype holding only numbers and missing values.
    name : str or int, optional
        Column name for messages.

    Returns
    -------
    ndarray of shape (n_rows,)

    Raises
    ------
    MonitoringError
        If the chunk holds strings, dates or other non-numbers; the message
        names the column and what was found.
    """
    dtype = series.dtype
    if (
        ptypes.is_complex_dtype(dtype)
        or ptypes.is_datetime64_any_dtype(dtype)
        or ptypes.is_timedelta64_dtype(dtype)
    ):
        raise MonitoringError(f"{where(name)}: a numeric profile needs real numbers, got {dtype}")
    if ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype):
        floats: NDArray[np.float64] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return floats
    values = series.astype(object)
    if ptypes.infer_dtype(values, skipna=True) not in _NUMBER_OBJECT:  # e.g. ints and bools
        for value in values.dropna().to_numpy():
            if not isinstance(value, numbers.Real | np.bool_ | decimal.Decimal):
                raise MonitoringError(
                    f"{where(name)}: a numeric profile needs numbers, got "
                    f"{type(value).__name__} value {value!r} (dtype {dtype})"
                )
    converted: NDArray[np.float64] = values.where(values.notna(), np.nan).to_numpy(dtype=np.float64)
    return converted
