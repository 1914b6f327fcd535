"""Which drift test runs on which column, and the thresholds that decide drift.

:class:`DriftConfig` picks a test per column from the column's logical type
(from the data contract, :class:`loopml.schema.Schema`), its number of
distinct values and the number of rows in the reference window: hypothesis
tests on small references (where their p-values mean something), distances
on large ones (where any p-value test flags negligible shifts). This is the
whole rule, for both presets:

===================================  ======================  =======================
column                               reference <= 1000 rows  reference > 1000 rows
===================================  ======================  =======================
numeric, more than 5 distinct        ``ks`` (p < 0.05)       ``wasserstein`` (>= 0.1)
numeric, 3 to 5 distinct             ``chi_square``          ``jensen_shannon``
numeric, at most 2 distinct          ``two_proportion_z``    ``jensen_shannon``
categorical/boolean, > 2 distinct    ``chi_square``          ``jensen_shannon``
categorical/boolean, <= 2 distinct   ``two_proportion_z``    ``jensen_shannon``
string (free text, ids ...)          as categorical, on the reference's ``string_top_k``
                                     most frequent values plus one ``"<other>"`` bucket;
                                     not tested when those cover < 50 % of the reference
datetime                             not tested: finding (time always moves on)
===================================  ======================  =======================

The presets differ only in *which* distinct values are counted:

- ``preset="loopml"`` (default) counts the distinct non-missing values of the
  **reference** window, and only integer columns may be treated as few-valued
  (a float column is always continuous). The choice is then fixed once per
  model version, before any production data arrives, so every window of a
  model is tested the same way and a profile alone can decide.
- ``preset="evidently"`` reproduces Evidently's default choice
  (``evidently.legacy.calculations.stattests.registry._get_default_stattest``,
  Evidently 0.4-0.7): distinct values counted over reference **and** current
  together, for integer and float columns alike. Thresholds and the dataset
  share (0.5) are Evidently's defaults too, so drift verdicts can be compared
  column by column with an Evidently report on the same frames.

"Reference size" is the number of rows of the reference window (missing
values included). ``numeric_method`` / ``categorical_method`` replace the
automatic choice for every column of that kind, and ``column_methods`` for
single columns; ``psi`` (>= 0.2), ``hellinger`` (>= 0.1) and
``anderson_darling`` (p < 0.05, numeric) are available that way.

Dataset verdict: the dataset drifts when the share of drifted columns among
the tested ones reaches ``drift_share`` (0.5, as in Evidently). With many
columns, p-value tests flag some columns by chance (20 columns at 0.05: a
64 % chance of at least one false alarm). ``multiple_testing`` controls that
over the columns tested with a p-value: ``"bonferroni"`` (family-wise error
rate, [1]_) or ``"benjamini_hochberg"`` (false discovery rate, [2]_); the
adjusted p-value is compared with the column's threshold. Distance tests are
not affected.

References
----------
.. [1] O. J. Dunn, "Multiple Comparisons Among Means", Journal of the American
   Statistical Association 56(293), 52-64, 1961.
.. [2] Y. Benjamini and Y. Hochberg, "Controlling the False Discovery Rate: A
   Practical and Powerful Approach to Multiple Testing", Journal of the Royal
   Statistical Society B 57(1), 289-300, 1995.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from loopml.errors import ConfigurationError

__all__ = [
    "CATEGORICAL_METHODS",
    "MULTIPLE_TESTING",
    "NUMERIC_METHODS",
    "PRESETS",
    "P_VALUE_METHODS",
    "DriftConfig",
]

NUMERIC_METHODS = ("ks", "anderson_darling", "wasserstein", "jensen_shannon", "hellinger", "psi")
"""Tests that accept numeric columns."""
CATEGORICAL_METHODS = ("chi_square", "two_proportion_z", "jensen_shannon", "hellinger", "psi")
"""Tests that accept categorical columns."""
P_VALUE_METHODS = frozenset({"ks", "anderson_darling", "chi_square", "two_proportion_z"})
"""Hypothesis tests (drift when the p-value is below the threshold)."""
PRESETS = ("loopml", "evidently")
"""Ways of counting distinct values for the test choice (module docs)."""
MULTIPLE_TESTING = ("none", "bonferroni", "benjamini_hochberg")
_FIELD_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "float": ((int, float), "a number"),
    "int": ((int,), "an integer"),
    "str": ((str,), "a string"),
}
"""Corrections of p-values over the tested columns."""


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds and test choice for :func:`loopml.monitoring.compute_drift`.

    Parameters
    ----------
    preset : {"loopml", "evidently"}, default "loopml"
        How distinct values are counted for the test choice (module docs).
    ks_threshold : float, default 0.05
        Significance level of the Kolmogorov–Smirnov test.
    anderson_darling_threshold : float, default 0.05
        Significance level of the Anderson–Darling k-sample test.
    chi_square_threshold : float, default 0.05
        Significance level of the chi-square test.
    two_proportion_z_threshold : float, default 0.05
        Significance level of the two-proportion Z test.
    wasserstein_threshold : float, default 0.1
        Cut-off of the Wasserstein distance, in reference standard deviations.
    jensen_shannon_threshold : float, default 0.1
        Cut-off of the Jensen–Shannon distance (0..1).
    hellinger_threshold : float, default 0.1
        Cut-off of the Hellinger distance (0..1).
    psi_threshold : float, default 0.2
        Cut-off of the Population Stability Index.
    large_reference : int, default 1000
        References with more rows than this use the distance tests.
    integer_categorical_max_unique : int, default 5
        Numeric columns with at most this many distinct values are tested as
        categorical (counts such as "number of children"); which columns and
        which values count depends on ``preset``.
    n_bins : int, default 10
        Bins for the numeric Jensen–Shannon and PSI tests.
    psi_smoothing : float, default 1e-4
        Additive smoothing of bin shares in PSI (> 0: without it an empty bin
        makes PSI infinite).
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
    multiple_testing : {"none", "bonferroni", "benjamini_hochberg"}, default "none"
        Correction of the p-values over the columns tested with a p-value.
    string_top_k : int, default 20
        String columns are tested on their ``string_top_k`` most frequent
        reference values; every other value, seen or not, counts as ``"<other>"``.

    Raises
    ------
    ConfigurationError
        On an unknown method name or a threshold out of range; the message
        names the field.
    """

    preset: str = "loopml"
    ks_threshold: float = 0.05
    anderson_darling_threshold: float = 0.05
    chi_square_threshold: float = 0.05
    two_proportion_z_threshold: float = 0.05
    wasserstein_threshold: float = 0.1
    jensen_shannon_threshold: float = 0.1
    hellinger_threshold: float = 0.1
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
    multiple_testing: str = "none"
    string_top_k: int = 20

    @classmethod
    def evidently(cls, **overrides: Any) -> DriftConfig:
        """Evidently's default test choice and thresholds (``preset="evidently"``)."""
        return cls(preset="evidently", **overrides)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_methods", MappingProxyType(dict(self.column_methods)))
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _FIELD_KINDS.get(str(f.type))
            if kind and (isinstance(value, bool) or not isinstance(value, kind[0])):
                raise ConfigurationError(f"DriftConfig.{f.name} must be {kind[1]}, got {value!r}")
        _check_choice("preset", self.preset, PRESETS)
        _check_choice("multiple_testing", self.multiple_testing, MULTIPLE_TESTING)
        for name in (
            "ks_threshold",
            "anderson_darling_threshold",
            "chi_square_threshold",
            "two_proportion_z_threshold",
            "drift_share",
        ):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigurationError(f"DriftConfig.{name} must be in (0, 1], got {value!r}")
        for name in (
            "wasserstein_threshold",
            "jensen_shannon_threshold",
            "hellinger_threshold",
            "psi_threshold",
        ):
            if not getattr(self, name) > 0.0:
                raise ConfigurationError(
                    f"DriftConfig.{name} must be > 0, got {getattr(self, name)!r}"
                )
        for name, low in (
            ("large_reference", 0),
            ("n_bins", 2),
            ("min_samples", 1),
            ("string_top_k", 1),
        ):
            if getattr(self, name) < low:
                raise ConfigurationError(
                    f"DriftConfig.{name} must be >= {low}, got {getattr(self, name)!r}"
                )
        if not self.psi_smoothing > 0.0:
            raise ConfigurationError(
                f"DriftConfig.psi_smoothing must be > 0 (without smoothing an empty bin makes "
                f"PSI infinite), got {self.psi_smoothing!r}"
            )
        _check_method("numeric_method", self.numeric_method, NUMERIC_METHODS)
        _check_method("categorical_method", self.categorical_method, CATEGORICAL_METHODS)
        known = sorted(set(NUMERIC_METHODS) | set(CATEGORICAL_METHODS))
        for column, method in self.column_methods.items():
            _check_method(f"column_methods[{column!r}]", method, tuple(known))

    def threshold(self, method: str) -> float:
        """Return the threshold of ``method`` (e.g. ``"ks"`` -> ``ks_threshold``)."""
        return float(getattr(self, f"{method}_threshold"))

    def few_valued(self, logical_type: str, n_unique: int | None) -> bool:
        """Whether a numeric column is tested as categorical (few distinct values).

        Parameters
        ----------
        logical_type : {"integer", "float"}
            The column's logical type.
        n_unique : int or None
            Distinct non-missing values, counted as :attr:`preset` says
            (:meth:`counts_current` tells whether current values count);
            ``None`` when unknown (the column is then continuous).
        """
        if n_unique is None or n_unique > self.integer_categorical_max_unique:
            return False
        return self.preset == "evidently" or logical_type == "integer"

    @property
    def counts_current(self) -> bool:
        """Whether distinct values are counted over reference and current (Evidently)."""
        return self.preset == "evidently"

    def method_for(
        self, column: str | int, *, kind: str, n_reference: int, n_unique: int | None = None
    ) -> str:
        """Choose the test for one column (the table in :mod:`loopml.monitoring.config`).

        Parameters
        ----------
        column : str or int
            Column name, looked up in ``column_methods`` first.
        kind : {"numeric", "categorical"}
            How the column is tested (a few-valued numeric column is
            ``"categorical"``, see :meth:`few_valued`).
        n_reference : int
            Rows in the reference window.
        n_unique : int, optional
            Distinct non-missing values (as :attr:`preset` counts them);
            decides between ``two_proportion_z`` (at most 2) and
            ``chi_square`` on small references. Unknown: ``chi_square``.

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
        if large:
            return "jensen_shannon"
        return "two_proportion_z" if n_unique is not None and n_unique <= 2 else "chi_square"


def _check_method(field_name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value != "auto" and value not in allowed:
        raise ConfigurationError(
            f"DriftConfig.{field_name} must be 'auto' or one of {', '.join(allowed)}, got {value!r}"
        )


def _check_choice(field_name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigurationError(
            f"DriftConfig.{field_name} must be one of {', '.join(allowed)}, got {value!r}"
        )
