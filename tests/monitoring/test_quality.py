"""Data quality per window: missing-rate change, out-of-range, unknown-category, violations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from loopml.monitoring.quality import data_quality
from loopml.schema import infer_schema


@pytest.fixture
def reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [10.0, 20.0, 30.0, 40.0],
            "plan": pd.Categorical(["basic", "pro", "basic", "team"]),
            "visits": [1, 2, 3, None],
        }
    )


def test_shares_by_hand(reference: pd.DataFrame) -> None:
    current = pd.DataFrame(
        {
            "amount": [5.0, 25.0, 45.0, np.nan, 30.0],  # 2 of 4 present values out of [10, 40]
            "plan": ["basic", "gold", "gold", "pro", None],  # 2 of 4 unknown
            "visits": [1, 2, 3, 4, 5],  # 4 and 5 above the reference maximum 3
            "request_id": list("abcde"),  # the log's own columns are ignored
        }
    )
    report = data_quality(reference, current, infer_schema(reference))
    by = {c.name: c for c in report.columns}
    assert by["amount"].missing_current == pytest.approx(0.2)
    assert by["amount"].missing_change == pytest.approx(0.2)
    assert by["amount"].out_of_range_share == pytest.approx(0.5)
    assert by["amount"].unknown_category_share is None  # no categories in the contract
    assert by["plan"].unknown_category_share == pytest.approx(0.5)
    assert by["plan"].out_of_range_share is None
    assert by["visits"].missing_change == pytest.approx(-0.25)
    assert by["visits"].out_of_range_share == pytest.approx(0.4)
    assert report.violations["out_of_range"] == 4
    assert report.violations["unknown_category"] == 2
    assert report.schema_violation_count == sum(report.violations.values())
    assert "unexpected_column" not in report.violations


def test_wrong_types_are_counted_not_raised(reference: pd.DataFrame) -> None:
    current = pd.DataFrame(
        {"amount": [10.0, "ten", "x", 20.0], "plan": ["basic"] * 4, "visits": [1] * 4}
    )
    column = data_quality(reference, current, infer_schema(reference)).columns[0]
    assert column.wrong_type_share == pytest.approx(0.5)
    assert column.out_of_range_share == pytest.approx(0.0)


def test_empty_missing_and_all_missing_windows_give_findings(reference: pd.DataFrame) -> None:
    schema = infer_schema(reference)
    empty = data_quality(reference, reference.iloc[:0], schema)
    assert {c.finding for c in empty.columns} == {"the current window is empty"}
    assert empty.schema_violation_count == 0
    gone = data_quality(reference, reference.drop(columns="plan"), schema)
    assert gone.columns[1].finding == "column is missing from the current window"
    assert gone.violations["missing_column"] >= 1
    blank = reference.assign(amount=np.nan)
    column = data_quality(reference, blank, schema).columns[0]
    assert column.finding == "all missing in the current window (4 rows)"
    assert column.out_of_range_share is None and column.missing_current == 1.0
    text = json.dumps(data_quality(reference, blank, schema).to_dict(), allow_nan=False)
    assert "NaN" not in text
