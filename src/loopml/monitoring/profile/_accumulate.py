"""Mutable accumulators behind a profile: fed chunk by chunk, merged, then frozen.

Memory is bounded by the sketch sizes in :class:`ProfileSettings` plus one
chunk, whatever the number of rows: a numeric accumulator holds a few
numbers and a KLL sketch; a categorical one holds at most
``max_categories`` exact counts, then a frequent-items sketch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import datasketches
import numpy as np
from numpy.typing import NDArray

from loopml.errors import MonitoringError
from loopml.monitoring.profile._convert import where
from loopml.monitoring.profile.column import ColumnProfile, ProfileKind
from loopml.monitoring.profile.settings import ProfileSettings
from loopml.schema import ColumnName

__all__ = ["Accumulator", "CategoryAccumulator", "NumericAccumulator", "new_accumulator", "thaw"]


class NumericAccumulator:
    """Counts, range, moments and a KLL sketch of a numeric column."""

    def __init__(self, name: ColumnName | None, settings: ProfileSettings) -> None:
        self.name, self.settings = name, settings
        self.count = self.missing = self.positive_infinity = self.negative_infinity = 0
        self.n_finite = 0
        self.mean = self.m2 = 0.0
        self.minimum, self.maximum = math.inf, -math.inf
        self.sketch = datasketches.kll_doubles_sketch(settings.k)
        self.low: NDArray[np.float64] = np.empty(0)
        self.high: NDArray[np.float64] = np.empty(0)

    def add(self, values: NDArray[np.float64]) -> None:
        """Add one chunk: ``float64`` values with ``NaN`` for missing."""
        self.count += int(values.size)
        self.missing += int(np.count_nonzero(np.isnan(values)))
        self.positive_infinity += int(np.count_nonzero(values == np.inf))
        self.negative_infinity += int(np.count_nonzero(values == -np.inf))
        finite = np.ascontiguousarray(values[np.isfinite(values)])
        if finite.size == 0:
            return
        low, high = float(finite.min()), float(finite.max())
        # Values near the float64 limit would overflow the sum: work in units of the
        # largest magnitude there (m2 may still be inf, the mean stays exact-ish).
        scale = max(abs(low), abs(high)) if max(abs(low), abs(high)) > 1e150 else 1.0
        with np.errstate(over="ignore"):
            scaled = finite / scale if scale != 1.0 else finite
            mean = float(scaled.mean())
            m2 = float(np.square(scaled - mean).sum()) * scale * scale
        self._combine(int(finite.size), mean * scale, m2, low, high)
        self.sketch.update(finite)
        self._keep_tails(finite, finite)

    def _combine(self, n: int, mean: float, m2: float, low: float, high: float) -> None:
        if self.n_finite == 0:  # nothing to pool with (and no inf * 0 on huge values)
            self.n_finite, self.mean, self.m2 = n, mean, m2
            self.minimum, self.maximum = low, high
            return
        total = self.n_finite + n
        delta = mean - self.mean
        self.mean += delta * (n / total)
        self.m2 += m2 + delta * delta * (self.n_finite * (n / total))
        self.n_finite = total
        self.minimum, self.maximum = min(self.minimum, low), max(self.maximum, high)

    def _keep_tails(self, low: NDArray[np.float64], high: NDArray[np.float64]) -> None:
        """Keep the ``tail_size`` smallest and largest values seen (exact under merging)."""
        m = self.settings.tail_size
        if m == 0:
            return
        lows = np.concatenate((self.low, low))
        highs = np.concatenate((self.high, high))
        if lows.size > m:
            lows = np.partition(lows, m - 1)[:m]
        if highs.size > m:
            highs = np.partition(highs, highs.size - m)[highs.size - m :]
        self.low, self.high = np.sort(lows), np.sort(highs)

    def merge(self, other: NumericAccumulator) -> None:
        """Absorb ``other`` (left unchanged)."""
        self.count += other.count
        self.missing += other.missing
        self.positive_infinity += other.positive_infinity
        self.negative_infinity += other.negative_infinity
        if other.n_finite:
            self._combine(other.n_finite, other.mean, other.m2, other.minimum, other.maximum)
            self.sketch.merge(other.sketch)
            self._keep_tails(other.low, other.high)

    def freeze(self) -> ColumnProfile:
        """Return the profile of everything added so far."""
        some = self.n_finite > 0
        return ColumnProfile(
            name=self.name,
            kind="numeric",
            count=self.count,
            missing=self.missing,
            settings=self.settings,
            positive_infinity=self.positive_infinity,
            negative_infinity=self.negative_infinity,
            minimum=self.minimum if some else None,
            maximum=self.maximum if some else None,
            mean=self.mean if some else None,
            m2=self.m2,
            quantile_sketch=bytes(self.sketch.serialize()),
            low_tail=tuple(self.low.tolist()),
            high_tail=tuple(self.high.tolist()),
        )

    @classmethod
    def thaw(cls, profile: ColumnProfile) -> NumericAccumulator:
        """Return an accumulator holding ``profile`` (a fresh copy of its sketch)."""
        acc = cls(profile.name, profile.settings)
        acc.count, acc.missing = profile.count, profile.missing
        acc.positive_infinity = profile.positive_infinity
        acc.negative_infinity = profile.negative_infinity
        acc.n_finite = profile.n_finite
        if acc.n_finite:
            acc.mean, acc.m2 = float(profile.mean or 0.0), profile.m2
            acc.minimum = math.inf if profile.minimum is None else profile.minimum
            acc.maximum = -math.inf if profile.maximum is None else profile.maximum
        acc.sketch = profile.kll()
        acc.low = np.array(profile.low_tail, dtype=np.float64)
        acc.high = np.array(profile.high_tail, dtype=np.float64)
        tails = min(profile.settings.tail_size, acc.n_finite)
        if acc.sketch.n != acc.n_finite or acc.low.size != tails or acc.high.size != tails:
            raise MonitoringError(
                f"{where(profile.name)}: profile holds {acc.n_finite} finite values but its "
                f"quantile sketch {acc.sketch.n} and its tails {acc.low.size}/{acc.high.size}"
            )
        return acc


class CategoryAccumulator:
    """Exact label counts up to ``max_categories``, then a frequent-items sketch."""

    def __init__(self, name: ColumnName | None, settings: ProfileSettings) -> None:
        self.name, self.settings = name, settings
        self.count = self.missing = 0
        self.counts: dict[str, int] | None = {}
        self.sketch: datasketches.frequent_strings_sketch | None = None

    def add(self, counts: Mapping[str, int], *, rows: int, missing: int) -> None:
        """Add one chunk: its label counts, its number of rows and of missing rows."""
        self.count += rows
        self.missing += missing
        self._absorb(counts)

    def _absorb(self, counts: Mapping[str, int]) -> None:
        if self.counts is not None:
            for key, n in counts.items():
                self.counts[key] = self.counts.get(key, 0) + n
            if len(self.counts) > self.settings.max_categories:
                self._overflow()
            return
        assert self.sketch is not None
        for key, n in counts.items():
            self.sketch.update(key, n)

    def _overflow(self) -> None:
        self.sketch = datasketches.frequent_strings_sketch(self.settings.frequent_lg_max_k)
        for key, n in (self.counts or {}).items():
            self.sketch.update(key, n)
        self.counts = None

    def merge(self, other: CategoryAccumulator) -> None:
        """Absorb ``other`` (left unchanged)."""
        self.count += other.count
        self.missing += other.missing
        if other.counts is not None:
            self._absorb(other.counts)
            return
        if self.sketch is None:
            self._overflow()
        assert self.sketch is not None and other.sketch is not None
        self.sketch.merge(other.sketch)

    def freeze(self) -> ColumnProfile:
        """Return the profile of everything added so far (labels sorted)."""
        return ColumnProfile(
            name=self.name,
            kind="categorical",
            count=self.count,
            missing=self.missing,
            settings=self.settings,
            categories=None if self.counts is None else dict(sorted(self.counts.items())),
            frequent_sketch=None if self.sketch is None else bytes(self.sketch.serialize()),
        )

    @classmethod
    def thaw(cls, profile: ColumnProfile) -> CategoryAccumulator:
        """Return an accumulator holding ``profile`` (a fresh copy of its sketch)."""
        acc = cls(profile.name, profile.settings)
        acc.count, acc.missing = profile.count, profile.missing
        acc.sketch = profile.frequent()
        acc.counts = None if profile.categories is None else dict(profile.categories)
        if (acc.sketch is None) == (acc.counts is None):
            raise MonitoringError(
                f"{where(profile.name)}: a categorical profile needs exactly one of "
                "categories and frequent_sketch"
            )
        return acc


Accumulator = NumericAccumulator | CategoryAccumulator


def new_accumulator(
    name: ColumnName | None, kind: ProfileKind, settings: ProfileSettings
) -> Accumulator:
    """Return an empty accumulator for a column of ``kind``."""
    if kind == "numeric":
        return NumericAccumulator(name, settings)
    return CategoryAccumulator(name, settings)


def thaw(profile: ColumnProfile) -> Accumulator:
    """Return an accumulator holding ``profile``, ready to merge into."""
    if profile.kind == "numeric":
        return NumericAccumulator.thaw(profile)
    return CategoryAccumulator.thaw(profile)
