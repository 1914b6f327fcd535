"""The model server application: :func:`create_app`.

Endpoints
---------
``POST /predict``
    ``{"records": [{column: value, ...}, ...]}`` or a bare list of records ->
    ``{"model", "version", "route", "predictions", "scores", "request_ids"}``;
    ``route`` (also the ``X-Model-Route`` header) is ``champion``, or
    ``canary`` for the canary's share of request ids when the app serves a
    deployment (:mod:`loopml.serving.routes`; a shadow scores a copy after the
    answer and never answers).
``POST /feedback``
    ``{"request_id", "label"[, "timestamp"]}`` or ``{"feedback": [...]}`` ->
    ``{"model", "accepted", "unmatched"}``. Labels for request ids this
    process never served are stored too (another worker or an earlier run may
    have served them); ``unmatched`` counts them (see
    :class:`loopml.serving.wire.FeedbackResponse`).
``POST /admin/reload``
    Re-resolve the alias now and swap in its version (``admin`` role; see
    :mod:`loopml.serving.admin`).

``/predict`` needs a bearer token with the ``predict`` role, ``/feedback``
one with ``feedback`` (:mod:`loopml.serving.auth`); health, metadata and
``/metrics`` are open. Bodies are checked against :class:`~loopml.serving.limits.Limits`
(size, rows, media type) before any route reads them.

``GET /healthz``
    ``{"status", "model", "ref", "version", "error"}``: 200 with status
    ``"ok"`` while a model version is loaded; 503 with ``"loading"`` before
    the first load and ``"unavailable"`` when loading failed (``error`` says
    why).
``GET /metrics``
    Prometheus text format (see :mod:`loopml.serving.metrics`); aggregates all
    worker processes in multiprocess mode.
``/v2/...``
    Open Inference Protocol (see :mod:`loopml.serving.v2`).

Every response carries ``X-Request-ID`` (the caller's, or a fresh one that the
prediction log rows of the request carry too), and every request is counted,
timed and written as one JSON access-log line (:mod:`loopml.serving.logs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response

from loopml.deploy import DeploymentSpec
from loopml.errors import ConfigurationError
from loopml.serving.admin import admin_router
from loopml.serving.auth import FEEDBACK, PREDICT, install_auth
from loopml.serving.batcher import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_WAIT_MS, Batcher
from loopml.serving.errors import install_error_handlers
from loopml.serving.inference import Predictor
from loopml.serving.limits import Limits, LimitsMiddleware
from loopml.serving.metrics import MetricsMiddleware, create_metrics
from loopml.serving.model_holder import ModelHolder
from loopml.serving.records import decode_records, encode_json, request_ids_for
from loopml.serving.routes import Route, Routes
from loopml.serving.v2 import v2_router
from loopml.serving.wire import (
    FeedbackResponse,
    PredictResponse,
    StrictJSONResponse,
    parse_feedback,
)

__all__ = ["create_app"]

_log = logging.getLogger("loopml.serving")


def create_app(
    client: Any,
    model_name: str,
    ref: str,
    *,
    poll_interval: float = 1.0,
    route: str = "champion",
    writer_options: Mapping[str, Any] | None = None,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    max_batch_wait_ms: float = DEFAULT_MAX_BATCH_WAIT_MS,
    onnx: bool = True,
    auth: bool = True,
    limits: Limits | None = None,
    deployment: DeploymentSpec | None = None,
) -> FastAPI:
    """Build the FastAPI app that serves ``model_name@ref``.

    Nothing is loaded here: on startup the app opens the prediction log writer,
    loads (and warms up) every route's model version, and only then accepts
    requests, so with several workers on one port no worker takes a
    connection it cannot answer. A load that fails does not stop the start:
    the app answers 503 (``/healthz`` says why) and keeps polling the
    registry. On shutdown the poller stops and the writer flushes every
    logged row to disk.

    Parameters
    ----------
    client : loopml.api.Client
        Gives the registry, the prediction log writer and feedback appends.
    model_name : str
        Registered model name.
    ref : str
        Alias (``"champion"``) or version number to serve; when an alias
        moves, the new version is loaded in the background and swapped in.
    poll_interval : float
        Seconds between registry polls.
    route : str
        Route name written with each logged prediction.
    writer_options : mapping, optional
        Keyword arguments for ``client.open_prediction_writer`` (``batch_size``,
        ``flush_interval``, ``max_queue``, ``on_full``); dropped records
        (``on_full="drop"``) are counted in ``/metrics``.
    max_batch_size : int
        Most rows per model call when concurrent requests are micro-batched
        (:class:`loopml.serving.batcher.Batcher`); ``1`` turns batching off.
    max_batch_wait_ms : float
        Longest wait for requests already being read before a batch starts.
    auth : bool
        Require bearer tokens (:mod:`loopml.serving.auth`); ``False`` serves
        without them and logs a warning.
    limits : Limits, optional
        Body size and row limits (:mod:`loopml.serving.limits`); defaults
        to 10 MiB and 10,000 rows.
    onnx : bool
        Score with a package's parity-checked ONNX model when it has one
        (``False``: always the native estimator).
    deployment : DeploymentSpec, optional
        Serve the endpoint's champion, canary and shadow aliases
        (:mod:`loopml.serving.routes`); ``model_name`` must be the spec's
        model and ``ref`` its champion alias. ``route`` is then ignored: rows
        are logged with the route that scored them.

    Returns
    -------
    FastAPI

    Raises
    ------
    ConfigurationError
        ``deployment`` names another model or champion alias.
    """
    if deployment is not None and (deployment.model, deployment.champion) != (model_name, ref):
        raise ConfigurationError(
            f"deployment {deployment.name!r} serves {deployment.model}@{deployment.champion}, "
            f"not {model_name}@{ref}"
        )
    metrics = create_metrics(model_name)
    aliases = {route: ref} if deployment is None else deployment.aliases

    def build(name: str, alias: str) -> Route:
        holder = ModelHolder(client, model_name, alias, on_load=metrics.observe_model_load)
        predictor = Predictor(holder, route=name, onnx=onnx)
        batcher = Batcher(
            predictor,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
            on_batch=metrics.observe_batch,
        )
        return Route(name, holder, predictor, batcher)

    built = {name: build(name, alias) for name, alias in aliases.items()}
    if deployment is None:
        built = {"champion": built[route]}  # a route name other than champion is only a log label
    routes = Routes(built, deployment, on_shadow_failure=metrics.count_shadow_failure)
    holder, predictor, batcher = routes.champion.holder, routes.champion.predictor, routes.champion.batcher
    every = list(routes.routes.values())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        options = {"on_drop": metrics.count_dropped, **(writer_options or {})}
        writer = await anyio.to_thread.run_sync(lambda: client.open_prediction_writer(**options))
        for each in every:
            each.predictor.writer = writer
        # Load every route's model before accepting requests: with several workers on one
        # port, a worker only takes connections once it can answer them.
        await asyncio.gather(*(each.holder.load() for each in every))
        tasks = [
            asyncio.create_task(each.holder.watch(poll_interval), name=f"loopml-watch-{each.name}")
            for each in every
        ]
        tasks.append(
            asyncio.create_task(
                metrics.watch_log_queue(lambda: predictor.writer), name="loopml-log-queue"
            )
        )
        try:
            yield
        finally:
            await routes.drain()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for each in every:
                await each.batcher.close()
                each.predictor.writer = None
            await anyio.to_thread.run_sync(writer.close)
            metrics.close()
            _log.info(
                "prediction log flushed: %d rows written, %d dropped",
                writer.written,
                writer.dropped,
            )

    app = FastAPI(
        title=f"loopml: {model_name}@{ref}",
        default_response_class=StrictJSONResponse,
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.predictor = predictor
    app.state.batcher = batcher
    app.state.routes = routes
    app.state.metrics = metrics
    install_error_handlers(app)
    install_auth(app, client.tokens if auth else None)
    app.add_middleware(LimitsMiddleware, limits=limits or Limits())
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    reports = Path(client.settings.home) / "reports"
    app.include_router(admin_router(holder, [each.holder for each in every], reports))
    app.include_router(v2_router(predictor, batcher, routes))

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Requests, latency, batch sizes, model load time and prediction log health."""
        metrics.sample_log_queue(predictor.writer)
        body, content_type = await anyio.to_thread.run_sync(metrics.render)
        return Response(body, media_type=content_type)

    @app.post("/predict", response_model=PredictResponse, dependencies=[PREDICT])
    async def predict(request: Request) -> Response:
        """Score JSON records; every row is logged under its own request id.

        Concurrent requests share one model call (micro-batching); each gets
        its own rows' results, request ids and the version that computed them.
        """
        async with batcher.expect():
            records = decode_records(await request.body())
        ids = request_ids_for(len(records), request.headers.get("x-request-id"))
        answered, result = await routes.predict(records, ids)
        body = {
            "model": model_name,
            "version": result.version,
            "route": answered.name,
            "predictions": result.predictions,
            "scores": result.scores,
            "request_ids": result.request_ids,
        }
        return Response(
            encode_json(body),
            media_type="application/json",
            headers={"X-Model-Version": str(result.version), "X-Model-Route": answered.name},
        )

    @app.post("/feedback", response_model=FeedbackResponse, dependencies=[FEEDBACK])
    async def feedback(request: Request) -> StrictJSONResponse:
        """Append ground truth for logged predictions, joined later by request id."""
        items = parse_feedback(await request.body())
        now = datetime.now(UTC)
        rows = [(item.request_id, item.label, item.timestamp or now) for item in items]
        await anyio.to_thread.run_sync(client.append_feedback, model_name, rows)
        ids = [item.request_id for item in items]
        for each in routes.answering:
            ids = [rid for rid in ids if each.predictor.served_ids.count_missing([rid])]
        unmatched = len(ids)
        body = FeedbackResponse(model=model_name, accepted=len(rows), unmatched=unmatched)
        return StrictJSONResponse(body)

    @app.get("/healthz")
    async def healthz() -> StrictJSONResponse:
        """Whether a model version is loaded (200) or not (503), and which one."""
        served = holder.current
        if served is not None:
            status, code = "ok", 200
        else:
            status, code = ("unavailable" if holder.last_error else "loading"), 503
        body: dict[str, Any] = {
            "status": status,
            "model": model_name,
            "ref": ref,
            "version": None if served is None else served.version,
            "error": holder.last_error,
        }
        if deployment is not None:
            body["deployment"] = routes.describe()
        return StrictJSONResponse(body, status_code=code)

    @app.head("/healthz", include_in_schema=False)
    async def healthz_head() -> Response:
        """The status code of ``GET /healthz`` without a body (load-balancer probes)."""
        return Response(status_code=200 if holder.current is not None else 503)

    return app
