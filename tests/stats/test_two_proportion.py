from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats import two_proportion_z_test

# 20 of 100 vs 30 of 100: pooled P = 0.25, SE = sqrt(0.25 * 0.75 * (1/100 + 1/100)) = sqrt(0.00375),
# Z = 0.1 / SE = sqrt(8 / 3); statsmodels' proportions_ztest([30, 20], [100, 100]) gives the same
_Z_EQUAL_N = math.sqrt(8 / 3)
_H_EQUAL_N = 2 * math.asin(math.sqrt(0.3)) - 2 * math.asin(math.sqrt(0.2))


def test_equal_sizes_by_hand() -> None:
    result = two_proportion_z_test([True] * 20 + [False] * 80, [True] * 30 + [False] * 70)
    assert result.method == "two_proportion_z"
    assert result.statistic == pytest.approx(_Z_EQUAL_N)
    assert result.statistic == pytest.approx(1.632993, abs=1e-6)
    assert result.p_value == pytest.approx(2 * float(stats.norm.sf(_Z_EQUAL_N)))
    assert result.p_value == pytest.approx(0.102470, abs=1e-6)
    assert result.drifted is False
    assert result.effect_size == pytest.approx(_H_EQUAL_N)
    assert result.effect_size == pytest.approx(0.231984, abs=1e-6)
    assert result.effect_size_name == "cohens_h"


def test_unequal_sizes_by_hand_and_z_squared_is_pearson_chi_square() -> None:
    # 15 of 60 (0.25) vs 36 of 90 (0.4): P = 51 / 150 = 0.34
    result = two_proportion_z_test(["yes"] * 15 + ["no"] * 45, ["yes"] * 36 + ["no"] * 54)
    z = 0.15 / math.sqrt(0.34 * 0.66 * (1 / 60 + 1 / 90))
    assert result.statistic == pytest.approx(z)
    assert result.statistic == pytest.approx(1.899901, abs=1e-6)
    assert result.p_value == pytest.approx(0.057446, abs=1e-6)
    table = np.array([[15, 45], [36, 54]])
    pearson = stats.chi2_contingency(table, correction=False)
    assert result.statistic**2 == pytest.approx(float(pearson.statistic))
    assert result.p_value == pytest.approx(float(pearson.pvalue))
    assert result.effect_size == pytest.approx(
        2 * math.asin(math.sqrt(0.4)) - 2 * math.asin(math.sqrt(0.25))
    )


def test_large_shift_drifts_and_sign_gives_direction() -> None:
    up = two_proportion_z_test([1] * 10 + [0] * 90, [1] * 40 + [0] * 60)
    down = two_proportion_z_test([1] * 40 + [0] * 60, [1] * 10 + [0] * 90)
    assert up.drifted is True and up.p_value is not None and up.p_value < 1e-5
    assert up.statistic > 0 > down.statistic
    assert down.statistic == pytest.approx(-up.statistic)
    assert down.p_value == pytest.approx(up.p_value)
    assert down.effect_size == pytest.approx(up.effect_size)


@pytest.mark.parametrize(
    ("low", "high"),
    [(False, True), (0, 1), (9, 10), (0.5, 2.0), ("no", "yes"), ("False", "True")],
)
def test_the_proportion_is_of_the_larger_number_or_last_string(low: object, high: object) -> None:
    # reference 1 of 4 is `high`, current 3 of 4: Z > 0 exactly when `high` is the proportion
    result = two_proportion_z_test([high] + [low] * 3, [high] * 3 + [low])
    assert result.statistic > 0


def test_single_category_overall_is_no_drift() -> None:
    result = two_proportion_z_test([True] * 5, [True] * 8)
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)
    assert result.effect_size == 0.0


def test_same_proportion_is_zero() -> None:
    result = two_proportion_z_test([True, False, False, False], [True] * 3 + [False] * 9)
    assert result.statistic == pytest.approx(0.0)
    assert result.p_value == pytest.approx(1.0)
    assert result.effect_size == pytest.approx(0.0)


def test_single_value_each_side() -> None:
    # p_ref = 0, p_cur = 1, P = 1/2: Z = 1 / sqrt(1/4 * 2) = sqrt(2); h = 2 * asin(1) = pi
    result = two_proportion_z_test(["a"], ["b"])
    assert result.statistic == pytest.approx(math.sqrt(2.0))
    assert result.p_value == pytest.approx(2 * float(stats.norm.sf(math.sqrt(2.0))))
    assert result.effect_size == pytest.approx(math.pi)


def test_missing_values_are_dropped() -> None:
    with_missing = two_proportion_z_test(
        [True] * 20 + [False] * 80 + [None, np.nan],
        np.array([True] * 30 + [False] * 70 + [None], dtype=object),
    )
    assert with_missing.statistic == pytest.approx(_Z_EQUAL_N)


def test_float_zero_one_column_with_nan() -> None:
    ref = np.r_[np.ones(20), np.zeros(80), np.nan]
    cur = np.r_[np.ones(30), np.zeros(70), np.nan, np.nan]
    assert two_proportion_z_test(ref, cur).statistic == pytest.approx(_Z_EQUAL_N)


def test_more_than_two_categories_raises_with_the_count() -> None:
    with pytest.raises(MonitoringError, match=r"binary column, got 3 categories .*'a', 'b', 'c'"):
        two_proportion_z_test(["a", "b"], ["b", "c"])


def test_numeric_column_raises_naming_the_count() -> None:
    with pytest.raises(MonitoringError, match="got 7 categories"):
        two_proportion_z_test([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7])


def test_infinity_is_a_label() -> None:
    with pytest.raises(MonitoringError, match="got 3 categories"):
        two_proportion_z_test([0.0, 1.0], [1.0, np.inf])


def test_empty_after_dropping_missing_raises() -> None:
    with pytest.raises(MonitoringError, match="not enough data in the current"):
        two_proportion_z_test([True, False], [None, np.nan])
    with pytest.raises(MonitoringError, match="not enough data in the reference"):
        two_proportion_z_test([], [True])


def test_two_dimensional_input_raises() -> None:
    with pytest.raises(MonitoringError, match="must be 1-D"):
        two_proportion_z_test([[True, False]], [True])
