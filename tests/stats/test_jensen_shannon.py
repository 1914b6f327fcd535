from __future__ import annotations

import numpy as np
import pytest

from loopml.errors import MonitoringError
from loopml.stats import jensen_shannon_distance

# p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4):
# KL(p||m) = 1/2 log2(2/3) + 1/2 log2(2); KL(q||m) = log2(4/3)
_HALF_VS_ALL = float(
    np.sqrt(0.5 * (0.5 * np.log2(2 / 3) + 0.5 * np.log2(2.0)) + 0.5 * np.log2(4 / 3))
)


def test_hand_computed_categorical_value() -> None:
    result = jensen_shannon_distance(["a", "b"], ["a", "a", "a"], kind="categorical")
    assert result.method == "jensen_shannon"
    assert result.statistic == pytest.approx(_HALF_VS_ALL)
    assert result.statistic == pytest.approx(0.557923, abs=1e-6)
    assert result.p_value is None
    assert result.drifted is True
    assert (result.effect_size, result.effect_size_name) == (result.statistic, "jensen_shannon")


def test_disjoint_and_identical_categories() -> None:
    assert jensen_shannon_distance(["a"], ["b"], kind="categorical").statistic == pytest.approx(1.0)
    same = jensen_shannon_distance(["a", "b"], ["b", "a"], kind="categorical")
    assert same.statistic == pytest.approx(0.0)
    assert same.drifted is False


def test_numeric_two_bins_over_union() -> None:
    # union edges for n_bins=2 over [0, 1] split at 0.5: ref (2, 2), cur (4, 0)
    result = jensen_shannon_distance([0, 0, 1, 1], [0, 0, 0, 0], n_bins=2)
    assert result.statistic == pytest.approx(_HALF_VS_ALL)


def test_infinity_falls_in_outer_bin() -> None:
    result = jensen_shannon_distance([0.0, 1.0], [np.inf, np.inf])
    assert result.statistic == pytest.approx(_HALF_VS_ALL)


def test_constant_identical_numeric_is_zero() -> None:
    result = jensen_shannon_distance([2.0] * 10, [2.0] * 3)
    assert result.statistic == pytest.approx(0.0)


def test_unseen_category_is_bounded() -> None:
    result = jensen_shannon_distance(["a"] * 9 + [None], ["a"] * 9 + ["new"], kind="categorical")
    assert 0.0 < result.statistic < 1.0


def test_all_nan_raises() -> None:
    with pytest.raises(MonitoringError, match="not enough data in the reference"):
        jensen_shannon_distance([np.nan], [1.0])
