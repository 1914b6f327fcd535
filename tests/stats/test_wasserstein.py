from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats import wasserstein_distance_norm


def test_shift_by_half_in_reference_std_units() -> None:
    ref = np.arange(5.0)  # population std sqrt(2)
    result = wasserstein_distance_norm(ref, ref + 0.5)
    assert result.method == "wasserstein"
    assert result.statistic == pytest.approx(0.5 / np.sqrt(2.0))
    assert result.p_value is None
    assert result.drifted is True
    assert (result.effect_size, result.effect_size_name) == (result.statistic, "wasserstein_norm")


def test_matches_scipy_divided_by_reference_std(rng: np.random.Generator) -> None:
    ref = rng.normal(10.0, 3.0, 800)
    cur = rng.normal(10.1, 3.0, 600)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    result = wasserstein_distance_norm(ref, cur)
    assert result.statistic == pytest.approx(expected)
    assert result.statistic == pytest.approx(0.0558, abs=1e-4)  # a small shift: below 0.1
    assert result.drifted is False


def test_threshold_is_inclusive() -> None:
    result = wasserstein_distance_norm([0.0, 2.0], [1.0, 3.0], threshold=1.0)
    assert result.statistic == pytest.approx(1.0)
    assert result.drifted is True


def test_constant_reference_uses_pooled_std() -> None:
    # W1 = 1, pooled sample is half 0 and half 1 -> std 0.5 -> statistic 2
    result = wasserstein_distance_norm([0.0] * 4, [1.0] * 4)
    assert result.statistic == pytest.approx(2.0)
    assert result.drifted is True


def test_same_constant_on_both_sides_is_zero() -> None:
    result = wasserstein_distance_norm([3.0] * 5, [3.0] * 2)
    assert result.statistic == 0.0
    assert result.drifted is False


def test_nan_and_infinities_are_dropped() -> None:
    result = wasserstein_distance_norm([0.0, np.nan, 2.0, np.inf], [1.0, -np.inf, 3.0])
    assert result.statistic == pytest.approx(1.0)


def test_only_infinite_values_raise() -> None:
    with pytest.raises(MonitoringError, match="0 finite values"):
        wasserstein_distance_norm([1.0, 2.0], [np.inf, -np.inf])


def test_empty_reference_raises() -> None:
    with pytest.raises(MonitoringError, match="not enough data"):
        wasserstein_distance_norm([], [1.0])


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 7), (50, 50), (300, 1000), (997, 1009)])
def test_w1_from_sorted_samples_equals_scipy(n: int, m: int) -> None:
    from loopml.stats.wasserstein import w1_sorted

    rng = np.random.default_rng(n * 1000 + m)
    u = np.sort(np.round(rng.normal(size=n), 1))  # rounding makes ties
    v = np.sort(np.round(rng.lognormal(size=m), 1))
    assert w1_sorted(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)
