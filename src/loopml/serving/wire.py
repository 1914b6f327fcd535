"""Wire shapes of the model server: pydantic request/response schemas and strict JSON.

Request bodies are parsed by the ``parse_*`` functions rather than by FastAPI, so that
malformed JSON, a bare list of records and ``NaN`` literals are all handled
the same way, and every refusal is a :mod:`loopml.errors` exception that
:mod:`loopml.serving.errors` maps to a JSON error response.

Words: a *column* is a model input column (a key of a record, a v2 input
tensor named after a column); a *field* is part of the request body itself
(``records``, ``request_id``, ``label``, ``inputs.0.datatype``). A refused
body field is a :class:`FieldViolation`, a refused column a
:class:`loopml.schema.Violation`.

Every string the server accepts must be valid Unicode: JSON may carry a lone
UTF-16 surrogate (``"\\ud800"``), which Python decodes but cannot encode as
UTF-8, so such a value would poison the prediction or feedback log. It is
refused at the door (:func:`is_valid_unicode`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loopml.errors import DataError, SchemaViolationError
from loopml.schema.violation import ViolationKind

__all__ = [
    "FeedbackItem",
    "FeedbackRequest",
    "FeedbackResponse",
    "FieldViolation",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InferTensor",
    "PredictRequest",
    "PredictResponse",
    "StrictJSONResponse",
    "decode_json",
    "field_violations",
    "is_valid_unicode",
    "parse_feedback",
    "parse_infer",
    "parse_predict",
    "printable",
    "to_jsonable",
    "validate",
]

Scalar = str | int | float | bool | None
"""A JSON scalar: the only thing a feature value, prediction or label may be."""

INT64_RANGE = (-(2**63), 2**63 - 1)
"""Integers the prediction and feedback logs can store."""

NOT_UNICODE = "not valid Unicode (holds a lone UTF-16 surrogate such as \\ud800)"


def is_valid_unicode(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8 (it holds no lone UTF-16 surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: Any) -> str:
    """``str(name)`` with lone surrogates escaped (``\\ud800``), safe to put in a message."""
    return str(name).encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class FieldViolation:
    """A request-body field the server refuses (not a model input column).

    Parameters
    ----------
    field : str
        Dotted path of the field in the body, e.g. ``records``, ``feedback.2.label``
        or ``inputs.0.datatype``; ``body`` for the body as a whole.
    detail : str
        What is wrong and what is expected.
    kind : str
        Kind of problem: ``"wrong_type"`` (as for a column) or ``"missing_field"``.
    rows : tuple of int
        Position of the offending item in a list field (``records.2`` -> ``(2,)``).
    """

    field: str
    detail: str
    kind: str = ViolationKind.WRONG_TYPE.value
    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"field {self.field!r}: {self.kind}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for an error body; ``column`` is ``None`` (it is no column)."""
        return {
            "field": self.field,
            "column": None,
            "kind": self.kind,
            "count": 1,
            "rows": list(self.rows),
            "detail": self.detail,
        }


def _text_field(value: str | None) -> str | None:
    """pydantic validator of an id: non-blank, valid Unicode (``None`` passes)."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("must not be empty or blank")
    if not is_valid_unicode(value):
        raise ValueError(NOT_UNICODE)
    return value


class PredictRequest(BaseModel):
    """``POST /predict`` body: ``{"records": [{column: value, ...}, ...]}``.

    A bare JSON list of records is accepted too (see :func:`parse_predict`).
    Rows are validated against the model's schema later, by
    :func:`loopml.schema.conform`.
    """

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]]


class PredictResponse(BaseModel):
    """``POST /predict`` answer; ``version`` is the model version that computed it and
    ``route`` the deployment route that answered (``champion`` or ``canary``)."""

    model: str
    version: int
    route: str = "champion"
    predictions: list[Any]
    scores: list[float | None] | None
    request_ids: list[str]


class FeedbackItem(BaseModel):
    """Ground truth for one logged prediction; ``timestamp`` defaults to now (UTC).

    ``request_id`` is a non-blank string; ``label`` a string, boolean, 64-bit
    integer or finite number (``null`` and ``NaN`` are refused: a missing truth
    is no feedback). Both must be valid Unicode.
    """

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1)
    label: Scalar
    timestamp: dt.datetime | None = None

    _request_id = field_validator("request_id")(_text_field)

    @field_validator("label", mode="before")
    @classmethod
    def _label_is_a_value(cls, value: Any) -> Any:
        expected = "send a string, a boolean or a finite number"
        if value is None:
            raise ValueError(f"label is null or NaN; {expected}")
        if not isinstance(value, (str, int, float, bool)):
            message = f"label is a {type(value).__name__}, not a JSON scalar; {expected}"
            raise ValueError(message)  # noqa: TRY004 -- pydantic reports ValueError only
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"label {value} is not finite; {expected}")
        if isinstance(value, int) and not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
            raise ValueError("label is an integer outside the 64-bit range")
        if isinstance(value, str) and not is_valid_unicode(value):
            raise ValueError(f"label is {NOT_UNICODE}")
        return value


class FeedbackRequest(BaseModel):
    """``POST /feedback`` body with several items: ``{"feedback": [{...}, ...]}``."""

    model_config = ConfigDict(extra="forbid")
    feedback: list[FeedbackItem] = Field(min_length=1)


class FeedbackResponse(BaseModel):
    """How many feedback rows were appended to the log.

    ``unmatched`` counts the accepted rows whose request id is not among the
    predictions this server process served since it started (it remembers
    the most recent ones, see :class:`loopml.serving.recent_ids.RecentIds`).
    Such labels are still stored: the prediction may come from another
    worker or from before a restart; a steady non-zero count usually means
    the client sends the wrong ids.
    """

    model: str
    accepted: int
    unmatched: int


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

    _id = field_validator("id")(_text_field)


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
        data = to_jsonable(content)
        try:
            return json.dumps(
                data, allow_nan=False, ensure_ascii=False, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate echoed in an error: escape it as \\uXXXX
            return json.dumps(data, allow_nan=False, separators=(",", ":")).encode("ascii")


_M = TypeVar("_M", bound=BaseModel)


def _nan_as_null(constant: str) -> float | None:
    """``json.loads`` hook: ``NaN`` means missing; ``Infinity`` stays a (refused) number."""
    return None if constant == "NaN" else float(constant)


_MAX_INT_DIGITS = 20
"""Digits beyond any 64-bit integer; longer literals are not converted (CPython limits
``int`` parsing to 4,300 digits and would fail) but read as :data:`TOO_BIG`."""
TOO_BIG = 2**64
"""What an integer literal of more than 20 digits reads as: out of the 64-bit range, so the
usual checks refuse it (422, naming the column or field)."""


def _bounded_int(literal: str) -> int:
    """``json.loads`` hook: an integer literal too long for any 64-bit value reads as ``TOO_BIG``."""
    digits = len(literal) - literal.startswith("-")
    if digits > _MAX_INT_DIGITS:
        return -TOO_BIG if literal.startswith("-") else TOO_BIG
    return int(literal)


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
        return json.loads(body, parse_constant=_nan_as_null, parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"request body is not valid JSON: {error}") from None
    except RecursionError:
        raise DataError(
            "request body is not valid JSON: arrays or objects nested too deeply"
        ) from None


def validate(data: Any, model: type[_M]) -> _M:
    """Validate decoded JSON against a wire model.

    Raises
    ------
    SchemaViolationError
        The JSON does not have the expected shape; each violation is a
        :class:`FieldViolation` naming the offending field path, e.g.
        ``records.2`` (HTTP 422).
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SchemaViolationError(field_violations(error.errors(include_url=False))) from None


def field_violations(errors: Any) -> list[FieldViolation]:
    """One :class:`FieldViolation` per pydantic/FastAPI error (``loc``, ``msg``, ``type``)."""
    violations = []
    for item in errors:
        location = [printable(part) for part in item.get("loc", ())]
        rows = tuple(p for p in item.get("loc", ()) if isinstance(p, int))[:1]
        violations.append(
            FieldViolation(
                field=".".join(location) or "body",
                detail=f"{printable(item.get('msg', ''))} ({item.get('type', 'invalid')})",
                kind="missing_field" if item.get("type") == "missing" else "wrong_type",
                rows=rows,
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
