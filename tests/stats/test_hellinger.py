from __future__ import annotations

import math

import numpy as np
import pytest

from loopml.errors import MonitoringError
from loopml.stats import hellinger_distance, population_stability_index

# p = (1/2, 1/2), q = (1, 0): affinity sum sqrt(p q) = sqrt(1/2), H = sqrt(1 - sqrt(1/2))
_HALF_VS_ALL = math.sqrt(1 - math.sqrt(0.5))
# p = (1/2, 1/2), q = (1/5, 4/5): H = sqrt(1 - sqrt(0.1) - sqrt(0.4))
_HALF_VS_FIFTH = math.sqrt(1 - math.sqrt(0.1) - math.sqrt(0.4))


def test_hand_computed_categorical_value() -> None:
    result = hellinger_distance(["a", "b"], ["a", "a", "a"], kind="categorical")
    assert result.method == "hellinger"
    assert result.statistic == pytest.approx(_HALF_VS_ALL)
    assert result.statistic == pytest.approx(0.541196, abs=1e-6)
    assert result.p_value is None
    assert result.threshold == 0.1
    assert result.drifted is True
    assert (result.effect_size, result.effect_size_name) == (result.statistic, "hellinger")


def test_default_threshold_sits_at_a_50_50_to_64_36_split() -> None:
    # H = sqrt(1 - sqrt(0.5 * 0.64) - sqrt(0.5 * 0.36)) = 0.10025
    ref = [True] * 50 + [False] * 50
    below = hellinger_distance(ref, [True] * 63 + [False] * 37, kind="categorical")
    above = hellinger_distance(ref, [True] * 64 + [False] * 36, kind="categorical")
    assert above.statistic == pytest.approx(math.sqrt(1 - math.sqrt(0.32) - math.sqrt(0.18)))
    assert above.statistic == pytest.approx(0.100252, abs=1e-6)
    assert (below.drifted, above.drifted) == (False, True)


def test_numeric_uses_the_reference_quantile_bins_of_psi() -> None:
    # reference median 49.5 splits 0..99 into 50 / 50; current 20 / 80
    ref = np.arange(100.0)
    cur = np.r_[np.zeros(20), np.full(80, 60.0)]
    result = hellinger_distance(ref, cur, n_bins=2)
    assert result.statistic == pytest.approx(_HALF_VS_FIFTH)
    assert result.statistic == pytest.approx(0.226532, abs=1e-6)
    # same bins as PSI: PSI without smoothing on them is the two-bin hand value
    psi = population_stability_index(ref, cur, n_bins=2, smoothing=0.0).statistic
    assert psi == pytest.approx(0.3 * math.log(2.5) + 0.3 * math.log(1.6))


def test_empty_bins_need_no_smoothing() -> None:
    # deciles of 0..999; current fills only the two top deciles, evenly:
    # affinity = 2 * sqrt(0.1 * 0.5) -> H = sqrt(1 - 2 sqrt(0.05))
    ref = np.arange(1000.0)
    cur = np.r_[np.full(50, 850.0), np.full(50, 950.0)]
    result = hellinger_distance(ref, cur)
    assert result.statistic == pytest.approx(math.sqrt(1 - 2 * math.sqrt(0.05)))
    assert math.isfinite(result.statistic)


def test_disjoint_and_identical() -> None:
    assert hellinger_distance(["a"], ["b"], kind="categorical").statistic == 1.0
    # numeric values beyond the reference range share its top decile: not disjoint on the bins
    beyond = hellinger_distance(np.arange(10.0), np.arange(10.0) + 100)
    assert beyond.statistic == pytest.approx(math.sqrt(1 - math.sqrt(0.1)))
    same = hellinger_distance(["a", "b"], ["b", "a"], kind="categorical")
    assert same.statistic == pytest.approx(0.0)
    assert same.drifted is False


def test_unseen_and_vanished_categories_are_symmetric_and_bounded() -> None:
    unseen = hellinger_distance(
        ["a"] * 30 + ["b"] * 30, ["a"] * 20 + ["b"] * 20 + ["c"] * 20, kind="categorical"
    )
    vanished = hellinger_distance(
        ["a"] * 20 + ["b"] * 20 + ["c"] * 20, ["a"] * 30 + ["b"] * 30, kind="categorical"
    )
    # affinity = 2 sqrt(1/2 * 1/3) -> H = sqrt(1 - 2 / sqrt(6))
    assert unseen.statistic == pytest.approx(math.sqrt(1 - 2 / math.sqrt(6)))
    assert vanished.statistic == pytest.approx(unseen.statistic)
    assert 0.0 < unseen.statistic < 1.0


def test_tiny_distance_is_accurate() -> None:
    # 1 value in 10**6 moves: the 1 - affinity form would lose it to rounding
    ref = [True] * 500_000 + [False] * 500_000
    cur = [True] * 500_001 + [False] * 499_999
    # (to first order each sqrt share moves by 1e-6 / (2 sqrt(1/2)), so H = 1e-6 / sqrt(2);
    # sqrt(1 - affinity) gives 7.07138e-7 here, 4e-5 too high)
    result = hellinger_distance(ref, cur, kind="categorical")
    assert result.statistic == pytest.approx(1e-6 / math.sqrt(2), rel=1e-6)


def test_constant_samples() -> None:
    assert hellinger_distance([2.0] * 10, [2.0] * 3).statistic == pytest.approx(0.0)
    # constant reference: bins (<5, ==5, >5); current all below -> disjoint
    assert hellinger_distance([5.0] * 10, [4.0] * 10).statistic == 1.0
    # half of the current at 5, half above: affinity sqrt(1 * 1/2)
    half = hellinger_distance([5.0] * 10, [5.0] * 5 + [6.0] * 5)
    assert half.statistic == pytest.approx(_HALF_VS_ALL)


def test_single_value_each_side() -> None:
    assert hellinger_distance([1.0], [1.0]).statistic == 0.0
    assert hellinger_distance([1.0], [2.0]).statistic == 1.0
    assert hellinger_distance(["x"], ["y"], kind="categorical").statistic == 1.0


def test_nan_dropped_and_infinities_in_outer_bins() -> None:
    ref = np.r_[np.arange(100.0), np.nan]
    assert hellinger_distance(ref, ref).statistic == 0.0
    # +inf falls in the top bin, -inf in the bottom one: p = (1/2, 1/2), q = (0, 1)
    assert hellinger_distance([0.0, 1.0], [np.inf, np.inf], n_bins=2).statistic == pytest.approx(
        _HALF_VS_ALL
    )
    assert hellinger_distance([0.0, 1.0], [-np.inf, 0.0], n_bins=2).statistic == pytest.approx(
        _HALF_VS_ALL
    )


def test_categorical_missing_dropped() -> None:
    result = hellinger_distance(["a", "b", None], ["a", np.nan, "a", "a"], kind="categorical")
    assert result.statistic == pytest.approx(_HALF_VS_ALL)


@pytest.mark.parametrize(
    ("reference", "current", "role"),
    [([], [1.0], "reference"), ([1.0], [np.nan], "current")],
)
def test_empty_after_cleaning_raises(
    reference: list[float], current: list[float], role: str
) -> None:
    with pytest.raises(MonitoringError, match=f"hellinger: not enough data in the {role}"):
        hellinger_distance(reference, current)
    with pytest.raises(MonitoringError, match=f"hellinger: not enough data in the {role}"):
        hellinger_distance(reference, current, kind="categorical")


def test_strings_to_numeric_raise() -> None:
    with pytest.raises(MonitoringError, match="hellinger: current sample is not numeric"):
        hellinger_distance([1.0, 2.0], ["a", "b"])
