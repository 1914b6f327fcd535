"""A column's drift verdict from two profiles: the profile twin of ``column_drift``."""

from __future__ import annotations

from loopml.errors import MonitoringError
from loopml.monitoring.column import ColumnDrift
from loopml.monitoring.config import DriftConfig
from loopml.monitoring.profile.column import ColumnProfile
from loopml.monitoring.profile.drift import PROFILE_METHODS
from loopml.stats import DriftTestResult

__all__ = ["column_drift_from_profiles"]


def _finding(role: str, profile: ColumnProfile, min_samples: int) -> str | None:
    if profile.count == 0:
        return f"not enough data: the {role} window is empty"
    if profile.n_values == 0:
        return f"all missing in the {role} window ({profile.count} rows)"
    if profile.n_values < min_samples:
        return (
            f"not enough data: {profile.n_values} non-missing {role} values "
            f"(min_samples={min_samples})"
        )
    return None


def _labels(profile: ColumnProfile) -> set[str]:
    return set(profile.category_counts()) if profile.kind == "categorical" else set()


def _run(
    method: str, reference: ColumnProfile, current: ColumnProfile, config: DriftConfig
) -> DriftTestResult:
    threshold = config.threshold(method)
    function = PROFILE_METHODS[method]
    if method in ("jensen_shannon", "hellinger"):
        return function(reference, current, threshold=threshold, n_bins=config.n_bins)
    if method == "psi":
        return function(
            reference,
            current,
            threshold=threshold,
            n_bins=config.n_bins,
            smoothing=config.psi_smoothing,
        )
    return function(reference, current, threshold=threshold)


def column_drift_from_profiles(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    config: DriftConfig | None = None,
) -> ColumnDrift:
    """Test one column for drift from its reference and current profiles.

    The profile twin of :func:`loopml.monitoring.column_drift`: the test is
    chosen by :meth:`DriftConfig.method_for` from the profile's kind,
    ``reference.count`` and, for categorical profiles below
    ``max_categories``, the number of reference labels
    (``two_proportion_z`` falls back to ``chi_square`` when a third label
    appears); it is run by the matching function of
    :mod:`loopml.monitoring.profile.drift`. A side that is empty, all
    missing, below ``min_samples`` or unusable for the test (only ``±inf``
    for ``wasserstein``, a test profiles cannot compute such as
    ``anderson_darling``) gives a ``finding`` and ``drifted=False`` instead
    of an error. The kind is the profile's: a few-valued integer column that
    :func:`loopml.monitoring.compute_drift` tests as categorical must be
    profiled as categorical to be tested the same way. ``p_value_adjusted``
    is the p-value (adjusting over columns is the caller's business).

    Parameters
    ----------
    reference, current : ColumnProfile
        Profiles of the same column (same kind).
    config : DriftConfig, optional
        Test choice and thresholds; default ``DriftConfig()``.

    Returns
    -------
    ColumnDrift

    Raises
    ------
    MonitoringError
        If the two profiles differ in kind.
    ConfigurationError
        If ``config.column_methods`` asks for a test that does not fit the kind.

    Examples
    --------
    >>> from loopml.monitoring.profile import profile_column
    >>> empty = profile_column([], "numeric", name="age")
    >>> column_drift_from_profiles(profile_column([30.0, 40.0], "numeric", name="age"), empty).finding
    'not enough data: the current window is empty'
    """
    config = config or DriftConfig()
    name = reference.name if reference.name is not None else ""
    if reference.kind != current.kind:
        raise MonitoringError(
            f"column {name!r}: cannot compare a {reference.kind} reference profile "
            f"with a {current.kind} current profile"
        )
    n_unique = len(_labels(reference)) if reference.categories is not None else None
    method = config.method_for(
        name, kind=reference.kind, n_reference=reference.count, n_unique=n_unique
    )
    if method == "two_proportion_z" and len(_labels(reference) | _labels(current)) > 2:
        method = "chi_square"  # a third category appeared: the Z test cannot hold it
    finding = _finding("reference", reference, config.min_samples) or _finding(
        "current", current, config.min_samples
    )
    if finding is None and method not in PROFILE_METHODS:
        finding = f"not tested: {method!r} cannot be computed from profiles"
    result: DriftTestResult | None = None
    if finding is None:
        try:
            result = _run(method, reference, current, config)
        except MonitoringError as exc:
            finding = str(exc)
    return ColumnDrift(
        name=name,
        kind=reference.kind,
        method=method,
        statistic=None if result is None else result.statistic,
        p_value=None if result is None else result.p_value,
        threshold=config.threshold(method),
        drifted=False if result is None else result.drifted,
        n_reference=reference.count,
        n_current=current.count,
        missing_reference=reference.missing_share,
        missing_current=current.missing_share,
        finding=finding,
        effect_size=None if result is None else result.effect_size,
        effect_size_name=None if result is None else result.effect_size_name,
        p_value_adjusted=None if result is None else result.p_value,
    )
