from __future__ import annotations

import math

import numpy as np
import pytest

from loopml.errors import MonitoringError
from loopml.stats import population_stability_index, psi_from_counts
from loopml.stats.binning import bin_counts, quantile_edges
from loopml.stats.psi import smoothed_shares

# two bins, reference shares (0.5, 0.5), current shares (0.2, 0.8):
# PSI = (0.2 - 0.5) ln(0.2 / 0.5) + (0.8 - 0.5) ln(0.8 / 0.5)
_TWO_BINS = 0.3 * math.log(2.5) + 0.3 * math.log(1.6)


def test_two_bins_by_hand_without_smoothing() -> None:
    assert _TWO_BINS == pytest.approx(0.415888, abs=1e-6)
    assert psi_from_counts(np.array([50, 50]), np.array([20, 80]), smoothing=0.0) == pytest.approx(
        _TWO_BINS
    )


def test_numeric_reference_median_bins() -> None:
    ref = np.arange(100.0)  # median 49.5 -> 50 / 50
    cur = np.r_[np.zeros(20), np.full(80, 60.0)]
    result = population_stability_index(ref, cur, n_bins=2, smoothing=0.0)
    assert result.method == "psi"
    assert result.statistic == pytest.approx(_TWO_BINS)
    assert result.p_value is None
    assert result.drifted is True
    assert (result.effect_size, result.effect_size_name) == (result.statistic, "psi")


def test_smoothing_by_hand() -> None:
    # a = 0.01 on shares: p = (0.51, 0.51) / 1.02 = (0.5, 0.5), q = (0.21, 0.81) / 1.02
    q1, q2 = 0.21 / 1.02, 0.81 / 1.02
    expected = (q1 - 0.5) * math.log(q1 / 0.5) + (q2 - 0.5) * math.log(q2 / 0.5)
    assert expected == pytest.approx(0.397037, abs=1e-6)
    result = psi_from_counts(np.array([50, 50]), np.array([20, 80]), smoothing=0.01)
    assert result == pytest.approx(expected)


def _same_order(counts: np.ndarray, shares: np.ndarray) -> bool:
    """Whether every pair of bins compares the same way by count and by share."""
    by_count = np.sign(counts[:, None] - counts[None, :])
    by_share = np.sign(shares[:, None] - shares[None, :])
    return bool(np.array_equal(by_count, by_share))


def test_smoothing_preserves_the_order_of_bin_masses_with_empty_bins() -> None:
    # current on the reference deciles of 0..999: three empty bins, ties, a 1-value bin
    edges = quantile_edges(np.arange(1000.0), n_bins=10)
    per_bin = [0, 0, 1, 5, 5, 20, 0, 300, 669, 0]
    cur = np.concatenate([np.full(n, 100.0 * i + 50.0) for i, n in enumerate(per_bin)])
    counts = bin_counts(cur, edges)
    assert counts.tolist() == per_bin
    for a in (1e-4, 0.01, 0.5):
        shares = smoothed_shares(counts, smoothing=a)
        assert shares.sum() == pytest.approx(1.0)
        assert np.all(shares > 0)
        assert _same_order(counts, shares)
        # empty bins share the smallest mass a / (1 + k a), below the 1-value bin
        assert shares[0] == shares[1] == shares[6] == pytest.approx(a / (1 + 10 * a))
        assert shares[0] < shares[2]


def test_one_in_a_million_bin_stays_above_an_empty_bin() -> None:
    counts = np.array([0, 1, 999_999])
    shares = smoothed_shares(counts, smoothing=1e-4)
    assert shares[0] < shares[1] < shares[2]
    assert shares[1] - shares[0] == pytest.approx(1e-6 / (1 + 3e-4))
    # flooring only the empty bin at 1e-4 (no shift of the others) would invert the first two
    floored = np.where(counts == 0, 1e-4, counts / counts.sum())
    assert not _same_order(counts, floored)


def test_smoothing_preserves_order_on_random_counts(rng: np.random.Generator) -> None:
    # counts from 0 to 3e6, so some non-empty bins hold a share far below the smoothing
    for _ in range(200):
        counts = rng.integers(0, 4, size=8) * 10 ** rng.integers(0, 7, size=8)
        if counts.sum() == 0:
            continue
        assert _same_order(counts, smoothed_shares(counts, smoothing=1e-4))


def test_equal_shares_of_different_sizes_are_exactly_zero() -> None:
    assert psi_from_counts(np.array([10, 30, 0]), np.array([1, 3, 0])) == 0.0


def test_empty_bin_is_finite_with_smoothing_and_infinite_without() -> None:
    assert math.isfinite(psi_from_counts(np.array([10, 10]), np.array([20, 0])))
    assert psi_from_counts(np.array([10, 10]), np.array([20, 0]), smoothing=0.0) == math.inf


def test_identical_samples_are_zero() -> None:
    values = np.linspace(0, 1, 200)
    result = population_stability_index(values, values.copy())
    assert result.statistic == pytest.approx(0.0)
    assert result.drifted is False


def test_constant_reference_separates_below_equal_above() -> None:
    # bins (<5, ==5, >5): ref shares (0, 1, 0), cur (1, 0, 0); with a = 1e-4 the two
    # non-zero terms are each (1 / (1 + 3a)) * ln((1 + a) / a)
    a = 1e-4
    result = population_stability_index([5.0] * 10, [4.0] * 10)
    assert result.statistic == pytest.approx(2 / (1 + 3 * a) * math.log((1 + a) / a))
    assert population_stability_index([5.0] * 10, [5.0] * 4).statistic == pytest.approx(0.0)


def test_values_beyond_reference_range_count() -> None:
    ref = np.arange(100.0)
    far = population_stability_index(ref, ref + 1000.0)
    assert far.drifted is True
    assert far.statistic > 1.0


def test_categorical_with_unseen_and_vanished_categories() -> None:
    result = population_stability_index(
        ["a"] * 50 + ["b"] * 50, ["a"] * 20 + ["b"] * 80, kind="categorical", smoothing=0.0
    )
    assert result.statistic == pytest.approx(_TWO_BINS)
    unseen = population_stability_index(["a"] * 10, ["b"] * 10, kind="categorical")
    assert math.isfinite(unseen.statistic) and unseen.drifted is True


def test_nan_dropped_and_empty_raises() -> None:
    ref = np.r_[np.arange(100.0), np.nan]
    assert population_stability_index(ref, ref).statistic == pytest.approx(0.0)
    with pytest.raises(MonitoringError, match="not enough data"):
        population_stability_index(ref, [np.nan])
