"""Two-sample Kolmogorov–Smirnov test for numeric drift."""

from __future__ import annotations

from scipy import stats

from loopml.stats.result import DriftTestResult, Sample, drop_nan

__all__ = ["ks_test"]


def ks_test(reference: Sample, current: Sample, *, threshold: float = 0.05) -> DriftTestResult:
    """Two-sample Kolmogorov–Smirnov test of equal distributions.

    The statistic ``D`` is the largest vertical gap between the empirical
    cumulative distribution functions of the two samples; the p-value comes
    from :func:`scipy.stats.ks_2samp` (exact for small samples, asymptotic
    otherwise, two-sided). Drift is declared when ``p_value < threshold``.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Numeric samples. ``NaN`` is dropped; ``±inf`` is kept (the test only
        uses the order of the values, and infinities order fine).
    threshold : float, default 0.05
        Significance level.

    Returns
    -------
    DriftTestResult
        ``method="ks"``, ``statistic`` = ``D`` in ``[0, 1]``, ``p_value`` in
        ``[0, 1]``. ``effect_size`` is ``D`` itself (``"ks_d"``): unlike the
        p-value it estimates a property of the two distributions, not of the
        sample sizes, and reads as "the largest difference, over all values
        ``x``, between the shares of the two samples at or below ``x``".

    Raises
    ------
    MonitoringError
        If either sample is empty after dropping ``NaN`` ("not enough data").

    References
    ----------
    .. [1] F. J. Massey, "The Kolmogorov–Smirnov test for goodness of fit",
       Journal of the American Statistical Association 46(253), 68–78, 1951.
    .. [2] SciPy, ``scipy.stats.ks_2samp``.

    Examples
    --------
    >>> result = ks_test([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])
    >>> round(result.statistic, 3), result.drifted
    (0.4, False)
    """
    ref = drop_nan(reference, method="ks", role="reference")
    cur = drop_nan(current, method="ks", role="current")
    outcome = stats.ks_2samp(ref, cur)
    statistic = float(outcome.statistic)
    p_value = float(outcome.pvalue)
    return DriftTestResult(
        method="ks",
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        effect_size=statistic,
        effect_size_name="ks_d",
    )
