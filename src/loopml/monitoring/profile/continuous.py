"""KS and Wasserstein from two numeric profiles (bounds in :mod:`loopml.monitoring.profile.drift`)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from loopml.errors import MonitoringError
from loopml.monitoring.profile._convert import where
from loopml.monitoring.profile._distribution import Distribution
from loopml.monitoring.profile.column import ColumnProfile
from loopml.stats import (
    DriftTestResult,
    ks_test,
    wasserstein_distance_norm,
)

__all__ = ["ks_from_profiles", "reference_scale", "wasserstein_from_profiles"]

_EXACT_LIMIT = 10_000
"""Up to this many values per side, exact profiles are expanded and handed to loopml.stats."""


def _numeric(profile: ColumnProfile, method: str) -> None:
    if profile.kind != "numeric":
        raise MonitoringError(f"{method}: {where(profile.name)} has a categorical profile")


def empty(method: str, role: str, what: str) -> MonitoringError:
    """The "not enough data" error :mod:`loopml.stats` raises for an empty sample."""
    return MonitoringError(f"{method}: not enough data in the {role} sample (0 {what})")


def _expand(profile: ColumnProfile, *, with_inf: bool) -> NDArray[np.float64] | None:
    """The rows themselves (``NaN`` dropped) when the profile knows them all and they are few."""
    size = profile.n_values if with_inf else profile.n_finite
    finite = profile.finite_values() if size <= _EXACT_LIMIT else None
    if finite is None or not with_inf:
        return finite
    return np.concatenate(
        (
            np.full(profile.negative_infinity, -np.inf),
            finite,
            np.full(profile.positive_infinity, np.inf),
        )
    )


def both(
    reference: ColumnProfile, current: ColumnProfile, method: str, *, with_inf: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Check two numeric profiles; return both sides' rows when they are exact and small.

    Raises
    ------
    MonitoringError
        If a profile is categorical or has no value the test can use.
    """
    for role, profile in (("reference", reference), ("current", current)):
        _numeric(profile, method)
        if (profile.n_values if with_inf else profile.n_finite) == 0:
            raise empty(method, role, "values after dropping NaN" if with_inf else "finite values")
    ref = _expand(reference, with_inf=with_inf)
    cur = _expand(current, with_inf=with_inf)
    return None if ref is None or cur is None else (ref, cur)


def ks_from_profiles(
    reference: ColumnProfile, current: ColumnProfile, *, threshold: float = 0.05
) -> DriftTestResult:
    """Two-sample Kolmogorov–Smirnov test from two numeric profiles.

    ``D`` is the largest gap between the two CDFs the profiles describe
    (``±inf`` counts at the ends, exact tails, the KLL sketch in between),
    evaluated at every value either profile retains, where the step
    functions jump; so it is the exact supremum between the two profiled
    CDFs. Bound on the
    difference to :func:`loopml.stats.ks_test` on the rows and the p-value:
    module docstring. Both profiles exact with at most 10000 values each:
    :func:`loopml.stats.ks_test` on the rows.

    Parameters
    ----------
    reference, current : ColumnProfile
        Numeric profiles.
    threshold : float, default 0.05
        Significance level; drift when ``p_value < threshold``.

    Returns
    -------
    DriftTestResult
        ``method="ks"``, ``effect_size`` = ``D`` (``"ks_d"``).

    Raises
    ------
    MonitoringError
        If a profile is categorical or has no non-missing value ("not enough data").

    References
    ----------
    .. [1] N. Smirnov, "Table for estimating the goodness of fit of empirical
       distributions", Annals of Mathematical Statistics 19(2), 279–281, 1948.
    .. [2] SciPy, ``scipy.stats.ks_2samp`` and ``scipy.stats.kstwo``.
    """
    rows = both(reference, current, "ks", with_inf=True)
    if rows is not None:
        return ks_test(*rows, threshold=threshold)
    ref, cur = Distribution(reference), Distribution(current)
    points = np.concatenate(([-np.inf], np.union1d(ref.support(), cur.support())))
    statistic = float(np.max(np.abs(ref.cdf(points) - cur.cdf(points))))
    m, n = sorted((float(reference.n_values), float(current.n_values)), reverse=True)
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(m * n / (m + n))), 0.0, 1.0))
    return DriftTestResult(
        method="ks",
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        effect_size=statistic,
        effect_size_name="ks_d",
    )


def reference_scale(reference: ColumnProfile, current: ColumnProfile) -> float:
    """Reference std (ddof=0), or the pooled one when the reference is constant."""
    scale = reference.std or 0.0
    if scale > 0.0:
        return scale
    n_r, n_c = reference.n_finite, current.n_finite
    if n_r + n_c == 0:
        return 0.0
    mean_r, mean_c = reference.mean or 0.0, current.mean or 0.0
    delta = mean_c - mean_r
    m2 = reference.m2 + current.m2 + delta * delta * n_r * n_c / (n_r + n_c)
    return math.sqrt(max(m2, 0.0) / (n_r + n_c))


def wasserstein_from_profiles(
    reference: ColumnProfile, current: ColumnProfile, *, threshold: float = 0.1
) -> DriftTestResult:
    """Normalised Wasserstein-1 distance from two numeric profiles.

    ``W1`` is the area between the two profiled CDFs of the finite values
    (exact tails, the KLL sketch in between), summed over the retained
    values as :func:`scipy.stats.wasserstein_distance` sums over samples;
    it is divided by the reference standard deviation, which the profile
    holds exactly (pooled standard deviation for a constant reference, 0
    when both are the same constant), as
    :func:`loopml.stats.wasserstein_distance_norm`. Both profiles exact with
    at most 10000 values: that function on the rows. Bound: module docstring.

    Parameters
    ----------
    reference, current : ColumnProfile
        Numeric profiles; ``±inf`` are left out, as in the exact test.
    threshold : float, default 0.1
        Drift when ``statistic >= threshold``.

    Returns
    -------
    DriftTestResult
        ``method="wasserstein"``, ``effect_size`` = statistic (``"wasserstein_norm"``).

    Raises
    ------
    MonitoringError
        If a profile is categorical or has no finite value ("not enough data").

    References
    ----------
    .. [1] C. Villani, "Optimal Transport: Old and New", Springer, 2009.
    """
    rows = both(reference, current, "wasserstein", with_inf=False)
    if rows is not None:
        return wasserstein_distance_norm(*rows, threshold=threshold)
    ref, cur = Distribution(reference), Distribution(current)
    points = np.union1d(ref.support(), cur.support())
    gap = np.abs(ref.count_below(points) / ref.n_finite - cur.count_below(points) / cur.n_finite)
    w1 = float(np.sum(gap[:-1] * np.diff(points)))
    scale = reference_scale(reference, current)
    statistic = 0.0 if scale == 0.0 else w1 / scale
    return DriftTestResult(
        method="wasserstein",
        statistic=statistic,
        p_value=None,
        threshold=threshold,
        drifted=statistic >= threshold,
        effect_size=statistic,
        effect_size_name="wasserstein_norm",
    )
