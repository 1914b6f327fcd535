"""Drift of one column: run the chosen test and record what could not be tested."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none
from loopml.monitoring.config import DriftConfig
from loopml.stats import (
    DriftTestResult,
    anderson_darling_test,
    chi_square_test,
    hellinger_distance,
    jensen_shannon_distance,
    ks_test,
    population_stability_index,
    two_proportion_z_test,
    wasserstein_distance_norm,
)

__all__ = ["ColumnDrift", "ColumnKind", "column_drift"]

ColumnKind = Literal["numeric", "categorical", "unsupported"]

_PLAIN_LABELS = frozenset({str, int, float, bool})
"""Label types that need no unwrapping (numpy scalars become Python ones by ``.item()``)."""


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict for one column of the reference and current windows.

    Attributes
    ----------
    name : str or int
        Column label.
    kind : {"numeric", "categorical", "unsupported"}
        How the column was tested; ``"unsupported"`` for string and datetime
        columns, which are not tested.
    method : str or None
        Test name (see :mod:`loopml.monitoring.config`); ``None`` when unsupported.
    statistic, p_value : float or None
        Test outcome; ``None`` when not tested (``p_value`` also for distances).
    threshold : float or None
        Threshold of ``method``; ``None`` when unsupported.
    drifted : bool
        ``False`` whenever the column was not tested.
    n_reference, n_current : int
        Rows in each window, missing values included.
    missing_reference, missing_current : float or None
        Share of missing values (0..1); ``None`` for an empty window.
    finding : str or None
        Why the column was not tested ("not enough data ...", "all missing
        ...", "not tested ..."); ``None`` when it was.
    effect_size : float or None
        How large the difference is, independent of the sample sizes (see
        the effect-size table in :mod:`loopml.stats`); ``None`` when not tested.
    effect_size_name : str or None
        What ``effect_size`` measures (``"ks_d"``, ``"cramers_v"``, ...).
    p_value_adjusted : float or None
        The p-value after the dataset's multiple-testing correction
        (:attr:`DriftConfig.multiple_testing`); equal to ``p_value`` without
        one, ``None`` for distances. ``drifted`` is decided on it.
    notes : tuple of str
        What was noticed without stopping the test, e.g. values of another
        type left out of a numeric column ("mixed types").
    """

    name: str | int
    kind: ColumnKind
    method: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    n_reference: int
    n_current: int
    missing_reference: float | None
    missing_current: float | None
    finding: str | None = None
    effect_size: float | None = None
    effect_size_name: str | None = None
    p_value_adjusted: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def tested(self) -> bool:
        """Whether a test ran (no finding)."""
        return self.finding is None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "method": self.method,
            "statistic": finite_or_none(self.statistic),
            "p_value": finite_or_none(self.p_value),
            "threshold": finite_or_none(self.threshold),
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "missing_reference": finite_or_none(self.missing_reference),
            "missing_current": finite_or_none(self.missing_current),
            "finding": self.finding,
            "effect_size": finite_or_none(self.effect_size),
            "effect_size_name": self.effect_size_name,
            "p_value_adjusted": finite_or_none(self.p_value_adjusted),
            "notes": list(self.notes),
        }


def _run(
    method: str,
    ref: NDArray[Any],
    cur: NDArray[Any],
    kind: Literal["numeric", "categorical"],
    config: DriftConfig,
) -> DriftTestResult:
    threshold = config.threshold(method)
    if method == "ks":
        return ks_test(ref, cur, threshold=threshold)
    if method == "anderson_darling":
        return anderson_darling_test(ref, cur, threshold=threshold)
    if method == "wasserstein":
        return wasserstein_distance_norm(ref, cur, threshold=threshold)
    if method == "chi_square":
        return chi_square_test(ref, cur, threshold=threshold)
    if method == "two_proportion_z":
        return two_proportion_z_test(ref, cur, threshold=threshold)
    if method == "jensen_shannon":
        return jensen_shannon_distance(
            ref, cur, kind=kind, threshold=threshold, n_bins=config.n_bins
        )
    if method == "hellinger":
        return hellinger_distance(ref, cur, kind=kind, threshold=threshold, n_bins=config.n_bins)
    return population_stability_index(
        ref,
        cur,
        kind=kind,
        threshold=threshold,
        n_bins=config.n_bins,
        smoothing=config.psi_smoothing,
    )


def _plain_numbers(values: ArrayLike) -> bool:
    """Whether ``values`` is a plain 1-D numpy array of bools, integers or floats."""
    return (
        type(values) is np.ndarray  # not a subclass: a masked array's mask would be lost
        and values.ndim == 1
        and values.dtype.kind in "biuf"
    )


def _clean(
    values: ArrayLike, *, name: str | int, kind: str
) -> tuple[NDArray[Any], int, str | None]:
    """Return (non-missing values, number of rows, note on left-out values)."""
    if kind != "categorical" and _plain_numbers(values):
        # Numbers already (bool, int, float): skip pandas' masked-array round trip.
        floats = np.asarray(values).astype(np.float64)
        return floats[~np.isnan(floats)], floats.size, None
    series = pd.Series(np.asarray(values, dtype=object) if kind == "categorical" else values)
    n_rows = len(series)
    if kind == "categorical":
        kept = series[~series.isna()].to_numpy(dtype=object)
        if set(map(type, kept)) <= _PLAIN_LABELS:  # no numpy scalar to unwrap
            return kept, n_rows, None
        return (
            np.array([v.item() if isinstance(v, np.generic) else v for v in kept], dtype=object),
            n_rows,
            None,
        )
    note = None
    try:
        numbers = pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError):
        # Mixed types: test the numbers, say how many values were not numbers.
        numbers = pd.to_numeric(series, errors="coerce")
        bad = series[numbers.isna() & series.notna()]
        if bad.size:
            note = (
                f"{bad.size} of {n_rows} values are not numbers "
                f"(e.g. {bad.iloc[0]!r}); they were left out like missing values"
            )
    floats = numbers.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return floats[~np.isnan(floats)], n_rows, note


def _missing_share(n_rows: int, n_kept: int) -> float | None:
    return None if n_rows == 0 else (n_rows - n_kept) / n_rows


def _finding(role: str, n_rows: int, n_kept: int, min_samples: int) -> str | None:
    if n_rows == 0:
        return f"not enough data: the {role} window is empty"
    if n_kept == 0:
        return f"all missing in the {role} window ({n_rows} rows)"
    if n_kept < min_samples:
        return f"not enough data: {n_kept} non-missing {role} values (min_samples={min_samples})"
    return None


def column_drift(
    name: str | int,
    reference: ArrayLike,
    current: ArrayLike,
    *,
    kind: Literal["numeric", "categorical"],
    config: DriftConfig | None = None,
    n_unique: int | None = None,
) -> ColumnDrift:
    """Test one column for drift between the reference and current windows.

    The test is chosen by :meth:`DriftConfig.method_for` from ``kind``, the
    number of reference rows and ``n_unique``; a column chosen for the
    two-proportion Z test in which a third category appears is tested with
    chi-square instead (the new category is drift the Z test cannot express). Missing values (``None``, ``NaN``, ``pd.NA``,
    ``NaT``) are counted into ``missing_reference``/``missing_current`` and
    dropped before testing. In a numeric column, values that are not numbers
    (mixed types) are left out too and counted in ``notes``. A side without
    enough non-missing values, or a
    sample the test cannot use (only ``±inf`` for ``wasserstein``), is not an
    error: the column gets a ``finding`` and ``drifted=False``.

    Parameters
    ----------
    name : str or int
        Column label, used in the result and in messages.
    reference, current : array-like of shape (n_rows,)
        The column in each window.
    kind : {"numeric", "categorical"}
        How to test the column.
    config : DriftConfig, optional
        Test choice and thresholds; default ``DriftConfig()``.
    n_unique : int, optional
        Distinct values as ``config.preset`` counts them (for the choice
        between ``two_proportion_z`` and ``chi_square``); default: the
        distinct non-missing reference values of a categorical column.

    Returns
    -------
    ColumnDrift

    Raises
    ------
    ConfigurationError
        If ``config.column_methods`` asks for a test that does not fit ``kind``.

    Examples
    --------
    >>> drift = column_drift("x", np.arange(10.0), np.arange(10.0) + 100, kind="numeric")
    >>> drift.method, drift.drifted
    ('ks', True)
    """
    config = config or DriftConfig()
    ref, n_ref, ref_note = _clean(reference, name=name, kind=kind)
    cur, n_cur, cur_note = _clean(current, name=name, kind=kind)
    notes = tuple(
        f"{role} window: {note}"
        for role, note in (("reference", ref_note), ("current", cur_note))
        if note is not None
    )
    if n_unique is None and kind == "categorical":
        n_unique = len(pd.unique(ref))
    method = config.method_for(name, kind=kind, n_reference=n_ref, n_unique=n_unique)
    if method == "two_proportion_z" and len(pd.unique(np.concatenate([ref, cur]))) > 2:
        method = "chi_square"  # a third category appeared: the Z test cannot hold it
    finding = _finding("reference", n_ref, ref.size, config.min_samples) or _finding(
        "current", n_cur, cur.size, config.min_samples
    )
    result: DriftTestResult | None = None
    if finding is None:
        try:
            result = _run(method, ref, cur, kind, config)
        except MonitoringError as exc:
            finding = str(exc)
        except ValueError as exc:  # numpy on values near the float64 limits
            finding = f"{method} could not be computed on these values ({exc})"
        if result is not None and not math.isfinite(result.statistic):
            finding = (
                f"{method} is not finite on these values (magnitudes near the float64 "
                "limit overflow); not tested"
            )
            result = None
    return ColumnDrift(
        name=name,
        kind=kind,
        method=method,
        statistic=None if result is None else result.statistic,
        p_value=None if result is None else result.p_value,
        threshold=config.threshold(method),
        drifted=False if result is None else result.drifted,
        n_reference=n_ref,
        n_current=n_cur,
        missing_reference=_missing_share(n_ref, ref.size),
        missing_current=_missing_share(n_cur, cur.size),
        finding=finding,
        effect_size=None if result is None else result.effect_size,
        effect_size_name=None if result is None else result.effect_size_name,
        p_value_adjusted=None if result is None else result.p_value,
        notes=notes,
    )
