"""Two-sample Anderson–Darling test for numeric drift."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats.result import DriftTestResult, Sample, drop_non_finite
from loopml.stats.wasserstein import normalised_w1

__all__ = ["P_VALUE_CAP", "P_VALUE_FLOOR", "anderson_darling_test"]

_METHOD = "anderson_darling"
_MIN_POOLED = 4  # the variance of the statistic divides by (N - 1)(N - 2)(N - 3)
P_VALUE_FLOOR = 0.001
"""Smallest p-value SciPy reports for the test (the true value may be smaller)."""
P_VALUE_CAP = 0.25
"""Largest p-value SciPy reports for the test (the true value may be larger)."""


def _midrank_option() -> dict[str, str]:
    # SciPy 1.17 replaced ``midrank=True`` (the default before) by ``variant="midrank"``
    # and warns when neither is given; older versions do not know ``variant``.
    if "variant" in inspect.signature(stats.anderson_ksamp).parameters:
        return {"variant": "midrank"}
    return {}


def anderson_darling_test(
    reference: Sample, current: Sample, *, threshold: float = 0.05
) -> DriftTestResult:
    """k-sample Anderson–Darling test (k = 2) of equal distributions.

    Like Kolmogorov–Smirnov the test compares the two empirical cumulative
    distribution functions, but it integrates the squared gap with weights
    that grow in the tails, so it notices differences in the tails (and
    many small differences) that the single largest gap misses. The
    statistic is SciPy's standardised ``T = (A² - 1) / sigma_N`` of
    :func:`scipy.stats.anderson_ksamp` with the midrank version for ties
    (Scholz & Stephens' ``A²_akN``); under no drift it is near 0 and it may
    be negative. Drift is declared when ``p_value < threshold``.

    **The p-value is capped**: SciPy interpolates it from Scholz and
    Stephens' table of critical values and clips it to ``[0.001, 0.25]``
    (``P_VALUE_FLOOR``, ``P_VALUE_CAP``), because extrapolating beyond the
    table is unreliable. This function keeps that clipped value and silences
    SciPy's "p-value capped/floored" warning, so the result is deterministic
    and fast; a p-value of 0.25 means "0.25 or more" and 0.001 "0.001 or
    less". Decisions are therefore meaningful for thresholds in
    ``(0.001, 0.25]``, which includes the default 0.05. (A permutation
    p-value would lift the cap but costs thousands of re-computations and
    a random seed.)

    When all values of both samples are equal, no ordering can separate the
    samples (every permutation gives the same statistic): statistic 0,
    p-value 1, where SciPy would raise.

    The effect size is the normalised Wasserstein distance ``W1 /
    reference standard deviation`` of the same values (see
    :func:`loopml.stats.wasserstein_distance_norm`, including its fallback
    to the pooled standard deviation for a constant reference): like
    ``A²`` it is an integral of the gap between the two distribution
    functions, but in reference standard deviations, so it does not grow
    with the sample sizes.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Numeric samples. ``NaN`` **and** ``±inf`` are dropped, so the test
        and its effect size, which is infinite as soon as one value is,
        see the same values.
    threshold : float, default 0.05
        Significance level; use a value in ``(0.001, 0.25]``.

    Returns
    -------
    DriftTestResult
        ``method="anderson_darling"``, ``statistic`` = ``T``, ``p_value`` in
        ``[0.001, 0.25]`` (1 when all values are equal), ``effect_size`` =
        normalised Wasserstein distance (``"wasserstein_norm"``).

    Raises
    ------
    MonitoringError
        If a sample is not numeric, if either sample has no finite value, or
        if both together have fewer than 4 ("not enough data").

    References
    ----------
    .. [1] F. W. Scholz and M. A. Stephens, "K-Sample Anderson–Darling
       Tests", Journal of the American Statistical Association 82(399),
       918–924, 1987.
    .. [2] SciPy, ``scipy.stats.anderson_ksamp``.

    Examples
    --------
    >>> result = anderson_darling_test(np.arange(20.0), np.arange(20.0) + 10.0)
    >>> round(result.statistic, 3), result.p_value, result.drifted, round(result.effect_size, 4)
    (10.703, 0.001, True, 1.7342)
    """
    ref = drop_non_finite(reference, method=_METHOD, role="reference")
    cur = drop_non_finite(current, method=_METHOD, role="current")
    pooled = ref.size + cur.size
    if pooled < _MIN_POOLED:
        raise MonitoringError(
            f"{_METHOD}: not enough data ({ref.size} reference and {cur.size} current "
            f"finite values; the test needs at least {_MIN_POOLED} together)"
        )
    effect_size = normalised_w1(ref, cur)
    if np.unique(np.concatenate((ref, cur))).size == 1:
        statistic, p_value = 0.0, 1.0
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="p-value (capped|floored)")
            outcome = stats.anderson_ksamp([ref, cur], **_midrank_option())
        statistic, p_value = float(outcome.statistic), float(outcome.pvalue)
    return DriftTestResult(
        method=_METHOD,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        effect_size=effect_size,
        effect_size_name="wasserstein_norm",
    )
