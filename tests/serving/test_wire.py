"""Pure checks of the wire layer: strict JSON, body parsing, v2 tensors, error mapping."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from loopml.errors import (
    ConflictError,
    DataError,
    LoopMLError,
    NotFoundError,
    SchemaViolationError,
    ServingError,
)
from loopml.serving import StrictJSONResponse, status_for
from loopml.serving.records import check_records, request_ids_for
from loopml.serving.v2 import datatype_of, tensors_to_records
from loopml.serving.wire import InferTensor, parse_feedback, parse_infer, parse_predict, to_jsonable


def test_strict_json_converts_numpy_and_non_finite() -> None:
    content = {
        "a": np.int64(3),
        "b": np.array([1.5, np.nan, np.inf]),
        "c": pd.Timestamp("2024-01-01T00:00:00Z"),
        "d": [pd.NA, pd.NaT, float("-inf"), np.bool_(True)],
    }
    text = bytes(StrictJSONResponse(content).body).decode()
    assert json.loads(text) == {
        "a": 3,
        "b": [1.5, None, None],
        "c": "2024-01-01T00:00:00+00:00",
        "d": [None, None, None, True],
    }
    assert "NaN" not in text and "Infinity" not in text
    assert to_jsonable(np.float32(0.5)) == 0.5


def test_predict_body_forms() -> None:
    assert parse_predict(b'{"records": [{"x": 1}]}') == [{"x": 1}]
    assert parse_predict(b'[{"x": 1}, {"x": 2}]') == [{"x": 1}, {"x": 2}]
    assert parse_predict(b'[{"x": NaN}]') == [{"x": None}]  # NaN literal = missing
    with pytest.raises(DataError, match="not valid JSON"):
        parse_predict(b'{"records": [')
    with pytest.raises(DataError, match="empty"):
        parse_predict(b"  ")
    with pytest.raises(SchemaViolationError) as caught:
        parse_predict(b'{"records": [{"x": 1}, 7]}')
    assert [v.field for v in caught.value.violations] == ["records.1"]
    assert str(caught.value.violations[0]).startswith("field 'records.1': wrong_type")


def test_feedback_body_forms() -> None:
    one = parse_feedback(b'{"request_id": "r1", "label": 1}')
    assert [(f.request_id, f.label) for f in one] == [("r1", 1)]
    many = parse_feedback(
        b'{"feedback": [{"request_id": "r1", "label": "yes"}, {"request_id": "r2", "label": 0.5}]}'
    )
    assert [f.label for f in many] == ["yes", 0.5]
    with pytest.raises(SchemaViolationError) as caught:
        parse_feedback(b'{"label": 1}')
    assert caught.value.violations[0].field == "request_id"
    assert caught.value.violations[0].kind == "missing_field"
    refused = {
        b'{"request_id": "r", "label": null}': "label",  # no truth is no feedback
        b'{"request_id": "r", "label": NaN}': "label",
        b'{"request_id": "r", "label": Infinity}': "label",
        b'{"request_id": "r", "label": {"a": 1}}': "label",
        b'{"request_id": "r", "label": 100000000000000000000}': "label",
        b'{"request_id": "r", "label": "\\udfff"}': "label",
        b'{"request_id": "", "label": 1}': "request_id",
        b'{"request_id": "  ", "label": 1}': "request_id",
        b'{"request_id": "\\ud800x", "label": 1}': "request_id",
        b'{"feedback": [{"request_id": "r", "label": 1}, {"request_id": "q", "label": NaN}]}': (
            "feedback.1.label"
        ),
    }
    for body, field in refused.items():
        with pytest.raises(SchemaViolationError) as caught:
            parse_feedback(body)
        assert [v.field for v in caught.value.violations] == [field], body


def test_check_records_names_the_column() -> None:
    with pytest.raises(DataError, match="no records"):
        check_records([])
    with pytest.raises(SchemaViolationError) as caught:
        check_records([{"x": 1, "y": 2}, {"x": 2**70, "y": [1]}, {"x": math.inf, "y": 1}])
    found = {v.column: v.rows for v in caught.value.violations}
    assert found == {"x": (1, 2), "y": (1,)}
    with pytest.raises(SchemaViolationError) as caught:
        check_records([{"x": "ok", "dest": "a\ud800"}, {"x": "\udc00", "\ud801": 1}])
    found = {v.column: (v.rows, v.detail) for v in caught.value.violations}
    assert set(found) == {"dest", "x", "\\ud801"}  # the bad column name, escaped
    assert found["dest"][0] == (0,) and "not valid Unicode" in found["dest"][1]
    assert found["x"][0] == (1,) and "column name" in found["\\ud801"][1]


def test_strict_json_escapes_lone_surrogates() -> None:
    body = bytes(StrictJSONResponse({"error": "bad \ud800", "ok": "é"}).body)
    assert json.loads(body) == {"error": "bad \ud800", "ok": "é"}
    assert StrictJSONResponse({"ok": "é"}).body == '{"ok":"é"}'.encode()


def test_request_ids() -> None:
    assert request_ids_for(1, "abc") == ["abc"]
    assert request_ids_for(3, "abc") == ["abc-0", "abc-1", "abc-2"]
    generated = request_ids_for(2, None)
    assert len(set(generated)) == 2 and all(len(i) == 32 for i in generated)


def test_v2_tensors_per_column_and_matrix() -> None:
    columns = [
        InferTensor(name="plan", shape=[2], datatype="BYTES", data=["a", "b"]),
        InferTensor(name="tenure", shape=[2, 1], datatype="INT64", data=[[1], [2]]),
    ]
    assert tensors_to_records(columns, ("plan", "tenure")) == [
        {"plan": "a", "tenure": 1},
        {"plan": "b", "tenure": 2},
    ]
    matrix = [InferTensor(name="input-0", shape=[2, 2], datatype="BYTES", data=["a", 1, "b", 2])]
    assert tensors_to_records(matrix, ("plan", "tenure")) == [
        {"plan": "a", "tenure": 1},
        {"plan": "b", "tenure": 2},
    ]
    with pytest.raises(SchemaViolationError) as caught:
        tensors_to_records(
            [InferTensor(name="tenure", shape=[3], datatype="INT64", data=[1, 2])], ("tenure",)
        )
    assert caught.value.violations[0].column == "tenure"
    with pytest.raises(SchemaViolationError):
        tensors_to_records(
            [
                InferTensor(name="plan", shape=[1], datatype="BYTES", data=["a"]),
                InferTensor(name="tenure", shape=[2], datatype="INT64", data=[1, 2]),
            ],
            ("plan", "tenure"),
        )
    assert (
        parse_infer(
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}'
        ).id
        is None
    )
    assert [datatype_of(v) for v in ([1], [1.5], [True], ["a"])] == [
        "INT64",
        "FP64",
        "BOOL",
        "BYTES",
    ]


def test_status_codes() -> None:
    assert status_for(SchemaViolationError([])) == 422
    assert status_for(DataError("x")) == 400
    assert status_for(NotFoundError("x")) == 404
    assert status_for(ConflictError("x")) == 409
    assert status_for(ServingError("x")) == 503
    assert status_for(LoopMLError("x")) == 500


def test_v2_datatypes_fit_the_column() -> None:
    from loopml.schema import infer_schema
    from loopml.serving.recent_ids import RecentIds
    from loopml.serving.v2 import DATATYPES, accepted_datatypes, check_datatypes

    frame = pd.DataFrame(
        {
            "x": [1.5, 2.0],
            "n": [1, 2],
            "flag": [True, False],
            "city": ["a", "b"],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
        }
    )
    features = infer_schema(frame).features
    by_name = {c.name: accepted_datatypes(c) for c in features}
    assert set(by_name["x"]) == set(by_name["n"]) == set(DATATYPES) - {"BOOL", "BYTES"}
    assert by_name["flag"][0] == "BOOL" and "FP64" not in by_name["flag"]
    assert by_name["when"] == ("BYTES",)

    def tensor(name: str, datatype: str) -> InferTensor:
        return InferTensor(name=name, shape=[1], datatype=datatype, data=[1])

    check_datatypes([tensor("x", "FP32"), tensor("n", "UINT8"), tensor("extra", "BOOL")], features)
    with pytest.raises(SchemaViolationError) as caught:
        check_datatypes([tensor("x", "BYTES"), tensor("flag", "FP64"), tensor("n", "x")], features)
    found = {v.column: v.detail for v in caught.value.violations}
    assert set(found) == {"x", "flag", "n"}
    assert "expected INT8" in found["x"] and "not an Open Inference Protocol" in found["n"]
    with pytest.raises(SchemaViolationError) as caught:
        check_datatypes([InferTensor(name="in", shape=[1, 5], datatype="FP64", data=[])], features)
    assert caught.value.violations[0].field == "inputs.0"
    assert "expected BYTES" in caught.value.violations[0].detail

    ids = RecentIds(capacity=4)
    ids.add(["a", "b", "c"])
    assert ids.count_missing(["a", "c", "z"]) == 1
    ids.add(["d", "e"])  # generations of 2: "a" and "b" are forgotten, the last 2+ kept
    assert ids.count_missing(["d", "e", "c"]) == 0 and ids.count_missing(["a"]) == 1
    assert len(ids) <= 4


def test_binary_float_nan_is_a_missing_value_and_infinity_is_kept() -> None:
    import json as _json

    import numpy as np

    from loopml.serving.v2_binary import decode_binary_request

    raw = np.array([1.5, np.nan, np.inf], dtype="<f8").tobytes()
    header = _json.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "shape": [3],
                    "datatype": "FP64",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    ).encode()
    data = decode_binary_request(header + raw, str(len(header)))
    assert data["inputs"][0]["data"] == [1.5, None, float("inf")]
