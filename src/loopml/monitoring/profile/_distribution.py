"""The distribution a numeric profile stands for: exact tails, the KLL sketch in between.

A profile knows its ``tail_size`` smallest and largest finite values
exactly and the rest through its KLL sketch. :class:`Distribution` answers
"how many values are below ``x``" from the exact tails when ``x`` lies in
them and from the sketch otherwise, so the error is 0 in the tails and the
sketch's rank error ``eps`` in between; when the profile still knows every
value, every answer is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # the profile imports this module to answer its own quantiles
    from loopml.monitoring.profile.column import ColumnProfile

__all__ = ["Distribution"]

Floats = NDArray[np.float64]


class Distribution:
    """Counts below any point, bins and quantiles of one numeric profile."""

    def __init__(self, profile: ColumnProfile) -> None:
        self.n_finite = profile.n_finite
        self.negative, self.positive = profile.negative_infinity, profile.positive_infinity
        self.n = profile.n_values
        self.exact = profile.finite_values()
        self.low = np.array(profile.low_tail, dtype=np.float64)
        self.high = np.array(profile.high_tail, dtype=np.float64)
        self.sketch = profile.kll()
        # The retained items give the points where the counts may jump; the counts
        # themselves come from the sketch's rank queries. Summing the weights the
        # Python iterator reports is wrong after a merge (datasketches 5.2: a merge
        # of two 2,500-value sketches iterates to weights summing to 1,959).
        items = (
            np.unique(np.array([p[0] for p in self.sketch], dtype=np.float64))
            if self.exact is None and not self.sketch.is_empty()
            else np.array([], dtype=np.float64)
        )
        self.items = items
        if items.size:
            shares = np.asarray(self.sketch.get_cdf(items.tolist(), inclusive=True))[:-1]
            counts = shares * float(self.sketch.n)
        else:
            counts = np.array([], dtype=np.float64)
        self.cumulative = np.concatenate(([0.0], counts))

    def support(self) -> Floats:
        """Finite points where the counts may jump (sorted, unique)."""
        if self.exact is not None:
            return np.unique(self.exact)
        return np.union1d(self.items, np.concatenate((self.low, self.high)))

    def count_below(self, x: Floats, *, strict: bool = False) -> Floats:
        """Finite values ``<= x`` (``< x`` when ``strict``) for finite points ``x``."""
        side: Literal["left", "right"] = "left" if strict else "right"
        if self.exact is not None:
            return np.searchsorted(self.exact, x, side=side).astype(np.float64)
        counts = self.cumulative[np.searchsorted(self.items, x, side=side)]
        if self.low.size:
            # every value below the largest low-tail value is in the low tail, every
            # value above the smallest high-tail value in the high tail
            top_of_low, bottom_of_high = self.low[-1], self.high[0]
            in_low = x <= top_of_low if strict else x < top_of_low
            in_high = x > bottom_of_high if strict else x >= bottom_of_high
            above = self.high.size - np.searchsorted(self.high, x, side=side)
            counts = np.where(in_low, np.searchsorted(self.low, x, side=side), counts)
            counts = np.where(in_high, self.n_finite - above, counts)
        return np.asarray(counts, dtype=np.float64)

    def cdf(self, x: Floats) -> Floats:
        """Share of the non-missing values (``±inf`` included) ``<= x``; ``x`` may be infinite."""
        safe = np.where(np.isfinite(x), x, 0.0)
        counts = self.negative + self.count_below(safe)
        counts = np.where(x == -np.inf, self.negative, np.where(x == np.inf, self.n, counts))
        return np.asarray(counts / self.n, dtype=np.float64)

    def bin_counts(self, edges: Floats) -> Floats:
        """Values in ``[edges[i], edges[i+1])``; edges run from ``-inf`` to ``+inf``.

        ``-inf`` values fall in the first bin and ``+inf`` in the last, as
        :func:`loopml.stats.binning.bin_counts` puts them.
        """
        below = self.count_below(edges[1:-1], strict=True)
        cumulative = np.concatenate(([0.0], below, [float(self.n_finite)]))
        counts = np.clip(np.diff(cumulative), 0.0, None)
        counts[0] += self.negative
        counts[-1] += self.positive
        return counts

    def quantiles(self, levels: Sequence[float]) -> Floats:
        """Quantiles of the finite values, linear as ``numpy.quantile``, exact where known.

        The order statistics around position ``level * (n_finite - 1)`` are
        read from the exact values or the tails when they lie there;
        otherwise the KLL sketch's quantile (true rank within ``eps`` of
        ``level``) stands in.
        """
        known = self.exact
        sketched = None if known is not None else self.sketch.get_quantiles(list(levels))
        offset = self.n_finite - self.high.size  # position of high[0]
        result = np.empty(len(levels), dtype=np.float64)
        for i, level in enumerate(levels):
            position = level * (self.n_finite - 1)
            lo, hi = int(np.floor(position)), int(np.ceil(position))
            if known is not None:
                pair = known[lo], known[hi]
            elif hi < self.low.size:
                pair = self.low[lo], self.low[hi]
            elif lo >= offset:
                pair = self.high[lo - offset], self.high[hi - offset]
            else:
                assert sketched is not None
                result[i] = sketched[i]
                continue
            result[i] = _lerp(float(pair[0]), float(pair[1]), position - lo)
        return result


def _lerp(low: float, high: float, t: float) -> float:
    """``low + t (high - low)``, without ``inf * 0`` at the ends on huge values."""
    if t == 0.0 or low == high:
        return low
    return low + t * (high - low)
