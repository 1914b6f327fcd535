"""Mergeable profiles: merge equals profile of the union, strict JSON, drift within bounds.

KLL sketches are randomised (DataSketches seeds its generator itself), so
the quantile and drift checks assert the documented bounds, never exact
values, except where a profile is exact.
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from numpy.typing import NDArray
from scipy import stats as scipy_stats
from scipy.spatial import distance

from loopml import stats
from loopml.errors import ConfigurationError, MonitoringError
from loopml.monitoring import DriftConfig, compute_drift
from loopml.monitoring.profile import (
    ColumnProfile,
    DatasetProfile,
    ProfileKind,
    ProfileSettings,
    chi_square_from_profiles,
    column_drift_from_profiles,
    hellinger_from_profiles,
    jensen_shannon_from_profiles,
    ks_from_profiles,
    merge,
    merge_all,
    profile_column,
    profile_error_bound,
    profile_frame,
    psi_from_profiles,
    two_proportion_z_from_profiles,
    wasserstein_from_profiles,
)
from loopml.schema import ColumnSchema, LogicalType, Schema

FrameMaker = Callable[..., pd.DataFrame]
Floats = NDArray[np.float64]


def _sample(seed: int, n: int) -> Floats:
    """Normal values with 1% NaN, 5 ``+inf`` and 3 ``-inf``."""
    rng = np.random.default_rng(seed)
    values = rng.normal(10.0, 3.0, n)
    values[rng.choice(n, n // 100, replace=False)] = np.nan
    values[:5], values[5:8] = np.inf, -np.inf
    return values


def _rank_deviation(profile: ColumnProfile, values: Floats) -> float:
    """Largest distance between an asked rank and the true rank range of its quantile."""
    finite = np.sort(values[np.isfinite(values)])
    ranks = np.linspace(0.0, 1.0, 201)
    worst = 0.0
    for rank, quantile in zip(ranks, profile.quantiles(list(ranks)), strict=True):
        low = np.searchsorted(finite, quantile, side="left") / finite.size
        high = np.searchsorted(finite, quantile, side="right") / finite.size
        worst = max(worst, low - rank, rank - high)
    return worst


# -- merge(p(a), p(b)) == p(a ∪ b) -------------------------------------------------


def test_numeric_merge_equals_profile_of_the_union() -> None:
    a = _sample(1, 60_000)
    b = np.random.default_rng(2).lognormal(2.0, 0.5, 40_000)
    b[:300] = np.nan
    union = np.concatenate((a, b))
    merged = merge(profile_column(a, "numeric", name="x"), profile_column(b, "numeric", name="x"))
    direct = profile_column(union, "numeric", name="x")
    for profile in (merged, direct):
        assert profile.count == 100_000
        assert profile.missing == 600 + 300
        assert (profile.positive_infinity, profile.negative_infinity) == (5, 3)
        finite = union[np.isfinite(union)]
        assert profile.n_finite == finite.size
        assert profile.minimum == finite.min()
        assert profile.maximum == finite.max()
        assert profile.mean == pytest.approx(finite.mean(), rel=1e-12)
        assert profile.std == pytest.approx(finite.std(), rel=1e-12)
        assert profile.kll().n == finite.size
        eps = profile.rank_error()
        assert eps == pytest.approx(0.0028, abs=1e-4)  # k=1000, DataSketches' table
        assert _rank_deviation(profile, union) <= eps


def test_tails_are_exact_under_merging_and_small_columns_are_exact() -> None:
    a, b = _sample(21, 30_000), _sample(22, 20_000)
    merged = merge(profile_column(a, "numeric"), profile_column(b, "numeric"))
    union = np.concatenate((a, b))
    finite = np.sort(union[np.isfinite(union)])
    assert merged.low_tail == tuple(finite[:1000])
    assert merged.high_tail == tuple(finite[-1000:])
    assert not merged.is_exact and merged.finite_values() is None
    small = _sample(23, 1_900)  # beyond the KLL's exact mode, within 2 * tail_size
    profile = profile_column(small, "numeric")
    assert profile.kll().is_estimation_mode()
    assert profile.is_exact and profile.rank_error() == 0.0
    values = profile.finite_values()
    assert values is not None
    np.testing.assert_array_equal(values, np.sort(small[np.isfinite(small)]))


def test_merge_leaves_its_inputs_alone_and_is_commutative_where_exact() -> None:
    left = profile_column(_sample(3, 5_000), "numeric", name="x")
    right = profile_column(_sample(4, 7_000), "numeric", name="x")
    before = (left.to_dict(), right.to_dict())
    ab, ba = merge(left, right), merge(right, left)
    assert (left.to_dict(), right.to_dict()) == before
    assert left.kll().n == left.n_finite
    for field in ("count", "missing", "positive_infinity", "negative_infinity", "minimum"):
        assert getattr(ab, field) == getattr(ba, field)
    assert ab.m2 == pytest.approx(ba.m2, rel=1e-12)


def test_categorical_merge_counts_are_exact_below_the_cap() -> None:
    rng = np.random.default_rng(5)
    a = rng.choice(["paris", "lyon", "nice"], 10_000).astype(object)
    a[:50] = None
    b = rng.choice(["nice", "lille"], 5_000).astype(object)
    b[:20] = np.nan
    merged = merge(
        profile_column(a, "categorical", name="city"),
        profile_column(b, "categorical", name="city"),
    )
    direct = profile_column(np.concatenate((a, b)), "categorical", name="city")
    truth = Counter(v for v in np.concatenate((a, b)) if isinstance(v, str))
    assert merged == direct
    assert merged.category_counts() == dict(truth)
    assert (merged.count, merged.missing, merged.category_error) == (15_000, 70, 0)
    assert merged.is_exact


def test_category_cap_switches_to_the_frequent_items_sketch_with_its_error_bound() -> None:
    settings = ProfileSettings(max_categories=100)
    rng = np.random.default_rng(6)
    heavy = [f"h{i}" for i in range(5)]
    a = np.concatenate((rng.choice(heavy, 20_000), [f"a{i}" for i in range(80)]))
    b = np.concatenate((rng.choice(heavy, 10_000), [f"b{i}" for i in range(80)]))
    left = profile_column(a, "categorical", name="c", settings=settings)
    right = profile_column(b, "categorical", name="c", settings=settings)
    assert left.categories is not None and left.frequent_sketch is None  # 85 labels
    merged = merge(left, right)  # 165 labels > 100
    direct = profile_column(np.concatenate((a, b)), "categorical", name="c", settings=settings)
    truth = Counter(np.concatenate((a, b)).tolist())
    for profile in (merged, direct):
        assert profile.categories is None and profile.frequent_sketch is not None
        assert not profile.is_exact
        assert profile.count == 30_160
        bound = 3.5 / 2**settings.frequent_lg_max_k * profile.n_values
        assert profile.category_error <= bound
        counts = profile.category_counts()
        for label in heavy:
            assert abs(counts[label] - truth[label]) <= profile.category_error


def test_merge_all_of_partitions_and_of_dataset_profiles() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=9_000),
            "city": rng.choice(["a", "b", "c"], 9_000),
        }
    )
    kinds: dict[str | int, ProfileKind] = {"x": "numeric", "city": "categorical"}
    parts = [profile_frame(frame.iloc[i : i + 3_000], kinds) for i in range(0, 9_000, 3_000)]
    merged = merge_all(parts)
    whole = profile_frame(frame, kinds)
    assert isinstance(merged, DatasetProfile)
    assert merged.n_rows == whole.n_rows == 9_000
    assert merged["city"] == whole["city"]
    assert merged["x"].minimum == whole["x"].minimum
    assert merged["x"].mean == pytest.approx(whole["x"].mean, rel=1e-9, abs=1e-12)
    assert merge_all([parts[0]]) == parts[0]


def test_merge_refuses_profiles_that_do_not_belong_together() -> None:
    x = profile_column([1.0], "numeric", name="x")
    with pytest.raises(MonitoringError, match="'y'"):
        merge(x, profile_column([1.0], "numeric", name="y"))
    with pytest.raises(MonitoringError, match="kind"):
        merge(x, profile_column(["a"], "categorical", name="x"))
    with pytest.raises(MonitoringError, match="settings"):
        merge(x, profile_column([1.0], "numeric", name="x", settings=ProfileSettings(k=200)))
    with pytest.raises(MonitoringError, match="at least one"):
        merge_all([])
    with pytest.raises(MonitoringError, match="only"):
        merge_all([x, DatasetProfile(columns=(x,), n_rows=1)])  # type: ignore[list-item]
    one = DatasetProfile(columns=(x,), n_rows=1)
    two = DatasetProfile(columns=(profile_column([1.0], "numeric", name="y"),), n_rows=1)
    with pytest.raises(MonitoringError, match="different columns"):
        merge(one, two)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="ProfileSettings.k"):
        ProfileSettings(k=4)
    with pytest.raises(ConfigurationError, match="max_categories"):
        ProfileSettings(max_categories=0)


# -- storage -----------------------------------------------------------------------


def _round_trip(profile: ColumnProfile) -> ColumnProfile:
    text = json.dumps(profile.to_dict(), allow_nan=False)
    return ColumnProfile.from_dict(json.loads(text))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (_sample(8, 20_000), "numeric"),
        ([np.nan, None, np.nan], "numeric"),
        ([], "numeric"),
        ([1e308, 1e308, -1e308], "numeric"),  # m2 overflows: written as the string "inf"
        (["a", "b", None, "a"], "categorical"),
        ([f"v{i}" for i in range(50)], "categorical"),
    ],
)
def test_strict_json_round_trip(values: object, kind: str) -> None:
    settings = ProfileSettings(max_categories=10)
    profile = profile_column(values, kind, name="col", settings=settings)  # type: ignore[arg-type]
    again = _round_trip(profile)
    assert again == profile
    if kind == "numeric":
        assert again.quantiles([0.0, 0.5, 1.0]) == profile.quantiles([0.0, 0.5, 1.0])
    else:
        assert again.category_counts() == profile.category_counts()


def test_dataset_profile_json_round_trip() -> None:
    frame = pd.DataFrame({"x": [1.0, np.inf, None], 3: [True, False, None]})
    profile = profile_frame(frame, {"x": "numeric", 3: "categorical"})
    text = profile.to_json()
    assert "NaN" not in text and "Infinity" not in text
    again = DatasetProfile.from_json(text)
    assert again == profile
    assert again[3].category_counts() == {"False": 1, "True": 1}


def test_corrupt_stored_profiles_raise_monitoring_error_naming_the_column() -> None:
    good = profile_column([1.0, 2.0], "numeric", name="age").to_dict()
    bad_sketch = {**good, "numeric": {**good["numeric"], "quantile_sketch": "AAAA"}}
    with pytest.raises(MonitoringError, match="'age'.*corrupt"):
        ColumnProfile.from_dict(bad_sketch)
    not_base64 = {**good, "numeric": {**good["numeric"], "quantile_sketch": "%%"}}
    with pytest.raises(MonitoringError, match="'age'.*quantile_sketch"):
        ColumnProfile.from_dict(not_base64)
    short_tail = {**good, "numeric": {**good["numeric"], "low_tail": "AAAAAAAA8D8="}}  # [1.0]
    with pytest.raises(MonitoringError, match="'age'.*tails 1/2"):
        ColumnProfile.from_dict(short_tail)
    with pytest.raises(MonitoringError, match="'age'.*count"):
        ColumnProfile.from_dict({k: v for k, v in good.items() if k != "count"})
    with pytest.raises(MonitoringError, match="format_version"):
        ColumnProfile.from_dict({**good, "format_version": 99})
    with pytest.raises(MonitoringError, match="not valid JSON"):
        DatasetProfile.from_json("{")


# -- awkward inputs ----------------------------------------------------------------


def test_nan_inf_constant_empty_and_all_missing_numeric_columns() -> None:
    odd = profile_column([np.nan, np.inf, -np.inf, np.inf, 2.5, None], "numeric", name="x")
    assert (odd.count, odd.missing, odd.positive_infinity, odd.negative_infinity) == (6, 2, 2, 1)
    assert (odd.minimum, odd.maximum, odd.n_finite, odd.std) == (2.5, 2.5, 1, 0.0)
    constant = profile_column(np.full(50_000, 7.0), "numeric")
    assert (constant.minimum, constant.maximum, constant.std) == (7.0, 7.0, 0.0)
    assert constant.quantiles([0.1, 0.9]) == [7.0, 7.0]
    empty = profile_column(np.array([], dtype=float), "numeric")
    assert (empty.count, empty.missing_share, empty.minimum, empty.mean) == (0, None, None, None)
    assert empty.quantiles([0.5]) == []
    missing = profile_column([None, np.nan, pd.NA], "numeric")
    assert (missing.count, missing.missing, missing.missing_share, missing.std) == (3, 3, 1.0, None)


def test_nullable_and_arrow_inputs_are_numbers() -> None:
    ints = profile_column(pd.array([1, None, 3], dtype="Int64"), "numeric")
    assert (ints.missing, ints.mean) == (1, 2.0)
    flags = profile_column(pd.array([True, None, True], dtype="boolean"), "numeric")
    assert (flags.missing, flags.mean) == (1, 1.0)
    arrow = profile_column(pa.array([1.5, None, 2.5]), "numeric")
    assert (arrow.missing, arrow.mean) == (1, 2.0)
    objects = profile_column(np.array([1, 2.5, None, True], dtype=object), "numeric")
    assert (objects.missing, objects.maximum) == (1, 2.5)


def test_categorical_labels_are_defined_for_mixed_object_columns() -> None:
    values = np.array([1, "1", 1.0, True, "a", None, np.nan, 2.5, np.int64(1)], dtype=object)
    profile = profile_column(values, "categorical", name="mixed")
    assert profile.category_counts() == {"1": 4, "True": 1, "a": 1, "2.5": 1}
    assert profile.missing == 2
    # an integer column arriving as int64 in one chunk and float64-with-NaN in the next
    first = profile_column(np.array([1, 2, 2]), "categorical", name="n")
    second = profile_column(np.array([2.0, np.nan]), "categorical", name="n")
    assert merge(first, second).category_counts() == {"1": 1, "2": 3}
    cats = profile_column(
        pd.Categorical(["x", "y", "x"], categories=["x", "y", "z"]), "categorical"
    )
    assert cats.category_counts() == {"x": 2, "y": 1}  # the unused level "z" is no label


def test_values_a_kind_cannot_take_raise_monitoring_error_naming_the_column() -> None:
    with pytest.raises(MonitoringError, match="'price'.*numbers"):
        profile_column(np.array([1.0, "cheap"], dtype=object), "numeric", name="price")
    with pytest.raises(MonitoringError, match="'blob'.*bytes"):
        profile_column(np.array(["a", b"\x00"], dtype=object), "categorical", name="blob")
    with pytest.raises(MonitoringError, match="'when'"):
        profile_column(pd.Series(pd.to_datetime(["2024-01-01"])), "numeric", name="when")
    with pytest.raises(MonitoringError, match="1-D"):
        profile_column(np.zeros((2, 2)), "numeric", name="m")
    with pytest.raises(MonitoringError, match="kind"):
        profile_column([1.0], "datetime", name="m")  # type: ignore[arg-type]


class _ArrowStream:
    """An Arrow C stream producer that is no pyarrow object (as a polars frame is)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


def _kinds() -> dict[str | int, ProfileKind]:
    return {"x": "numeric", "city": "categorical"}


def test_profile_frame_reads_frames_arrow_and_streams_alike() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"x": rng.normal(size=5_000), "city": rng.choice(["a", "b"], 5_000)})
    frame.loc[::7, "x"] = np.nan
    table = pa.Table.from_pandas(frame, preserve_index=False)
    inputs: list[object] = [
        frame,
        table,
        table.to_reader(max_chunksize=999),
        (frame.iloc[i : i + 1_234] for i in range(0, 5_000, 1_234)),
        iter(table.to_batches(max_chunksize=2_000)),
        _ArrowStream(table),
    ]
    profiles = [profile_frame(data, _kinds(), chunk_rows=700) for data in inputs]
    for profile in profiles:
        assert profile.n_rows == 5_000
        assert profile["city"] == profiles[0]["city"]
        assert profile["x"].missing == frame["x"].isna().sum()
        assert profile["x"].minimum == frame["x"].min()
        assert profile["x"].mean == pytest.approx(frame["x"].mean(), rel=1e-12)


def test_profile_frame_from_a_schema_and_missing_columns() -> None:
    schema = Schema(
        (
            ColumnSchema("age", LogicalType.INTEGER, nullable=True),
            ColumnSchema("member", LogicalType.BOOLEAN, nullable=False),
            ColumnSchema("seen", LogicalType.DATETIME, nullable=False),
            ColumnSchema("label", LogicalType.STRING, nullable=False),
        ),
        target="label",
    )
    frame = pd.DataFrame(
        {
            "age": pd.array([30, None, 50], dtype="Int64"),
            "member": [True, False, True],
            "seen": pd.to_datetime(["2024-01-01"] * 3),
            "label": ["y", "n", "y"],
        }
    )
    profile = profile_frame(frame, schema)
    assert profile.names == ("age", "member", "label")  # datetime left out
    assert profile["age"].kind == "numeric" and profile["age"].mean == 40.0
    assert profile["member"].category_counts() == {"False": 1, "True": 2}
    with pytest.raises(MonitoringError, match="'income' is missing"):
        profile_frame(frame, {"income": "numeric"})
    chunks = (frame if i == 0 else frame.drop(columns="age") for i in range(2))
    with pytest.raises(MonitoringError, match="'age' is missing from chunk 1"):
        profile_frame(chunks, {"age": "numeric"})
    with pytest.raises(MonitoringError, match="cannot profile"):
        profile_frame(42, {"age": "numeric"})


# -- drift from profiles vs. loopml.stats on the rows ------------------------------

_BINNED_TOLERANCE = {"jensen_shannon": 0.01, "psi": 0.01, "hellinger": 0.01}
"""Measured, not guaranteed (drift module docstring): worst seen 0.003 for each."""


def _cases() -> dict[str, tuple[Floats, Floats]]:
    rng = np.random.default_rng(11)
    with_nan = rng.normal(size=40_000)
    with_nan[rng.random(40_000) < 0.1] = np.nan
    with_nan[:20] = np.inf
    return {
        "normal_vs_shifted": (rng.normal(0.0, 1.0, 50_000), rng.normal(0.3, 1.0, 30_000)),
        "same_normal": (rng.normal(0.0, 1.0, 50_000), rng.normal(0.0, 1.0, 30_000)),
        "lognormal": (rng.lognormal(1.0, 0.8, 40_000), rng.lognormal(1.2, 0.8, 40_000)),
        "nan_and_inf": (with_nan, rng.normal(0.1, 1.0, 20_000)),
        "integer_ties": (
            rng.poisson(3.0, 60_000).astype(float),
            rng.poisson(3.4, 20_000).astype(float),
        ),
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_numeric_drift_from_profiles_stays_within_the_documented_bounds(case: str) -> None:
    reference, current = _cases()[case]
    ref = profile_column(reference, "numeric", name=case)
    cur = profile_column(current, "numeric", name=case)
    assert not ref.is_exact and not cur.is_exact
    pairs = {
        "ks": (ks_from_profiles, stats.ks_test),
        "wasserstein": (wasserstein_from_profiles, stats.wasserstein_distance_norm),
        "jensen_shannon": (jensen_shannon_from_profiles, stats.jensen_shannon_distance),
        "psi": (psi_from_profiles, stats.population_stability_index),
        "hellinger": (hellinger_from_profiles, stats.hellinger_distance),
    }
    for method, (from_profiles, exact) in pairs.items():
        approx, truth = from_profiles(ref, cur), exact(reference, current)
        assert approx.method == truth.method == method
        assert approx.effect_size_name == truth.effect_size_name
        bound = profile_error_bound(method, ref, cur)
        limit = _BINNED_TOLERANCE[method] if bound is None else bound
        assert abs(approx.statistic - truth.statistic) <= limit, (method, approx, truth, limit)
    ks_bound = profile_error_bound("ks", ref, cur)
    assert ks_bound is not None and ks_bound <= 2 * 0.0028
    approx_ks = ks_from_profiles(ref, cur)
    m, n = sorted((ref.n_values, cur.n_values), reverse=True)
    assert approx_ks.p_value == pytest.approx(
        scipy_stats.kstwo.sf(approx_ks.statistic, round(m * n / (m + n)))
    )


def test_numeric_verdicts_agree_with_the_exact_tests_away_from_the_threshold() -> None:
    for case, (reference, current) in _cases().items():
        ref, cur = profile_column(reference, "numeric"), profile_column(current, "numeric")
        exact = stats.wasserstein_distance_norm(reference, current)
        if abs(exact.statistic - exact.threshold) > 0.06:  # 0.06 > the W bound here
            assert wasserstein_from_profiles(ref, cur).drifted == exact.drifted, case


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        (np.array([1.0, 2.0, np.nan, 2.0, 5.0]), np.array([2.0, 3.0, 3.0, np.inf])),
        (np.full(40, 4.0), np.full(30, 4.0)),  # same constant
        (np.full(40, 4.0), np.arange(30.0)),  # constant reference: pooled scale
        (np.arange(100.0) % 7, np.arange(80.0) % 5),  # ties
        (_sample(24, 1_900), _sample(25, 1_500) + 1.0),  # exact through the tails
    ],
)
def test_small_exact_profiles_give_exactly_the_stats_results(
    reference: Floats, current: Floats
) -> None:
    ref, cur = profile_column(reference, "numeric"), profile_column(current, "numeric")
    assert ref.is_exact and cur.is_exact
    assert ks_from_profiles(ref, cur) == stats.ks_test(reference, current)
    assert wasserstein_from_profiles(ref, cur) == stats.wasserstein_distance_norm(
        reference, current
    )
    assert psi_from_profiles(ref, cur) == stats.population_stability_index(reference, current)
    assert jensen_shannon_from_profiles(ref, cur) == stats.jensen_shannon_distance(
        reference, current
    )
    assert hellinger_from_profiles(ref, cur) == stats.hellinger_distance(reference, current)
    for method in ("ks", "wasserstein", "psi", "jensen_shannon", "hellinger"):
        assert profile_error_bound(method, ref, cur) == 0.0


def test_constant_reference_beyond_the_sketch_uses_one_bin_for_the_constant() -> None:
    reference, current = np.full(50_000, 3.0), np.random.default_rng(12).normal(3.0, 1.0, 40_000)
    ref, cur = profile_column(reference, "numeric"), profile_column(current, "numeric")
    assert not ref.is_exact
    exact_psi = stats.population_stability_index(reference, current).statistic
    assert psi_from_profiles(ref, cur).statistic == pytest.approx(exact_psi, abs=0.01)
    exact_w = stats.wasserstein_distance_norm(reference, current).statistic
    bound = profile_error_bound("wasserstein", ref, cur)
    assert bound is not None
    assert abs(wasserstein_from_profiles(ref, cur).statistic - exact_w) <= bound
    same = profile_column(np.full(30_000, 3.0), "numeric")
    assert wasserstein_from_profiles(ref, same).statistic == 0.0
    assert ks_from_profiles(ref, same).statistic == 0.0


def test_categorical_drift_from_exact_counts_equals_the_stats_results() -> None:
    rng = np.random.default_rng(13)
    reference = rng.choice(["a", "b", "c", "d"], 5_000, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    current = rng.choice(["a", "b", "c", "e"], 3_000, p=[0.2, 0.3, 0.4, 0.1]).astype(object)
    reference[:30] = None
    ref = profile_column(reference, "categorical")
    cur = profile_column(current, "categorical")
    for ours, exact in (
        (chi_square_from_profiles(ref, cur), stats.chi_square_test(reference, current)),
        (
            jensen_shannon_from_profiles(ref, cur),
            stats.jensen_shannon_distance(reference, current, kind="categorical"),
        ),
        (
            psi_from_profiles(ref, cur),
            stats.population_stability_index(reference, current, kind="categorical"),
        ),
    ):
        assert ours.method == exact.method
        assert ours.statistic == pytest.approx(exact.statistic, rel=1e-12)
        if exact.p_value is None:  # a distance
            assert ours.p_value is None
        else:
            assert ours.p_value == pytest.approx(exact.p_value, rel=1e-9)
        assert ours.effect_size == pytest.approx(exact.effect_size, rel=1e-12)
        assert ours.drifted == exact.drifted
        assert profile_error_bound(ours.method, ref, cur) == 0.0
    assert hellinger_from_profiles(ref, cur).statistic == pytest.approx(
        stats.hellinger_distance(reference, current, kind="categorical").statistic, rel=1e-12
    )


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        ([True] * 300 + [False] * 200 + [None] * 5, [True] * 150 + [False] * 250),
        ([0, 1, 1, 1], [0, 0, 0, 1, 1]),  # the proportion is the share of 1, as for numbers
        (["yes"] * 40 + ["no"] * 60, ["yes"] * 40 + ["no"] * 60),
        (["a"] * 10, ["a"] * 7),  # one label overall: Z = 0, p = 1
    ],
)
def test_two_proportion_z_from_profiles_equals_the_stats_test(
    reference: list[object], current: list[object]
) -> None:
    ref = profile_column(reference, "categorical", name="flag")
    cur = profile_column(current, "categorical", name="flag")
    ours = two_proportion_z_from_profiles(ref, cur)
    exact = stats.two_proportion_z_test(reference, current)
    assert ours.statistic == pytest.approx(exact.statistic, rel=1e-12, abs=1e-15)
    assert ours.p_value == pytest.approx(exact.p_value, rel=1e-12)
    assert ours.effect_size == pytest.approx(exact.effect_size, rel=1e-12, abs=1e-15)
    assert ours.drifted == exact.drifted


def test_column_drift_from_profiles_picks_the_test_as_column_drift_does() -> None:
    binary = profile_column([True, False] * 200, "categorical", name="member")
    drift = column_drift_from_profiles(binary, binary)
    assert (drift.method, drift.drifted, drift.effect_size_name) == (
        "two_proportion_z",
        False,
        "cohens_h",
    )
    assert drift.p_value_adjusted == drift.p_value == 1.0
    third = profile_column(["True", "False", "maybe"] * 50, "categorical", name="member")
    assert column_drift_from_profiles(binary, third).method == "chi_square"
    with pytest.raises(MonitoringError, match="needs a binary column"):
        two_proportion_z_from_profiles(binary, third)
    numeric = profile_column(np.arange(500.0), "numeric", name="x")
    config = DriftConfig(numeric_method="anderson_darling")
    assert column_drift_from_profiles(numeric, numeric, config=config).finding == (
        "not tested: 'anderson_darling' cannot be computed from profiles"
    )
    with pytest.raises(MonitoringError, match="cannot compare"):
        column_drift_from_profiles(numeric, binary)


def test_categorical_drift_beyond_the_cap_matches_the_exact_coarsened_counts() -> None:
    rng = np.random.default_rng(14)
    settings = ProfileSettings(max_categories=200, frequent_lg_max_k=10)  # tracks 768 labels
    reference = np.array([f"v{int(i)}" for i in rng.zipf(1.3, 60_000) % 20_000], dtype=object)
    current = np.array([f"v{int(i)}" for i in rng.zipf(1.25, 40_000) % 20_000], dtype=object)
    ref = profile_column(reference, "categorical", settings=settings)
    cur = profile_column(current, "categorical", settings=settings)
    truth_r, truth_c = Counter(reference.tolist()), Counter(current.tolist())
    assert len(truth_r) > 768 and ref.frequent_sketch is not None
    # each estimated count is within category_error, itself within the a-priori bound
    for profile, truth in ((ref, truth_r), (cur, truth_c)):
        assert 0 < profile.category_error <= 3.5 / 2**10 * profile.n_values
        for label, estimate in profile.category_counts().items():
            assert abs(estimate - truth[label]) <= profile.category_error
    # the exact statistics on the same coarsening: frequent labels + "other"
    labels = sorted(ref.category_counts().keys() | cur.category_counts().keys())

    def coarse(truth: Counter[str], n: int) -> Floats:
        counts = [float(truth[label]) for label in labels]
        return np.array([*counts, n - sum(counts)])

    exact_r, exact_c = coarse(truth_r, 60_000), coarse(truth_c, 40_000)
    exact_js = float(distance.jensenshannon(exact_r / 60_000, exact_c / 40_000, base=2.0))
    exact_chi = scipy_stats.chi2_contingency(np.vstack((exact_r, exact_c)), correction=False)
    exact_v = math.sqrt(exact_chi.statistic / 100_000)
    ours_js = jensen_shannon_from_profiles(ref, cur).statistic
    ours_v = chi_square_from_profiles(ref, cur).effect_size
    assert ours_v is not None
    assert abs(ours_js - exact_js) <= 0.01  # measured 0.0013 to 0.0025 over 3 seeds
    assert abs(ours_v - exact_v) <= 0.01
    # pooling labels never increases an f-divergence: below the all-label distance
    all_labels = stats.jensen_shannon_distance(reference, current, kind="categorical")
    assert exact_js <= all_labels.statistic
    assert profile_error_bound("jensen_shannon", ref, cur) is None


def test_an_empty_or_all_missing_side_is_a_finding_not_a_crash() -> None:
    full = profile_column(np.random.default_rng(15).normal(size=5_000), "numeric", name="x")
    empty = profile_column(np.array([]), "numeric", name="x")
    missing = profile_column(np.full(10, np.nan), "numeric", name="x")
    only_inf = profile_column(np.array([np.inf, -np.inf]), "numeric", name="x")
    drift = column_drift_from_profiles(full, empty)
    assert drift.finding == "not enough data: the current window is empty"
    assert (drift.drifted, drift.statistic, drift.missing_current) == (False, None, None)
    drift = column_drift_from_profiles(missing, full)
    assert drift.finding == "all missing in the reference window (10 rows)"
    config = DriftConfig(numeric_method="wasserstein")
    drift = column_drift_from_profiles(full, only_inf, config=config)
    assert drift.finding is not None and "0 finite values" in drift.finding
    with pytest.raises(MonitoringError, match="not enough data in the current sample"):
        ks_from_profiles(full, empty)
    with pytest.raises(MonitoringError, match="categorical profile"):
        ks_from_profiles(full, profile_column(["a"], "categorical", name="x"))


def test_column_drift_from_profiles_agrees_with_compute_drift(make_frame: FrameMaker) -> None:
    reference = make_frame(30_000, shifted=False, seed=21)
    current = make_frame(20_000, shifted=True, seed=22)
    schema = Schema(
        (
            ColumnSchema("age", LogicalType.FLOAT, nullable=True),
            ColumnSchema("income", LogicalType.FLOAT, nullable=True),
            ColumnSchema("city", LogicalType.CATEGORICAL, nullable=True),
            ColumnSchema("children", LogicalType.INTEGER, nullable=True),
            ColumnSchema("member", LogicalType.BOOLEAN, nullable=False),
        )
    )
    kinds: dict[str | int, ProfileKind] = {"age": "numeric", "income": "numeric"}
    kinds["city"] = "categorical"
    kinds["children"] = "categorical"  # <= 5 distinct integers: compute_drift tests it so
    kinds["member"] = "categorical"
    exact = compute_drift(reference, current, schema)
    ref = profile_frame(reference, kinds, chunk_rows=4_096)
    cur = profile_frame(current, kinds, chunk_rows=4_096)
    drifted = []
    for truth in exact.columns:
        ours = column_drift_from_profiles(ref[truth.name], cur[truth.name])
        assert (ours.name, ours.kind, ours.method) == (truth.name, truth.kind, truth.method)
        assert ours.statistic == pytest.approx(truth.statistic, abs=0.01)
        assert ours.effect_size == pytest.approx(truth.effect_size, abs=0.01)
        assert (ours.n_reference, ours.n_current) == (truth.n_reference, truth.n_current)
        assert ours.missing_current == truth.missing_current
        drifted += [ours.name] if ours.drifted else []
    assert drifted == exact.drifted_columns == ["income", "city"]


# -- bounded memory ----------------------------------------------------------------

_ROWS, _CHUNK = 10_000_000, 100_000
_PEAK_BYTES = 40 * 2**20
"""40 MiB. One 10M-row float64 column alone is 76 MiB, so any code that gathered
the column (or the data) would fail; one 100k-row chunk of the three columns
below is about 2.5 MiB plus pandas temporaries of the same order."""


def _stream() -> Iterator[pd.DataFrame]:
    rng = np.random.default_rng(42)
    levels = np.array(["red", "green", "blue", "black"], dtype=object)
    for _ in range(_ROWS // _CHUNK):
        x = rng.normal(0.0, 1.0, _CHUNK)
        x[rng.random(_CHUNK) < 0.01] = np.nan
        codes = rng.integers(0, 4, _CHUNK)
        yield pd.DataFrame(
            {
                "x": x,
                "n": rng.integers(0, 1_000_000, _CHUNK),
                "colour": pd.Categorical.from_codes(codes, categories=levels),
            }
        )


def test_ten_million_rows_stream_through_in_bounded_memory() -> None:
    kinds: dict[str | int, ProfileKind] = {"x": "numeric", "n": "numeric"}
    kinds["colour"] = "categorical"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        profile = profile_frame(_stream(), kinds, chunk_rows=_CHUNK)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    print(f"10M rows: peak traced {peak / 2**20:.1f} MiB, {elapsed:.1f} s")
    assert peak < _PEAK_BYTES
    assert profile.n_rows == _ROWS
    x = profile["x"]
    assert x.count == _ROWS and 0.0099 * _ROWS < x.missing < 0.0101 * _ROWS
    assert sum(profile["colour"].category_counts().values()) == _ROWS
    # the sketches (C++, not traced) stay small: their serialised size bounds them
    assert len(profile.to_json()) < 200_000
    # quantiles of N(0, 1): rank error of the sketch + sampling error (< 1e-3 at 10M)
    ranks = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
    true_ranks = scipy_stats.norm.cdf(x.quantiles(ranks))
    assert np.max(np.abs(true_ranks - ranks)) <= x.rank_error() + 1e-3
    assert math.isclose(x.std or 0.0, 1.0, abs_tol=1e-3)


def test_drift_from_chained_merges_stays_within_the_bound() -> None:
    """Regression: datasketches' iterator reports wrong weights after a merge; counts now
    come from rank queries. 20 profiles of 2,000 rows merged one by one, as the
    prediction log's files are, against one of 20,000 rows from the same distribution."""
    from loopml.monitoring.profile import ks_from_profiles, profile_error_bound
    from loopml.stats import ks_test, wasserstein_distance_norm

    rng = np.random.default_rng(1)
    parts = [rng.normal(size=2000) for _ in range(20)]
    merged = merge_all([profile_column(pd.Series(x), "numeric") for x in parts])
    current_values = rng.normal(size=20_000)
    current = profile_column(pd.Series(current_values), "numeric")
    everything = np.concatenate(parts)
    ks = ks_from_profiles(merged, current)
    exact = ks_test(everything, current_values)
    bound = profile_error_bound("ks", merged, current)
    assert bound is not None and abs(ks.statistic - exact.statistic) <= bound
    drift = column_drift_from_profiles(merged, current)
    assert drift.drifted is False
    w1 = wasserstein_distance_norm(everything, current_values).statistic
    assert drift.method in ("wasserstein", "ks")
    if drift.method == "wasserstein":
        assert drift.statistic == pytest.approx(w1, abs=0.01)
