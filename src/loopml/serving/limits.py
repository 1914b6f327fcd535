"""Request limits of the model server: body size, row count, media type.

:class:`LimitsMiddleware` is a pure ASGI middleware in front of every route
that takes a body (``POST``, ``PUT``, ``PATCH``):

- a ``Content-Type`` other than ``application/json`` answers **415** listing
  the accepted media types (``application/octet-stream`` too for a v2 body
  in the binary tensor format, which carries ``Inference-Header-Content-Length``); a ``charset`` parameter is accepted when it says
  UTF-8 (the only encoding JSON allows, RFC 8259); a request without a
  ``Content-Type`` is read as JSON;
- a body larger than :attr:`Limits.max_body_bytes` answers **413**: at once
  when ``Content-Length`` says so, otherwise as soon as the bytes streamed in
  pass the limit (the body is never read whole before the check);
- a body holding more than :attr:`Limits.max_rows` rows (records of
  ``/predict``, items of ``/feedback``, the first dimension of the v2 input
  tensors) answers **413**. Only a body of more than ``2 * max_rows`` bytes
  can hold that many rows (each row costs at least two bytes), so only such
  bodies are parsed here; smaller ones pass untouched.

Malformed JSON is left to the routes, which answer 400. Every refusal is a
JSON body ``{"error", "type", "limit" | "accepted", "violations": []}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopml.serving.wire import StrictJSONResponse

__all__ = ["ACCEPTED_MEDIA_TYPES", "Limits", "LimitsMiddleware", "count_rows"]

ACCEPTED_MEDIA_TYPES = ("application/json",)
"""Media types a request body may have."""
BINARY_MEDIA_TYPE = "application/octet-stream"
"""Also accepted for a body with the binary tensor extension's ``Inference-Header-Content-Length``."""
_HEADER_LENGTH = "inference-header-content-length"

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_UTF8 = frozenset({"utf-8", "utf8"})


@dataclass(frozen=True)
class Limits:
    """Largest request the server accepts.

    Parameters
    ----------
    max_body_bytes : int
        Bytes of request body (default 10 MiB).
    max_rows : int
        Rows in one request (default 10,000).
    """

    max_body_bytes: int = 10 * 1024 * 1024
    max_rows: int = 10_000


def count_rows(body: bytes, header_length: str | None = None) -> int | None:
    """Rows in a ``/predict``, ``/feedback`` or v2 infer body; ``None`` if it is not JSON.

    With ``header_length`` (a binary v2 body, ``Inference-Header-Content-Length``)
    only that many leading bytes, the JSON header, are read.

    Examples
    --------
    >>> count_rows(b'{"records": [{"x": 1}, {"x": 2}]}')
    2
    >>> count_rows(b'{"inputs": [{"name": "x", "shape": [3], "datatype": "INT64", "data": [1, 2, 3]}]}')
    3
    """
    if header_length is not None:
        if not header_length.isdigit():
            return None
        body = body[: int(header_length)]
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(data, list):
        return len(data)
    if not isinstance(data, dict):
        return 0
    for key in ("records", "feedback"):
        if isinstance(data.get(key), list):
            return len(data[key])
    rows = 0
    inputs = data.get("inputs")
    for tensor in inputs if isinstance(inputs, list) else ():
        if not isinstance(tensor, dict):
            continue
        shape = tensor.get("shape")
        if isinstance(shape, list) and shape and isinstance(shape[0], int):
            rows = max(rows, shape[0])
        elif isinstance(tensor.get("data"), list):
            rows = max(rows, len(tensor["data"]))
    return rows


def _refusal(status: int, error: str, kind: str, **extra: Any) -> StrictJSONResponse:
    body = {"error": error, "type": kind, **extra, "violations": []}
    headers = {"Accept-Post": ", ".join(ACCEPTED_MEDIA_TYPES)} if status == 415 else None
    return StrictJSONResponse(body, status_code=status, headers=headers)


def _too_large(name: str, value: int, error: str) -> StrictJSONResponse:
    return _refusal(413, error, "PayloadTooLarge", limit={"name": name, "value": value})


def _media_type_refusal(content_type: str, binary: bool = False) -> StrictJSONResponse | None:
    """A 415 response if ``content_type`` is not JSON in UTF-8, else ``None``.

    ``binary``: the body uses the binary tensor extension (it carries
    ``Inference-Header-Content-Length``), which may also say ``application/octet-stream``.
    """
    main, *params = content_type.split(";")
    accepted = ", ".join(ACCEPTED_MEDIA_TYPES)
    if binary and main.strip().lower() == BINARY_MEDIA_TYPE:
        return None
    if main.strip().lower() not in ACCEPTED_MEDIA_TYPES:
        return _refusal(
            415,
            f"unsupported media type {main.strip()!r}; accepted: {accepted}",
            "UnsupportedMediaType",
            accepted=list(ACCEPTED_MEDIA_TYPES),
        )
    for param in params:
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in _UTF8:
            return _refusal(
                415,
                f"unsupported charset {charset!r}; JSON must be UTF-8 "
                f"(accepted: {accepted}, optionally with charset=utf-8)",
                "UnsupportedMediaType",
                accepted=list(ACCEPTED_MEDIA_TYPES),
            )
    return None


class _Refused(Exception):
    """Raised into the app from ``receive`` when the body breaks a limit."""


class LimitsMiddleware:
    """Refuse oversized, too-many-rows and non-JSON request bodies (see the module docs).

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    limits : Limits
        The limits to enforce.
    """

    def __init__(self, app: ASGIApp, *, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type")
        binary = headers.get(_HEADER_LENGTH)
        refusal = (
            None if content_type is None else _media_type_refusal(content_type, binary is not None)
        )
        max_bytes = self.limits.max_body_bytes
        if refusal is None and headers.get("content-length", "").isdigit():
            length = int(headers["content-length"])
            if length > max_bytes:
                refusal = _too_large(
                    "max_body_bytes",
                    max_bytes,
                    f"request body of {length:,} bytes exceeds the limit of "
                    f"{max_bytes:,} bytes (max_body_bytes)",
                )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._guarded(scope, receive, send, binary)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, header_length: str | None
    ) -> None:
        max_bytes, max_rows = self.limits.max_body_bytes, self.limits.max_rows
        chunks: list[bytes] = []
        received = 0
        refused: StrictJSONResponse | None = None
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused, chunks
            message = await receive()
            if message["type"] != "http.request":
                return message
            body = message.get("body", b"")
            received += len(body)
            if received > max_bytes:
                refused = _too_large(
                    "max_body_bytes",
                    max_bytes,
                    f"request body exceeds the limit of {max_bytes:,} bytes (max_body_bytes)",
                )
                raise _Refused
            chunks.append(body)
            if not message.get("more_body", False):
                whole, chunks = chunks, []
                if received > 2 * max_rows:
                    rows = count_rows(b"".join(whole), header_length)
                    if rows is not None and rows > max_rows:
                        refused = _too_large(
                            "max_rows",
                            max_rows,
                            f"request holds {rows:,} rows; the limit is {max_rows:,} rows "
                            "(max_rows)",
                        )
                        raise _Refused
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused is not None:
                return  # the app's answer to a refused body is replaced by the 413
            started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if refused is None:
                raise
        if refused is not None and not started:
            await refused(scope, receive, send)
