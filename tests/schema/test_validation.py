from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.schema import ColumnSchema, LogicalType, Schema, ViolationKind, infer_schema, validate


def test_every_frame_validates_against_its_own_schema(awkward_frame: pd.DataFrame) -> None:
    assert validate(awkward_frame, infer_schema(awkward_frame)) == []


def _contract() -> Schema:
    return Schema(
        (
            ColumnSchema("n", LogicalType.INTEGER, False, 0.0, 10.0),
            ColumnSchema("f", LogicalType.FLOAT, True, 0.0, 1.0),
            ColumnSchema("c", LogicalType.CATEGORICAL, True, categories=("a", "b")),
            ColumnSchema("y", LogicalType.INTEGER, False, 0.0, 1.0),
        ),
        target="y",
    )


def test_reports_each_kind_with_rows_and_counts() -> None:
    frame = pd.DataFrame(
        {
            "extra": [1, 2, 3, 4],
            "n": pd.Series([1, "abc", None, 11], dtype=object),
            "f": [0.5, 2.0, np.nan, -1.0],
            "c": ["a", "zz", None, "zz"],
        }
    )
    found = {(v.column, v.kind): v for v in validate(frame, _contract())}
    assert set(found) == {
        ("n", ViolationKind.WRONG_TYPE),
        ("n", ViolationKind.NULL_IN_NON_NULLABLE),
        ("n", ViolationKind.OUT_OF_RANGE),
        ("f", ViolationKind.OUT_OF_RANGE),
        ("c", ViolationKind.UNKNOWN_CATEGORY),
        ("extra", ViolationKind.UNEXPECTED_COLUMN),
    }  # target 'y' may be absent
    assert found["n", ViolationKind.WRONG_TYPE].rows == (1,)
    assert "'abc'" in found["n", ViolationKind.WRONG_TYPE].detail
    assert found["n", ViolationKind.NULL_IN_NON_NULLABLE].rows == (2,)
    assert found["n", ViolationKind.OUT_OF_RANGE].rows == (3,)
    assert found["f", ViolationKind.OUT_OF_RANGE].count == 2
    assert found["f", ViolationKind.OUT_OF_RANGE].rows == (1, 3)
    assert found["c", ViolationKind.UNKNOWN_CATEGORY].rows == (1, 3)
    assert "'zz'" in found["c", ViolationKind.UNKNOWN_CATEGORY].detail


def test_missing_column_and_row_positions_ignore_the_index() -> None:
    frame = pd.DataFrame({"n": [1, 99]}, index=[10, 20])
    violations = validate(frame, _contract())
    assert [(v.column, v.kind.value, v.rows) for v in violations] == [
        ("n", "out_of_range", (1,)),
        # f and c are nullable but still columns of the contract
        ("f", "missing_column", ()),
        ("c", "missing_column", ()),
    ]
    assert violations[1].count == 2


def test_max_examples_limits_rows_not_count() -> None:
    frame = pd.DataFrame({"n": list(range(100, 120))})
    (violation,) = [v for v in validate(frame, _contract()) if v.column == "n"]
    assert violation.count == 20
    assert violation.rows == (0, 1, 2, 3, 4)
    assert validate(frame, _contract(), max_examples=2)[0].rows == (0, 1)


def test_coercions_a_json_client_relies_on() -> None:
    ints = pd.DataFrame({"x": [1, 2]})
    floats_integral = pd.DataFrame({"x": [1.0, 2.0]})
    float_schema = Schema((ColumnSchema("x", LogicalType.FLOAT, False),))
    int_schema = Schema((ColumnSchema("x", LogicalType.INTEGER, False),))
    bool_schema = Schema((ColumnSchema("x", LogicalType.BOOLEAN, False),))
    assert validate(ints, float_schema) == []
    assert validate(floats_integral, int_schema) == []
    assert validate(pd.DataFrame({"x": [0, 1]}), bool_schema) == []
    (violation,) = validate(pd.DataFrame({"x": [1.0, 2.5]}), int_schema)
    assert violation.kind is ViolationKind.WRONG_TYPE and violation.rows == (1,)
    (violation,) = validate(pd.DataFrame({"x": [0, 2]}), bool_schema)
    assert violation.kind is ViolationKind.WRONG_TYPE and violation.rows == (1,)
    # booleans are not numbers, strings are not numbers
    assert validate(pd.DataFrame({"x": [True, False]}), float_schema)[0].kind == "wrong_type"
    assert validate(pd.DataFrame({"x": ["1.5"]}), float_schema)[0].kind == "wrong_type"


def test_categorical_accepts_integer_labels_and_category_dtype() -> None:
    schema = Schema((ColumnSchema("c", LogicalType.CATEGORICAL, False, categories=("1", "2")),))
    assert validate(pd.DataFrame({"c": [1, 2]}), schema) == []
    assert validate(pd.DataFrame({"c": pd.Categorical(["1", "2"])}), schema) == []
    (violation,) = validate(pd.DataFrame({"c": pd.Categorical(["1", "3"])}), schema)
    assert violation.kind is ViolationKind.UNKNOWN_CATEGORY and violation.rows == (1,)
    (violation,) = validate(pd.DataFrame({"c": [1.5, 2.0]}), schema)
    assert violation.kind is ViolationKind.WRONG_TYPE and violation.count == 2


def test_datetime_strings_and_bad_timestamps() -> None:
    schema = Schema((ColumnSchema("t", LogicalType.DATETIME, True, timezone="UTC"),))
    frame = pd.DataFrame({"t": ["2013-01-01T10:00:00Z", None, "not a date", 5]})
    (violation,) = validate(frame, schema)
    assert violation.kind is ViolationKind.WRONG_TYPE
    assert violation.rows == (2, 3)


def test_integer_label_found_by_its_text() -> None:
    schema = infer_schema(pd.DataFrame({0: [1.0, 2.0]}))
    assert validate(pd.DataFrame({"0": [1.5]}), schema) == []


def test_violation_text_names_column_and_rows() -> None:
    (violation,) = validate(pd.DataFrame({"n": [1, None]}), _contract().select(["n"]))
    assert str(violation) == (
        "column 'n': null_in_non_nullable in 1 row(s) (e.g. row 1): "
        "missing value in non-nullable column"
    )
    assert violation.to_dict()["rows"] == [1]


def test_rejects_non_frames() -> None:
    from loopml.errors import DataError

    with pytest.raises(DataError):
        validate({"n": [1]}, _contract())  # type: ignore[arg-type]
