from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from loopml.errors import DataError, SchemaViolationError
from loopml.schema import (
    ColumnSchema,
    LogicalType,
    Schema,
    ViolationKind,
    conform,
    infer_schema,
    validate,
)


def _schema() -> Schema:
    return Schema(
        (
            ColumnSchema("distance", LogicalType.INTEGER, False, 17.0, 4983.0),
            ColumnSchema("temp", LogicalType.FLOAT, True, 10.0, 100.0),
            ColumnSchema("carrier", LogicalType.CATEGORICAL, False, categories=("AA", "UA")),
            ColumnSchema("holiday", LogicalType.BOOLEAN, True),
            ColumnSchema("when", LogicalType.DATETIME, False, timezone="UTC"),
            ColumnSchema("delayed", LogicalType.INTEGER, False, 0.0, 1.0),
        ),
        target="delayed",
    )


def test_records_become_typed_frame_in_schema_order_without_target() -> None:
    records = [
        {
            "when": "2013-01-01T10:00:00Z",
            "carrier": "UA",
            "distance": 1400,
            "temp": 39,
            "holiday": 0,
        },
        {"when": "2013-01-01T05:00:00-05:00", "carrier": "AA", "distance": 1089.0, "temp": None},
    ]
    out = conform(records, _schema())
    assert list(out.columns) == ["distance", "temp", "carrier", "holiday", "when"]
    assert out.dtypes.astype(str).tolist() == [
        "Int64",
        "float64",
        "object",
        "boolean",
        out["when"].dtype.name,
    ]
    assert str(out["when"].dtype.tz) == "UTC"
    assert out["distance"].tolist() == [1400, 1089]
    assert out["temp"].iloc[0] == 39.0 and np.isnan(out["temp"].iloc[1])
    assert out["holiday"].iloc[0] is not pd.NA and not out["holiday"].iloc[0]
    assert out["holiday"].isna().tolist() == [False, True]
    assert (out["when"].iloc[0] == out["when"].iloc[1]) and out["when"].iloc[0].hour == 10
    assert list(out.index) == [0, 1]


def test_unknown_category_and_out_of_range_do_not_block() -> None:
    records = [{"when": "2013-01-01", "carrier": "ZZ", "distance": 99999, "temp": 500.0}]
    out = conform(records, _schema())
    assert out["carrier"].tolist() == ["ZZ"]
    kinds = {v.kind for v in validate(out, _schema())}
    assert kinds == {ViolationKind.UNKNOWN_CATEGORY, ViolationKind.OUT_OF_RANGE}


def test_blocking_violations_name_column_and_row() -> None:
    records = [
        {"when": "2013-01-01", "carrier": "AA", "distance": 10, "temp": 1.0},
        {"when": "2013-01-01", "carrier": None, "distance": 10, "temp": "abc"},
    ]
    with pytest.raises(SchemaViolationError) as caught:
        conform(records, _schema())
    found = {(v.column, v.kind.value, v.rows) for v in caught.value.violations}
    assert found == {("temp", "wrong_type", (1,)), ("carrier", "null_in_non_nullable", (1,))}
    assert "column 'temp': wrong_type" in str(caught.value)
    assert "'abc'" in str(caught.value)


def test_missing_required_column_blocks_missing_nullable_column_is_filled() -> None:
    records = [{"when": "2013-01-01", "carrier": "AA", "temp": 1.0}]
    with pytest.raises(SchemaViolationError) as caught:
        conform(records, _schema())
    (violation,) = caught.value.violations
    assert (violation.column, violation.kind) == ("distance", ViolationKind.MISSING_COLUMN)
    out = conform([{"when": "2013-01-01", "carrier": "AA", "distance": 5}], _schema())
    assert out["temp"].isna().all() and out["holiday"].isna().all()


def test_key_missing_in_some_records_is_a_null() -> None:
    records = [
        {"when": "2013-01-01", "carrier": "AA", "distance": 5},
        {"when": "2013-01-01", "carrier": "AA"},
    ]
    with pytest.raises(SchemaViolationError) as caught:
        conform(records, _schema())
    assert [(v.column, v.kind.value, v.rows) for v in caught.value.violations] == [
        ("distance", "null_in_non_nullable", (1,))
    ]


def test_frame_input_keeps_index_drops_extra_columns() -> None:
    frame = pd.DataFrame(
        {
            "extra": ["x", "y"],
            "when": pd.to_datetime(["2013-01-01", "2013-01-02"]),
            "carrier": pd.Categorical(["AA", "UA"]),
            "distance": np.array([1, 2], dtype=np.int16),
            "temp": np.array([1.5, np.nan], dtype=np.float32),
            "holiday": [True, False],
            "delayed": [0, 1],
        },
        index=[7, 9],
    )
    out = conform(frame, _schema())
    assert list(out.index) == [7, 9]
    assert "extra" not in out.columns and "delayed" not in out.columns
    assert out["carrier"].tolist() == ["AA", "UA"]
    assert out["when"].dt.tz is not None  # naive times read as the schema's zone


def test_arrow_table_and_integer_labels() -> None:
    frame = pd.DataFrame(np.arange(4.0).reshape(2, 2))
    schema = infer_schema(frame)
    out = conform([{"0": 1, "1": 2.5}], schema)
    assert list(out.columns) == [0, 1] and out.iloc[0].tolist() == [1.0, 2.5]
    table = pa.table({"0": [1.0], "1": [2.0]})
    assert conform(table, schema).iloc[0].tolist() == [1.0, 2.0]


def test_conform_of_every_awkward_frame_round_trips(awkward_frame: pd.DataFrame) -> None:
    schema = infer_schema(awkward_frame)
    out = conform(awkward_frame, schema)
    assert list(out.columns) == list(schema.names)
    assert len(out) == len(awkward_frame)
    assert validate(out, schema) == []
    records = awkward_frame.astype(object).where(awkward_frame.notna(), None).to_dict("records")
    assert validate(conform(records, schema), schema) == []


def test_empty_records_give_empty_typed_frame() -> None:
    out = conform([], _schema())
    assert len(out) == 0 and list(out.columns) == list(_schema().feature_names)
    assert str(out["temp"].dtype) == "float64"


@pytest.mark.parametrize("bad", [{"a": 1}, "text", 42])
def test_rejects_what_is_not_records(bad: object) -> None:
    with pytest.raises(DataError, match="list of records"):
        conform(bad, _schema())


def test_rejects_non_mapping_record_with_position() -> None:
    with pytest.raises(DataError, match="row 1"):
        conform([{"distance": 1}, [1, 2]], _schema())
