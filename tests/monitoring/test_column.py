from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopml.errors import ConfigurationError
from loopml.monitoring import DriftConfig, column_drift


def test_numeric_column_matches_ks_and_counts_missing() -> None:
    ref = np.array([1, 2, 3, 4, 5, np.nan])
    cur = np.array([3, 4, 5, 6, 7, np.nan, np.nan, np.nan])
    drift = column_drift("x", ref, cur, kind="numeric")
    assert (drift.method, drift.kind) == ("ks", "numeric")
    assert drift.statistic == pytest.approx(0.4)
    assert drift.p_value == pytest.approx(
        float(stats.ks_2samp([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]).pvalue)
    )
    assert drift.threshold == 0.05
    assert (drift.n_reference, drift.n_current) == (6, 8)
    assert drift.missing_reference == pytest.approx(1 / 6)
    assert drift.missing_current == pytest.approx(3 / 8)
    assert drift.finding is None and drift.tested


def test_categorical_column_with_pandas_missing_markers() -> None:
    ref = pd.array(["a"] * 10 + ["b"] * 20 + [pd.NA], dtype="string")
    cur = np.array(["a"] * 20 + ["b"] * 10 + [None], dtype=object)
    drift = column_drift("c", ref, cur, kind="categorical")
    # two categories on a small reference: the two-proportion Z test, Z² = Pearson's X²
    assert drift.method == "two_proportion_z"
    assert drift.statistic**2 == pytest.approx(20 / 3)
    assert drift.p_value == pytest.approx(float(stats.chi2.sf(20 / 3, 1)))
    assert drift.drifted is True
    assert drift.effect_size_name == "cohens_h"
    h = 2 * np.arcsin(np.sqrt(2 / 3)) - 2 * np.arcsin(np.sqrt(1 / 3))
    assert drift.effect_size == pytest.approx(h)
    forced = column_drift("c", ref, cur, kind="categorical", n_unique=3)
    assert (forced.method, forced.statistic) == ("chi_square", pytest.approx(20 / 3))
    assert forced.effect_size == pytest.approx(np.sqrt((20 / 3) / 60))  # Cramér's V


def test_a_third_category_switches_the_z_test_to_chi_square() -> None:
    ref = np.array(["yes"] * 60 + ["no"] * 40, dtype=object)
    cur = np.array(["yes"] * 50 + ["no"] * 30 + ["maybe"] * 20, dtype=object)
    drift = column_drift("answer", ref, cur, kind="categorical")
    table = np.array([[40, 0, 60], [30, 20, 50]])
    assert drift.method == "chi_square"
    assert drift.statistic == pytest.approx(stats.chi2_contingency(table, correction=False)[0])
    assert drift.drifted is True and drift.finding is None


def test_large_reference_switches_to_distance() -> None:
    ref = np.random.default_rng(0).normal(size=1001)
    drift = column_drift("x", ref, ref + 1.0, kind="numeric")
    assert drift.method == "wasserstein"
    assert drift.statistic == pytest.approx(1.0 / np.std(ref))


@pytest.mark.parametrize(
    ("ref", "cur", "finding"),
    [
        ([], [1.0], "not enough data: the reference window is empty"),
        ([1.0], [np.nan, np.nan], "all missing in the current window (2 rows)"),
        ([1.0, 2.0], [3.0], "not enough data: 1 non-missing current values (min_samples=2)"),
    ],
)
def test_findings_instead_of_errors(ref: list[float], cur: list[float], finding: str) -> None:
    drift = column_drift(
        "x",
        np.array(ref),
        np.array(cur),
        kind="numeric",
        config=DriftConfig(min_samples=2 if len(cur) == 1 else 1),
    )
    assert drift.finding == finding
    assert (drift.statistic, drift.p_value, drift.drifted) == (None, None, False)


def test_constant_column_on_both_sides() -> None:
    drift = column_drift("k", np.full(50, 3.0), np.full(20, 3.0), kind="numeric")
    assert drift.statistic == 0.0 and drift.drifted is False


def test_non_numeric_values_in_numeric_column_are_left_out_and_noted() -> None:
    ref = np.array([1.0, 2.0, "a", 3.0, "b"], dtype=object)
    drift = column_drift("x", ref, np.array([1.0, 2.0, 3.0]), kind="numeric")
    assert drift.tested and drift.statistic == 0.0
    note = "2 of 5 values are not numbers (e.g. 'a'); they were left out like missing values"
    assert drift.notes == (f"reference window: {note}",)
    assert drift.missing_reference == pytest.approx(2 / 5)
    only_text = column_drift("x", np.array(["a", "b"], dtype=object), [1.0], kind="numeric")
    assert only_text.finding is not None and "all missing in the reference" in only_text.finding


def test_column_override_and_wrong_kind() -> None:
    config = DriftConfig(column_methods={"x": "psi", "c": "ks"})
    assert (
        column_drift("x", np.arange(100.0), np.arange(100.0), kind="numeric", config=config).method
        == "psi"
    )
    with pytest.raises(ConfigurationError, match="column 'c'"):
        column_drift("c", np.array(["a"]), np.array(["a"]), kind="categorical", config=config)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(60, dtype=np.int64) % 9,
        np.sqrt(np.arange(60.0)),
        np.linspace(0.0, 1.0, 60, dtype=np.float32),
        np.arange(60) % 3 == 0,
    ],
    ids=["int64", "float64", "float32", "bool"],
)
def test_numpy_numbers_take_the_fast_path_to_the_same_result(values: np.ndarray) -> None:
    ref, cur = values[:40], values[25:]
    fast = column_drift("x", ref, cur, kind="numeric")
    general = column_drift("x", ref.astype(object), cur.astype(object), kind="numeric")
    assert fast == general


def test_masked_array_entries_count_as_missing() -> None:
    ref = np.ma.array([1.0, 2.0, 3.0, 99.0], mask=[False, False, False, True])
    drift = column_drift("x", ref, np.array([1.0, 2.0, 3.0]), kind="numeric")
    assert drift.missing_reference == pytest.approx(0.25)
    assert drift.statistic == 0.0


def test_numpy_scalar_labels_count_like_python_labels() -> None:
    plain = np.array(["a", "b", "b", None, 1, 2], dtype=object)
    wrapped = np.array([np.str_("a"), "b", np.str_("b"), None, np.int64(1), 2], dtype=object)
    cur = np.array(["a", "a", "b", 1, 2, 2], dtype=object)
    assert column_drift("c", wrapped, cur, kind="categorical") == column_drift(
        "c", plain, cur, kind="categorical"
    )
