"""Prometheus metrics of the model server and the middleware that records each request.

==========================================  =========  ==================================
metric                                      type       labels
==========================================  =========  ==================================
``loopml_requests_total``                   counter    model, route, status, version
``loopml_request_duration_seconds``         histogram  model, route
``loopml_batch_size``                       histogram  model
``loopml_model_load_seconds``               histogram  model
``loopml_prediction_log_queue_depth``       gauge      model (summed over live workers)
``loopml_prediction_log_dropped_total``     counter    model
``loopml_shadow_failures_total``            counter    model
==========================================  =========  ==================================

``route`` is the route template (``/predict``, ``/v2/models/{name}/infer``;
``<unmatched>`` for unknown paths, so callers cannot grow the label set),
``status`` the HTTP status code and ``version`` the model version named by the
response's ``X-Model-Version`` header (empty when none computed it).

With several worker processes the metrics use prometheus-client's
multiprocess mode: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``run_server``
sets it to a fresh folder for ``workers > 1``) every worker writes its values
to files there and ``/metrics``, answered by any worker, aggregates them all.

References
----------
.. [1] Prometheus exposition formats,
   https://prometheus.io/docs/instrumenting/exposition_formats/
.. [2] prometheus-client, multiprocess mode,
   https://prometheus.github.io/client_python/multiprocess/
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from loopml.serving.logs import ACCESS_LOGGER, REQUEST_ID

__all__ = ["MULTIPROC_ENV", "MetricsMiddleware", "ServingMetrics", "create_metrics"]

#: Environment variable that switches prometheus-client to multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_UNMATCHED = "<unmatched>"

_access = logging.getLogger(ACCESS_LOGGER)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[..., Any]


class ServingMetrics:
    """The metrics of one served model; build it with :func:`create_metrics`.

    Attributes
    ----------
    model : str
        Registered model name (the ``model`` label).
    registry : CollectorRegistry
        The registry :meth:`render` exports in single-process mode.
    multiprocess_dir : str or None
        Folder shared by the worker processes in multiprocess mode.
    requests, latency, batch_size, model_load, log_queue_depth, log_dropped, shadow_failures
        The prometheus-client metric objects (see the module table).
    """

    def __init__(
        self,
        model: str,
        *,
        registry: CollectorRegistry,
        multiprocess_dir: str | None,
        requests: Counter,
        latency: Histogram,
        batch_size: Histogram,
        model_load: Histogram,
        log_queue_depth: Gauge,
        log_dropped: Counter,
        shadow_failures: Counter,
    ) -> None:
        self.model = model
        self.registry = registry
        self.multiprocess_dir = multiprocess_dir
        self.requests = requests
        self.latency = latency
        self.batch_size = batch_size
        self.model_load = model_load
        self.log_queue_depth = log_queue_depth
        self.log_dropped = log_dropped
        self.shadow_failures = shadow_failures

    def observe_request(self, route: str, status: int, version: str, seconds: float) -> None:
        """Count one answered request and its latency in seconds."""
        self.requests.labels(self.model, route, str(status), version).inc()
        self.latency.labels(self.model, route).observe(seconds)

    def observe_batch(self, size: int) -> None:
        """Record the number of rows in one model call (the micro-batcher's hook)."""
        self.batch_size.labels(self.model).observe(size)

    def observe_model_load(self, version: int, seconds: float) -> None:
        """Record how long loading model ``version`` took, in seconds."""
        self.model_load.labels(self.model).observe(seconds)

    def count_dropped(self, count: int = 1) -> None:
        """Count prediction log records dropped because the writer's queue was full."""
        self.log_dropped.labels(self.model).inc(count)

    def count_shadow_failure(self) -> None:
        """Count one shadow request that failed (it never reaches the caller)."""
        self.shadow_failures.labels(self.model).inc()

    def sample_log_queue(self, writer: Any) -> None:
        """Set the queue depth gauge from a prediction log writer (``None``: 0)."""
        depth = 0 if writer is None else int(writer.queue_depth)
        self.log_queue_depth.labels(self.model).set(depth)

    async def watch_log_queue(self, writer: Callable[[], Any], interval: float = 1.0) -> None:
        """Sample ``writer()``'s queue depth every ``interval`` seconds, until cancelled."""
        while True:
            self.sample_log_queue(writer())
            await asyncio.sleep(interval)

    def render(self) -> tuple[bytes, str]:
        """The metrics in Prometheus text format, and their content type.

        In multiprocess mode the values of every worker are aggregated.
        """
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """Retire this process's live gauges (multiprocess mode); call on shutdown."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def create_metrics(model: str, environ: MutableMapping[str, str] | None = None) -> ServingMetrics:
    """Create the metrics of a server for ``model``, in their own registry.

    Parameters
    ----------
    model : str
        Registered model name, the ``model`` label of every metric.
    environ : mapping, optional
        Environment to read :data:`MULTIPROC_ENV` from (default ``os.environ``).
        It must agree with the environment prometheus-client was imported
        under, which chose its value storage then.

    Returns
    -------
    ServingMetrics
    """
    env = os.environ if environ is None else environ
    folder = env.get(MULTIPROC_ENV) or None
    registry = CollectorRegistry(auto_describe=True)
    return ServingMetrics(
        model,
        registry=registry,
        multiprocess_dir=folder,
        requests=Counter(
            "loopml_requests",
            "HTTP requests answered, by route template, status code and model version.",
            ["model", "route", "status", "version"],
            registry=registry,
        ),
        latency=Histogram(
            "loopml_request_duration_seconds",
            "Time from request start to the end of the response, in seconds.",
            ["model", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        batch_size=Histogram(
            "loopml_batch_size",
            "Rows scored by one model call.",
            ["model"],
            buckets=_BATCH_BUCKETS,
            registry=registry,
        ),
        model_load=Histogram(
            "loopml_model_load_seconds",
            "Time to load a model version into the server, in seconds.",
            ["model"],
            buckets=_LOAD_BUCKETS,
            registry=registry,
        ),
        log_queue_depth=Gauge(
            "loopml_prediction_log_queue_depth",
            "Prediction log records waiting for the background writer.",
            ["model"],
            multiprocess_mode="livesum",
            registry=registry,
        ),
        log_dropped=Counter(
            "loopml_prediction_log_dropped",
            "Prediction log records dropped because the writer could not keep up.",
            ["model"],
            registry=registry,
        ),
        shadow_failures=Counter(
            "loopml_shadow_failures",
            "Shadow requests that failed; the caller got the champion's or canary's answer.",
            ["model"],
            registry=registry,
        ),
    )


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class MetricsMiddleware:
    """ASGI middleware: request id, metrics and one JSON access-log line per request.

    The request id is the ``X-Request-ID`` header, or a fresh UUID4 added to
    the request headers when the caller sent none (so the prediction log rows
    of the request carry it); the response echoes it in ``X-Request-ID``.

    Parameters
    ----------
    app : ASGI app
        The app to wrap.
    metrics : ServingMetrics
        Where requests are counted and timed.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: ASGIApp, send: ASGIApp) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        request_id = _header(headers, b"x-request-id")
        if not request_id:
            request_id = uuid.uuid4().hex
            headers.append((b"x-request-id", request_id.encode("latin-1")))
            scope = {**scope, "headers": headers}
        token = REQUEST_ID.set(request_id)
        answer: dict[str, Any] = {"status": 500, "version": ""}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                sent = list(message.get("headers", []))
                answer["version"] = _header(sent, b"x-model-version") or ""
                if _header(sent, b"x-request-id") is None:
                    sent.append((b"x-request-id", request_id.encode("latin-1")))
                    message = {**message, "headers": sent}
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or _UNMATCHED
            status, version = answer["status"], answer["version"]
            self.metrics.observe_request(route, status, version, seconds)
            _access.info(
                "%s %s %d",
                scope.get("method", ""),
                scope.get("path", ""),
                status,
                extra={
                    "request_id": request_id,
                    "model": self.metrics.model,
                    "version": int(version) if version.isdigit() else None,
                    "route": route,
                    "status": status,
                    "latency_ms": round(seconds * 1000.0, 3),
                },
            )
            REQUEST_ID.reset(token)
