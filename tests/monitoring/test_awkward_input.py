"""Awkward input never breaks a drift report: each case gives a defined result or a named
finding while the other columns are computed, and the JSON stays strict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopml.monitoring import compute_drift
from loopml.monitoring.drift import OTHER
from loopml.schema import infer_schema

N = 400


@pytest.fixture(scope="module")
def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame(
        {
            "healthy": rng.normal(size=N),
            "infinite": rng.normal(size=N),
            "constant": np.full(N, 7.0),
            "unseen": rng.choice(["a", "b", "c"], N),
            "vanished": rng.choice(["a", "b", "c"], N),
            "all_missing": rng.normal(size=N),
            "mixed": rng.normal(size=N),
            "when": pd.date_range("2026-01-01", periods=N, freq="h", tz="UTC"),
            "user": [f"u{i}" for i in range(N)],  # identifier-like
            "page": rng.choice([f"/p{i}" for i in range(60)], N, p=np.r_[[0.5], [0.5 / 59] * 59]),
        }
    )
    current = reference.copy()
    current["healthy"] = rng.normal(size=N)
    current.loc[:9, "infinite"] = np.inf
    current.loc[10:14, "infinite"] = -np.inf
    current.loc[15:19, "infinite"] = np.nan
    current["unseen"] = rng.choice(["a", "b", "zzz"], N)
    current["vanished"] = rng.choice(["a", "b"], N)
    current["all_missing"] = np.nan
    current["mixed"] = current["mixed"].astype(object)
    current.loc[:4, "mixed"] = "n/a"
    current["user"] = [f"new{i}" for i in range(N)]
    current["page"] = rng.choice([f"/q{i}" for i in range(200)], N)  # all new pages
    return reference, current


@pytest.fixture(scope="module")
def report(windows: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, object]:
    reference, current = windows
    return {c.name: c for c in compute_drift(reference, current, infer_schema(reference)).columns}


def test_the_healthy_column_is_computed_beside_the_awkward_ones(report: dict) -> None:
    assert report["healthy"].tested and report["healthy"].drifted is False


def test_infinities_are_kept_as_extreme_values(report: dict, windows) -> None:
    reference, current = windows
    column = report["infinite"]
    assert column.tested and column.method == "ks"
    kept = current["infinite"].dropna().to_numpy()
    expected = stats.ks_2samp(reference["infinite"].to_numpy(), kept)
    assert column.statistic == pytest.approx(expected.statistic)
    assert column.missing_current == pytest.approx(5 / N)


def test_constant_column_on_both_sides_does_not_drift(report: dict) -> None:
    assert report["constant"].tested and report["constant"].statistic == 0.0
    assert report["constant"].drifted is False


def test_unseen_and_vanished_categories_give_finite_statistics(report: dict) -> None:
    for name in ("unseen", "vanished"):
        column = report[name]
        assert column.method == "chi_square" and column.drifted
        assert np.isfinite(column.statistic) and 0 < column.effect_size <= 1


def test_all_missing_column_is_a_named_finding(report: dict) -> None:
    assert report["all_missing"].finding == f"all missing in the current window ({N} rows)"


def test_mixed_types_are_tested_on_the_numbers_and_noted(report: dict) -> None:
    column = report["mixed"]
    assert column.tested
    assert column.notes and "5 of 400 values are not numbers (e.g. 'n/a')" in column.notes[0]


def test_datetimes_get_a_finding(report: dict) -> None:
    assert report["when"].finding.startswith("not tested: a datetime column")


def test_identifier_like_strings_are_not_tested(report: dict) -> None:
    assert "identifier-like" in report["user"].finding


def test_high_cardinality_strings_use_top_k_and_other(report: dict) -> None:
    column = report["page"]
    assert column.tested and column.drifted
    assert column.notes[0].startswith("string column tested on its 20 most frequent")
    assert OTHER in column.notes[0]


def test_empty_and_tiny_windows(windows) -> None:
    reference, current = windows
    schema = infer_schema(reference)
    empty = compute_drift(reference, current.iloc[:0], schema)
    assert empty.n_tested == 0 and empty.dataset_drift is False
    assert all(c.finding for c in empty.columns)
    tiny = compute_drift(reference.iloc[:3], current.iloc[:2], schema)
    healthy = next(c for c in tiny.columns if c.name == "healthy")
    assert healthy.tested and 0.0 <= healthy.p_value <= 1.0
    for report in (empty, tiny):
        json.dumps(report.to_dict(), allow_nan=False)


def test_the_whole_report_is_strict_json(windows) -> None:
    reference, current = windows
    text = json.dumps(
        compute_drift(reference, current, infer_schema(reference)).to_dict(), allow_nan=False
    )
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_values_near_the_float64_limit_are_a_finding_not_a_crash() -> None:
    from loopml.monitoring import DriftConfig, column_drift
    from loopml.ui.charts import histogram_svg

    reference = np.random.default_rng(3).normal(size=2000)
    current = np.r_[reference[:1990], [1e308, -1e308] * 5]
    for method in ("wasserstein", "jensen_shannon", "ks"):
        drift = column_drift("x", reference, current, kind="numeric",
                             config=DriftConfig(numeric_method=method))
        assert drift.finding is None or method in drift.finding
        if drift.finding is not None:
            assert drift.statistic is None and drift.drifted is False
        json.dumps(drift.to_dict(), allow_nan=False)
    assert histogram_svg(reference, current, title="x").endswith("</svg>")
