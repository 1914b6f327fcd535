from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import loopml.stats
from loopml.errors import MonitoringError
from loopml.stats import DriftTestResult, category_counts
from loopml.stats.result import drop_non_finite


def test_result_is_frozen() -> None:
    result = DriftTestResult("ks", 0.1, 0.5, 0.05, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.statistic = 1.0  # type: ignore[misc]


def test_effect_size_fields_default_to_none() -> None:
    result = DriftTestResult("ks", 0.1, 0.5, 0.05, False)
    assert (result.effect_size, result.effect_size_name) == (None, None)
    with_effect = DriftTestResult("ks", 0.1, 0.5, 0.05, False, 0.1, "ks_d")
    assert with_effect.effect_size_name == "ks_d"
    assert with_effect != result


def test_drop_non_finite_keeps_finite_values_only() -> None:
    kept = drop_non_finite([1.0, np.nan, np.inf, -np.inf, 2.0], method="t", role="current")
    assert kept.tolist() == [1.0, 2.0]
    with pytest.raises(MonitoringError, match="t: not enough data in the current sample"):
        drop_non_finite([np.inf, np.nan], method="t", role="current")


def test_category_counts_over_union_sorted() -> None:
    cats, ref, cur = category_counts(
        np.array(["b", "a", None], dtype=object), ["c", np.nan, "b"], method="t"
    )
    assert cats == ("a", "b", "c")
    assert ref.tolist() == [1, 1, 0]
    assert cur.tolist() == [0, 1, 1]


def test_category_counts_all_missing_raises() -> None:
    with pytest.raises(MonitoringError, match="t: not enough data in the reference"):
        category_counts([None], ["a"], method="t")


def test_exported_members() -> None:
    assert sorted(loopml.stats.__all__) == [
        "DriftTestResult",
        "anderson_darling_test",
        "category_counts",
        "chi_square_test",
        "hellinger_distance",
        "jensen_shannon_distance",
        "ks_test",
        "population_stability_index",
        "psi_from_counts",
        "two_proportion_z_test",
        "wasserstein_distance_norm",
    ]
