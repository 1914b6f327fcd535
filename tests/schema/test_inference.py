from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.errors import DataError
from loopml.schema import LogicalType, infer_schema


def _types(frame: pd.DataFrame) -> dict[object, str]:
    return {c.name: c.logical_type.value for c in infer_schema(frame).columns}


def test_logical_types_by_dtype() -> None:
    frame = pd.DataFrame(
        {
            "int": np.array([1, 2, 3], dtype=np.int16),
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "float": [0.5, 1.0, np.nan],
            "bool": [True, False, True],
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "cat": pd.Categorical(["a", "b", "a"]),
            "low_card": ["x", "y", "x"],
            "when": pd.to_datetime(["2013-01-01", "2013-01-02", "2013-01-03"]).tz_localize("UTC"),
        }
    )
    assert _types(frame) == {
        "int": "integer",
        "nullable_int": "integer",
        "float": "float",
        "bool": "boolean",
        "boolean": "boolean",
        "cat": "categorical",
        "low_card": "categorical",
        "when": "datetime",
    }


def test_ranges_nullability_categories_timezone() -> None:
    frame = pd.DataFrame(
        {
            "x": pd.array([4, None, -2], dtype="Int64"),
            "f": [0.25, 9.5, 1.0],
            "c": pd.Categorical(["b", "a", "b"], categories=["b", "a", "unused"]),
            "s": ["y", None, "x"],
            "t": pd.to_datetime(["2013-01-01T10:00Z", "2013-01-01T11:00Z", None]),
        }
    )
    schema = infer_schema(frame, target="f")
    assert (schema["x"].minimum, schema["x"].maximum, schema["x"].nullable) == (-2.0, 4.0, True)
    assert (schema["f"].minimum, schema["f"].maximum, schema["f"].nullable) == (0.25, 9.5, False)
    assert schema["c"].categories == ("b", "a", "unused")  # every dtype level, dtype order
    assert schema["s"].categories == ("x", "y") and schema["s"].nullable
    assert schema["t"].timezone == "UTC" and schema["t"].minimum is None
    assert schema.target == "f" and schema.feature_names == ("x", "c", "s", "t")


def test_cardinality_threshold_splits_categorical_from_string() -> None:
    frame = pd.DataFrame({"s": [f"v{i % 4}" for i in range(20)]})
    assert infer_schema(frame, max_categories=4)["s"].logical_type is LogicalType.CATEGORICAL
    assert infer_schema(frame, max_categories=3)["s"].logical_type is LogicalType.STRING
    assert infer_schema(frame, max_categories=3)["s"].categories is None


def test_integer_labels_stay_integers() -> None:
    schema = infer_schema(pd.DataFrame(np.zeros((2, 3))))
    assert schema.names == (0, 1, 2)


def test_empty_and_all_missing_columns() -> None:
    assert infer_schema(pd.DataFrame()).columns == ()
    schema = infer_schema(pd.DataFrame({"f": [np.nan, np.nan], "o": [None, None]}))
    assert schema["f"].logical_type is LogicalType.FLOAT
    assert (schema["f"].minimum, schema["f"].maximum) == (None, None)
    assert schema["o"].logical_type is LogicalType.STRING and schema["o"].nullable


def test_object_columns_classified_by_values() -> None:
    frame = pd.DataFrame(
        {
            "b": pd.Series([True, None, False], dtype=object),
            "i": pd.Series([1, 2, None], dtype=object),
            "f": pd.Series([1, 2.5, None], dtype=object),
        }
    )
    assert _types(frame) == {"b": "boolean", "i": "integer", "f": "float"}


def test_mixed_object_column_is_refused_with_its_name() -> None:
    with pytest.raises(DataError, match="column 'm'.*float, str"):
        infer_schema(pd.DataFrame({"m": pd.Series(["a", 1.5], dtype=object)}))


def test_bad_input_refused() -> None:
    with pytest.raises(DataError, match="DataFrame"):
        infer_schema([{"a": 1}])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="target column 'y'"):
        infer_schema(pd.DataFrame({"x": [1]}), target="y")
    with pytest.raises(DataError, match="repeats column"):
        infer_schema(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(DataError, match="not supported"):
        infer_schema(pd.DataFrame([[1]], columns=[1.5]))
