from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats import ks_test


def test_known_arrays_match_hand_value_and_scipy() -> None:
    result = ks_test([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])
    assert result.method == "ks"
    assert result.statistic == pytest.approx(0.4)
    # exact two-sided p-value for n = m = 5, D = 2/5 is 55/63
    assert result.p_value == pytest.approx(55 / 63)
    assert result.threshold == 0.05
    assert result.drifted is False
    assert result.effect_size == pytest.approx(0.4)
    assert result.effect_size_name == "ks_d"


def test_disjoint_samples_give_d_one_and_exact_p() -> None:
    result = ks_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], threshold=0.2)
    assert result.statistic == pytest.approx(1.0)
    assert result.p_value == pytest.approx(2 / 20)  # 2 of C(6, 3) orderings are as extreme
    assert result.drifted is True


def test_shifted_normal_matches_scipy_and_drifts(rng: np.random.Generator) -> None:
    ref = rng.normal(0.0, 1.0, 500)
    cur = rng.normal(0.5, 1.0, 400)
    expected = stats.ks_2samp(ref, cur)
    result = ks_test(ref, cur)
    assert result.statistic == pytest.approx(float(expected.statistic))
    assert result.p_value == pytest.approx(float(expected.pvalue))
    assert result.drifted is True
    assert result.effect_size == result.statistic


def test_nan_is_dropped() -> None:
    with_nan = ks_test([1, 2, np.nan, 3, 4, 5], [np.nan, 3, 4, 5, 6, 7])
    assert with_nan == ks_test([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])


def test_infinities_are_kept_as_extreme_values() -> None:
    result = ks_test([1.0, 2.0, 3.0], [np.inf, np.inf, np.inf])
    assert result.statistic == pytest.approx(1.0)


def test_constant_identical_samples_do_not_drift() -> None:
    result = ks_test([7.0] * 20, [7.0] * 30)
    assert result.statistic == 0.0
    assert result.p_value == pytest.approx(1.0)
    assert result.drifted is False


@pytest.mark.parametrize(
    ("reference", "current", "role"),
    [([], [1.0], "reference"), ([1.0], [np.nan, np.nan], "current")],
)
def test_empty_after_dropping_nan_raises(
    reference: list[float], current: list[float], role: str
) -> None:
    with pytest.raises(MonitoringError, match=f"not enough data in the {role}"):
        ks_test(reference, current)


def test_non_numeric_input_raises() -> None:
    with pytest.raises(MonitoringError, match="not numeric"):
        ks_test(["a", "b"], [1.0])
