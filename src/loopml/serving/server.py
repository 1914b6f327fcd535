"""Run the model server under uvicorn.

:func:`run_server` builds the app through a factory when uvicorn starts, never
at import time. With ``workers > 1`` uvicorn needs an import string, so the
settings and model reference travel to the worker processes as environment
variables and each worker builds its own app with :func:`app_from_env`; each
worker writes its own prediction log files (the file names carry the pid),
follows the alias on its own, and writes its metrics to a fresh
``PROMETHEUS_MULTIPROC_DIR`` folder so that ``/metrics`` aggregates all workers.
Logs are JSON lines on stderr (:mod:`loopml.serving.logs`) in every process.

Shutdown: SIGTERM or SIGINT makes uvicorn stop accepting connections, finish
the requests in flight and run the app's lifespan shutdown, which flushes every
queued prediction log record to Parquet. With one worker uvicorn then re-raises
the signal, so the process ends *killed by* SIGTERM (exit status -15 from
:mod:`subprocess`, 143 in a shell) or SIGINT (-2 / 130) after a clean flush;
with several workers the supervisor signals each worker, waits for them and
exits with status 0.

From a shell, the same factory works directly::

    LOOPML_SERVE_MODEL=churn@champion uvicorn --factory loopml.serving.server:app_from_env

A deployment (champion, canary, shadow; :mod:`loopml.serving.routes`) travels
as ``LOOPML_SERVE_DEPLOYMENT``: a path to its YAML file, or the spec itself as
an inline JSON object; ``LOOPML_SERVE_MODEL`` may then be left unset.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import uvicorn
from fastapi import FastAPI

from loopml.api import Client, connect
from loopml.deploy import DeploymentSpec
from loopml.errors import ConfigurationError, NotFoundError
from loopml.serving.app import create_app
from loopml.serving.auth import NO_AUTH_ENV, no_auth_requested
from loopml.serving.batcher import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_WAIT_MS
from loopml.serving.limits import Limits
from loopml.serving.logs import log_config
from loopml.serving.metrics import MULTIPROC_ENV
from loopml.settings import Settings

__all__ = ["app_from_env", "run_server"]

_log = logging.getLogger("loopml.serving")

MODEL_ENV = "LOOPML_SERVE_MODEL"
POLL_ENV = "LOOPML_SERVE_POLL_INTERVAL"
LOG_ON_FULL_ENV = "LOOPML_SERVE_LOG_ON_FULL"
LOG_QUEUE_ENV = "LOOPML_SERVE_LOG_QUEUE"
BATCH_SIZE_ENV = "LOOPML_SERVE_MAX_BATCH_SIZE"
BATCH_WAIT_ENV = "LOOPML_SERVE_MAX_BATCH_WAIT_MS"
ONNX_ENV = "LOOPML_SERVE_ONNX"
"""``0`` scores every model with its native estimator, never the compiled ONNX model."""
MAX_BODY_ENV = "LOOPML_SERVE_MAX_BODY_BYTES"
MAX_ROWS_ENV = "LOOPML_SERVE_MAX_ROWS"
DEPLOYMENT_ENV = "LOOPML_SERVE_DEPLOYMENT"
"""A deployment spec: a YAML file path, or the spec as an inline JSON object."""


def _deployment_from_env(value: str) -> DeploymentSpec:
    """The deployment of ``LOOPML_SERVE_DEPLOYMENT``: inline JSON (``{...}``) or a file path."""
    if value.lstrip().startswith("{"):
        try:
            return DeploymentSpec.from_dict(json.loads(value))
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{DEPLOYMENT_ENV} is not a JSON object: {exc}") from exc
    return DeploymentSpec.from_yaml(value)


def _writer_options(on_full: str | None, queue_size: int | str | None) -> dict[str, Any]:
    """Prediction log writer options from the serve options (unset ones keep the defaults)."""
    options: dict[str, Any] = {}
    if on_full:
        if on_full not in ("block", "drop"):
            raise ConfigurationError(
                f"prediction log policy {on_full!r} when the writer falls behind: "
                "choose 'block' or 'drop'"
            )
        options["on_full"] = on_full
    if queue_size:
        options["max_queue"] = int(queue_size)
    return options


def _limits_from_env(env: Mapping[str, str]) -> Limits:
    """Request limits of ``LOOPML_SERVE_MAX_BODY_BYTES`` / ``LOOPML_SERVE_MAX_ROWS`` (defaults
    where unset)."""
    default = Limits()
    values: dict[str, int] = {}
    for key, field in ((MAX_BODY_ENV, "max_body_bytes"), (MAX_ROWS_ENV, "max_rows")):
        raw = env.get(key)
        if not raw:
            values[field] = getattr(default, field)
            continue
        try:
            values[field] = int(raw)
        except ValueError:
            raise ConfigurationError(f"{key}={raw!r} must be a positive integer") from None
        if values[field] < 1:
            raise ConfigurationError(f"{key}={raw!r} must be a positive integer")
    return Limits(**values)


def _split_ref(model_ref: str) -> tuple[str, str]:
    name, sep, ref = model_ref.rpartition("@")
    if not sep or not name or not ref:
        raise ConfigurationError(
            f"{MODEL_ENV}={model_ref!r} must look like NAME@ALIAS or NAME@VERSION"
        )
    return name, ref


def app_from_env(environ: Mapping[str, str] | None = None) -> FastAPI:
    """App factory for uvicorn workers: ``LOOPML_*`` settings plus ``LOOPML_SERVE_MODEL``
    and/or ``LOOPML_SERVE_DEPLOYMENT``.

    Raises
    ------
    ConfigurationError
        Neither is set, ``LOOPML_SERVE_MODEL`` is not ``NAME@REF``, the
        deployment is invalid, or the two disagree.
    """
    env = os.environ if environ is None else environ
    deployment = _deployment_from_env(env[DEPLOYMENT_ENV]) if env.get(DEPLOYMENT_ENV) else None
    if env.get(MODEL_ENV):
        name, ref = _split_ref(env[MODEL_ENV])
    elif deployment is not None:
        name, ref = deployment.model, deployment.champion
    else:
        raise ConfigurationError(f"set {MODEL_ENV}=NAME@ALIAS to say which model to serve")
    poll_interval = float(env.get(POLL_ENV, "1.0"))
    writer_options = _writer_options(env.get(LOG_ON_FULL_ENV), env.get(LOG_QUEUE_ENV))
    return create_app(
        connect(Settings.from_env(env)),
        name,
        ref,
        poll_interval=poll_interval,
        writer_options=writer_options,
        auth=not no_auth_requested(env.get(NO_AUTH_ENV)),
        max_batch_size=int(env.get(BATCH_SIZE_ENV) or DEFAULT_MAX_BATCH_SIZE),
        max_batch_wait_ms=float(env.get(BATCH_WAIT_ENV) or DEFAULT_MAX_BATCH_WAIT_MS),
        onnx=env.get(ONNX_ENV, "1") != "0",
        deployment=deployment,
        limits=_limits_from_env(env),
    )


def _check_model(
    client: Client, model_name: str, ref: str, deployment: DeploymentSpec | None = None
) -> None:
    """Resolve ``model_name@ref`` (and every alias of ``deployment``) once, so a typo
    fails before the server starts."""
    if deployment is not None and (deployment.model, deployment.champion) != (model_name, ref):
        raise ConfigurationError(
            f"deployment {deployment.name!r} serves {deployment.model}@{deployment.champion}, "
            f"not {model_name}@{ref}"
        )
    client.registry.resolve(model_name, ref)
    if deployment is None:
        return
    for route, alias in deployment.aliases.items():
        if route == "champion":
            continue
        try:
            client.registry.resolve(model_name, alias)
        except NotFoundError:
            # The loop points the canary alias at a challenger only while a canary runs;
            # until then the route is idle and every request goes to the champion.
            _log.warning(
                "deployment %r: %s alias %r of model %r does not exist yet; the route is "
                "idle until it does",
                deployment.name,
                route,
                alias,
                model_name,
            )


def run_server(
    settings: Settings,
    model_name: str,
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    poll_interval: float = 1.0,
    workers: int = 1,
    log_on_full: str = "block",
    log_queue_size: int | None = None,
    auth: bool = True,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    max_batch_wait_ms: float = DEFAULT_MAX_BATCH_WAIT_MS,
    onnx: bool = True,
    deployment: DeploymentSpec | None = None,
    limits: Limits | None = None,
) -> None:
    """Serve ``model_name@ref`` with uvicorn until interrupted (SIGINT/SIGTERM).

    The model reference is resolved once before uvicorn starts, so an
    unknown model, alias or version fails at once instead of serving 503s.
    Later failures (the alias is deleted, a package cannot be loaded) keep
    the server up: it keeps the served version, or answers 503 until one
    loads. On shutdown every logged prediction is flushed to the prediction log.

    Parameters
    ----------
    settings : Settings
        Where the registry and prediction log live.
    model_name : str
        Registered model name.
    ref : str
        Alias or version number to follow.
    host, port : str, int
        Address to bind.
    log_level : str
        uvicorn log level.
    poll_interval : float
        Seconds between checks for a moved alias.
    workers : int
        Worker processes; more than one uses :func:`app_from_env`.
    log_on_full : {"block", "drop"}
        What happens when the prediction log writer falls behind and its queue
        is full: requests wait (``"block"``) or records are dropped, counted in
        ``/metrics`` (``loopml_prediction_log_dropped_total``) and logged.
    log_queue_size : int, optional
        Capacity of each worker's prediction log queue, in records.
    auth : bool
        Require bearer tokens (``loopml tokens create``); ``False`` serves
        without them and each worker logs a warning at start-up.
    max_batch_size, max_batch_wait_ms : int, float
        Micro-batching: most rows per model call, and the longest wait for
        requests already being read (:class:`loopml.serving.batcher.Batcher`).
    onnx : bool
        Serve a package's parity-checked ONNX model when it has one.
    deployment : DeploymentSpec, optional
        Route to the spec's champion, canary and shadow aliases
        (:mod:`loopml.serving.routes`); ``model_name@ref`` must be the spec's
        ``model@champion``. Workers receive it as ``LOOPML_SERVE_DEPLOYMENT``.
    limits : Limits, optional
        Largest request body (bytes) and row count; larger requests get 413
        (default 10 MiB and 10,000 rows).

    Raises
    ------
    loopml.errors.NotFoundError
        No model ``model_name``, or ``ref`` (the champion alias of a deployment) names no
        alias or version of it.
    ConfigurationError
        ``log_on_full`` is neither ``"block"`` nor ``"drop"``, or
        ``deployment`` names another model or champion.
    """
    writer_options = _writer_options(log_on_full, log_queue_size)
    logging_config = log_config(log_level)
    client = connect(settings)
    try:
        _check_model(client, model_name, ref, deployment)
    except BaseException:
        client.close()
        raise
    if workers > 1:
        client.close()
        os.environ.update(settings.as_env())
        os.environ[MODEL_ENV] = f"{model_name}@{ref}"
        os.environ[POLL_ENV] = str(poll_interval)
        os.environ[LOG_ON_FULL_ENV] = log_on_full
        os.environ[LOG_QUEUE_ENV] = str(log_queue_size or "")
        os.environ[NO_AUTH_ENV] = "" if auth else "1"
        os.environ[BATCH_SIZE_ENV] = str(max_batch_size)
        os.environ[BATCH_WAIT_ENV] = str(max_batch_wait_ms)
        os.environ[ONNX_ENV] = "1" if onnx else "0"
        chosen = limits or Limits()
        os.environ[MAX_BODY_ENV] = str(chosen.max_body_bytes)
        os.environ[MAX_ROWS_ENV] = str(chosen.max_rows)
        if deployment is not None:
            os.environ[DEPLOYMENT_ENV] = json.dumps(deployment.to_dict())
        else:
            os.environ.pop(DEPLOYMENT_ENV, None)
        metrics_dir = tempfile.mkdtemp(prefix="loopml-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir  # read by each worker at its first import
        try:
            uvicorn.run(
                "loopml.serving.server:app_from_env",
                factory=True,
                host=host,
                port=port,
                log_level=log_level,
                log_config=logging_config,
                access_log=False,
                workers=workers,
            )
        finally:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
        return
    try:
        factory = functools.partial(
            create_app,
            client,
            model_name,
            ref,
            poll_interval=poll_interval,
            writer_options=writer_options,
            auth=auth,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
            onnx=onnx,
            deployment=deployment,
            limits=limits,
        )
        config = uvicorn.Config(
            factory,
            factory=True,
            host=host,
            port=port,
            log_level=log_level,
            log_config=logging_config,
            access_log=False,
        )
        uvicorn.Server(config).run()
    finally:
        client.close()
