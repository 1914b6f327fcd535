"""Pearson's chi-square test of homogeneity for categorical drift."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from loopml.stats.result import DriftTestResult, Sample, category_counts

__all__ = ["chi_square_from_counts", "chi_square_test"]


def chi_square_test(
    reference: Sample, current: Sample, *, threshold: float = 0.05
) -> DriftTestResult:
    """Chi-square test that two samples share one categorical distribution.

    The samples are counted over the **union** of their categories, giving a
    2 x k contingency table (row 0 reference, row 1 current), and tested with
    :func:`scipy.stats.chi2_contingency` without Yates' continuity correction
    (plain Pearson statistic, also for 2 x 2 tables). Because the expected
    count of a cell is ``row_total * column_total / n`` and every category of
    the union has a positive column total, a category that appears only in
    the current sample (unseen) or only in the reference (vanished) gives a
    finite statistic. With a single category overall the samples cannot
    differ: statistic 0, p-value 1. Drift is declared when ``p_value < threshold``.

    The effect size is Cramér's V, ``sqrt(X² / (n * (min(2, k) - 1)))`` with
    ``n`` the number of labels in both samples; for the 2 x k table here that
    is ``sqrt(X² / n)``, in ``[0, 1]``: 0 for equal shares, 1 when no
    category occurs in both samples. It is 0 with a single category.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Category labels (str, bool, int ...). ``None`` and float ``NaN`` are
        missing and dropped.
    threshold : float, default 0.05
        Significance level.

    Returns
    -------
    DriftTestResult
        ``method="chi_square"``, ``statistic`` = Pearson's X² (finite),
        ``p_value`` from the chi-square distribution with ``k - 1`` degrees
        of freedom, ``effect_size`` = Cramér's V (``"cramers_v"``).

    Raises
    ------
    MonitoringError
        If either sample is empty after dropping missing values ("not enough data").

    References
    ----------
    .. [1] K. Pearson, "On the criterion that a given system of deviations from
       the probable in the case of a correlated system of variables is such
       that it can be reasonably supposed to have arisen from random
       sampling", Philosophical Magazine 50(302), 157–175, 1900.
    .. [2] H. Cramér, "Mathematical Methods of Statistics", Princeton
       University Press, 1946, p. 282 (the coefficient V).
    .. [3] SciPy, ``scipy.stats.chi2_contingency``.

    Examples
    --------
    >>> result = chi_square_test(["a"] * 10 + ["b"] * 20, ["a"] * 20 + ["b"] * 10)
    >>> round(result.statistic, 4), round(result.p_value, 5), round(result.effect_size, 4)
    (6.6667, 0.00982, 0.3333)
    """
    _, ref_counts, cur_counts = category_counts(reference, current, method="chi_square")
    return chi_square_from_counts(ref_counts, cur_counts, threshold=threshold)


def chi_square_from_counts(
    reference_counts: NDArray[np.float64] | NDArray[np.int64],
    current_counts: NDArray[np.float64] | NDArray[np.int64],
    *,
    threshold: float = 0.05,
) -> DriftTestResult:
    """:func:`chi_square_test` on counts per category (same categories, same order).

    Every category must have a positive total over both windows (the union of
    categories, as :func:`loopml.stats.category_counts` gives); one category
    overall gives statistic 0, p-value 1. Shared with the profile twin in
    :mod:`loopml.monitoring.profile`.
    """
    if reference_counts.size < 2:
        statistic, p_value, cramers_v = 0.0, 1.0, 0.0
    else:
        table = np.vstack((reference_counts, current_counts))
        outcome = stats.chi2_contingency(table, correction=False)
        statistic, p_value = float(outcome.statistic), float(outcome.pvalue)
        cramers_v = min(1.0, float(np.sqrt(statistic / table.sum())))
    return DriftTestResult(
        method="chi_square",
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        effect_size=cramers_v,
        effect_size_name="cramers_v",
    )
