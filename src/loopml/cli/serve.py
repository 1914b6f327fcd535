"""``loopml serve NAME@ALIAS`` and ``loopml serve --deployment FILE.yaml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import errors_as_exit
from loopml.settings import Settings


def serve(
    model: Annotated[
        str | None,
        typer.Argument(
            help="NAME@ALIAS or NAME@VERSION, e.g. flights@champion. Optional with "
            "--deployment; when given, it must be the deployment's MODEL@CHAMPION."
        ),
    ] = None,
    deployment: Annotated[
        Path | None,
        typer.Option(
            "--deployment",
            help="Deployment YAML (name, model, champion, optional canary with weight %, "
            "optional shadow): requests go to the champion or, for the canary's share of "
            "request ids, the canary; a shadow scores a copy of each, logged, never answering.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    poll_interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between checks for a moved alias.")
    ] = 1.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes behind the one port.")
    ] = 1,
    log_on_full: Annotated[
        str,
        typer.Option(
            help="When the prediction log writer falls behind: 'block' requests until it "
            "catches up, or 'drop' records (counted in /metrics and logged)."
        ),
    ] = "block",
    log_queue_size: Annotated[
        int | None,
        typer.Option(min=1, help="Prediction log queue capacity per worker, in records."),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Serve without bearer tokens (also LOOPML_SERVE_NO_AUTH=1 or true); logged as a "
            "warning. By default /predict, /v2/.../infer, /feedback and /admin need a token "
            "from `loopml tokens create`.",
        ),
    ] = False,
    max_batch_size: Annotated[
        int,
        typer.Option(
            min=1, help="Micro-batching: most rows per model call (1 turns batching off)."
        ),
    ] = 64,
    max_batch_wait_ms: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Micro-batching: longest wait (ms) for requests already being read; a lone "
            "request never waits.",
        ),
    ] = 2.0,
    max_body_bytes: Annotated[
        int,
        typer.Option(min=1, help="Largest request body in bytes; larger ones get 413."),
    ] = 10 * 1024 * 1024,
    max_rows: Annotated[
        int,
        typer.Option(min=1, help="Most rows in one request; more get 413."),
    ] = 10_000,
    no_onnx: Annotated[
        bool,
        typer.Option(
            "--no-onnx",
            help="Score with the native estimator even when the package holds a parity-checked "
            "ONNX model (also LOOPML_SERVE_ONNX=0).",
        ),
    ] = False,
) -> None:
    """Serve a registered model over REST (POST /predict, Open Inference Protocol v2, /feedback).

    When the alias moves, the running server loads the new version in the
    background and swaps it in without a restart (each worker on its own).
    With --deployment, each route (champion, canary, shadow) follows its own
    alias; responses name the version and route that answered (`route` field,
    X-Model-Route header) and every logged prediction records both.
    Logs are JSON lines on stderr; /metrics speaks Prometheus. SIGTERM or
    Ctrl-C finishes requests in flight and flushes the prediction log.
    """
    from loopml.deploy import DeploymentSpec
    from loopml.errors import ConfigurationError
    from loopml.registry import parse_model_ref
    from loopml.serving import run_server
    from loopml.serving.auth import NO_AUTH_ENV, no_auth_requested
    from loopml.serving.limits import Limits

    with errors_as_exit():
        spec = DeploymentSpec.from_yaml(deployment) if deployment is not None else None
        if model is not None:
            name, ref = parse_model_ref(model)
            if spec is not None and (name, ref) != (spec.model, spec.champion):
                raise ConfigurationError(
                    f"{model} disagrees with deployment {spec.name!r}, which serves "
                    f"{spec.model}@{spec.champion}; leave NAME@ALIAS out or make them agree"
                )
        elif spec is not None:
            name, ref = spec.model, spec.champion
        else:
            raise ConfigurationError("say what to serve: NAME@ALIAS or --deployment FILE.yaml")
        run_server(
            Settings.from_env(), name, ref, host=host, port=port,
            poll_interval=poll_interval, log_level=log_level,
            workers=workers, log_on_full=log_on_full, log_queue_size=log_queue_size,
            auth=not (no_auth or no_auth_requested(os.environ.get(NO_AUTH_ENV))),
            max_batch_size=max_batch_size, max_batch_wait_ms=max_batch_wait_ms,
            onnx=not (no_onnx or os.environ.get("LOOPML_SERVE_ONNX", "1") == "0"),
            deployment=spec,
            limits=Limits(max_body_bytes=max_body_bytes, max_rows=max_rows),
        )
