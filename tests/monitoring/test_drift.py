from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from loopml.errors import MonitoringError
from loopml.monitoring import DriftConfig, compute_drift
from loopml.schema import ColumnSchema, LogicalType, Schema, infer_schema

FrameMaker = Callable[..., pd.DataFrame]


def test_small_reference_detects_exactly_the_two_shifted_columns(
    schema: Schema, make_frame: FrameMaker
) -> None:
    reference = make_frame(500, shifted=False, seed=1)
    current = make_frame(400, shifted=True, seed=2)
    report = compute_drift(reference, current, schema)
    by_name = {c.name: c for c in report.columns}
    assert [c.name for c in report.columns] == [
        "age",
        "income",
        "city",
        "children",
        "member",
        "customer_id",
    ]  # schema order, target excluded
    assert report.drifted_columns == ["income", "city"]
    assert {by_name[n].method for n in ("age", "income")} == {"ks"}
    assert {by_name[n].method for n in ("city", "children")} == {"chi_square"}
    assert by_name["member"].method == "two_proportion_z"  # boolean: two categories
    assert by_name["children"].kind == "categorical"  # 4 distinct integers <= 5
    assert by_name["customer_id"].finding == "column is missing from the reference window"
    assert report.n_tested == 5
    assert report.n_drifted == 2
    assert report.share_drifted == pytest.approx(0.4)
    assert report.dataset_drift is False  # 0.4 < 0.5
    assert (report.n_reference, report.n_current) == (500, 400)


def test_large_reference_uses_distances_and_detects_the_same_columns(
    schema: Schema, make_frame: FrameMaker
) -> None:
    reference = make_frame(3000, shifted=False, seed=3)
    current = make_frame(2000, shifted=True, seed=4)
    report = compute_drift(reference, current, schema, config=DriftConfig(drift_share=0.4))
    by_name = {c.name: c for c in report.columns}
    assert report.drifted_columns == ["income", "city"]
    assert by_name["income"].method == "wasserstein"
    assert by_name["income"].p_value is None
    assert by_name["city"].method == "jensen_shannon"
    assert report.dataset_drift is True  # 0.4 >= 0.4


def test_same_distribution_does_not_drift(schema: Schema, make_frame: FrameMaker) -> None:
    report = compute_drift(
        make_frame(800, shifted=False, seed=5), make_frame(800, shifted=False, seed=6), schema
    )
    assert report.drifted_columns == []
    assert report.dataset_drift is False


def test_with_inferred_schema_and_extra_log_columns(make_frame: FrameMaker) -> None:
    reference = make_frame(500, shifted=False, seed=1)
    current = make_frame(400, shifted=True, seed=2).assign(
        request_id=[f"r{i}" for i in range(400)], score=np.linspace(0, 1, 400)
    )
    report = compute_drift(reference, current, infer_schema(reference))
    assert report.drifted_columns == ["income", "city"]
    assert "score" not in [c.name for c in report.columns]


def test_columns_subset_and_unknown_column(schema: Schema, make_frame: FrameMaker) -> None:
    reference = make_frame(300, shifted=False, seed=1)
    current = make_frame(300, shifted=True, seed=2)
    report = compute_drift(reference, current, schema, columns=["city", "age"])
    assert [c.name for c in report.columns] == ["city", "age"]
    with pytest.raises(MonitoringError, match="nope"):
        compute_drift(reference, current, schema, columns=["nope"])


def test_all_missing_and_absent_columns_become_findings(
    schema: Schema, make_frame: FrameMaker
) -> None:
    reference = make_frame(300, shifted=False, seed=1)
    current = make_frame(300, shifted=False, seed=2).drop(columns=["member"])
    current["age"] = np.nan
    report = compute_drift(reference, current, schema)
    by_name = {c.name: c for c in report.columns}
    assert by_name["age"].finding == "all missing in the current window (300 rows)"
    assert by_name["age"].missing_current == 1.0
    assert by_name["age"].drifted is False
    assert by_name["member"].finding == "column is missing from the current window"
    assert report.n_tested == 3  # income, city, children
    assert set(report.findings) == {"age", "member", "customer_id"}


def test_empty_current_window(schema: Schema, make_frame: FrameMaker) -> None:
    reference = make_frame(100, shifted=False, seed=1)
    report = compute_drift(reference, reference.iloc[:0], schema)
    assert report.n_tested == 0
    assert report.share_drifted == 0.0
    assert report.dataset_drift is False
    present = [c for c in report.columns if c.name in reference.columns]
    assert present and all(c.finding and "empty" in c.finding for c in present)


def test_unseen_category_in_current_is_tested(schema: Schema, make_frame: FrameMaker) -> None:
    reference = pd.DataFrame({"city": ["paris", "lyon"] * 50})
    current = pd.DataFrame({"city": ["paris", "lyon", "berlin", "berlin"] * 25})
    report = compute_drift(reference, current, schema, columns=["city"])
    (city,) = report.columns
    assert city.statistic is not None and math.isfinite(city.statistic)
    assert city.drifted is True


def test_infinite_values_do_not_break_the_report() -> None:
    schema = Schema(columns=(ColumnSchema("x", LogicalType.FLOAT, nullable=True),))
    reference = pd.DataFrame({"x": np.arange(2000.0)})
    current = pd.DataFrame({"x": [np.inf, -np.inf, np.nan]})
    (x,) = compute_drift(reference, current, schema).columns
    assert x.method == "wasserstein"
    assert x.finding is not None and "0 finite values" in x.finding
    assert x.missing_current == pytest.approx(1 / 3)


def test_to_dict_is_strict_json(schema: Schema, make_frame: FrameMaker) -> None:
    reference = make_frame(300, shifted=False, seed=1)
    current = make_frame(300, shifted=True, seed=2)
    current["age"] = np.nan
    data = compute_drift(reference, current, schema).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["drifted_columns"] == ["income", "city"]
    assert data["n_columns"] == 6
    age = next(c for c in data["columns"] if c["name"] == "age")
    assert age["statistic"] is None and age["p_value"] is None
