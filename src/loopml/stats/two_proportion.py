"""Two-proportion Z test for drift of a binary (boolean) column."""

from __future__ import annotations

import math
from collections.abc import Hashable

from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats.result import DriftTestResult, Sample, category_counts

__all__ = ["two_proportion_from_counts", "two_proportion_z_test"]

_METHOD = "two_proportion_z"


def _proportion_index(first: Hashable, second: Hashable) -> int:
    """Index (0 or 1) of the category whose share is "the" proportion."""
    if isinstance(first, int | float) and isinstance(second, int | float):
        return 0 if first > second else 1
    return 1  # category_counts sorts by string form: the one sorting last


def two_proportion_z_test(
    reference: Sample, current: Sample, *, threshold: float = 0.05
) -> DriftTestResult:
    """Pooled-variance two-sided Z test that two samples share one proportion.

    The samples are counted over the union of their categories, which must
    be at most two. The *proportion* is the share of one category, chosen
    deterministically: when both categories are numbers (``bool``, ``int``,
    ``float``) the larger one, so ``True`` in a boolean column and ``1`` in
    a 0/1 column; otherwise the one whose string form sorts last (``"yes"``
    over ``"no"``, ``"True"`` over ``"False"``). With ``x`` such values
    among ``n`` labels in each sample (``p = x / n``) and the pooled share
    ``P = (x_ref + x_cur) / (n_ref + n_cur)``::

        Z = (p_cur - p_ref) / sqrt(P (1 - P) (1 / n_ref + 1 / n_cur))

    and the two-sided p-value ``2 * (1 - Phi(|Z|))`` (the standard normal
    approximation, as ``statsmodels.stats.proportion.proportions_ztest``;
    ``Z²`` equals Pearson's X² of the 2 x 2 table without continuity
    correction). With two categories overall, ``0 < P < 1`` and ``Z`` is
    finite; with a single category overall the samples cannot differ:
    statistic 0, p-value 1. The approximation is rough when a cell of the
    2 x 2 table expects fewer than about 5 values. Drift is declared when
    ``p_value < threshold``.

    The effect size is Cohen's ``h = |2 arcsin sqrt(p_cur) - 2 arcsin
    sqrt(p_ref)|``, the difference of the proportions on the arcsine scale,
    where equal differences are equally detectable; it lies in ``[0, pi]``
    (Cohen's rule of thumb: 0.2 small, 0.5 medium, 0.8 large). The sign of
    ``statistic`` keeps the direction: positive when the proportion grew.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Labels of a binary column (bool, 0/1, two strings ...). ``None`` and
        float ``NaN`` are missing and dropped; every other value, ``±inf``
        included, is a label.
    threshold : float, default 0.05
        Significance level.

    Returns
    -------
    DriftTestResult
        ``method="two_proportion_z"``, ``statistic`` = ``Z`` (signed),
        ``p_value`` in ``[0, 1]``, ``effect_size`` = Cohen's ``h``
        (``"cohens_h"``).

    Raises
    ------
    MonitoringError
        If either sample is empty after dropping missing values ("not enough
        data"), or if the samples hold more than two categories together
        (the message gives the count and the first categories).

    References
    ----------
    .. [1] J. L. Fleiss, B. Levin and M. C. Paik, "Statistical Methods for
       Rates and Proportions", 3rd ed., Wiley, 2003 (the pooled-variance test
       of two independent proportions and its equivalence to the 2 x 2
       chi-square test).
    .. [2] J. Cohen, "Statistical Power Analysis for the Behavioral
       Sciences", 2nd ed., Lawrence Erlbaum, 1988, ch. 6 (the effect size h).

    Examples
    --------
    >>> result = two_proportion_z_test([True] * 20 + [False] * 80, [True] * 30 + [False] * 70)
    >>> round(result.statistic, 4), round(result.p_value, 4), round(result.effect_size, 4)
    (1.633, 0.1025, 0.232)
    """
    categories, ref_counts, cur_counts = category_counts(reference, current, method=_METHOD)
    if len(categories) > 2:
        shown = ", ".join(repr(c) for c in categories[:5])
        more = ", ..." if len(categories) > 5 else ""
        raise MonitoringError(
            f"{_METHOD}: needs a binary column, got {len(categories)} categories "
            f"in the reference and current samples together ({shown}{more})"
        )
    if len(categories) < 2:
        return two_proportion_from_counts(0, 1, 0, 1, threshold=threshold)
    i = _proportion_index(categories[0], categories[1])
    return two_proportion_from_counts(
        float(ref_counts[i]),
        float(ref_counts.sum()),
        float(cur_counts[i]),
        float(cur_counts.sum()),
        threshold=threshold,
    )


def two_proportion_from_counts(
    x_reference: float,
    n_reference: float,
    x_current: float,
    n_current: float,
    *,
    threshold: float = 0.05,
) -> DriftTestResult:
    """:func:`two_proportion_z_test` from the counts: ``x`` of ``n`` labels are the
    proportion's category in each window (``n > 0``). Both proportions 0 or both 1
    (one category overall) give statistic 0, p-value 1. Shared with
    :mod:`loopml.monitoring.profile`.
    """
    p_ref, p_cur = x_reference / n_reference, x_current / n_current
    pooled = (x_reference + x_current) / (n_reference + n_current)
    if pooled in (0.0, 1.0):
        statistic, p_value, cohens_h = 0.0, 1.0, 0.0
    else:
        variance = pooled * (1.0 - pooled) * (1.0 / n_reference + 1.0 / n_current)
        statistic = float((p_cur - p_ref) / math.sqrt(variance))
        p_value = min(1.0, float(2.0 * stats.norm.sf(abs(statistic))))
        cohens_h = abs(2.0 * math.asin(math.sqrt(p_cur)) - 2.0 * math.asin(math.sqrt(p_ref)))
    return DriftTestResult(
        method=_METHOD,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        effect_size=cohens_h,
        effect_size_name="cohens_h",
    )
