"""Which drift test runs on which column, and the thresholds that decide drift.

:class:`DriftConfig` picks a test per column from the column's logical type
(from the data contract, :class:`loopml.schema.Schema`) and the number of
rows in the reference window, the same rule Evidently uses by default:
hypothesis tests on small references (where their p-values mean something),
distances on large ones (where any p-value test flags negligible shifts).

=======================================  ==================  =====================
logical type                             reference <= 1000   reference > 1000
=======================================  ==================  =====================
float, integer                           ``ks`` (p < 0.05)   ``wasserstein`` (>= 0.1)
integer with <= 5 distinct reference     ``chi_square``      ``jensen_shannon``
values                                   (p < 0.05)          (>= 0.1)
categorical, boolean                     ``chi_square``      ``jensen_shannon``
                                         (p < 0.05)          (>= 0.1)
string, datetime                         not tested: finding "not tested"
=======================================  ==================  =====================

"Reference size" is the number of rows of the reference window (missing
values included). ``numeric_method`` / ``categorical_method`` replace the
automatic choice for every column of that kind, and ``column_methods`` for
single columns; ``psi`` (>= 0.2) is available both ways.

The dataset drifts when the share of drifted columns among the tested ones
reaches ``drift_share`` (0.5, as in Evidently).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from loopml.errors import ConfigurationError

__all__ = ["CATEGORICAL_METHODS", "NUMERIC_METHODS", "DriftConfig"]

NUMERIC_METHODS = ("ks", "wasserstein", "jensen_shannon", "psi")
"""Tests that accept numeric columns."""
CATEGORICAL_METHODS = ("chi_square", "jensen_shannon", "psi")
"""Tests that accept categorical columns."""


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds and test choice for :func:`loopml.monitoring.compute_drift`.

    Parameters
    ----------
    ks_threshold : float, default 0.05
        Significance level of the Kolmogorov–Smirnov test.
    chi_square_threshold : float, default 0.05
        Significance level of the chi-square test.
    wasserstein_threshold : float, default 0.1
        Cut-off of the Wasserstein distance, in reference standard deviations.
    jensen_shannon_threshold : float, default 0.1
        Cut-off of the Jensen–Shannon distance (0..1).
    psi_threshold : float, default 0.2
        Cut-off of the Population Stability Index.
    large_reference : int, default 1000
        References with more rows than this use the distance tests.
    integer_categorical_max_unique : int, default 5
        Integer columns with at most this many distinct reference values are
        tested as categorical (counts such as "number of children").
    n_bins : int, default 10
        Bins for the numeric Jensen–Shannon and PSI tests.
    psi_smoothing : float, default 1e-4
        Additive smoothing of bin shares in PSI.
    numeric_method, categorical_method : str, default "auto"
        ``"auto"`` (the table in :mod:`loopml.monitoring.config`) or one name
        from :data:`NUMERIC_METHODS` / :data:`CATEGORICAL_METHODS`.
    column_methods : mapping of column name to str, default empty
        Per-column override of the test.
    min_samples : int, default 1
        Fewer non-missing values than this on either side gives the finding
        "not enough data" instead of a test.
    drift_share : float, default 0.5
        The dataset drifts when ``n_drifted / n_tested >= drift_share``.

    Raises
    ------
    ConfigurationError
        On an unknown method name or a threshold out of range; the message
        names the field.
    """

    ks_threshold: float = 0.05
    chi_square_threshold: float = 0.05
    wasserstein_threshold: float = 0.1
    jensen_shannon_threshold: float = 0.1
    psi_threshold: float = 0.2
    large_reference: int = 1000
    integer_categorical_max_unique: int = 5
    n_bins: int = 10
    psi_smoothing: float = 1e-4
    numeric_method: str = "auto"
    categorical_method: str = "auto"
    column_methods: Mapping[str | int, str] = field(default_factory=dict)
    min_samples: int = 1
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_methods", MappingProxyType(dict(self.column_methods)))
        for name in ("ks_threshold", "chi_square_threshold", "drift_share"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigurationError(f"DriftConfig.{name} must be in (0, 1], got {value!r}")
        for name in ("wasserstein_threshold", "jensen_shannon_threshold", "psi_threshold"):
            if not getattr(self, name) > 0.0:
                raise ConfigurationError(
                    f"DriftConfig.{name} must be > 0, got {getattr(self, name)!r}"
                )
        for name, low in (("large_reference", 0), ("n_bins", 2), ("min_samples", 1)):
            if getattr(self, name) < low:
                raise ConfigurationError(
                    f"DriftConfig.{name} must be >= {low}, got {getattr(self, name)!r}"
                )
        if self.psi_smoothing < 0.0:
            raise ConfigurationError(
                f"DriftConfig.psi_smoothing must be >= 0, got {self.psi_smoothing!r}"
            )
        _check_method("numeric_method", self.numeric_method, NUMERIC_METHODS)
        _check_method("categorical_method", self.categorical_method, CATEGORICAL_METHODS)
        known = sorted(set(NUMERIC_METHODS) | set(CATEGORICAL_METHODS))
        for column, method in self.column_methods.items():
            _check_method(f"column_methods[{column!r}]", method, tuple(known))

    def threshold(self, method: str) -> float:
        """Return the threshold of ``method`` (e.g. ``"ks"`` -> ``ks_threshold``)."""
        return float(getattr(self, f"{method}_threshold"))

    def method_for(self, column: str | int, *, kind: str, n_reference: int) -> str:
        """Choose the test for one column.

        Parameters
        ----------
        column : str or int
            Column name, looked up in ``column_methods`` first.
        kind : {"numeric", "categorical"}
            How the column is tested.
        n_reference : int
            Rows in the reference window.

        Returns
        -------
        str
            A method name from :data:`NUMERIC_METHODS` or :data:`CATEGORICAL_METHODS`.

        Raises
        ------
        ConfigurationError
            If ``column_methods`` asks for a test that does not accept ``kind``
            (``ks`` or ``wasserstein`` on a categorical column).
        """
        allowed = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
        if self.column_methods.get(column, "auto") != "auto":
            method = self.column_methods[column]
            if method not in allowed:
                raise ConfigurationError(
                    f"column {column!r}: test {method!r} does not apply to {kind} columns "
                    f"(choose one of {', '.join(allowed)})"
                )
            return method
        chosen = self.numeric_method if kind == "numeric" else self.categorical_method
        if chosen != "auto":
            return chosen
        large = n_reference > self.large_reference
        if kind == "numeric":
            return "wasserstein" if large else "ks"
        return "jensen_shannon" if large else "chi_square"


def _check_method(field_name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value != "auto" and value not in allowed:
        raise ConfigurationError(
            f"DriftConfig.{field_name} must be 'auto' or one of {', '.join(allowed)}, got {value!r}"
        )
