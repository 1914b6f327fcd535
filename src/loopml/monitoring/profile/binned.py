"""Binned and categorical statistics from two profiles: chi-square, JS, PSI, Hellinger.

Numeric profiles are binned as :mod:`loopml.stats` bins raw samples;
categorical ones are counted over the union of labels (plus "other" beyond
``max_categories``). Agreement with the exact results: the table in
:mod:`loopml.monitoring.profile.drift`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import distance

from loopml.errors import MonitoringError
from loopml.monitoring.profile._convert import where
from loopml.monitoring.profile._distribution import Distribution
from loopml.monitoring.profile.column import ColumnProfile
from loopml.monitoring.profile.continuous import both, empty
from loopml.stats import (
    DriftTestResult,
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
    psi_from_counts,
)
from loopml.stats.binning import quantile_edges, union_edges
from loopml.stats.chi_square import chi_square_from_counts
from loopml.stats.hellinger import hellinger_from_counts
from loopml.stats.two_proportion import two_proportion_from_counts

__all__ = [
    "chi_square_from_profiles",
    "hellinger_from_profiles",
    "jensen_shannon_from_profiles",
    "psi_from_profiles",
    "two_proportion_z_from_profiles",
]


def _reference_edges(reference: ColumnProfile, n_bins: int) -> NDArray[np.float64]:
    """Reference-quantile edges as :func:`loopml.stats.binning.quantile_edges` places them."""
    exact = reference.finite_values()
    if exact is not None:
        return quantile_edges(exact, n_bins=n_bins)
    if reference.minimum == reference.maximum:  # constant: one bin holding exactly it
        return quantile_edges(np.array([reference.minimum], dtype=np.float64), n_bins=n_bins)
    levels = list(np.arange(1, n_bins) / n_bins)
    interior = np.unique(Distribution(reference).quantiles(levels))
    return np.concatenate(([-np.inf], interior, [np.inf]))


def _numeric_counts(
    reference: ColumnProfile, current: ColumnProfile, edges: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return Distribution(reference).bin_counts(edges), Distribution(current).bin_counts(edges)


def _category_counts(
    reference: ColumnProfile, current: ColumnProfile, method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Counts over the union of labels, plus one "other" bin for the rarer labels.

    Labels: every label of an exact side, the frequent ones of a sketched side
    (:meth:`ColumnProfile.category_counts`); counts from
    :meth:`ColumnProfile.category_estimates`; "other" = the rest of each side.
    """
    for role, profile in (("reference", reference), ("current", current)):
        if profile.kind != "categorical":
            raise MonitoringError(f"{method}: {where(profile.name)} has a numeric profile")
        if profile.n_values == 0:
            raise empty(method, role, "values after dropping missing")
    labels = sorted(reference.category_counts().keys() | current.category_counts().keys())
    ref_counts = reference.category_estimates(labels)
    cur_counts = current.category_estimates(labels)
    other_ref = max(reference.n_values - sum(ref_counts), 0.0)
    other_cur = max(current.n_values - sum(cur_counts), 0.0)
    if other_ref > 0 or other_cur > 0:
        ref_counts.append(other_ref)
        cur_counts.append(other_cur)
    return np.array(ref_counts), np.array(cur_counts)


def chi_square_from_profiles(
    reference: ColumnProfile, current: ColumnProfile, *, threshold: float = 0.05
) -> DriftTestResult:
    """Pearson's chi-square test of homogeneity from two categorical profiles.

    The 2 x k table of counts over the union of labels (plus "other" beyond
    ``max_categories``), tested as :func:`loopml.stats.chi_square_test`
    does (no continuity correction; a single category gives statistic 0,
    p-value 1); effect size Cramér's V.

    Parameters
    ----------
    reference, current : ColumnProfile
        Categorical profiles.
    threshold : float, default 0.05
        Significance level; drift when ``p_value < threshold``.

    Returns
    -------
    DriftTestResult
        ``method="chi_square"``, ``effect_size`` = Cramér's V (``"cramers_v"``).

    Raises
    ------
    MonitoringError
        If a profile is numeric or has no non-missing value ("not enough data").

    References
    ----------
    .. [1] K. Pearson, Philosophical Magazine 50(302), 157–175, 1900.
    .. [2] H. Cramér, "Mathematical Methods of Statistics", 1946, p. 282.
    """
    ref_counts, cur_counts = _category_counts(reference, current, "chi_square")
    return chi_square_from_counts(ref_counts, cur_counts, threshold=threshold)


def _counts(
    reference: ColumnProfile,
    current: ColumnProfile,
    method: str,
    edges: Callable[[], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if reference.kind == "categorical":
        return _category_counts(reference, current, method)
    both(reference, current, method, with_inf=True)
    return _numeric_counts(reference, current, edges())


def _distance(method: str, statistic: float, threshold: float) -> DriftTestResult:
    return DriftTestResult(
        method=method,
        statistic=statistic,
        p_value=None,
        threshold=threshold,
        drifted=statistic >= threshold,
        effect_size=statistic,
        effect_size_name=method,
    )


def jensen_shannon_from_profiles(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    threshold: float = 0.1,
    n_bins: int = 10,
) -> DriftTestResult:
    """Jensen–Shannon distance (base 2) from two profiles.

    Numeric: the ``n_bins`` equal-width bins of
    :func:`loopml.stats.binning.union_edges` over the exact union range
    (from the profiles' minimum and maximum), filled from the profiles
    (exact tails, the sketch in between) with ``±inf`` in the outer bins;
    categorical: counts over the union of labels. Exact profiles with at
    most 10000 values: :func:`loopml.stats.jensen_shannon_distance` on the rows.

    Parameters
    ----------
    reference, current : ColumnProfile
        Profiles of the same kind.
    threshold : float, default 0.1
        Drift when ``statistic >= threshold``.
    n_bins : int, default 10
        Equal-width bins for numeric profiles.

    Returns
    -------
    DriftTestResult
        ``method="jensen_shannon"``, statistic in ``[0, 1]``, ``p_value=None``.

    Raises
    ------
    MonitoringError
        If the kinds differ or a side has no non-missing value ("not enough data").

    References
    ----------
    .. [1] J. Lin, IEEE Transactions on Information Theory 37(1), 145–151, 1991.
    """
    if reference.kind == "numeric":
        rows = both(reference, current, "jensen_shannon", with_inf=True)
        if rows is not None:
            return jensen_shannon_distance(*rows, threshold=threshold, n_bins=n_bins)

    def edges() -> NDArray[np.float64]:
        ends = [v for p in (reference, current) for v in (p.minimum, p.maximum) if v is not None]
        return union_edges(np.array(ends, dtype=np.float64), np.array([]), n_bins=n_bins)

    ref_counts, cur_counts = _counts(reference, current, "jensen_shannon", edges)
    p, q = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    statistic = float(np.clip(distance.jensenshannon(p, q, base=2.0), 0.0, 1.0))
    return _distance("jensen_shannon", statistic, threshold)


def psi_from_profiles(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    threshold: float = 0.2,
    n_bins: int = 10,
    smoothing: float = 1e-4,
) -> DriftTestResult:
    """Population Stability Index from two profiles.

    Numeric: bins at the reference quantiles ``1/n_bins ... (n_bins-1)/n_bins``
    read from the reference profile (``numpy.quantile``'s interpolation where
    the exact tails reach, the sketch quantile elsewhere; duplicates merged,
    open outer bins, a constant reference as in
    :func:`loopml.stats.binning.quantile_edges`), filled from both profiles;
    categorical: counts over the union of labels. The index is
    :func:`loopml.stats.psi_from_counts`. Exact profiles with at most 10000
    values: :func:`loopml.stats.population_stability_index` on the rows.

    Parameters
    ----------
    reference, current : ColumnProfile
        Profiles of the same kind.
    threshold : float, default 0.2
        Drift when ``statistic >= threshold``.
    n_bins : int, default 10
        Reference-quantile bins for numeric profiles.
    smoothing : float, default 1e-4
        Additive smoothing of the bin shares (:func:`loopml.stats.psi_from_counts`).

    Returns
    -------
    DriftTestResult
        ``method="psi"``, statistic >= 0, ``p_value=None``.

    Raises
    ------
    MonitoringError
        If the kinds differ or a side has no non-missing value ("not enough data").

    References
    ----------
    .. [1] N. Siddiqi, "Credit Risk Scorecards", Wiley, 2006.
    """
    if reference.kind == "numeric":
        rows = both(reference, current, "psi", with_inf=True)
        if rows is not None:
            return population_stability_index(
                *rows, threshold=threshold, n_bins=n_bins, smoothing=smoothing
            )
    ref_counts, cur_counts = _counts(
        reference, current, "psi", lambda: _reference_edges(reference, n_bins)
    )
    statistic = psi_from_counts(ref_counts, cur_counts, smoothing=smoothing)
    return _distance("psi", statistic, threshold)


def hellinger_from_profiles(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    threshold: float = 0.1,
    n_bins: int = 10,
) -> DriftTestResult:
    """Hellinger distance ``sqrt(1/2 sum (sqrt p - sqrt q)²)`` from two profiles.

    On the same bins as :func:`psi_from_profiles` (reference quantiles) or
    the union of labels, as :func:`loopml.stats.hellinger_distance` bins raw
    samples; in ``[0, 1]``. Exact numeric profiles with at most 10000
    values: that function on the rows.

    Parameters
    ----------
    reference, current : ColumnProfile
        Profiles of the same kind.
    threshold : float, default 0.1
        Drift when ``statistic >= threshold``.
    n_bins : int, default 10
        Reference-quantile bins for numeric profiles.

    Returns
    -------
    DriftTestResult
        ``method="hellinger"``, statistic in ``[0, 1]``, ``p_value=None``.

    Raises
    ------
    MonitoringError
        If the kinds differ or a side has no non-missing value ("not enough data").

    References
    ----------
    .. [1] L. Le Cam and G. L. Yang, "Asymptotics in Statistics", 2nd ed.,
       Springer, 2000, section 3.2.
    """
    if reference.kind == "numeric":
        rows = both(reference, current, "hellinger", with_inf=True)
        if rows is not None:
            return hellinger_distance(*rows, threshold=threshold, n_bins=n_bins)
    ref_counts, cur_counts = _counts(
        reference, current, "hellinger", lambda: _reference_edges(reference, n_bins)
    )
    return _distance("hellinger", hellinger_from_counts(ref_counts, cur_counts), threshold)


def _proportion_label(labels: list[str]) -> int:
    """Index of the label whose share is "the" proportion, as the exact test picks it.

    Two labels that read as numbers: the larger (``"1"`` over ``"0"``);
    otherwise the one sorting last (``"True"`` over ``"False"``, ``"yes"``
    over ``"no"``). Labels are strings in a profile, so two string
    categories such as ``"10"`` and ``"9"`` count as numbers here: the sign
    of ``Z`` may then differ from :func:`loopml.stats.two_proportion_z_test`
    on the raw strings, its size not.
    """
    try:
        first, second = float(labels[0]), float(labels[1])
    except ValueError:
        return 1
    return 0 if first > second else 1


def two_proportion_z_from_profiles(
    reference: ColumnProfile, current: ColumnProfile, *, threshold: float = 0.05
) -> DriftTestResult:
    """Pooled two-proportion Z test from two binary categorical profiles.

    The counts of the (at most two) labels, tested as
    :func:`loopml.stats.two_proportion_z_test` does: ``Z = (p_cur - p_ref) /
    sqrt(P (1 - P) (1 / n_ref + 1 / n_cur))`` with the pooled share ``P``,
    the two-sided normal p-value, and Cohen's ``h`` as effect size; a single
    label overall gives statistic 0, p-value 1.

    Parameters
    ----------
    reference, current : ColumnProfile
        Categorical profiles with at most two labels together.
    threshold : float, default 0.05
        Significance level; drift when ``p_value < threshold``.

    Returns
    -------
    DriftTestResult
        ``method="two_proportion_z"``, ``statistic`` = signed ``Z``,
        ``effect_size`` = Cohen's ``h`` (``"cohens_h"``).

    Raises
    ------
    MonitoringError
        If a profile is numeric, a side has no non-missing value ("not enough
        data"), or there are more than two labels.

    References
    ----------
    .. [1] J. L. Fleiss, B. Levin and M. C. Paik, "Statistical Methods for
       Rates and Proportions", 3rd ed., Wiley, 2003.
    .. [2] J. Cohen, "Statistical Power Analysis for the Behavioral
       Sciences", 2nd ed., 1988 (the effect size h).
    """
    method = "two_proportion_z"
    ref_counts, cur_counts = _category_counts(reference, current, method)
    labels = sorted(reference.category_counts().keys() | current.category_counts().keys())
    if ref_counts.size > 2 or len(labels) > 2:
        raise MonitoringError(
            f"{method}: needs a binary column, got {len(labels)} categories in the "
            f"reference and current profiles of {where(reference.name)} together"
        )
    if ref_counts.size < 2:
        return two_proportion_from_counts(0, 1, 0, 1, threshold=threshold)
    i = _proportion_label(labels)
    return two_proportion_from_counts(
        float(ref_counts[i]),
        float(ref_counts.sum()),
        float(cur_counts[i]),
        float(cur_counts.sum()),
        threshold=threshold,
    )
