"""Structured JSON logs of the model server, one object per line, carrying the request id.

Every line has the same keys, ``null`` when a value does not apply::

    {"time": "2025-01-31T12:00:00.123Z", "level": "INFO", "logger": "loopml.access",
     "message": "POST /predict 200", "request_id": "3f2a...", "model": "churn",
     "version": 2, "route": "/predict", "status": 200, "latency_ms": 1.84}

``request_id``, ``model``, ``version``, ``route``, ``status`` and ``latency_ms``
come from the record's ``extra`` fields; ``request_id`` falls back to
:data:`REQUEST_ID`, which the server's middleware sets for the duration of a
request (worker threads started with ``anyio.to_thread`` inherit it), so any
log line written while a request is handled names it.

:func:`log_config` is the :func:`logging.config.dictConfig` mapping that
:func:`loopml.serving.run_server` hands to uvicorn: uvicorn and ``loopml``
loggers write JSON lines to stderr, in every worker process.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACCESS_LOGGER", "FIELDS", "REQUEST_ID", "JsonFormatter", "log_config"]

#: The request id of the request being handled in this context, if any.
REQUEST_ID: ContextVar[str | None] = ContextVar("loopml_request_id", default=None)

#: Name of the logger that writes one line per HTTP request.
ACCESS_LOGGER = "loopml.access"

#: Keys of each line after ``time``, ``level``, ``logger`` and ``message``.
FIELDS = ("request_id", "model", "version", "route", "status", "latency_ms")


class JsonFormatter(logging.Formatter):
    """Format a log record as one JSON object (no newlines inside).

    The time is UTC in ISO 8601 with milliseconds; an exception, if any, is
    added under ``exception`` as formatted text.

    Examples
    --------
    >>> import logging
    >>> record = logging.LogRecord("loopml", logging.INFO, __file__, 1, "hi", None, None)
    >>> JsonFormatter().format(record)  # doctest: +ELLIPSIS
    '{"time": "...", "level": "INFO", "logger": "loopml", "message": "hi", "request_id": null, ...}'
    """

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            line[field] = getattr(record, field, None)
        if line["request_id"] is None:
            line["request_id"] = REQUEST_ID.get()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_config(level: str = "info") -> dict[str, Any]:
    """Logging configuration for uvicorn: JSON lines on stderr for uvicorn and loopml.

    uvicorn's own access log is left without handlers: the server's middleware
    writes a richer access line (request id, model version, latency) to
    :data:`ACCESS_LOGGER`.

    Parameters
    ----------
    level : str
        Level name for the ``uvicorn`` and ``loopml`` loggers (``"info"``, ``"warning"`` ...).

    Returns
    -------
    dict
        A :func:`logging.config.dictConfig` mapping (uvicorn's ``log_config``).
    """
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": upper, "propagate": False},
            "loopml": {"handlers": ["json"], "level": upper, "propagate": False},
        },
    }
