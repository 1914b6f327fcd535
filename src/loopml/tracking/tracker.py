"""The experiment tracker: experiments, runs and their metric histories."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from loopml.entities import Experiment, Metric, Run
from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store.base import MetadataStore
from loopml.tracking.active_run import ActiveRun
from loopml.tracking.environment import capture_environment, git_commit

__all__ = ["Tracker"]


class Tracker:
    """Record experiments and runs in a metadata store, MLflow style.

    Parameters
    ----------
    store : MetadataStore
        Metadata store (:class:`loopml.store.MemoryStore` or
        :func:`loopml.store.open_store`).
    artifacts : ArtifactStore
        Artifact store for files logged by runs (:class:`loopml.store.ArtifactStore`).
    flush_interval : float
        Seconds between background writes of buffered metrics.
    batch_size : int
        Buffered metric count that triggers an early write.

    Examples
    --------
    >>> from loopml.store import ArtifactStore, MemoryStore
    >>> tracker = Tracker(MemoryStore(), ArtifactStore("/tmp/loopml-doc"))  # doctest: +SKIP
    >>> with tracker.start_run("flights", run_name="baseline") as run:  # doctest: +SKIP
    ...     run.log_param("max_iter", 100)
    ...     run.log_metric("roc_auc", 0.71)
    >>> tracker.metric_history(run.id, "roc_auc")[0].value  # doctest: +SKIP
    0.71
    """

    def __init__(
        self,
        store: MetadataStore,
        artifacts: Any,
        *,
        flush_interval: float = 0.2,
        batch_size: int = 1000,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.flush_interval = flush_interval
        self.batch_size = batch_size

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment called ``name``, created if it does not exist yet."""
        try:
            return self.store.get_experiment(name)
        except NotFoundError:
            pass
        try:
            return self.store.create_experiment(name)
        except AlreadyExistsError:  # created concurrently by another process
            return self.store.get_experiment(name)

    def start_run(
        self,
        experiment: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> ActiveRun:
        """Start a run in ``experiment`` (created if needed).

        The run records the git commit of the working directory (``None``
        outside a repository) and the environment (Python, platform, versions
        of key packages).

        Parameters
        ----------
        experiment : str
            Experiment name.
        run_name : str, optional
            Display name; ``<experiment>-<UTC time>-<4 hex>`` by default.
        tags : mapping, optional
            Tags set on the run right away.

        Returns
        -------
        ActiveRun
            Use it as a context manager: the run ends ``FINISHED`` on normal
            exit and ``FAILED`` when an exception escapes (which is re-raised).
        """
        exp = self.get_or_create_experiment(experiment)
        now = datetime.now(UTC)
        token = uuid.uuid4().hex
        name = run_name or f"{experiment}-{now:%Y%m%d-%H%M%S}-{token[:4]}"
        artifact_dest = f"runs/{exp.id}/{token}"
        run = self.store.create_run(
            exp.id,
            name=name,
            start_time=now,
            git_commit=git_commit(),
            environment=capture_environment(),
            artifact_uri=str(self.artifacts.uri_for(artifact_dest)),
        )
        active = ActiveRun(
            self.store,
            self.artifacts,
            run,
            artifact_dest=artifact_dest,
            flush_interval=self.flush_interval,
            batch_size=self.batch_size,
        )
        active._begin()
        if tags:
            active.set_tags(tags)
        return active

    def get_run(self, run_id: str) -> Run:
        """The run with id ``run_id``; raises :class:`loopml.errors.NotFoundError`."""
        return self.store.get_run(run_id)

    def list_runs(self, experiment: str | None = None, *, limit: int = 100) -> list[Run]:
        """Runs of ``experiment`` (all experiments by default), most recent first."""
        experiment_id = None if experiment is None else self.store.get_experiment(experiment).id
        return self.store.list_runs(experiment_id, limit=limit)

    def metric_history(self, run_id: str, key: str | None = None) -> list[Metric]:
        """Every value of metric ``key`` (all keys by default), ordered by key, step, time."""
        return self.store.get_metric_history(run_id, key)
