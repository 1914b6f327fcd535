from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats import anderson_darling_test, wasserstein_distance_norm
from loopml.stats.anderson_darling import P_VALUE_CAP, P_VALUE_FLOOR


def _scholz_stephens_t(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Standardised A2_akN (midranks for ties), eqs. (7) and (4) of Scholz & Stephens 1987.

    Written out here, independently of SciPy, for k = 2 samples.
    """
    samples = (reference, current)
    k, big_n = 2, reference.size + current.size
    distinct, ties = np.unique(np.concatenate(samples), return_counts=True)
    b_a = np.cumsum(ties) - ties / 2
    a2 = 0.0
    for sample in samples:
        equal = np.array([(sample == z).sum() for z in distinct])
        m_a = np.cumsum(equal) - equal / 2
        a2 += float(
            np.sum(
                ties
                / big_n
                * (big_n * m_a - sample.size * b_a) ** 2
                / (b_a * (big_n - b_a) - big_n * ties / 4)
            )
            / sample.size
        )
    a2 *= (big_n - 1) / big_n
    h_sum = sum(1 / s.size for s in samples)
    h = sum(1 / i for i in range(1, big_n))
    g = sum(1 / ((big_n - i) * j) for i in range(1, big_n - 1) for j in range(i + 1, big_n))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_sum
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_sum - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_sum + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    variance = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1) * (big_n - 2) * (big_n - 3)
    )
    return (a2 - (k - 1)) / math.sqrt(variance)


def _scipy(reference: NDArray[np.float64], current: NDArray[np.float64]) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = stats.anderson_ksamp([reference, current])
    return float(outcome.statistic), float(outcome.pvalue)


def test_small_samples_with_ties_match_the_paper_formula_and_scipy() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 8.0])
    cur = np.array([2.0, 4.0, 4.0, 6.0, 7.0, 9.0, 10.0])
    result = anderson_darling_test(ref, cur)
    assert result.method == "anderson_darling"
    assert result.statistic == pytest.approx(_scholz_stephens_t(ref, cur))
    assert result.statistic == pytest.approx(0.967413, abs=1e-6)
    statistic, p_value = _scipy(ref, cur)
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(p_value)
    # T lies between the 25 % and 10 % critical values for k = 2 (0.326 and 1.225 in the paper)
    assert 0.10 < p_value < 0.25
    assert result.drifted is False


def test_shifted_normal_matches_scipy_and_drifts(rng: np.random.Generator) -> None:
    ref = rng.normal(0.0, 1.0, 300)
    cur = rng.normal(0.15, 1.0, 200)
    statistic, p_value = _scipy(ref, cur)
    result = anderson_darling_test(ref, cur)
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(p_value)
    assert result.p_value == pytest.approx(0.0228, abs=1e-4)
    assert result.drifted is True
    # on this seeded sample KS misses the small shift that Anderson-Darling finds
    assert float(stats.ks_2samp(ref, cur).pvalue) > 0.05


def test_p_value_is_capped_and_floored_without_warnings() -> None:
    ref = np.arange(20.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = anderson_darling_test(ref, ref + 10.0)
        near = anderson_darling_test(ref, ref + 0.5)
    assert (far.p_value, far.drifted) == (P_VALUE_FLOOR, True) == (0.001, True)
    assert (near.p_value, near.drifted) == (P_VALUE_CAP, False) == (0.25, False)
    assert far.statistic == pytest.approx(_scholz_stephens_t(ref, ref + 10.0))
    assert near.statistic == pytest.approx(_scholz_stephens_t(ref, ref + 0.5))
    assert near.statistic < 0


def test_effect_size_is_normalised_wasserstein_by_hand() -> None:
    # W1 of a shift by 10 is 10; population std of 0..19 is sqrt(399 / 12)
    ref = np.arange(20.0)
    result = anderson_darling_test(ref, ref + 10.0)
    assert result.effect_size_name == "wasserstein_norm"
    assert result.effect_size == pytest.approx(10.0 / math.sqrt(399 / 12))
    assert result.effect_size == pytest.approx(1.734220, abs=1e-6)


def test_effect_size_equals_wasserstein_distance_norm(rng: np.random.Generator) -> None:
    ref = rng.normal(10.0, 3.0, 400)
    cur = rng.normal(10.5, 3.0, 300)
    result = anderson_darling_test(ref, cur)
    assert result.effect_size == pytest.approx(wasserstein_distance_norm(ref, cur).statistic)


def test_constant_identical_samples_are_defined_and_do_not_drift() -> None:
    result = anderson_darling_test([7.0] * 20, [7.0] * 30)
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)
    assert result.effect_size == 0.0


def test_constant_different_samples_drift() -> None:
    # two distinct values, perfectly separated; effect size uses the pooled std 0.5
    result = anderson_darling_test([0.0] * 10, [1.0] * 10)
    assert result.statistic == pytest.approx(_scholz_stephens_t(np.zeros(10), np.ones(10)))
    assert result.p_value == P_VALUE_FLOOR
    assert result.effect_size == pytest.approx(2.0)


def test_nan_and_infinities_are_dropped() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 8.0])
    cur = np.array([2.0, 4.0, 4.0, 6.0, 7.0, 9.0, 10.0])
    dirty = anderson_darling_test(np.r_[ref, np.nan, np.inf], np.r_[-np.inf, cur, np.nan])
    assert dirty == anderson_darling_test(ref, cur)


def test_four_values_together_is_the_minimum() -> None:
    result = anderson_darling_test([1.0, 2.0], [3.0, 4.0])
    assert result.statistic == pytest.approx(
        _scholz_stephens_t(np.array([1.0, 2]), np.array([3.0, 4]))
    )
    with pytest.raises(MonitoringError, match="not enough data .*needs at least 4"):
        anderson_darling_test([1.0], [2.0])  # a single value each side
    with pytest.raises(MonitoringError, match="not enough data"):
        anderson_darling_test([1.0, 1.0], [1.0])


@pytest.mark.parametrize(
    ("reference", "current", "role", "why"),
    [
        ([], [1.0], "reference", "0 values after dropping NaN"),
        ([1.0], [np.nan], "current", "0 values after dropping NaN"),
        ([1.0, 2.0], [np.inf, -np.inf, np.nan], "current", "0 finite values"),
    ],
)
def test_empty_after_cleaning_raises(
    reference: list[float], current: list[float], role: str, why: str
) -> None:
    with pytest.raises(MonitoringError, match=f"not enough data in the {role} sample \\({why}"):
        anderson_darling_test(reference, current)


def test_strings_raise_not_numeric() -> None:
    with pytest.raises(MonitoringError, match="anderson_darling: reference sample is not numeric"):
        anderson_darling_test(["a", "b", "c"], [1.0, 2.0])
