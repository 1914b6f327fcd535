"""Data drift of a current window against a reference window, column by column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loopml.errors import MonitoringError
from loopml.monitoring.column import ColumnDrift, ColumnKind, column_drift
from loopml.monitoring.config import DriftConfig
from loopml.schema import ColumnSchema, Schema

__all__ = [
    "OTHER",
    "DriftReport",
    "adjust_p_values",
    "apply_multiple_testing",
    "compute_drift",
    "identifier_like",
    "top_k_or_other",
]

_NUMERIC = frozenset({"integer", "float"})
_CATEGORICAL = frozenset({"categorical", "boolean"})


@dataclass(frozen=True)
class DriftReport:
    """Per-column drift verdicts and the dataset-level verdict.

    Attributes
    ----------
    columns : tuple of ColumnDrift
        One entry per requested column, in schema order.
    n_reference, n_current : int
        Rows in the reference and current windows.
    drift_share_threshold : float
        The dataset drifts when ``share_drifted`` reaches this
        (:attr:`DriftConfig.drift_share`).
    """

    columns: tuple[ColumnDrift, ...]
    n_reference: int
    n_current: int
    drift_share_threshold: float

    @property
    def n_tested(self) -> int:
        """Columns that were tested (no finding)."""
        return sum(1 for c in self.columns if c.tested)

    @property
    def n_drifted(self) -> int:
        """Columns whose test declared drift."""
        return sum(1 for c in self.columns if c.drifted)

    @property
    def share_drifted(self) -> float:
        """``n_drifted / n_tested``; 0.0 when no column was tested."""
        return self.n_drifted / self.n_tested if self.n_tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Whether ``share_drifted >= drift_share_threshold`` (never with nothing tested)."""
        return self.n_tested > 0 and self.share_drifted >= self.drift_share_threshold

    @property
    def drifted_columns(self) -> list[str | int]:
        """Names of the drifted columns, in schema order."""
        return [c.name for c in self.columns if c.drifted]

    @property
    def findings(self) -> dict[str | int, str]:
        """Column name -> why it was not tested."""
        return {c.name: c.finding for c in self.columns if c.finding is not None}

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (shape documented in :mod:`loopml.monitoring.report`)."""
        return {
            "dataset_drift": self.dataset_drift,
            "share_drifted": self.share_drifted,
            "drift_share_threshold": self.drift_share_threshold,
            "n_columns": len(self.columns),
            "n_tested": self.n_tested,
            "n_drifted": self.n_drifted,
            "drifted_columns": self.drifted_columns,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "columns": [c.to_dict() for c in self.columns],
        }


def _logical_type(column: ColumnSchema) -> str:
    value = getattr(column.logical_type, "value", column.logical_type)
    return str(value)


def _untested(
    name: str | int, kind: ColumnKind, finding: str, n_ref: int, n_cur: int
) -> ColumnDrift:
    return ColumnDrift(
        name=name,
        kind=kind,
        method=None,
        statistic=None,
        p_value=None,
        threshold=None,
        drifted=False,
        n_reference=n_ref,
        n_current=n_cur,
        missing_reference=None,
        missing_current=None,
        finding=finding,
    )


def _n_unique(reference: pd.Series, current: pd.Series | None, config: DriftConfig) -> int:
    """Distinct non-missing values, counted as ``config.preset`` says."""
    if config.counts_current and current is not None:
        return int(pd.concat([reference, current], ignore_index=True).nunique(dropna=True))
    return int(reference.nunique(dropna=True))


OTHER = "<other>"
"""The bucket of a string column's values outside the reference's top k."""
MIN_TOP_K_COVERAGE = 0.5
"""A string column whose top-k values cover less of the reference than this is not
tested: it is identifier-like (user ids, free text), and new values are expected."""


def _top_k(reference: pd.Series, k: int) -> tuple[set[str], float, int]:
    """The ``k`` most frequent reference values (as text), the share of the non-missing
    values they cover (1.0 when there are none), and the number of distinct values."""
    counts = reference.dropna().astype(str).value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    total = int(counts.sum())
    coverage = sum(n for _, n in ranked[:k]) / total if total else 1.0
    return {str(value) for value, _ in ranked[:k]}, coverage, len(counts)


def identifier_like(reference: pd.Series, k: int) -> bool:
    """Whether a string column's ``k`` most frequent reference values cover less than
    :data:`MIN_TOP_K_COVERAGE` of it (user ids, free text): such a column is not tested."""
    return _top_k(reference, k)[1] < MIN_TOP_K_COVERAGE


def top_k_or_other(
    reference: pd.Series, current: pd.Series, k: int
) -> tuple[pd.Series, pd.Series, str, float]:
    """Map a high-cardinality string column onto its ``k`` most frequent reference values.

    Values outside them (rare in the reference, or never seen) become
    :data:`OTHER`; missing values stay missing. Ties in frequency are broken
    by the value's string form, so the mapping is deterministic.

    Returns
    -------
    reference, current : Series
        The mapped windows (``object`` dtype).
    note : str
        What was done, for the column's notes.
    coverage : float
        Share of the non-missing reference values the kept values cover
        (1.0 for an empty reference).
    """
    keep, coverage, n_distinct = _top_k(reference, k)

    def mapped(series: pd.Series) -> pd.Series:
        text = series.astype(object).where(series.isna(), series.astype(str))
        return text.where(text.isna() | text.isin(keep), OTHER)

    note = (
        f"string column tested on its {len(keep)} most frequent reference values "
        f"(of {n_distinct} distinct); every other value counted as {OTHER!r}"
    )
    return mapped(reference), mapped(current), note, coverage


def _kind(logical_type: str, n_unique: int | None, config: DriftConfig) -> ColumnKind:
    if logical_type in _CATEGORICAL or logical_type == "string":
        return "categorical"
    if logical_type in _NUMERIC:
        return "categorical" if config.few_valued(logical_type, n_unique) else "numeric"
    return "unsupported"


def adjust_p_values(p_values: Sequence[float], method: str) -> list[float]:
    """Correct p-values for multiple testing.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per tested column, each in [0, 1].
    method : {"none", "bonferroni", "benjamini_hochberg"}
        ``"bonferroni"``: ``min(1, m p)`` (controls the family-wise error
        rate, Dunn 1961); ``"benjamini_hochberg"``: the step-up adjusted
        p-values of Benjamini & Hochberg (1995), from
        :func:`scipy.stats.false_discovery_control` (controls the false
        discovery rate for independent or positively dependent tests).

    Returns
    -------
    list of float
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], "bonferroni")
    [0.03, 0.12, 0.09]
    >>> [round(p, 4) for p in adjust_p_values([0.01, 0.04, 0.03], "benjamini_hochberg")]
    [0.03, 0.04, 0.04]
    """
    values = np.asarray(p_values, dtype=np.float64)
    if values.size == 0 or method == "none":
        return [float(v) for v in values]
    if method == "bonferroni":
        return [float(v) for v in np.minimum(1.0, values * values.size)]
    if method == "benjamini_hochberg":
        return [float(v) for v in stats.false_discovery_control(values, method="bh")]
    raise MonitoringError(f"unknown multiple-testing correction {method!r}")


def apply_multiple_testing(results: list[ColumnDrift], config: DriftConfig) -> list[ColumnDrift]:
    """Apply ``config.multiple_testing`` over the columns tested with a p-value."""
    if config.multiple_testing == "none":
        return results
    tested = [i for i, c in enumerate(results) if c.tested and c.p_value is not None]
    adjusted = adjust_p_values([results[i].p_value or 0.0 for i in tested], config.multiple_testing)
    out = list(results)
    for i, p_adjusted in zip(tested, adjusted, strict=True):
        column = results[i]
        threshold = column.threshold if column.threshold is not None else 0.0
        out[i] = replace(column, p_value_adjusted=p_adjusted, drifted=p_adjusted < threshold)
    return out


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: Schema,
    *,
    config: DriftConfig | None = None,
    columns: Iterable[str | int] | None = None,
) -> DriftReport:
    """Compare the current window with the reference window, column by column.

    Each column's logical type (from ``schema``) decides how it is tested:
    integer and float columns with numeric tests, categorical and boolean
    columns (and numeric columns with few distinct values, as
    ``config.preset`` counts them) with categorical tests, string columns
    with categorical tests on their most frequent reference values plus an
    ``"<other>"`` bucket (:func:`top_k_or_other`) unless those values cover
    less than half of the reference (identifier-like: a finding); datetime
    columns are not tested and get a finding. With
    ``config.multiple_testing``, p-values are corrected over the columns
    tested with a p-value before drift is decided. The
    test per column and the thresholds come from ``config`` (see the table in
    :mod:`loopml.monitoring.config`). A column absent from one of the frames,
    empty or all missing gets a finding instead of a test and does not count
    towards ``share_drifted``.

    Parameters
    ----------
    reference : DataFrame of shape (n_reference, n_columns)
        Reference window (typically the training data).
    current : DataFrame of shape (n_current, n_columns)
        Current window (typically logged predictions); extra columns such as
        ``request_id``, ``timestamp`` or ``score`` are ignored unless named in
        ``columns``.
    schema : loopml.schema.Schema
        Data contract: the columns, their logical types and the ``target``.
    config : DriftConfig, optional
        Test choice and thresholds; default ``DriftConfig()``.
    columns : iterable of str or int, optional
        Columns to test, in this order; default every schema column except
        the schema's ``target`` (label drift is asked for explicitly).

    Returns
    -------
    DriftReport

    Raises
    ------
    MonitoringError
        If a requested column is not in the schema, or a numeric column holds
        non-numbers.
    ConfigurationError
        If ``config.column_methods`` asks for a test that does not fit a column.
    """
    config = config or DriftConfig()
    by_name = {c.name: c for c in schema.columns}
    if columns is None:
        names: list[str | int] = [name for name in by_name if name != schema.target]
    else:
        names = list(columns)
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise MonitoringError(f"columns {unknown!r} are not in the schema")
    results = []
    n_ref, n_cur = len(reference), len(current)
    for name in names:
        logical_type = _logical_type(by_name[name])
        present = name in reference.columns and name in current.columns
        # Distinct values decide the test of categorical columns and whether a
        # numeric one is few-valued; a column that can never be (a float column
        # under the loopml preset) skips counting them, a hash of every value.
        counted = logical_type in _CATEGORICAL or (
            logical_type in _NUMERIC and config.few_valued(logical_type, 0)
        )
        n_unique = (
            _n_unique(reference[name], current[name], config) if present and counted else None
        )
        kind = _kind(logical_type, n_unique, config)
        if kind == "unsupported":
            finding = f"not tested: logical type {logical_type!r} has no drift test"
            if logical_type == "datetime":
                finding = (
                    "not tested: a datetime column moves with time; monitor features "
                    "derived from it (hour, weekday) instead"
                )
            results.append(_untested(name, kind, finding, n_ref, n_cur))
        elif not present:
            role = "reference" if name not in reference.columns else "current"
            finding = f"column is missing from the {role} window"
            results.append(_untested(name, kind, finding, n_ref, n_cur))
        else:
            ref_values, cur_values, note = reference[name], current[name], None
            if logical_type == "string":
                ref_values, cur_values, note, coverage = top_k_or_other(
                    ref_values, cur_values, config.string_top_k
                )
                if coverage < MIN_TOP_K_COVERAGE:
                    finding = (
                        f"not tested: the {config.string_top_k} most frequent values cover "
                        f"{coverage:.1%} of the reference; an identifier-like column "
                        "drifts by construction"
                    )
                    results.append(_untested(name, "unsupported", finding, n_ref, n_cur))
                    continue
                n_unique = int(pd.concat([ref_values, cur_values]).nunique())
            drift = column_drift(
                name,
                ref_values.to_numpy(),
                cur_values.to_numpy(),
                kind=kind,
                config=config,
                n_unique=n_unique,
            )
            if note is not None:
                drift = replace(drift, notes=(note, *drift.notes))
            results.append(drift)
    return DriftReport(
        columns=tuple(apply_multiple_testing(results, config)),
        n_reference=len(reference),
        n_current=len(current),
        drift_share_threshold=config.drift_share,
    )
