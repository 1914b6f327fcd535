"""Drift verdicts from profiles: the profile twins of ``column_drift`` and ``compute_drift``."""

from __future__ import annotations

from collections.abc import Iterable

from loopml.errors import MonitoringError
from loopml.monitoring.column import ColumnDrift
from loopml.monitoring.config import DriftConfig
from loopml.monitoring.drift import DriftReport
from loopml.monitoring.profile.column import ColumnProfile
from loopml.monitoring.profile.dataset import DatasetProfile
from loopml.monitoring.profile.drift import PROFILE_METHODS
from loopml.schema import ColumnName
from loopml.stats import DriftTestResult

__all__ = ["column_drift_from_profiles", "drift_from_profiles"]


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
    chosen by :meth:`DriftConfig.method_for` from the profile's kind and
    ``reference.count``, run by the matching function of
    :mod:`loopml.monitoring.profile.drift`, and a side that is empty, all
    missing, below ``min_samples`` or unusable for the test (only ``±inf``
    for ``wasserstein``) gives a ``finding`` and ``drifted=False`` instead
    of an error.

    Parameters
    ----------
    reference, current : ColumnProfile
        Profiles of the same column (name and kind).
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
    """
    config = config or DriftConfig()
    name = reference.name if reference.name is not None else ""
    if reference.kind != current.kind:
        raise MonitoringError(
            f"column {name!r}: cannot compare a {reference.kind} reference profile "
            f"with a {current.kind} current profile"
        )
    method = config.method_for(name, kind=reference.kind, n_reference=reference.count)
    finding = _finding("reference", reference, config.min_samples) or _finding(
        "current", current, config.min_samples
    )
    result: DriftTestResult | None = None
    if finding is None and method not in PROFILE_METHODS:
        finding = f"not tested: {method!r} cannot be computed from profiles"
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
    )


def drift_from_profiles(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    config: DriftConfig | None = None,
    columns: Iterable[ColumnName] | None = None,
) -> DriftReport:
    """Compare two dataset profiles column by column.

    The profile twin of :func:`loopml.monitoring.compute_drift`: each column
    is tested by :func:`column_drift_from_profiles`; a column absent from
    the current profile gets the finding "column is missing from the current
    window".

    Parameters
    ----------
    reference, current : DatasetProfile
        Profiles of the reference and current windows.
    config : DriftConfig, optional
        Test choice and thresholds; default ``DriftConfig()``.
    columns : iterable of str or int, optional
        Columns to test, in this order; default every column of ``reference``.

    Returns
    -------
    DriftReport

    Raises
    ------
    MonitoringError
        If a requested column is not in the reference profile, or kinds differ.
    """
    config = config or DriftConfig()
    names = list(reference.names if columns is None else columns)
    unknown = [name for name in names if name not in reference]
    if unknown:
        raise MonitoringError(f"columns {unknown!r} are not in the reference profile")
    results = []
    for name in names:
        assert name is not None
        ref = reference[name]
        if name in current:
            results.append(column_drift_from_profiles(ref, current[name], config=config))
            continue
        results.append(
            ColumnDrift(
                name=name,
                kind=ref.kind,
                method=None,
                statistic=None,
                p_value=None,
                threshold=None,
                drifted=False,
                n_reference=reference.n_rows,
                n_current=current.n_rows,
                missing_reference=None,
                missing_current=None,
                finding="column is missing from the current window",
            )
        )
    return DriftReport(
        columns=tuple(results),
        n_reference=reference.n_rows,
        n_current=current.n_rows,
        drift_share_threshold=config.drift_share,
    )
