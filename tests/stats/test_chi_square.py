from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loopml.errors import MonitoringError
from loopml.stats import chi_square_test


def test_two_by_two_table_computed_by_hand() -> None:
    # table [[10, 20], [20, 10]]: every expected count is 15,
    # X2 = 4 * (5 ** 2 / 15) = 20 / 3 with 1 degree of freedom, no Yates correction
    result = chi_square_test(["a"] * 10 + ["b"] * 20, ["a"] * 20 + ["b"] * 10)
    assert result.method == "chi_square"
    assert result.statistic == pytest.approx(20 / 3)
    assert result.p_value == pytest.approx(float(stats.chi2.sf(20 / 3, 1)))
    assert result.p_value == pytest.approx(0.009823, abs=1e-6)
    assert result.drifted is True
    # Cramér's V = sqrt(X2 / (n * (min(2, 2) - 1))) = sqrt((20 / 3) / 60) = 1 / 3
    assert result.effect_size == pytest.approx(1 / 3)
    assert result.effect_size_name == "cramers_v"


def test_unseen_category_in_current_gives_finite_statistic() -> None:
    # [[30, 30, 0], [20, 20, 20]]: expected 25, 25, 10 per row -> X2 = 2 * (1 + 1 + 10) = 24,
    # 2 degrees of freedom -> p = exp(-24 / 2)
    result = chi_square_test(["a"] * 30 + ["b"] * 30, ["a"] * 20 + ["b"] * 20 + ["c"] * 20)
    assert result.statistic == pytest.approx(24.0)
    assert result.p_value == pytest.approx(np.exp(-12.0))
    assert np.isfinite(result.statistic)
    assert result.drifted is True
    # V = sqrt(24 / 120); scipy's association() agrees on the same table
    assert result.effect_size == pytest.approx(np.sqrt(0.2))
    table = np.array([[30, 30, 0], [20, 20, 20]])
    assert result.effect_size == pytest.approx(
        stats.contingency.association(table, method="cramer")
    )


def test_vanished_category_is_symmetric_to_unseen() -> None:
    unseen = chi_square_test(["a"] * 30 + ["b"] * 30, ["a"] * 20 + ["b"] * 20 + ["c"] * 20)
    vanished = chi_square_test(["a"] * 20 + ["b"] * 20 + ["c"] * 20, ["a"] * 30 + ["b"] * 30)
    assert vanished.statistic == pytest.approx(unseen.statistic)
    assert vanished.p_value == pytest.approx(unseen.p_value)
    assert vanished.effect_size == pytest.approx(unseen.effect_size)


@pytest.mark.parametrize(
    ("reference", "current"),
    [(["a"] * 7, ["b"] * 3 + ["c"] * 2), (["b"] * 3 + ["c"] * 2, ["a"] * 7)],
    ids=["only-new-categories", "all-categories-vanish"],
)
def test_disjoint_categories_are_finite_and_maximal(
    reference: list[str], current: list[str]
) -> None:
    # no category in both samples: X2 = n (here 12) whichever side holds which, V = 1
    result = chi_square_test(reference, current)
    assert result.statistic == pytest.approx(12.0)
    assert np.isfinite(result.statistic)
    assert result.p_value == pytest.approx(float(stats.chi2.sf(12.0, 2)))
    assert result.effect_size == pytest.approx(1.0)


def test_same_proportions_do_not_drift() -> None:
    result = chi_square_test(["x"] * 40 + ["y"] * 60, ["x"] * 20 + ["y"] * 30)
    assert result.statistic == pytest.approx(0.0)
    assert result.p_value == pytest.approx(1.0)
    assert result.drifted is False
    assert result.effect_size == pytest.approx(0.0)


def test_single_category_everywhere_is_no_drift() -> None:
    result = chi_square_test(["only"] * 5, ["only"] * 9)
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)
    assert (result.effect_size, result.effect_size_name) == (0.0, "cramers_v")


def test_missing_values_are_dropped_and_booleans_work() -> None:
    result = chi_square_test(
        [True] * 10 + [False] * 20 + [None], [True] * 20 + [False] * 10 + [np.nan]
    )
    assert result.statistic == pytest.approx(20 / 3)


def test_all_missing_current_raises() -> None:
    with pytest.raises(MonitoringError, match="not enough data in the current"):
        chi_square_test(["a", "b"], [None, np.nan])
