"""The one place that maps :mod:`loopml.errors` classes to HTTP status codes.

======================================  ======  =====================================
error                                   status  meaning for the client
======================================  ======  =====================================
:class:`~loopml.errors.SchemaViolationError`  422  the rows break the model's contract
:class:`~loopml.errors.DataError`        400     the body is not usable (not JSON, empty)
:class:`~loopml.errors.NotFoundError`    404     no such model or version
:class:`~loopml.errors.ConflictError`    409     refused in the current state
:class:`~loopml.errors.ServingError`     503     no model loaded yet / cannot load
:class:`~loopml.errors.ModelPackageError`  503   the model package cannot be loaded
:class:`~loopml.errors.LoopMLError`      500     anything else loopml refused
======================================  ======  =====================================

Every error body is JSON: ``{"error": message, "type": class name,
"violations": [{"column", "field", "kind", "count", "rows", "detail"}, ...]}``.
A violation names either a model input ``column`` (``plan``) or a request-body
``field`` (``records``, ``label``, ``inputs.0.datatype``); the other key is
``null``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loopml.errors import (
    ConflictError,
    DataError,
    LoopMLError,
    ModelPackageError,
    NotFoundError,
    SchemaViolationError,
    ServingError,
)
from loopml.serving.wire import StrictJSONResponse, field_violations

__all__ = ["error_body", "install_error_handlers", "status_for"]

_log = logging.getLogger("loopml.serving")

_STATUS: tuple[tuple[type[LoopMLError], int], ...] = (
    (SchemaViolationError, 422),
    (DataError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ServingError, 503),
    (ModelPackageError, 503),
)


def status_for(error: LoopMLError) -> int:
    """HTTP status code for a loopml error (most specific class first)."""
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 500


def _violation_dict(violation: Any) -> dict[str, Any]:
    if hasattr(violation, "to_dict"):
        return {"column": None, "field": None, **violation.to_dict()}
    return {
        "column": getattr(violation, "column", None),
        "field": getattr(violation, "field", None),
        "kind": str(getattr(violation, "kind", "")),
        "count": getattr(violation, "count", None),
        "rows": list(getattr(violation, "rows", ())),
        "detail": getattr(violation, "detail", str(violation)),
    }


def error_body(error: BaseException) -> dict[str, Any]:
    """JSON body describing ``error``; schema violations are listed one by one."""
    violations = getattr(error, "violations", ())
    return {
        "error": str(error),
        "type": type(error).__name__,
        "violations": [_violation_dict(v) for v in violations],
    }


def install_error_handlers(app: FastAPI) -> None:
    """Answer loopml errors, FastAPI validation errors and surprises with JSON bodies."""

    @app.exception_handler(LoopMLError)
    async def _loopml_error(request: Request, error: LoopMLError) -> StrictJSONResponse:
        status = status_for(error)
        if status >= 500:
            _log.error("%s %s failed: %s", request.method, request.url.path, error)
        return StrictJSONResponse(error_body(error), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, error: RequestValidationError) -> StrictJSONResponse:
        violations = [v.to_dict() for v in field_violations(error.errors())]
        body = {"error": "request is invalid", "type": "RequestValidationError"}
        return StrictJSONResponse({**body, "violations": violations}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> StrictJSONResponse:
        body = {"error": str(error.detail), "type": "HTTPException", "violations": []}
        return StrictJSONResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> StrictJSONResponse:
        _log.exception("%s %s crashed", request.method, request.url.path)
        body = {"error": f"internal error: {error}", "type": type(error).__name__}
        return StrictJSONResponse({**body, "violations": []}, status_code=500)
