"""The value every drift test returns, and the input cleaning they share.

Each statistic in :mod:`loopml.stats` is a pure function of two samples, the
*reference* window (what the model was trained or validated on) and the
*current* window (what it sees now). All of them return a
:class:`DriftTestResult` and all of them clean their inputs the same way:

- numeric samples: ``NaN`` is dropped (:func:`drop_nan`); ``±inf`` is kept
  unless the statistic says otherwise (see each function; those that need
  finite values use :func:`drop_non_finite`);
- categorical samples: ``None`` and float ``NaN`` are dropped; every other
  hashable value is a category.

A sample that is empty after cleaning raises
:class:`loopml.errors.MonitoringError` with "not enough data" in the message;
the column-level caller in :mod:`loopml.monitoring` turns that into a finding.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loopml.errors import MonitoringError

__all__ = [
    "DriftTestResult",
    "Sample",
    "category_counts",
    "drop_missing_categories",
    "drop_nan",
    "drop_non_finite",
]

Sample: TypeAlias = ArrayLike | Sequence[object]
"""A 1-D sample as the tests accept it: a numpy array or any sequence of numbers
or category labels, where ``None`` (and float ``NaN``) mark missing values."""


@dataclass(frozen=True)
class DriftTestResult:
    """Outcome of one drift test on one column.

    Attributes
    ----------
    method : str
        Test name: ``"ks"``, ``"chi_square"``, ``"two_proportion_z"``,
        ``"anderson_darling"``, ``"wasserstein"``, ``"jensen_shannon"``,
        ``"hellinger"`` or ``"psi"``.
    statistic : float
        The test statistic or distance (always finite).
    p_value : float or None
        p-value for hypothesis tests; ``None`` for distances.
    threshold : float
        For hypothesis tests the significance level (drift when
        ``p_value < threshold``); for distances the cut-off (drift when
        ``statistic >= threshold``).
    drifted : bool
        Whether the test declares drift.
    effect_size : float or None, default None
        How large the difference is, on a scale that does not grow with the
        sample sizes (a p-value alone does: with enough rows any difference
        is "significant"). Every hypothesis test fills it (``"ks_d"``,
        ``"cramers_v"``, ``"cohens_h"``, ``"wasserstein_norm"``); distances
        repeat their statistic. Always finite and >= 0 when set.
    effect_size_name : str or None, default None
        What ``effect_size`` measures; ``None`` exactly when ``effect_size`` is.
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    effect_size: float | None = None
    effect_size_name: str | None = None


def drop_nan(values: Sample, *, method: str, role: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float array without ``NaN``.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Numeric sample; ``NaN`` marks a missing value.
    method : str
        Name of the calling test, used in the error message.
    role : str
        ``"reference"`` or ``"current"``, used in the error message.

    Returns
    -------
    ndarray of shape (n_kept,)
        The non-missing values, ``float64``; ``±inf`` are kept.

    Raises
    ------
    MonitoringError
        If ``values`` is not one-dimensional, not numeric, or nothing is left.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"{method}: {role} sample is not numeric ({exc})") from exc
    if array.ndim != 1:
        raise MonitoringError(f"{method}: {role} sample must be 1-D, got shape {array.shape}")
    kept = array[~np.isnan(array)]
    if kept.size == 0:
        raise MonitoringError(
            f"{method}: not enough data in the {role} sample (0 values after dropping NaN)"
        )
    return kept


def drop_non_finite(values: Sample, *, method: str, role: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float array without ``NaN`` and ``±inf``.

    For statistics measured in the unit of the column (a distance, a
    standard deviation), which are infinite or undefined as soon as one
    value is infinite.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Numeric sample; ``NaN`` marks a missing value.
    method, role : str
        Used in the error message.

    Returns
    -------
    ndarray of shape (n_kept,)
        The finite values, ``float64``.

    Raises
    ------
    MonitoringError
        As :func:`drop_nan`, and if no finite value is left ("not enough
        data ... (0 finite values)").
    """
    kept = drop_nan(values, method=method, role=role)
    finite = kept[np.isfinite(kept)]
    if finite.size == 0:
        raise MonitoringError(f"{method}: not enough data in the {role} sample (0 finite values)")
    return finite


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def drop_missing_categories(values: Sample, *, method: str, role: str) -> list[Hashable]:
    """Return the non-missing category labels of ``values`` as a list.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Category labels (str, bool, int ...); ``None`` and float ``NaN`` are
        missing and dropped.
    method, role : str
        Used in the error message.

    Raises
    ------
    MonitoringError
        If nothing is left after dropping missing values.
    """
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise MonitoringError(f"{method}: {role} sample must be 1-D, got shape {array.shape}")
    kept = [v.item() if isinstance(v, np.generic) else v for v in array if not _is_missing(v)]
    if not kept:
        raise MonitoringError(
            f"{method}: not enough data in the {role} sample (0 values after dropping missing)"
        )
    return kept


def _count_categories(values: Sample, *, method: str, role: str) -> Counter[Hashable]:
    """Counts of the non-missing labels of ``values``, as :func:`drop_missing_categories`
    would keep them, from one pass over the values and a loop over the distinct ones."""
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise MonitoringError(f"{method}: {role} sample must be 1-D, got shape {array.shape}")
    counts: Counter[Hashable] = Counter()
    for label, count in Counter(array.tolist()).items():
        if not _is_missing(label):
            counts[label.item() if isinstance(label, np.generic) else label] += count
    if not counts:
        raise MonitoringError(
            f"{method}: not enough data in the {role} sample (0 values after dropping missing)"
        )
    return counts


def category_counts(
    reference: Sample, current: Sample, *, method: str
) -> tuple[tuple[Hashable, ...], NDArray[np.int64], NDArray[np.int64]]:
    """Count both samples over the union of their categories.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Category labels; missing values are dropped (see
        :func:`drop_missing_categories`).
    method : str
        Name of the calling test, used in error messages.

    Returns
    -------
    categories : tuple
        The union of categories, sorted by their string form (stable output).
    reference_counts, current_counts : ndarray of shape (n_categories,)
        Counts per category; a category absent from one sample counts 0.

    Examples
    --------
    >>> cats, ref, cur = category_counts(["a", "a", "b"], ["b", "c"], method="demo")
    >>> cats, ref.tolist(), cur.tolist()
    (('a', 'b', 'c'), [2, 1, 0], [0, 1, 1])
    """
    ref_counter = _count_categories(reference, method=method, role="reference")
    cur_counter = _count_categories(current, method=method, role="current")
    categories = tuple(
        sorted(ref_counter.keys() | cur_counter.keys(), key=lambda c: (str(c), repr(c)))
    )
    ref_counts = np.array([ref_counter.get(c, 0) for c in categories], dtype=np.int64)
    cur_counts = np.array([cur_counter.get(c, 0) for c in categories], dtype=np.int64)
    return categories, ref_counts, cur_counts
