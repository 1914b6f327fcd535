"""Population Stability Index (PSI) on reference-quantile bins or categories."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from loopml.stats.binning import bin_counts, quantile_edges
from loopml.stats.result import DriftTestResult, Sample, category_counts, drop_nan

__all__ = ["population_stability_index", "psi_from_counts", "smoothed_shares"]


def smoothed_shares(
    counts: NDArray[np.integer] | NDArray[np.floating], *, smoothing: float
) -> NDArray[np.float64]:
    """Bin shares with additive smoothing: ``(c_i / n + a) / (1 + k a)``.

    Each share is moved by the same increasing affine map ``s -> (s + a) /
    (1 + k a)``, so the smoothed shares still sum to 1, every bin (empty ones
    included) gets a positive share when ``a > 0``, and **the order of the
    bin masses never changes**: a bin with more counts keeps a strictly
    larger share, equal counts keep equal shares, and an empty bin stays
    below every non-empty one, however small. (Replacing only the zero
    shares by a floor, a common shortcut, would lift an empty bin above a
    bin holding 1 value in a million when the floor is ``1e-4``.)

    Parameters
    ----------
    counts : ndarray of shape (n_bins,)
        Non-negative counts, not all zero.
    smoothing : float
        The share ``a >= 0`` added to every bin before renormalising.

    Returns
    -------
    ndarray of shape (n_bins,)
        Positive shares (non-negative when ``a = 0``) summing to 1.

    Examples
    --------
    >>> smoothed_shares(np.array([0, 1, 3]), smoothing=0.25).tolist()
    [0.14285714285714285, 0.2857142857142857, 0.5714285714285714]
    """
    c = np.asarray(counts, dtype=np.float64)
    shares: NDArray[np.float64] = (c / c.sum() + smoothing) / (1.0 + c.size * smoothing)
    return shares


def psi_from_counts(
    reference_counts: NDArray[np.integer] | NDArray[np.floating],
    current_counts: NDArray[np.integer] | NDArray[np.floating],
    *,
    smoothing: float = 1e-4,
) -> float:
    """PSI of two count vectors over the same bins.

    ``PSI = sum_i (q_i - p_i) * ln(q_i / p_i)`` with smoothed shares
    ``p_i = (r_i / n_r + a) / (1 + k a)`` and ``q_i = (c_i / n_c + a) / (1 + k a)``,
    where ``a`` is ``smoothing`` and ``k`` the number of bins (see
    :func:`smoothed_shares`). This additive smoothing acts on the *shares*,
    not the counts, so two samples with equal shares keep an index of
    exactly 0 whatever their sizes, while an empty bin no longer makes the
    index infinite (with the default ``a = 1e-4`` an empty bin that holds
    share ``s`` on the other side adds about ``s * ln(s / 1e-4)``). Because
    the same increasing affine map is applied to every share, smoothing
    never inverts the order of the bin masses within a sample: an empty
    bin stays the lightest, a heavier bin stays heavier. With ``a = 0`` this
    is the textbook formula, which is infinite on a bin empty on one side
    only.

    Parameters
    ----------
    reference_counts, current_counts : ndarray of shape (n_bins,)
        Non-negative counts.
    smoothing : float, default 1e-4
        Share ``a >= 0`` added to every bin of both samples before renormalising.

    Returns
    -------
    float
        The index, >= 0 (``inf`` only when ``smoothing=0`` and a bin is
        empty on one side only).

    Examples
    --------
    >>> round(psi_from_counts(np.array([50, 50]), np.array([20, 80]), smoothing=0.0), 5)
    0.41589
    """
    p = smoothed_shares(reference_counts, smoothing=smoothing)
    q = smoothed_shares(current_counts, smoothing=smoothing)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p == q, 0.0, (q - p) * np.log(q / p))
    return float(np.sum(terms))


def population_stability_index(
    reference: Sample,
    current: Sample,
    *,
    kind: Literal["numeric", "categorical"] = "numeric",
    threshold: float = 0.2,
    n_bins: int = 10,
    smoothing: float = 1e-4,
) -> DriftTestResult:
    """Population Stability Index of the current sample against the reference.

    Numeric samples are cut at the reference deciles (``n_bins`` quantile
    bins, see :func:`loopml.stats.binning.quantile_edges`; the outer bins are
    open so values beyond the reference range still count); categorical
    samples are counted over the union of categories. The index is computed
    by :func:`psi_from_counts` with additive smoothing of the bin shares
    (documented there and in :func:`smoothed_shares`): it keeps the index
    finite when a bin is empty on one side and never inverts the order of
    the bin masses. Rule of thumb (Siddiqi 2006): below 0.1 no significant
    change, 0.1–0.25 moderate, above 0.25 major. The default cut-off 0.2 sits
    in the moderate band. Drift is declared when ``statistic >= threshold``.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Numeric values (``NaN`` dropped, ``±inf`` kept in the outer bins) or
        category labels (``None``/``NaN`` dropped).
    kind : {"numeric", "categorical"}, default "numeric"
        How to build the bins.
    threshold : float, default 0.2
        Cut-off on the index.
    n_bins : int, default 10
        Number of quantile bins for numeric samples (ties may merge bins).
    smoothing : float, default 1e-4
        Additive smoothing ``a >= 0`` of the bin shares (see :func:`smoothed_shares`).

    Returns
    -------
    DriftTestResult
        ``method="psi"``, ``statistic`` >= 0, ``p_value=None``;
        ``effect_size`` = ``statistic`` (``"psi"``).

    Raises
    ------
    MonitoringError
        If either sample is empty after dropping missing values ("not enough data").

    References
    ----------
    .. [1] N. Siddiqi, "Credit Risk Scorecards: Developing and Implementing
       Intelligent Credit Scoring", Wiley, 2006.
    .. [2] B. Yurdakul, "Statistical Properties of Population Stability
       Index", PhD dissertation, Western Michigan University, 2018.

    Examples
    --------
    >>> result = population_stability_index(["a"] * 50 + ["b"] * 50,
    ...                                     ["a"] * 20 + ["b"] * 80,
    ...                                     kind="categorical", smoothing=0.0)
    >>> round(result.statistic, 5), result.drifted
    (0.41589, True)
    """
    if kind == "categorical":
        _, ref_counts, cur_counts = category_counts(reference, current, method="psi")
    else:
        ref = drop_nan(reference, method="psi", role="reference")
        cur = drop_nan(current, method="psi", role="current")
        edges = quantile_edges(ref, n_bins=n_bins)
        ref_counts, cur_counts = bin_counts(ref, edges), bin_counts(cur, edges)
    statistic = psi_from_counts(ref_counts, cur_counts, smoothing=smoothing)
    return DriftTestResult(
        method="psi",
        statistic=statistic,
        p_value=None,
        threshold=threshold,
        drifted=statistic >= threshold,
        effect_size=statistic,
        effect_size_name="psi",
    )
