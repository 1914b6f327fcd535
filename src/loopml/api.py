"""The one public Python API: ``import loopml``.

This is the only module that picks implementations from settings: the
metadata store (SQLite file by default, PostgreSQL when ``LOOPML_STORE_URL``
says so), the artifact store and the prediction log. Everything above it
(CLI, server, quickstart) goes through :class:`Client`.

Examples
--------
>>> import loopml
>>> with loopml.start_run(experiment="churn") as run:   # doctest: +SKIP
...     run.log_metric("auc", 0.91)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd

from loopml.settings import Settings

__all__ = ["Client", "connect", "start_run"]


class Client:
    """A connection to one loopml home: store, artifacts, registry, tracker, logs.

    Build it with :func:`connect`; the constructor only stores its arguments.

    Parameters
    ----------
    settings : Settings
        Where the state lives.
    store : loopml.store.base.MetadataStore
        The open metadata store.
    """

    def __init__(self, settings: Settings, store: Any) -> None:
        self.settings = settings
        self.store = store
        self._tokens: Any = None

    # -- services --------------------------------------------------------------
    @property
    def artifacts(self) -> Any:
        """:class:`loopml.store.ArtifactStore` rooted at ``settings.artifact_root``."""
        from loopml.store import ArtifactStore

        return ArtifactStore(self.settings.artifact_root)

    @property
    def tracker(self) -> Any:
        """:class:`loopml.tracking.Tracker` over this client's store."""
        from loopml.tracking import Tracker

        return Tracker(self.store, self.artifacts)

    @property
    def registry(self) -> Any:
        """:class:`loopml.registry.Registry` acting as ``settings.actor``."""
        from loopml.registry import Registry

        return Registry(self.store, self.artifacts, actor=self.settings.actor)

    @property
    def tokens(self) -> Any:
        """:class:`loopml.registry.TokenService` acting as ``settings.actor``.

        One instance per client, so that its cache of verified tokens lasts
        as long as the client (the server keeps one client).
        """
        if self._tokens is None:
            from loopml.registry import TokenService

            self._tokens = TokenService(self.store, actor=self.settings.actor)
        return self._tokens

    @property
    def predictions(self) -> Any:
        """:class:`loopml.store.predictions.PredictionLogReader` over the prediction log."""
        from loopml.store.predictions import PredictionLogReader

        return PredictionLogReader(self.settings.prediction_log_root)

    # -- tracking --------------------------------------------------------------
    def start_run(
        self, experiment: str, *, run_name: str | None = None, tags: Mapping[str, str] | None = None
    ) -> Any:
        """Start a tracked run; use it as a context manager (see :func:`start_run`)."""
        return self.tracker.start_run(
            experiment, run_name=run_name, tags=dict(tags) if tags else None
        )

    # -- prediction log ----------------------------------------------------------
    def open_prediction_writer(self, **options: Any) -> Any:
        """A started :class:`~loopml.store.predictions.PredictionLogWriter`; close it when done."""
        from loopml.store.predictions import PredictionLogWriter

        writer = PredictionLogWriter(self.settings.prediction_log_root, **options)
        writer.start()
        return writer

    def append_feedback(
        self, model: str, rows: Sequence[tuple[str, Any, datetime]]
    ) -> int:
        """Append ground truth ``(request_id, label, timestamp)`` rows for ``model``."""
        from loopml.store.predictions import append_feedback

        append_feedback(self.settings.prediction_log_root, model, rows)
        return len(rows)

    # -- pipelines, monitoring, the loop --------------------------------------
    def run_pipeline(
        self,
        spec: str | Path | Any,
        *,
        inputs: Mapping[str, pd.DataFrame] | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Callable[[str, str], None] | None = None,
    ) -> Any:
        """Run a pipeline (YAML path or :class:`loopml.pipeline.PipelineSpec`).

        Returns
        -------
        loopml.pipeline.PipelineResult
        """
        from loopml.pipeline import PipelineSpec, run_pipeline

        if isinstance(spec, (str, Path)):
            spec = PipelineSpec.from_yaml(Path(spec))
        return run_pipeline(
            spec,
            tracker=self.tracker,
            registry=self.registry,
            store=self.store,
            artifacts=self.artifacts,
            inputs=dict(inputs) if inputs else None,
            params=dict(params) if params else None,
            progress=progress,
        )

    def monitor(
        self,
        model: str,
        ref: str = "champion",
        *,
        reference: pd.DataFrame | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        max_rows: int | None = 20_000,
        config: Any = None,
    ) -> Any:
        """Compare the logged inputs of a window with the reference data.

        Returns ``(report, reference_features, current_features)``; see
        :func:`loopml.automation.monitor_model` for the parameters.
        """
        from loopml.automation import monitor_model

        return monitor_model(
            self, model, ref, reference=reference, start=start, end=end,
            max_rows=max_rows, config=config,
        )

    def loop_once(self, policy: str | Path | Any, *, progress: Callable[[str], None] | None = None) -> Any:
        """Observe, decide and act once under ``policy`` (YAML path or Policy).

        Returns
        -------
        loopml.automation.LoopDecision
        """
        from loopml.automation import Policy, loop_once

        if isinstance(policy, (str, Path)):
            policy = Policy.from_yaml(Path(policy))
        return loop_once(self, policy, progress=progress)

    def compare_routes(
        self,
        model: str,
        route: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Any:
        """Canary or shadow route of ``model`` against its champion over a window of the log.

        Returns
        -------
        loopml.deploy.RouteComparison
            Agreement rate, metric delta once feedback exists, latency delta.
        """
        from loopml.deploy import compare_routes

        predictions = self.predictions.read_predictions(model, start=start, end=end)
        labels = self.predictions.read_feedback(model)
        return compare_routes(predictions, route=route, labels=labels)

    # -- life cycle --------------------------------------------------------------
    def close(self) -> None:
        """Close the metadata store connection pool."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(settings: Settings | None = None) -> Client:
    """Open the loopml home described by ``settings`` (default: ``LOOPML_*`` env).

    Creates the home folder, applies store migrations on first connect.

    Raises
    ------
    loopml.errors.StoreError
        The metadata store cannot be opened or migrated.
    """
    from loopml.store import open_store

    settings = settings or Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    return Client(settings, open_store(settings.store_url))


_default_client: Client | None = None
_default_lock = threading.Lock()


def _default() -> Client:
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = connect()
        return _default_client


def start_run(
    experiment: str, *, run_name: str | None = None, tags: Mapping[str, str] | None = None
) -> Any:
    """Start a run in the default home (``LOOPML_*`` environment variables).

    Parameters
    ----------
    experiment : str
        Experiment name; created if it does not exist.
    run_name : str, optional
        Human-readable run name; a generated one otherwise.
    tags : mapping, optional
        Initial tags.

    Returns
    -------
    loopml.tracking.ActiveRun
        A context manager: the run ends FINISHED on normal exit, FAILED on an
        exception; buffered metrics are flushed either way.

    Examples
    --------
    >>> with start_run(experiment="x") as run:  # doctest: +SKIP
    ...     run.log_param("lr", 0.1)
    ...     run.log_metric("auc", 0.91)
    """
    return _default().start_run(experiment, run_name=run_name, tags=tags)
