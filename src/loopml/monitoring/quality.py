"""Data quality of a window against the data contract and the reference window.

Drift asks whether the current data *looks like* the reference; quality asks
whether it *keeps the contract*. Per column, :func:`data_quality` reports
the missing-value rate in each window and its change, the share of values
outside the contract's ``[minimum, maximum]``, the share of labels outside
its categories and the share of values of the wrong type; for the window, the
number of schema violations by kind. Every count comes from
:func:`loopml.schema.validate`, so quality and the serving checks can never
disagree on what breaks the contract.

Shares are of the current window's **non-missing** values (a missing value
is counted as missing, never also as out of range); every share is ``None``
when the window has no such values, and the column then carries a finding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from loopml.monitoring._json import finite_or_none
from loopml.schema import Schema, ViolationKind, validate

__all__ = ["ColumnQuality", "QualityReport", "data_quality"]


@dataclass(frozen=True)
class ColumnQuality:
    """Quality of one column in the current window.

    Attributes
    ----------
    name : str or int
        Column label.
    missing_reference, missing_current : float or None
        Share of missing values (0..1); ``None`` for an empty window or a
        column absent from it.
    missing_change : float or None
        ``missing_current - missing_reference`` (percentage points / 100).
    out_of_range_share : float or None
        Share of non-missing current values outside the contract's range
        (``None`` when the contract sets no range or nothing is present).
    unknown_category_share : float or None
        Share of non-missing current labels outside the contract's categories
        (``None`` when the contract lists none or nothing is present).
    wrong_type_share : float or None
        Share of non-missing current values that cannot be read as the
        column's logical type.
    finding : str or None
        Why shares are missing ("column is missing from the current window",
        "all missing in the current window", "the current window is empty").
    """

    name: str | int
    missing_reference: float | None
    missing_current: float | None
    missing_change: float | None
    out_of_range_share: float | None
    unknown_category_share: float | None
    wrong_type_share: float | None
    finding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "name": self.name,
            "missing_reference": finite_or_none(self.missing_reference),
            "missing_current": finite_or_none(self.missing_current),
            "missing_change": finite_or_none(self.missing_change),
            "out_of_range_share": finite_or_none(self.out_of_range_share),
            "unknown_category_share": finite_or_none(self.unknown_category_share),
            "wrong_type_share": finite_or_none(self.wrong_type_share),
            "finding": self.finding,
        }


@dataclass(frozen=True)
class QualityReport:
    """Quality of the current window: per column, and schema violations by kind.

    Attributes
    ----------
    columns : tuple of ColumnQuality
        Schema columns except the target, in schema order.
    n_current : int
        Rows in the current window.
    violations : dict of str to int
        Violating values per :class:`loopml.schema.ViolationKind` value
        (``"out_of_range"``, ``"unknown_category"``, ...), as
        :func:`loopml.schema.validate` counts them; kinds that did not occur
        are absent.
    """

    columns: tuple[ColumnQuality, ...]
    n_current: int
    violations: dict[str, int]

    @property
    def schema_violation_count(self) -> int:
        """Violating values over every kind."""
        return sum(self.violations.values())

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict."""
        return {
            "n_current": self.n_current,
            "schema_violation_count": self.schema_violation_count,
            "violations": dict(self.violations),
            "columns": [c.to_dict() for c in self.columns],
        }


def _missing_share(frame: pd.DataFrame, name: str | int) -> float | None:
    if name not in frame.columns or len(frame) == 0:
        return None
    return float(frame[name].isna().mean())


def _share(
    counts: dict[tuple[Any, ViolationKind], int],
    name: str | int,
    kind: ViolationKind,
    present: int,
    applies: bool,
) -> float | None:
    if not applies or present == 0:
        return None
    return counts.get((name, kind), 0) / present


def data_quality(reference: pd.DataFrame, current: pd.DataFrame, schema: Schema) -> QualityReport:
    """Measure how well the current window keeps the data contract.

    Parameters
    ----------
    reference : DataFrame of shape (n_reference, n_columns)
        Reference window, for the missing-rate change.
    current : DataFrame of shape (n_current, n_columns)
        Current window; columns the schema does not know (the prediction
        log's ``request_id``, ``timestamp``, ...) are ignored.
    schema : loopml.schema.Schema
        The data contract (ranges, categories, nullability).

    Returns
    -------
    QualityReport

    Raises
    ------
    loopml.errors.DataError
        If ``current`` is not a DataFrame or repeats a column label.

    Examples
    --------
    >>> from loopml.schema import infer_schema
    >>> ref = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> cur = pd.DataFrame({"x": [2.0, 9.0, None, None]})
    >>> q = data_quality(ref, cur, infer_schema(ref)).columns[0]
    >>> q.missing_current, q.out_of_range_share
    (0.5, 0.5)
    """
    features = [c for c in schema.columns if c.name != schema.target]
    known = {c.name for c in features}
    checked = current.loc[:, [c for c in current.columns if c in known]]
    violations = validate(checked, schema) if len(checked.columns) else []
    by_column: dict[tuple[Any, ViolationKind], int] = Counter()
    totals: Counter[str] = Counter()
    for violation in violations:
        by_column[(violation.column, violation.kind)] += violation.count
        if violation.count:
            totals[violation.kind.value] += violation.count
    results = []
    for column in features:
        name = column.name
        ref_missing = _missing_share(reference, name)
        cur_missing = _missing_share(current, name)
        present = 0 if name not in current.columns else int(current[name].notna().sum())
        finding = None
        if name not in current.columns:
            finding = "column is missing from the current window"
        elif len(current) == 0:
            finding = "the current window is empty"
        elif present == 0:
            finding = f"all missing in the current window ({len(current)} rows)"

        ranged = column.minimum is not None or column.maximum is not None
        results.append(
            ColumnQuality(
                name=name,
                missing_reference=ref_missing,
                missing_current=cur_missing,
                missing_change=(
                    None
                    if ref_missing is None or cur_missing is None
                    else cur_missing - ref_missing
                ),
                out_of_range_share=_share(
                    by_column, name, ViolationKind.OUT_OF_RANGE, present, ranged
                ),
                unknown_category_share=_share(
                    by_column,
                    name,
                    ViolationKind.UNKNOWN_CATEGORY,
                    present,
                    column.categories is not None,
                ),
                wrong_type_share=_share(by_column, name, ViolationKind.WRONG_TYPE, present, True),
                finding=finding,
            )
        )
    return QualityReport(columns=tuple(results), n_current=len(current), violations=dict(totals))
