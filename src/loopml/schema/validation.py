"""Check a table against its data contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loopml.errors import DataError
from loopml.schema.coercion import CoercedColumn, coerce_column
from loopml.schema.column import ColumnSchema
from loopml.schema.locate import match_columns
from loopml.schema.schema import Schema
from loopml.schema.violation import Violation, ViolationKind

__all__ = ["check_column", "validate"]


def validate(frame: pd.DataFrame, schema: Schema, *, max_examples: int = 5) -> list[Violation]:
    """List every way ``frame`` breaks ``schema``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to check; its index is ignored (rows are reported by
        0-based position).
    schema : Schema
        The contract.
    max_examples : int, default=5
        How many example row positions each violation carries.

    Returns
    -------
    list of Violation
        Schema columns first, in schema order (at most one violation of each
        kind per column), then ``unexpected_column`` for table columns the
        schema does not know, in table order. Empty when the table conforms.

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame or repeats a column label.

    Notes
    -----
    Per column, in this order:

    * ``missing_column`` -- the schema column is absent (except the target,
      which serving requests legitimately omit).
    * ``wrong_type`` -- a present value cannot be read as the logical type
      (the coercions accepted are listed in :mod:`loopml.schema.coercion`:
      ints pass as floats, integral floats as integers, 0/1 as booleans).
    * ``null_in_non_nullable`` -- a missing value where none is allowed.
    * ``out_of_range`` -- a number outside ``[minimum, maximum]``.
    * ``unknown_category`` -- a categorical label outside ``categories``.

    Values that are missing or of the wrong type are not range- or
    category-checked, so one bad value yields one violation.

    Examples
    --------
    >>> import pandas as pd
    >>> from loopml.schema import infer_schema
    >>> schema = infer_schema(pd.DataFrame({"x": [1.0, 2.0]}))
    >>> [str(v) for v in validate(pd.DataFrame({"x": [1.5, 9.0]}), schema)]
    ["column 'x': out_of_range in 1 row(s) (e.g. row 1): 1 value(s) outside [1, 2], e.g. 9"]
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"validate expects a pandas DataFrame, got {type(frame).__name__}")
    match = match_columns(frame.columns, schema)
    violations: list[Violation] = []
    n_rows = len(frame)
    for column in schema.columns:
        position = match.positions[column.name]
        if position is None:
            if column.name != schema.target:
                violations.append(missing_column(column, n_rows))
            continue
        violations.extend(check_column(frame.iloc[:, position], column, max_examples=max_examples))
    for label in match.unexpected:
        violations.append(
            Violation(
                column=label if isinstance(label, (str, int)) else repr(label),
                kind=ViolationKind.UNEXPECTED_COLUMN,
                count=n_rows,
                rows=(),
                detail="column is not in the schema",
            )
        )
    return violations


def missing_column(column: ColumnSchema, n_rows: int) -> Violation:
    """Return the ``missing_column`` violation for ``column`` in a table of ``n_rows``."""
    return Violation(
        column=column.name,
        kind=ViolationKind.MISSING_COLUMN,
        count=n_rows,
        rows=(),
        detail=f"required {column.logical_type.value} column is missing",
    )


def check_column(
    series: pd.Series,
    column: ColumnSchema,
    *,
    max_examples: int = 5,
    coerced: CoercedColumn | None = None,
) -> list[Violation]:
    """Check one column's values against its contract.

    Parameters
    ----------
    series : pandas.Series
        The raw values.
    column : ColumnSchema
        The contract of this column.
    max_examples : int, default=5
        How many example row positions each violation carries.
    coerced : CoercedColumn, optional
        The result of ``coerce_column(series, column)`` when the caller
        already has it.

    Returns
    -------
    list of Violation
        In the order ``wrong_type``, ``null_in_non_nullable``,
        ``out_of_range``, ``unknown_category``; empty when the column conforms.
    """
    if coerced is None:
        coerced = coerce_column(series, column)
    found: list[Violation] = []

    def add(kind: ViolationKind, mask: np.ndarray, detail: str) -> None:
        rows = np.flatnonzero(mask)
        if len(rows):
            examples = tuple(int(r) for r in rows[:max_examples])
            found.append(Violation(column.name, kind, len(rows), examples, detail))

    if coerced.bad.any():
        first = series.iloc[int(np.flatnonzero(coerced.bad)[0])]
        add(
            ViolationKind.WRONG_TYPE,
            coerced.bad,
            f"expected {column.logical_type.value}, got {first!r} ({type(first).__name__})",
        )
    if not column.nullable:
        add(
            ViolationKind.NULL_IN_NON_NULLABLE,
            coerced.missing,
            "missing value in non-nullable column",
        )
    valid = ~coerced.missing & ~coerced.bad
    if column.logical_type.is_numeric and (
        column.minimum is not None or column.maximum is not None
    ):
        numbers = coerced.values.to_numpy(dtype=float, na_value=np.nan)
        low = -np.inf if column.minimum is None else column.minimum
        high = np.inf if column.maximum is None else column.maximum
        with np.errstate(invalid="ignore"):
            outside = valid & ((numbers < low) | (numbers > high))
        if outside.any():
            example = numbers[np.flatnonzero(outside)[0]]
            add(
                ViolationKind.OUT_OF_RANGE,
                outside,
                f"{int(outside.sum())} value(s) outside [{low:g}, {high:g}], e.g. {example:g}",
            )
    if column.categories is not None and column.logical_type.is_textual:
        allowed = np.asarray(list(column.categories), dtype=object)
        labels = coerced.values.to_numpy(dtype=object)
        unknown = valid & ~pd.Series(labels, dtype=object).isin(allowed).to_numpy()
        if unknown.any():
            seen = list(dict.fromkeys(labels[unknown].tolist()))
            shown = ", ".join(repr(s) for s in seen[:max_examples])
            add(ViolationKind.UNKNOWN_CATEGORY, unknown, f"unknown categories {shown}")
    return found
