"""The profile of one column: counts, range, moments and sketches that merge.

A :class:`ColumnProfile` is a frozen value. Its sketches are stored as the
bytes Apache DataSketches serialises them to, so a profile never changes
after it is made; :func:`loopml.monitoring.profile.merge` builds a new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import datasketches
import numpy as np
from numpy.typing import NDArray

from loopml.errors import ConfigurationError, MonitoringError
from loopml.monitoring.profile._convert import where
from loopml.monitoring.profile._distribution import Distribution
from loopml.monitoring.profile._serial import Reader, b64, float_out
from loopml.monitoring.profile.settings import ProfileSettings
from loopml.schema import ColumnName

__all__ = ["PROFILE_FORMAT_VERSION", "ColumnProfile", "ProfileKind"]

ProfileKind = Literal["numeric", "categorical"]
"""How a column is profiled: quantile sketch of numbers, or category counts."""

PROFILE_FORMAT_VERSION = 1
"""Version of the dict/JSON layout written by :meth:`ColumnProfile.to_dict`."""


@dataclass(frozen=True, kw_only=True)
class ColumnProfile:
    """Mergeable statistics of one column.

    Build one with :func:`loopml.monitoring.profile.profile_column` or
    :func:`loopml.monitoring.profile.profile_frame`; combine two with
    :func:`loopml.monitoring.profile.merge`.

    Attributes
    ----------
    name : str or int or None
        Column label.
    kind : {"numeric", "categorical"}
        What was profiled.
    count : int
        Rows, missing included.
    missing : int
        Rows holding ``None``, ``NaN``, ``NaT`` or ``pd.NA``.
    settings : ProfileSettings
        Sketch sizes.
    positive_infinity, negative_infinity : int
        Numeric only: rows holding ``+inf`` / ``-inf`` (not missing, not in
        the sketch).
    minimum, maximum : float or None
        Numeric only: exact range of the finite values; ``None`` without any.
    mean : float or None
        Numeric only: mean of the finite values; ``None`` without any.
    m2 : float
        Numeric only: sum of squared deviations of the finite values from
        their mean, merged with the pairwise formula of Chan, Golub and
        LeVeque [1]_ (``std = sqrt(m2 / n_finite)``).
    quantile_sketch : bytes or None
        Numeric only: serialised ``datasketches.kll_doubles_sketch`` of the
        finite values (KLL [2]_).
    low_tail, high_tail : tuple of float
        Numeric only: the ``settings.tail_size`` smallest / largest finite
        values (all of them when fewer), ascending; exact, and exactly
        mergeable (the smallest values of a union are among the smallest of
        its parts).
    categories : mapping of str to int or None
        Categorical only: exact count per label (labels as in
        :mod:`loopml.monitoring.profile._convert`) while there are at most
        ``settings.max_categories``; ``None`` beyond.
    frequent_sketch : bytes or None
        Categorical only: serialised ``datasketches.frequent_strings_sketch``
        (Misra–Gries, [3]_) once the labels outgrew ``max_categories``.

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and
       a pairwise algorithm for computing sample variances", Stanford
       report STAN-CS-79-773, 1979.
    .. [2] Z. Karnin, K. Lang and E. Liberty, "Optimal quantile approximation
       in streams", FOCS 2016; Apache DataSketches, "KLL Sketch".
    .. [3] D. Anderson et al., "A high-performance algorithm for identifying
       frequent items in data streams", IMC 2017; Apache DataSketches,
       "Frequent Items".

    Examples
    --------
    >>> from loopml.monitoring.profile import merge, profile_column
    >>> left = profile_column([1.0, 2.0, float("nan")], "numeric", name="x")
    >>> right = profile_column([3.0, float("inf")], "numeric", name="x")
    >>> both = merge(left, right)
    >>> both.count, both.missing, both.positive_infinity, both.quantiles([0.5])
    (5, 1, 1, [2.0])
    >>> ColumnProfile.from_dict(both.to_dict()) == both
    True
    """

    name: ColumnName | None
    kind: ProfileKind
    count: int
    missing: int
    settings: ProfileSettings = field(default_factory=ProfileSettings)
    positive_infinity: int = 0
    negative_infinity: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    m2: float = 0.0
    quantile_sketch: bytes | None = None
    low_tail: tuple[float, ...] = ()
    high_tail: tuple[float, ...] = ()
    categories: Mapping[str, int] | None = None
    frequent_sketch: bytes | None = None

    def __post_init__(self) -> None:
        if self.categories is not None:
            object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))

    @property
    def n_values(self) -> int:
        """Non-missing rows (``±inf`` included)."""
        return self.count - self.missing

    @property
    def n_finite(self) -> int:
        """Numeric: rows with a finite value (what the sketch holds); categorical: ``n_values``."""
        return self.n_values - self.positive_infinity - self.negative_infinity

    @property
    def missing_share(self) -> float | None:
        """``missing / count`` (0..1); ``None`` for an empty column."""
        return None if self.count == 0 else self.missing / self.count

    @property
    def std(self) -> float | None:
        """Population standard deviation (``ddof=0``) of the finite values, or ``None``."""
        if self.kind != "numeric" or self.n_finite == 0:
            return None
        return math.sqrt(max(self.m2, 0.0) / self.n_finite)

    def kll(self) -> datasketches.kll_doubles_sketch:
        """Return a fresh copy of the quantile sketch (changing it leaves the profile alone).

        Raises
        ------
        MonitoringError
            If this is not a numeric profile or the bytes are corrupt.
        """
        if self.quantile_sketch is None:
            raise MonitoringError(f"{where(self.name)}: a {self.kind} profile has no quantiles")
        try:
            return datasketches.kll_doubles_sketch.deserialize(self.quantile_sketch)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise MonitoringError(f"{where(self.name)}: corrupt quantile sketch ({exc})") from exc

    def frequent(self) -> datasketches.frequent_strings_sketch | None:
        """Return a fresh copy of the frequent-items sketch, or ``None`` while counts are exact.

        Raises
        ------
        MonitoringError
            If the bytes are corrupt.
        """
        if self.frequent_sketch is None:
            return None
        try:
            return datasketches.frequent_strings_sketch.deserialize(self.frequent_sketch)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise MonitoringError(f"{where(self.name)}: corrupt frequent sketch ({exc})") from exc

    @property
    def is_exact(self) -> bool:
        """Whether every statistic is exact (no sketch has had to forget anything yet).

        Numeric: the KLL sketch still holds every value, or the tails do
        (``n_finite <= 2 * tail_size``).
        """
        if self.kind == "categorical":
            return self.frequent_sketch is None
        return self.finite_values() is not None

    def finite_values(self) -> NDArray[np.float64] | None:
        """All finite values, sorted, when the profile still knows them; else ``None``."""
        low, high, n = self.low_tail, self.high_tail, self.n_finite
        if n <= len(low):
            return np.array(low, dtype=np.float64)
        if n <= len(low) + len(high):
            return np.array(low + high[len(low) + len(high) - n :], dtype=np.float64)
        sketch = self.kll()
        if sketch.is_estimation_mode():
            return None
        return np.sort(np.array([item for item, _ in sketch], dtype=np.float64))

    def rank_error(self, *, pmf: bool = False) -> float:
        """Normalised rank error of the quantile sketch, with 99% confidence.

        Parameters
        ----------
        pmf : bool, default False
            ``False``: error of one rank, CDF or quantile query (a fraction
            of ``n_finite``); ``True``: error of the mass of one bin.

        Returns
        -------
        float
            ``datasketches.kll_doubles_sketch.get_normalized_rank_error(k, pmf)``
            (0.0028 / 0.0036 at ``k=1000``), or 0.0 while the sketch still
            holds every value.
        """
        if self.is_exact:
            return 0.0
        return float(self.kll().normalized_rank_error(pmf))

    def quantiles(self, ranks: Sequence[float]) -> list[float]:
        """Quantiles of the finite values.

        Where the profile knows the order statistics around rank ``r`` (an
        exact profile, or ``r`` inside the exact tails) this is
        ``numpy.quantile`` (linear interpolation); elsewhere the KLL
        sketch's quantile, a value of the column whose true rank is within
        :meth:`rank_error` of ``r``.

        Parameters
        ----------
        ranks : sequence of float
            Normalised ranks in ``[0, 1]``.

        Returns
        -------
        list of float
            One value per rank; empty without finite values.

        Raises
        ------
        MonitoringError
            If this is not a numeric profile.
        """
        if self.n_finite == 0:
            self.kll()  # a categorical profile raises here
            return []
        return [float(q) for q in Distribution(self).quantiles(ranks)]

    @property
    def category_error(self) -> int:
        """Largest error of any count from :meth:`category_counts` (0 while exact)."""
        sketch = self.frequent()
        if sketch is None:
            return 0
        rows = sketch.get_frequent_items(datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES)
        return max((int(upper - lower) for _, _, lower, upper in rows), default=0)

    def category_counts(self) -> dict[str, int]:
        """Label -> count: exact below ``max_categories``, else the frequent labels.

        Beyond the cap: the labels the frequent-items sketch knows to be
        frequent (lower bound above :attr:`category_error`, "no false
        positives"), each counted as the midpoint of its lower and upper
        bound, rounded down, so within :attr:`category_error` (at most
        ``3.5 / 2**frequent_lg_max_k`` of ``n_values``) of the truth. Rarer
        labels are left out.

        Raises
        ------
        MonitoringError
            If this is not a categorical profile.
        """
        if self.kind != "categorical":
            raise MonitoringError(f"{where(self.name)}: a numeric profile has no categories")
        if self.categories is not None:
            return dict(self.categories)
        sketch = self.frequent()
        if sketch is None:
            return {}
        rows = sketch.get_frequent_items(datasketches.frequent_items_error_type.NO_FALSE_POSITIVES)
        return {str(item): int((lower + upper) // 2) for item, _, lower, upper in rows}

    def category_estimates(self, labels: Sequence[str]) -> list[float]:
        """Counts of the given labels: exact below the cap, else sketch midpoints.

        Beyond the cap each count is the midpoint of the sketch's lower and
        upper bound; a label the sketch does not track has bounds
        ``[0, category_error]``. Every midpoint is within
        ``category_error / 2`` of the truth.

        Raises
        ------
        MonitoringError
            If this is not a categorical profile.
        """
        if self.kind != "categorical":
            raise MonitoringError(f"{where(self.name)}: a numeric profile has no categories")
        if self.categories is not None:
            counts = self.categories
            return [float(counts.get(label, 0)) for label in labels]
        sketch = self.frequent()
        if sketch is None:
            return [0.0] * len(labels)
        return [(sketch.get_lower_bound(x) + sketch.get_upper_bound(x)) / 2.0 for x in labels]

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict; :meth:`from_dict` restores an equal profile.

        Sketches are base64 strings; a non-finite ``mean`` or ``m2`` (overflow
        on values near ``1e308``) is written as the string ``"inf"``,
        ``"-inf"`` or ``"nan"``.
        """
        numeric = self.kind == "numeric"
        return {
            "format_version": PROFILE_FORMAT_VERSION,
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "settings": self.settings.to_dict(),
            "numeric": None
            if not numeric
            else {
                "positive_infinity": self.positive_infinity,
                "negative_infinity": self.negative_infinity,
                "minimum": self.minimum,
                "maximum": self.maximum,
                "mean": float_out(self.mean),
                "m2": float_out(self.m2),
                "quantile_sketch": b64(self.quantile_sketch),
                "low_tail": b64(np.array(self.low_tail, dtype="<f8").tobytes()),
                "high_tail": b64(np.array(self.high_tail, dtype="<f8").tobytes()),
            },
            "categorical": None
            if numeric
            else {
                "categories": None if self.categories is None else dict(self.categories),
                "frequent_sketch": b64(self.frequent_sketch),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """Rebuild a profile from :meth:`to_dict` output.

        Raises
        ------
        MonitoringError
            If the layout version is unknown or a field is missing, of the
            wrong type or not decodable; the message names the column and field.
        """
        reader = Reader(data, data.get("name") if isinstance(data, Mapping) else None)
        version = data.get("format_version", PROFILE_FORMAT_VERSION)
        if version != PROFILE_FORMAT_VERSION:
            raise MonitoringError(
                f"profile format_version {version!r} is not supported "
                f"(this loopml reads version {PROFILE_FORMAT_VERSION})"
            )
        name = data.get("name")
        if name is not None and (isinstance(name, bool) or not isinstance(name, str | int)):
            raise MonitoringError(f"profile name must be a string, integer or null, got {name!r}")
        kind = reader.get("kind", str)
        if kind not in ("numeric", "categorical"):
            raise MonitoringError(f"{where(name)}: unknown profile kind {kind!r}")
        raw_settings = reader.get("settings", dict)
        try:
            settings = ProfileSettings(**raw_settings)
        except (TypeError, ConfigurationError) as exc:
            raise MonitoringError(f"{where(name)}: bad profile settings ({exc})") from exc
        common: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "count": reader.get("count", int),
            "missing": reader.get("missing", int),
            "settings": settings,
        }
        if kind == "numeric":
            part = Reader(reader.get("numeric", dict), name, prefix="numeric.")
            numeric = cls(
                **common,
                positive_infinity=part.get("positive_infinity", int),
                negative_infinity=part.get("negative_infinity", int),
                minimum=part.number("minimum", optional=True),
                maximum=part.number("maximum", optional=True),
                mean=part.number("mean", optional=True),
                m2=part.number("m2") or 0.0,
                quantile_sketch=part.sketch("quantile_sketch", optional=False),
                low_tail=part.floats("low_tail"),
                high_tail=part.floats("high_tail"),
            )
            sketch = numeric.kll()  # refuse corrupt bytes now, not at the first query
            tails = min(settings.tail_size, numeric.n_finite)
            counts = (numeric.missing, numeric.positive_infinity, numeric.negative_infinity)
            if (
                min(counts) < 0
                or numeric.n_finite < 0
                or sketch.n != numeric.n_finite
                or {len(numeric.low_tail), len(numeric.high_tail)} != {tails}
            ):
                raise MonitoringError(
                    f"{where(name)}: profile counts {numeric.n_finite} finite values but its "
                    f"quantile sketch holds {sketch.n} and its tails "
                    f"{len(numeric.low_tail)}/{len(numeric.high_tail)}"
                )
            return numeric
        part = Reader(reader.get("categorical", dict), name, prefix="categorical.")
        categories = part.data.get("categories")
        if categories is not None and not (
            isinstance(categories, dict)
            and all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                for k, v in categories.items()
            )
        ):
            raise MonitoringError(f"{where(name)}: categorical.categories must map str to int")
        categorical = cls(
            **common,
            categories=categories,
            frequent_sketch=part.sketch("frequent_sketch", optional=True),
        )
        categorical.frequent()
        return categorical
