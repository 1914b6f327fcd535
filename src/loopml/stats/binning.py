"""Bin edges and bin counts shared by the binned statistics (PSI, Jensen–Shannon).

Two ways to cut a numeric axis into bins:

- :func:`quantile_edges` — edges at reference quantiles, so each bin holds
  about the same share of the reference (the usual choice for PSI);
- :func:`union_edges` — equal-width histogram edges over the union of both
  samples (as Evidently does for Jensen–Shannon).

In both cases the outermost edges are ``-inf`` and ``+inf``, so every value,
including ``±inf`` and values outside the reference range, falls into a bin.
Bins are closed on the left: ``[e_i, e_{i+1})``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["bin_counts", "quantile_edges", "union_edges"]


def _open_ends(interior: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate(([-np.inf], interior, [np.inf]))


def quantile_edges(reference: NDArray[np.float64], *, n_bins: int) -> NDArray[np.float64]:
    """Edges at the reference quantiles ``1/n_bins, ..., (n_bins-1)/n_bins``.

    Parameters
    ----------
    reference : ndarray of shape (n_samples,)
        Reference values without ``NaN``; ``±inf`` are ignored when placing
        the edges.
    n_bins : int
        Wanted number of bins (>= 2). Duplicate quantiles (ties, few distinct
        values) are merged, so fewer bins may result.

    Returns
    -------
    ndarray of shape (n_edges,)
        Increasing edges starting at ``-inf`` and ending at ``+inf``. A
        constant reference ``v`` gives ``[-inf, v, nextafter(v), +inf]``:
        one bin below ``v``, one holding exactly ``v`` and one above.
    """
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return _open_ends(np.array([0.0]))
    levels = np.arange(1, n_bins) / n_bins
    interior = np.unique(np.quantile(finite, levels))
    if np.unique(finite).size == 1:
        value = float(finite[0])
        interior = np.array([value, np.nextafter(value, np.inf)])
    return _open_ends(interior)


def union_edges(
    reference: NDArray[np.float64], current: NDArray[np.float64], *, n_bins: int
) -> NDArray[np.float64]:
    """Equal-width edges over the finite values of both samples.

    Parameters
    ----------
    reference, current : ndarray of shape (n_samples,)
        Samples without ``NaN``.
    n_bins : int
        Number of equal-width bins between the smallest and largest finite value.

    Returns
    -------
    ndarray of shape (n_bins + 1,)
        ``numpy.histogram_bin_edges`` of the union, with the first and last
        edge replaced by ``-inf`` and ``+inf``.
    """
    union = np.concatenate((reference, current))
    finite = union[np.isfinite(union)]
    if finite.size == 0:
        return _open_ends(np.array([0.0]))
    edges = np.histogram_bin_edges(finite, bins=n_bins).astype(np.float64)
    return _open_ends(edges[1:-1])


def bin_counts(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Count ``values`` in the bins ``[edges[i], edges[i+1])``.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
        Values without ``NaN``.
    edges : ndarray of shape (n_bins + 1,)
        Increasing edges from ``-inf`` to ``+inf``.

    Returns
    -------
    ndarray of shape (n_bins,)
        Counts; ``+inf`` falls in the last bin.

    Examples
    --------
    >>> bin_counts(np.array([0.0, 1.0, 2.0, np.inf]), np.array([-np.inf, 1.0, np.inf])).tolist()
    [1, 3]
    """
    index = np.searchsorted(edges[1:-1], values, side="right")
    return np.bincount(index, minlength=edges.size - 1).astype(np.int64)
