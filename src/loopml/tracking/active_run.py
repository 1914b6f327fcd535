"""A run in progress: params, buffered metrics, tags, artifacts and inputs.

:meth:`ActiveRun.log_metric` only validates the value and appends it to an
in-memory buffer; a background thread writes the buffer to the store in
batches (every ``flush_interval`` seconds or as soon as ``batch_size`` values
are waiting). The buffer is flushed synchronously by :meth:`ActiveRun.flush`,
by :meth:`ActiveRun.end` (and so on leaving the ``with`` block) and, for runs
still open when the interpreter exits normally, by an :mod:`atexit` hook that
also ends them (``FINISHED``, or ``FAILED`` after an uncaught exception).
"""

from __future__ import annotations

import atexit
import math
import numbers
import os
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from loopml.entities import DatasetInput, Metric, Run, RunStatus
from loopml.errors import ConflictError, DataError, StoreError
from loopml.store.base import MetadataStore

__all__ = ["ActiveRun"]

_LIVE: set[ActiveRun] = set()
_LIVE_LOCK = threading.Lock()
_ATEXIT_REGISTERED = False


def _track(run: ActiveRun) -> None:
    global _ATEXIT_REGISTERED
    with _LIVE_LOCK:
        _LIVE.add(run)
        if not _ATEXIT_REGISTERED:
            atexit.register(_end_live_runs)
            _ATEXIT_REGISTERED = True


def _untrack(run: ActiveRun) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(run)


def _end_live_runs() -> None:
    """Flush and end every run left open at interpreter exit."""
    crashed = getattr(sys, "last_value", None) is not None  # set by an uncaught exception
    status = RunStatus.FAILED if crashed else RunStatus.FINISHED
    with _LIVE_LOCK:
        runs = list(_LIVE)
    for run in runs:
        try:
            run.end(status)
        except Exception as exc:  # noqa: BLE001 - exit must go on; say what was lost
            print(f"loopml: could not end run {run.id} at exit: {exc}", file=sys.stderr)


def _check_value(key: str, value: Any) -> float:
    # exact float/int first: the common case skips the slower ABC check
    if (
        type(value) is float
        or type(value) is int
        or (isinstance(value, numbers.Real) and not isinstance(value, bool))
    ):
        number = float(value)
    else:
        raise DataError(
            f"metric {key!r}: value {value!r} of type {type(value).__name__} is not a real number"
        )
    if math.isinf(number):
        raise DataError(f"metric {key!r}: value {number} is infinite (NaN is allowed, inf is not)")
    return number


class ActiveRun:
    """A run being recorded; use it as a context manager.

    Create it with :meth:`loopml.tracking.Tracker.start_run`, not directly.

    Parameters
    ----------
    store : MetadataStore
        Where params, metrics, tags and inputs are written.
    artifacts : ArtifactStore
        Where :meth:`log_artifact` copies files (``put_file``/``put_dir``).
    run : Run
        The run as created in the store (status ``RUNNING``).
    artifact_dest : str
        Folder of this run's artifacts, relative to the artifact store root.
    flush_interval : float
        Seconds between background flushes of buffered metrics.
    batch_size : int
        Buffered metric count that triggers an early background flush; at ten
        times this count :meth:`log_metric` flushes in the caller's thread
        (back-pressure when the store is slower than the producer).

    Examples
    --------
    >>> with tracker.start_run("churn") as run:  # doctest: +SKIP
    ...     run.log_params({"max_iter": 100})
    ...     for epoch, loss in enumerate(losses):
    ...         run.log_metric("loss", loss, step=epoch)
    """

    def __init__(
        self,
        store: MetadataStore,
        artifacts: Any,
        run: Run,
        *,
        artifact_dest: str,
        flush_interval: float = 0.2,
        batch_size: int = 1000,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._run = run
        self._artifact_dest = artifact_dest
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._buffer: list[Metric] = []
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_step: dict[str, int] = {}
        self._flush_error: BaseException | None = None
        self._status: RunStatus = RunStatus.RUNNING

    # -- identity -------------------------------------------------------------

    @property
    def id(self) -> str:
        """The run id."""
        return self._run.id

    @property
    def info(self) -> Run:
        """The run as it was when started (see :meth:`Tracker.get_run` for fresh state)."""
        return self._run

    @property
    def status(self) -> RunStatus:
        """``RUNNING`` until :meth:`end`, then the final status."""
        return self._status

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end(RunStatus.KILLED)
        else:
            self.end(RunStatus.FAILED)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self._run.name!r}, status={self._status.value})"

    # -- params and tags ------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Record one hyperparameter as a string (write-once per key).

        Raises
        ------
        ConflictError
            If ``key`` was logged before with a different value.
        """
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several hyperparameters at once; values are stored as ``str(value)``."""
        self._check_open()
        if params:
            self._store.log_params(self.id, {str(k): str(v) for k, v in params.items()})

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (tags, unlike params, may be overwritten)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags at once; values are stored as ``str(value)``."""
        self._check_open()
        if tags:
            self._store.set_tags(self.id, {str(k): str(v) for k, v in tags.items()})

    # -- metrics --------------------------------------------------------------

    def log_metric(
        self,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        """Buffer one metric value; it reaches the store within ``flush_interval``.

        Parameters
        ----------
        key : str
            Metric name, e.g. ``"val_loss"``.
        value : float
            A real number (int, float, numpy scalar). NaN is allowed (as in
            MLflow); infinities, booleans, strings and ``None`` are refused.
        step : int, optional
            Training step; by default one more than the last step logged for
            ``key`` in this run (0 for the first value).
        timestamp : datetime, optional
            When the value was measured (UTC); now by default.

        Raises
        ------
        DataError
            If ``value`` is not a real number or is infinite; names the key.
        StoreError
            If an earlier background flush failed (the values are kept and
            retried on :meth:`flush`).
        """
        if self._status is not RunStatus.RUNNING:
            self._check_open()
        if self._flush_error is not None:
            self._raise_flush_error()
        if not isinstance(key, str) or not key:
            raise DataError(f"metric key must be a non-empty string, got {key!r}")
        number = _check_value(key, value)
        if step is None:
            step = self._last_step.get(key, -1) + 1
        elif not isinstance(step, numbers.Integral):
            raise DataError(f"metric {key!r}: step {step!r} is not an integer")
        self._last_step[key] = int(step)
        metric = Metric(key, number, int(step), timestamp or datetime.now(UTC))
        with self._buffer_lock:
            self._buffer.append(metric)
            pending = len(self._buffer)
        if self._thread is None:
            self._start_flusher()
        if pending >= self._batch_size:
            if pending >= 10 * self._batch_size:
                self.flush()
            else:
                self._wake.set()

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Buffer several metric values at the same ``step`` and timestamp."""
        now = datetime.now(UTC)
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=now)

    def flush(self) -> None:
        """Write every buffered metric to the store now, in logging order.

        Raises
        ------
        StoreError
            If the store refuses the batch; the values stay buffered.
        """
        with self._flush_lock:
            with self._buffer_lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                self._store.log_metrics(self.id, batch)
            except Exception as exc:
                with self._buffer_lock:
                    self._buffer[:0] = batch
                self._flush_error = exc
                raise StoreError(
                    f"run {self.id}: writing {len(batch)} metric(s) failed: {exc}"
                ) from exc
            self._flush_error = None

    def _start_flusher(self) -> None:
        with self._buffer_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._flush_loop, name=f"loopml-metrics-{self.id}", daemon=True
            )
        self._thread.start()

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._flush_error is not None:
                continue  # the caller sees the error and decides; do not hammer the store
            try:
                self.flush()
            except StoreError:
                continue

    def _begin(self) -> None:
        """Called by the tracker once the run exists: ends it at interpreter exit."""
        _track(self)

    def _raise_flush_error(self) -> None:
        raise StoreError(
            f"run {self.id}: a background write of metrics failed: {self._flush_error}"
        ) from self._flush_error

    # -- artifacts and inputs -------------------------------------------------

    def log_artifact(self, local_path: str | os.PathLike[str], dest: str | None = None) -> str:
        """Copy a file or a folder into the run's artifact folder.

        Parameters
        ----------
        local_path : path-like
            File or folder to copy.
        dest : str, optional
            Path inside the run's artifact folder; the file's name by default.

        Returns
        -------
        str
            URI of the stored copy.

        Raises
        ------
        NotFoundError
            If ``local_path`` does not exist.
        """
        self._check_open()
        path = Path(local_path)
        target = f"{self._artifact_dest}/{(dest or path.name).strip('/')}"
        if path.is_dir():
            return str(self._artifacts.put_dir(str(path), target))
        return str(self._artifacts.put_file(str(path), target))

    def log_input(self, frame: Any, *, name: str, role: str) -> DatasetInput:
        """Record a dataset the run read, by content fingerprint.

        Also records the lineage edge ``dataset:<fingerprint> -> run:<id>``
        (relation ``input``).

        Parameters
        ----------
        frame : DataFrame
            The table as read (pandas, or anything :func:`loopml.data.fingerprint`
            accepts).
        name : str
            Human name of the dataset, e.g. ``"flights-2013-01"``.
        role : str
            How the run used it: ``train``, ``eval``, ``reference`` ...
        """
        from loopml.data import fingerprint

        self._check_open()
        dataset = DatasetInput(
            fingerprint=fingerprint(frame),
            name=name,
            role=role,
            n_rows=int(frame.shape[0]),
            n_columns=int(frame.shape[1]),
        )
        self._store.log_inputs(self.id, [dataset])
        self._store.add_edges([(f"dataset:{dataset.fingerprint}", f"run:{self.id}", "input")])
        return dataset

    # -- end ------------------------------------------------------------------

    def end(self, status: RunStatus = RunStatus.FINISHED) -> Run:
        """Flush buffered metrics and mark the run ``status``; idempotent.

        Returns
        -------
        Run
            The ended run as stored.

        Raises
        ------
        StoreError
            If buffered metrics cannot be written; the run is still ended
            (``FAILED``) so the store stays consistent.
        """
        if self._status is not RunStatus.RUNNING:
            return self._store.get_run(self.id)
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        _untrack(self)
        try:
            self.flush()
        except StoreError:
            self._status = RunStatus.FAILED
            self._store.end_run(self.id, RunStatus.FAILED, datetime.now(UTC))
            raise
        self._status = RunStatus(status)
        return self._store.end_run(self.id, self._status, datetime.now(UTC))

    def _check_open(self) -> None:
        if self._status is not RunStatus.RUNNING:
            raise ConflictError(f"run {self.id} has ended ({self._status.value}); start a new run")
