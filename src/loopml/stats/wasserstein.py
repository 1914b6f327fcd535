"""Normalised Wasserstein (earth mover's) distance for numeric drift."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from loopml.stats.result import DriftTestResult, Sample, drop_non_finite

__all__ = ["normalised_w1", "w1_sorted", "wasserstein_distance_norm"]


def w1_sorted(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """Wasserstein-1 distance between two **sorted** samples, exactly.

    ``W1 = integral over t in [0, 1] of |F_u^-1(t) - F_v^-1(t)| dt``, the
    area between the empirical quantile functions (equal to the area between
    the CDFs). Both quantile functions are steps that change at multiples of
    ``1/n`` and ``1/m``; in units of ``1/(n m)`` those are the integers
    ``i m`` and ``j n``, so the integral is an exact sum over the merged
    steps. With ``n == m`` it is ``mean(|u - v|)``. Same value as
    :func:`scipy.stats.wasserstein_distance` (up to rounding), without its
    argsorts and concatenated sort: the callers sort each sample once.

    Parameters
    ----------
    u, v : ndarray of shape (n,), (m,)
        Finite values in ascending order, at least one each.

    Returns
    -------
    float
        ``W1(u, v)`` in the unit of the values.

    Examples
    --------
    >>> w1_sorted(np.array([0.0, 1.0, 3.0]), np.array([5.0, 6.0, 8.0]))
    5.0
    >>> w1_sorted(np.array([0.0, 1.0]), np.array([0.0, 0.5, 1.0]))
    0.16666666666666666
    """
    n, m = u.size, v.size
    if n == m:
        return float(np.mean(np.abs(u - v)))
    ends = np.concatenate(
        (np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n)
    )
    ends.sort(kind="stable")
    widths = np.diff(ends, prepend=0) / (n * m)
    u_index = (ends + m - 1) // m - 1  # the step of u covering (previous end, end]
    v_index = (ends + n - 1) // n - 1
    return float(np.dot(widths, np.abs(u[u_index] - v[v_index])))


def normalised_w1(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """``W1(reference, current)`` divided by the reference standard deviation.

    Falls back to the pooled standard deviation when the reference is
    constant, and returns 0 when both samples are the same constant (see
    :func:`wasserstein_distance_norm`). Also the effect size of
    :func:`loopml.stats.anderson_darling_test`.

    Parameters
    ----------
    reference, current : ndarray of shape (n_samples,)
        Finite values, at least one each (see
        :func:`loopml.stats.result.drop_non_finite`).

    Returns
    -------
    float
        The normalised distance, finite and >= 0.

    Examples
    --------
    >>> normalised_w1(np.array([0.0, 2.0]), np.array([1.0, 3.0]))
    1.0
    """
    distance = w1_sorted(np.sort(reference), np.sort(current))
    scale = float(np.std(reference))
    if scale == 0.0:
        scale = float(np.std(np.concatenate((reference, current))))
    return 0.0 if scale == 0.0 else distance / scale


def wasserstein_distance_norm(
    reference: Sample, current: Sample, *, threshold: float = 0.1
) -> DriftTestResult:
    """Wasserstein-1 distance between the samples, in reference standard deviations.

    ``W1`` (computed exactly from the sorted samples by :func:`w1_sorted`,
    the same value as :func:`scipy.stats.wasserstein_distance`) is the area between the
    two empirical cumulative distribution functions, in the unit of the
    column; dividing by the reference standard deviation (population,
    ``ddof=0``) makes it unit-free, as Evidently does, so a statistic of 0.1
    means "the current distribution has moved by about a tenth of a reference
    standard deviation". Drift is declared when ``statistic >= threshold``.

    Constant reference (standard deviation 0): the distance is divided by
    the standard deviation of the pooled sample (reference and current
    together) instead. That is 0 only when both samples are the same
    constant, in which case the statistic is 0 (no drift); otherwise it is
    positive and the statistic stays finite and unit-free.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Numeric samples. ``NaN`` **and** ``±inf`` are dropped (a distance in
        the unit of the column is infinite as soon as one value is).
    threshold : float, default 0.1
        Cut-off on the normalised distance.

    Returns
    -------
    DriftTestResult
        ``method="wasserstein"``, ``statistic`` >= 0, ``p_value=None``;
        ``effect_size`` = ``statistic`` (``"wasserstein_norm"``).

    Raises
    ------
    MonitoringError
        If either sample has no finite value ("not enough data").

    References
    ----------
    .. [1] L. V. Kantorovich, "Mathematical methods of organizing and planning
       production", 1939 (English: Management Science 6(4), 366–422, 1960).
    .. [2] C. Villani, "Optimal Transport: Old and New", Springer, 2009.
    .. [3] SciPy, ``scipy.stats.wasserstein_distance``; Evidently,
       ``wasserstein_distance_norm`` stattest.

    Examples
    --------
    >>> result = wasserstein_distance_norm([0.0, 2.0], [1.0, 3.0])
    >>> result.statistic, result.drifted
    (1.0, True)
    """
    ref = drop_non_finite(reference, method="wasserstein", role="reference")
    cur = drop_non_finite(current, method="wasserstein", role="current")
    statistic = normalised_w1(ref, cur)
    return DriftTestResult(
        method="wasserstein",
        statistic=statistic,
        p_value=None,
        threshold=threshold,
        drifted=statistic >= threshold,
        effect_size=statistic,
        effect_size_name="wasserstein_norm",
    )
