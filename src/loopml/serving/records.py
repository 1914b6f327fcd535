"""Request rows of the model server: decode, check and name them; encode answers.

The model-independent half of a prediction request, shared by ``POST
/predict`` and the Open Inference Protocol route: :func:`decode_records` reads
a body (orjson when it is plain, :func:`loopml.serving.wire.parse_predict`
otherwise), :func:`check_records` refuses rows no contract can accept,
:func:`request_ids_for` names each row, and :func:`encode_json` writes strict
JSON. Scoring is :mod:`loopml.serving.inference`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from loopml.errors import DataError, SchemaViolationError
from loopml.schema.violation import Violation, ViolationKind
from loopml.serving.wire import (
    INT64_RANGE,
    NOT_UNICODE,
    StrictJSONResponse,
    is_valid_unicode,
    parse_predict,
    printable,
)

__all__ = [
    "MAX_REQUEST_ID_LENGTH",
    "check_records",
    "decode_records",
    "encode_json",
    "request_ids_for",
]

_SCALARS = (str, int, float, bool, type(None))
_NOT_SCALAR = (
    "values must be JSON scalars: finite numbers (64-bit integers), strings, booleans or null"
)


MAX_REQUEST_ID_LENGTH = 200
"""Longest request id a caller may choose (``X-Request-ID`` or a v2 ``id``), in characters."""


def request_ids_for(n_rows: int, header: str | None) -> list[str]:
    """Request ids for ``n_rows`` rows: the ``X-Request-ID`` header (``-<i>`` per row
    when there are several) or a fresh UUID4 per row.

    Raises
    ------
    DataError
        The caller's id is longer than :data:`MAX_REQUEST_ID_LENGTH` (HTTP 400):
        every logged row carries it.
    """
    if header and len(header) > MAX_REQUEST_ID_LENGTH:
        raise DataError(
            f"X-Request-ID (or the v2 id) has {len(header)} characters; "
            f"at most {MAX_REQUEST_ID_LENGTH} are accepted"
        )
    if header:
        return [header] if n_rows == 1 else [f"{header}-{i}" for i in range(n_rows)]
    return [uuid.uuid4().hex for _ in range(n_rows)]


def decode_records(body: bytes) -> list[dict[str, Any]]:
    """The records of a ``/predict`` body, decoded with orjson when it is plain.

    A body orjson reads as ``{"records": [objects]}`` or a bare list of
    objects is returned as is; anything else (``NaN`` literals, integers
    beyond 64 bits, malformed JSON, other shapes) goes through
    :func:`loopml.serving.wire.parse_predict`, which accepts or refuses it
    with the same messages as before.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return parse_predict(body)
    if isinstance(data, dict) and len(data) == 1:
        data = data.get("records")
    plain = isinstance(data, list) and all(type(record) is dict for record in data)
    if plain and not any(_maybe_big_integer(record) for record in data):
        return list(data)
    return parse_predict(body)


def _maybe_big_integer(record: dict[str, Any]) -> bool:
    """orjson reads an integer beyond 64 bits as a float; let ``json`` read such bodies."""
    for value in record.values():
        if type(value) is float and not -_BIG < value < _BIG:
            return True
    return False


_BIG = float(2**63)


def encode_json(data: Any) -> bytes:
    """Strict JSON bytes of JSON-able ``data`` (orjson; ``NaN`` becomes ``null``).

    Falls back to :class:`loopml.serving.wire.StrictJSONResponse` rendering
    for what orjson refuses (strings with lone surrogates, numpy objects).
    """
    try:
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):
        return bytes(StrictJSONResponse(None).render(data))


def check_records(records: Sequence[Any]) -> list[dict[str, Any]]:
    """Refuse rows no contract can accept, naming the column and rows.

    Rows must be JSON objects of scalars; integers must fit in 64 bits,
    numbers must be finite, and strings (values and column names) must be
    valid Unicode, so that every accepted row can be written to and read
    back from the prediction log. Everything else is left to
    :func:`loopml.schema.conform`.

    Raises
    ------
    DataError
        There are no records (HTTP 400).
    SchemaViolationError
        A value is nested, infinite, an oversized integer or a string with a
        lone UTF-16 surrogate (HTTP 422); each violation names the column.
    """
    if not records:
        raise DataError("no records to predict; send at least one row")
    bad: dict[tuple[str, str], list[int]] = {}
    for row, record in enumerate(records):
        for column, value in record.items():
            name = str(column)
            if not is_valid_unicode(name):
                problem: str | None = f"the column name is {NOT_UNICODE}"
                name = printable(name)
            elif isinstance(value, str):
                problem = None if is_valid_unicode(value) else f"the value is {NOT_UNICODE}"
            elif not isinstance(value, _SCALARS) or (
                (isinstance(value, float) and not math.isfinite(value))
                or (isinstance(value, int) and not INT64_RANGE[0] <= value <= INT64_RANGE[1])
            ):
                problem = _NOT_SCALAR
            else:
                problem = None
            if problem is not None:
                bad.setdefault((name, problem), []).append(row)
    if bad:
        raise SchemaViolationError(
            [
                Violation(
                    column=column,
                    kind=ViolationKind.WRONG_TYPE,
                    count=len(rows),
                    rows=tuple(rows[:5]),
                    detail=problem,
                )
                for (column, problem), rows in bad.items()
            ]
        )
    return [dict(record) for record in records]
