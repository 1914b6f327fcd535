from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopml.errors import ConfigurationError, MonitoringError
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
    assert drift.method == "chi_square"
    assert drift.statistic == pytest.approx(20 / 3)
    assert drift.drifted is True


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


def test_non_numeric_values_in_numeric_column_raise() -> None:
    with pytest.raises(MonitoringError, match="column 'x'"):
        column_drift("x", np.array(["a", "b"], dtype=object), np.array([1.0]), kind="numeric")


def test_column_override_and_wrong_kind() -> None:
    config = DriftConfig(column_methods={"x": "psi", "c": "ks"})
    assert (
        column_drift("x", np.arange(100.0), np.arange(100.0), kind="numeric", config=config).method
        == "psi"
    )
    with pytest.raises(ConfigurationError, match="column 'c'"):
        column_drift("c", np.array(["a"]), np.array(["a"]), kind="categorical", config=config)
