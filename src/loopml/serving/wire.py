"""Wire shapes of the model server: pydantic request/response schemas and strict JSON.

Request bodies are parsed by the ``parse_*`` functions rather than by FastAPI, so that
malformed JSON, a bare list of records and ``NaN`` literals are all handled
the same way, and every refusal is a :mod:`loopml.errors` exception that
:mod:`loopml.serving.errors` maps to a JSON error response.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loopml.errors import DataError, SchemaViolationError
from loopml.schema.violation import Violation, ViolationKind

__all__ = [
    "FeedbackItem",
    "FeedbackRequest",
    "FeedbackResponse",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InferTensor",
    "PredictRequest",
    "PredictResponse",
    "StrictJSONResponse",
    "decode_json",
    "parse_feedback",
    "parse_infer",
    "parse_predict",
    "to_jsonable",
    "validate",
]

Scalar = str | int | float | bool | None
"""A JSON scalar: the only thing a feature value, prediction or label may be."""


class PredictRequest(BaseModel):
    """``POST /predict`` body: ``{"records": [{column: value, ...}, ...]}``.

    A bare JSON list of records is accepted too (see :func:`parse_predict`).
    Rows are validated against the model's schema later, by
    :func:`loopml.schema.conform`.
    """

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]]


class PredictResponse(BaseModel):
    """``POST /predict`` answer; ``version`` is the model version that computed it."""

    model: str
    version: int
    predictions: list[Any]
    scores: list[float | None] | None
    request_ids: list[str]


class FeedbackItem(BaseModel):
    """Ground truth for one logged prediction; ``timestamp`` defaults to now (UTC)."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1)
    label: Scalar
    timestamp: dt.datetime | None = None


class FeedbackRequest(BaseModel):
    """``POST /feedback`` body with several items: ``{"feedback": [{...}, ...]}``."""

    model_config = ConfigDict(extra="forbid")
    feedback: list[FeedbackItem] = Field(min_length=1)


class FeedbackResponse(BaseModel):
    """How many feedback rows were appended to the log."""

    model: str
    accepted: int


class InferTensor(BaseModel):
    """One Open Inference Protocol input tensor (KServe v2 REST)."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    """``POST /v2/models/{name}/infer`` body."""

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[InferTensor] = Field(min_length=1)
    outputs: list[dict[str, Any]] | None = None


class InferOutput(BaseModel):
    """One Open Inference Protocol output tensor."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferResponse(BaseModel):
    """``POST /v2/models/{name}/infer`` answer."""

    model_name: str
    model_version: str
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[InferOutput]


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types.

    numpy scalars and arrays become Python numbers and lists, pydantic models
    their dumps, datetimes ISO-8601 strings, and ``NaN``, ``inf``, ``NaT`` and
    ``pd.NA`` become ``None``, so the result always encodes as strict JSON.
    """
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return None if pd.isna(value) else value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


class StrictJSONResponse(JSONResponse):
    """A JSON response that never emits ``NaN``/``Infinity`` and accepts numpy values."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            to_jsonable(content), allow_nan=False, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")


_M = TypeVar("_M", bound=BaseModel)


def _nan_as_null(constant: str) -> float | None:
    """``json.loads`` hook: ``NaN`` means missing; ``Infinity`` stays a (refused) number."""
    return None if constant == "NaN" else float(constant)


def decode_json(body: bytes) -> Any:
    """Decode a JSON request body; a ``NaN`` literal is read as null (missing).

    Raises
    ------
    DataError
        The body is empty or not JSON (HTTP 400).
    """
    if not body.strip():
        raise DataError("request body is empty; send a JSON object")
    try:
        return json.loads(body, parse_constant=_nan_as_null)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"request body is not valid JSON: {error}") from None


def validate(data: Any, model: type[_M]) -> _M:
    """Validate decoded JSON against a wire model.

    Raises
    ------
    SchemaViolationError
        The JSON does not have the expected shape; each violation names the
        offending field path, e.g. ``records.2`` (HTTP 422).
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SchemaViolationError(_shape_violations(error)) from None


def _shape_violations(error: ValidationError) -> list[Violation]:
    violations = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        rows = tuple(p for p in item["loc"] if isinstance(p, int))[:1]
        violations.append(
            Violation(
                column=".".join(location) or "<body>",
                kind=ViolationKind.WRONG_TYPE,
                count=1,
                rows=rows,
                detail=f"{item['msg']} ({item['type']})",
            )
        )
    return violations


def parse_predict(body: bytes) -> list[dict[str, Any]]:
    """The records of a ``/predict`` body: ``{"records": [...]}`` or a bare list."""
    data = decode_json(body)
    if isinstance(data, list):
        data = {"records": data}
    return validate(data, PredictRequest).records


def parse_feedback(body: bytes) -> list[FeedbackItem]:
    """The items of a ``/feedback`` body: one item or ``{"feedback": [...]}``."""
    data = decode_json(body)
    if isinstance(data, dict) and "feedback" in data:
        return validate(data, FeedbackRequest).feedback
    return [validate(data, FeedbackItem)]


def parse_infer(body: bytes) -> InferRequest:
    """An Open Inference Protocol ``infer`` body."""
    return validate(decode_json(body), InferRequest)
