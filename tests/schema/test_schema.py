from __future__ import annotations

import json

import pandas as pd
import pytest

from loopml.errors import DataError
from loopml.schema import ColumnSchema, LogicalType, Schema, infer_schema


def _schema() -> Schema:
    return Schema(
        (
            ColumnSchema(0, LogicalType.FLOAT, True, -1.5, float("inf")),
            ColumnSchema("carrier", LogicalType.CATEGORICAL, False, categories=("AA", "UA")),
            ColumnSchema("t", LogicalType.DATETIME, False, timezone="UTC"),
            ColumnSchema("delayed", LogicalType.INTEGER, False, 0.0, 1.0),
        ),
        target="delayed",
    )


def test_json_round_trip_keeps_integer_labels_infinite_bounds_and_target() -> None:
    schema = _schema()
    text = schema.to_json()
    assert "Infinity" not in text  # strict JSON
    back = Schema.from_json(text)
    assert back == schema
    assert back.columns[0].name == 0 and isinstance(back.columns[0].name, int)
    assert back.columns[0].maximum == float("inf")
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_round_trip_of_every_awkward_inferred_schema(awkward_frame: pd.DataFrame) -> None:
    schema = infer_schema(awkward_frame)
    assert Schema.from_json(schema.to_json()) == schema


def test_names_features_and_lookup() -> None:
    schema = _schema()
    assert schema.names == (0, "carrier", "t", "delayed")
    assert schema.feature_names == (0, "carrier", "t")
    assert schema["carrier"].categories == ("AA", "UA")
    assert schema[0].logical_type is LogicalType.FLOAT
    assert 0 in schema and "0" not in schema
    assert len(schema) == 4
    with pytest.raises(KeyError, match="'nope'"):
        schema["nope"]
    with pytest.raises(KeyError):
        schema["0"]


def test_select_keeps_order_and_drops_unselected_target() -> None:
    sub = _schema().select(["t", 0])
    assert sub.names == ("t", 0)
    assert sub.target is None
    assert _schema().select(["carrier", "delayed"]).target == "delayed"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["columns"][1].update(logical_type="text"), "unknown logical type 'text'"),
        (lambda d: d["columns"][1].pop("nullable"), "lacks field 'nullable'"),
        (lambda d: d["columns"].append(dict(d["columns"][1])), "repeats column"),
        (lambda d: d.update(target="nope"), "target 'nope'"),
        (lambda d: d.update(format_version=99), "format_version 99"),
        (lambda d: d["columns"][0].update(minimum="low"), "minimum must be a number"),
    ],
)
def test_from_dict_rejects_malformed_input(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _schema().to_dict()
    mutate(data)
    with pytest.raises(DataError, match=message):
        Schema.from_dict(data)


def test_from_json_rejects_non_json() -> None:
    with pytest.raises(DataError, match="not valid JSON"):
        Schema.from_json("{nope")


def test_logical_type_compares_to_string() -> None:
    assert LogicalType.CATEGORICAL == "categorical"
    assert LogicalType("datetime") is LogicalType.DATETIME
