"""The durable prediction log: Parquet files written off the request path, read with DuckDB.

Layout under ``root`` (Hive partitioning, one file per partition per flush)::

    <root>/model=<name>/date=YYYY-MM-DD/part-<pid>-<uuid>.parquet
    <root>/_feedback/model=<name>/date=YYYY-MM-DD/part-<pid>-<uuid>.parquet

File names carry the process id and a random UUID, so several worker
processes can log into the same root at once without collisions. Each file is
written under a temporary name and renamed into place, so a reader never sees
a half-written file.

Prediction files hold the columns ``request_id``, ``version``, ``route``,
``timestamp`` (UTC), ``latency_ms``, ``features`` (JSON object of one input
row), ``prediction`` (JSON scalar), ``score`` (nullable float) and
``logged_at`` (UTC time of the write). Feedback files hold ``request_id``,
``label`` (JSON scalar), ``timestamp`` and ``logged_at``. The model name and
date live in the path only. JSON columns keep the log schema-agnostic: models
with different inputs and label types share one layout.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import StoreError

__all__ = [
    "PREDICTION_COLUMNS",
    "PredictionLogReader",
    "PredictionLogWriter",
    "PredictionRecord",
    "append_feedback",
]

#: Fixed columns of :meth:`PredictionLogReader.read_predictions`, before the features.
PREDICTION_COLUMNS = (
    "request_id",
    "version",
    "route",
    "timestamp",
    "latency_ms",
    "prediction",
    "score",
)

_log = logging.getLogger("loopml.predictions")

#: Seconds between two warnings about dropped records (the first drop warns at once).
DROP_WARNING_INTERVAL = 10.0

_FEEDBACK_DIR = "_feedback"
_UTC_TS = pa.timestamp("us", tz="UTC")
_PREDICTION_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("version", pa.int64()),
        ("route", pa.string()),
        ("timestamp", _UTC_TS),
        ("latency_ms", pa.float64()),
        ("features", pa.string()),
        ("prediction", pa.string()),
        ("score", pa.float64()),
        ("logged_at", _UTC_TS),
    ]
)
_FEEDBACK_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("label", pa.string()),
        ("timestamp", _UTC_TS),
        ("logged_at", _UTC_TS),
    ]
)


@dataclass(frozen=True)
class PredictionRecord:
    """One served prediction (one input row) as it is written to the log.

    Parameters
    ----------
    request_id : str
        Unique id of the row; feedback is joined on it.
    model : str
        Registered model name; the first partition key.
    version : int
        Model version that computed the prediction.
    route : str
        How the request reached the version (``"champion"``, later ``"canary"``, ``"shadow"``).
    timestamp : datetime
        When the prediction was served; naive values are taken as UTC.
    latency_ms : float
        Time spent computing the request, in milliseconds.
    features : dict
        The input row, column name to JSON-able value (NaN is stored as null).
    prediction : object
        The predicted value, a JSON-able scalar.
    score : float or None
        Positive-class probability for binary classifiers, else ``None``.
    """

    request_id: str
    model: str
    version: int
    route: str
    timestamp: datetime
    latency_ms: float
    features: dict[str, Any]
    prediction: Any
    score: float | None = None


def _jsonable(value: Any) -> Any:
    """Plain JSON value: numpy scalars unwrapped, NaN/inf and pandas NA to ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(_jsonable(value), allow_nan=False, separators=(",", ":"))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _partition(model: str) -> str:
    """Path segment for a model name (percent-encoded so any name is a safe folder)."""
    return f"model={quote(model, safe='-_.')}"


def _write_parquet(folder: Path, table: pa.Table) -> Path:
    """Write ``table`` to a new file in ``folder`` atomically (temp name, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{os.getpid()}-{uuid.uuid4().hex}.parquet"
    temp = final.with_name(final.name + ".tmp")
    pq.write_table(table, temp)
    os.replace(temp, final)
    return final


def _group_by_partition(
    records: Sequence[PredictionRecord],
) -> dict[tuple[str, date], list[PredictionRecord]]:
    groups: dict[tuple[str, date], list[PredictionRecord]] = {}
    for record in records:
        groups.setdefault((record.model, _utc(record.timestamp).date()), []).append(record)
    return groups


def _write_partition(root: Path, model: str, day: date, rows: Sequence[PredictionRecord]) -> None:
    """Write the records of one (model, date) partition as one new Parquet file."""
    logged_at = datetime.now(UTC)
    scores = [
        None if r.score is None or not math.isfinite(r.score) else float(r.score) for r in rows
    ]
    table = pa.Table.from_pydict(
        {
            "request_id": [str(r.request_id) for r in rows],
            "version": [int(r.version) for r in rows],
            "route": [r.route for r in rows],
            "timestamp": [_utc(r.timestamp) for r in rows],
            "latency_ms": [float(r.latency_ms) for r in rows],
            "features": [_dumps(r.features) for r in rows],
            "prediction": [_dumps(r.prediction) for r in rows],
            "score": scores,
            "logged_at": [logged_at] * len(rows),
        },
        schema=_PREDICTION_SCHEMA,
    )
    _write_parquet(root / _partition(model) / f"date={day.isoformat()}", table)


def append_feedback(
    root: str | os.PathLike[str],
    model: str,
    rows: Sequence[tuple[str, Any, datetime]],
) -> int:
    """Write ground-truth labels for logged predictions (synchronously).

    Parameters
    ----------
    root : path
        Prediction log root folder.
    model : str
        Registered model name the predictions belong to.
    rows : sequence of (request_id, label, timestamp)
        ``label`` is a JSON-able scalar; ``timestamp`` (naive = UTC) is when the
        truth became known. A later label for the same request id wins on read.

    Returns
    -------
    int
        Number of rows written (0 writes no file).
    """
    if not rows:
        return 0
    logged_at = datetime.now(UTC)
    groups: dict[date, list[tuple[str, Any, datetime]]] = {}
    for request_id, label, moment in rows:
        groups.setdefault(_utc(moment).date(), []).append((str(request_id), label, _utc(moment)))
    for day, items in groups.items():
        table = pa.Table.from_pydict(
            {
                "request_id": [i[0] for i in items],
                "label": [_dumps(i[1]) for i in items],
                "timestamp": [i[2] for i in items],
                "logged_at": [logged_at] * len(items),
            },
            schema=_FEEDBACK_SCHEMA,
        )
        folder = Path(root) / _FEEDBACK_DIR / _partition(model) / f"date={day.isoformat()}"
        _write_parquet(folder, table)
    return len(rows)


class _FlushRequest:
    """Queue marker: write what came before me, then set my event."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class _QueueFull(StoreError):
    """The writer's queue is full and the caller would not wait."""


class PredictionLogWriter:
    """Append prediction records from request handlers; a background thread writes Parquet.

    :meth:`append` only puts the record into a bounded in-memory queue. The
    writer thread collects records and writes one file per (model, date)
    partition when ``batch_size`` records are buffered, when the oldest
    buffered record is ``flush_interval`` seconds old, or on :meth:`flush`.

    When the queue is full (the disk cannot keep up), :meth:`append` blocks
    until there is room (``on_full="block"``, the default: nothing is lost,
    requests slow down), raises :class:`~loopml.errors.StoreError`
    (``on_full="raise"``), or drops the record (``on_full="drop"``: requests
    keep their speed, records are lost). Drops are never silent: they are
    counted in :attr:`dropped`, reported to ``on_drop`` and logged as a
    warning (at once, then at most every :data:`DROP_WARNING_INTERVAL` seconds
    with the running total).

    Parameters
    ----------
    root : path
        Prediction log root folder; created on first write.
    max_queue : int
        Capacity of the in-memory queue, in records.
    batch_size : int
        Buffered records that trigger a write.
    flush_interval : float
        Longest time in seconds a record waits in the buffer before a write.
    on_full : {"block", "raise", "drop"}
        What :meth:`append` does when the queue is full.
    on_drop : callable, optional
        Called with the number of records just dropped (``on_full="drop"``),
        from the thread that appended them; e.g. a metrics counter.

    Examples
    --------
    >>> writer = PredictionLogWriter("/tmp/log")  # doctest: +SKIP
    >>> writer.start(); writer.append(record); writer.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_queue: int = 100_000,
        batch_size: int = 2_000,
        flush_interval: float = 0.5,
        on_full: Literal["block", "raise", "drop"] = "block",
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.root = root
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.on_full = on_full
        self.on_drop = on_drop
        self._queue: queue.Queue[object] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._drop_lock = threading.Lock()
        self._drop_warned_at: float | None = None
        self._error: BaseException | None = None

    @property
    def written(self) -> int:
        """Records written to Parquet so far."""
        return self._written

    @property
    def dropped(self) -> int:
        """Records dropped because the queue was full (``on_full="drop"``)."""
        return self._dropped

    @property
    def queue_depth(self) -> int:
        """Records (and control markers) waiting in the queue."""
        return 0 if self._queue is None else self._queue.qsize()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the background writer thread; returns ``self``."""
        if self._closed:
            raise StoreError(f"prediction log writer for {self.root} is closed")
        if self.on_full not in ("block", "raise", "drop"):
            raise StoreError(
                f"prediction log on_full={self.on_full!r}: choose 'block', 'raise' or 'drop'"
            )
        if self._thread is None:
            self._queue = queue.Queue(maxsize=max(1, self.max_queue))
            self._thread = threading.Thread(
                target=self._run, name="loopml-prediction-log", daemon=True
            )
            self._thread.start()
        return self

    def append(self, record: PredictionRecord) -> None:
        """Queue one record for writing.

        Raises
        ------
        StoreError
            The writer is not started or already closed, or the queue is full
            and ``on_full="raise"``.
        """
        if self.on_full != "drop":
            self._put(record, block=self.on_full == "block")
            return
        try:
            self._put(record, block=False)
        except _QueueFull:
            self._count_drop()

    def _count_drop(self) -> None:
        with self._drop_lock:
            self._dropped += 1
            total = self._dropped
            now = time.monotonic()
            warn = (
                self._drop_warned_at is None
                or now - self._drop_warned_at >= DROP_WARNING_INTERVAL
            )
            if warn:
                self._drop_warned_at = now
        if warn:
            _log.warning(
                "prediction log queue for %s is full (%d records): dropped %d records so far",
                self.root,
                self.max_queue,
                total,
            )
        if self.on_drop is not None:
            self.on_drop(1)

    def extend(self, records: Iterable[PredictionRecord]) -> None:
        """Queue several records (same rules as :meth:`append`)."""
        for record in records:
            self.append(record)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every record appended before this call is on disk.

        Raises
        ------
        StoreError
            The wait timed out, or a write failed (the failed batch is kept and
            retried on the next write).
        """
        request = _FlushRequest()
        self._put(request, block=True)
        if not request.done.wait(timeout):
            raise StoreError(f"prediction log flush to {self.root} timed out after {timeout}s")
        if self._error is not None:
            raise StoreError(f"prediction log write to {self.root} failed: {self._error}")

    def close(self, timeout: float | None = None) -> None:
        """Flush every queued record and stop the writer thread (idempotent)."""
        if self._closed:
            return
        if self._thread is None:
            self._closed = True
            return
        try:
            self.flush(timeout)
        finally:
            self._closed = True
            assert self._queue is not None
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _put(self, item: object, *, block: bool) -> None:
        if self._queue is None or self._closed:
            state = "closed" if self._closed else "not started"
            raise StoreError(f"prediction log writer for {self.root} is {state}")
        try:
            self._queue.put(item, block=block)
        except queue.Full:
            raise _QueueFull(
                f"prediction log queue for {self.root} is full ({self.max_queue} records)"
            ) from None

    def _run(self) -> None:
        assert self._queue is not None
        buffer: list[PredictionRecord] = []
        deadline = 0.0
        while True:
            timeout = max(0.0, deadline - time.monotonic()) if buffer else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None  # the oldest buffered record is due
            if isinstance(item, PredictionRecord):
                if not buffer:
                    deadline = time.monotonic() + self.flush_interval
                buffer.append(item)
                if len(buffer) < self.batch_size:
                    continue
            if buffer:
                buffer = self._write(buffer)
                deadline = time.monotonic() + self.flush_interval
            if isinstance(item, _FlushRequest):
                item.done.set()
            elif item is _STOP:
                return

    def _write(self, buffer: list[PredictionRecord]) -> list[PredictionRecord]:
        """Write ``buffer``; return the records still to write (those of a failed partition)."""
        left: list[PredictionRecord] = []
        error: BaseException | None = None
        for (model, day), rows in _group_by_partition(buffer).items():
            try:
                _write_partition(Path(self.root), model, day, rows)
            except Exception as exc:  # noqa: BLE001 -- disk full, permissions: keep rows, report on flush
                error = exc
                left.extend(rows)
            else:
                self._written += len(rows)
        self._error = error
        return left


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _decode(values: Iterable[str | None]) -> list[Any]:
    return [None if v is None else json.loads(v) for v in values]


class PredictionLogReader:
    """Query the prediction log and its feedback with DuckDB.

    Parameters
    ----------
    root : path
        Prediction log root folder (the ``root`` the writers used).

    Notes
    -----
    Time windows are half-open, ``start <= timestamp < end``; naive datetimes
    are taken as UTC. Returned timestamps are ``datetime64[us, UTC]``.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = root

    def _files(self, *parts: str) -> str | None:
        folder = Path(self.root).joinpath(*parts)
        if not any(folder.glob("date=*/part-*.parquet")):
            return None
        return str(folder / "date=*" / "part-*.parquet")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        connection = duckdb.connect()
        try:
            connection.execute("SET TimeZone = 'UTC'")
            return connection.execute(sql, list(params)).df()
        except duckdb.Error as error:
            raise StoreError(f"prediction log query under {self.root} failed: {error}") from error
        finally:
            connection.close()

    def _prediction_source(
        self,
        model: str,
        *,
        start: datetime | None,
        end: datetime | None,
        version: int | None,
    ) -> tuple[str, list[Any]] | None:
        files = self._files(_partition(model))
        if files is None:
            return None
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if start is not None:
            where.append("timestamp >= ? AND date >= ?")
            params += [_utc(start), _utc(start).date()]
        if end is not None:
            where.append("timestamp < ? AND date <= ?")
            params += [_utc(end), _utc(end).date()]
        if version is not None:
            where.append("version = ?")
            params.append(int(version))
        sql = (
            f"SELECT * FROM read_parquet({_sql_string(files)}, hive_partitioning = true,"
            f" hive_types = {{'date': DATE}}) WHERE {' AND '.join(where)}"
        )
        return sql, params

    def _feedback_source(self, model: str) -> str | None:
        files = self._files(_FEEDBACK_DIR, _partition(model))
        if files is None:
            return None
        return (
            "SELECT request_id, label, timestamp AS feedback_timestamp FROM ("
            " SELECT *, row_number() OVER (PARTITION BY request_id"
            "   ORDER BY timestamp DESC, logged_at DESC) AS rank_"
            f" FROM read_parquet({_sql_string(files)}, hive_partitioning = false)"
            ") WHERE rank_ = 1"
        )

    def read_predictions(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        version: int | None = None,
    ) -> pd.DataFrame:
        """Logged predictions of ``model``, one row per predicted input row.

        Returns
        -------
        DataFrame
            Columns :data:`PREDICTION_COLUMNS` followed by one column per
            feature (decoded from the JSON ``features`` column; a feature whose
            name clashes with a fixed column is named ``feature_<name>``).
            Sorted by timestamp. Empty, with the fixed columns, when nothing
            matches.
        """
        source = self._prediction_source(model, start=start, end=end, version=version)
        if source is None:
            return _empty(PREDICTION_COLUMNS)
        sql, params = source
        frame = self._query(f"{sql} ORDER BY timestamp, request_id", params)
        return _expand(frame, PREDICTION_COLUMNS)

    def files(self, model: str, *, since: date | None = None) -> list[Path]:
        """The Parquet files of ``model``'s prediction log, oldest partition first.

        Files are immutable once they appear (each write is a new file, renamed
        into place), so a file's name identifies its content: callers may cache
        anything computed from one file under its name.

        Parameters
        ----------
        since : date, optional
            Only partitions of this day (UTC) or later.
        """
        folder = Path(self.root) / _partition(model)
        found = []
        for path in folder.glob("date=*/part-*.parquet"):
            day = date.fromisoformat(path.parent.name.removeprefix("date="))
            if since is None or day >= since:
                found.append((day, path.name, path))
        return [path for _, _, path in sorted(found)]

    def read_file(self, path: str | os.PathLike[str]) -> pd.DataFrame:
        """One prediction log file as :meth:`read_predictions` returns rows (features decoded).

        Raises
        ------
        StoreError
            The file cannot be read as a prediction log file.
        """
        try:
            frame = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as error:
            raise StoreError(f"cannot read prediction log file {path}: {error}") from error
        return _expand(frame, PREDICTION_COLUMNS)

    def read_feedback(self, model: str) -> pd.DataFrame:
        """Latest label per request id for ``model``: columns request_id, label, timestamp."""
        source = self._feedback_source(model)
        if source is None:
            return _empty(("request_id", "label", "timestamp"))
        frame = self._query(f"{source} ORDER BY feedback_timestamp, request_id")
        frame = frame.rename(columns={"feedback_timestamp": "timestamp"})
        frame["label"] = pd.Series(_decode(frame["label"]), index=frame.index, dtype=None)
        return frame.reset_index(drop=True)

    def read_labelled(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Predictions inner-joined with the latest feedback for each request id.

        Returns
        -------
        DataFrame
            The :meth:`read_predictions` columns plus ``label`` and
            ``feedback_timestamp``; only predictions that have feedback.
        """
        columns = (*PREDICTION_COLUMNS, "label", "feedback_timestamp")
        predictions = self._prediction_source(model, start=start, end=end, version=None)
        feedback = self._feedback_source(model)
        if predictions is None or feedback is None:
            return _empty(columns)
        sql, params = predictions
        frame = self._query(
            f"SELECT p.*, f.label, f.feedback_timestamp FROM ({sql}) AS p"
            f" JOIN ({feedback}) AS f USING (request_id) ORDER BY p.timestamp, p.request_id",
            params,
        )
        frame["label"] = pd.Series(_decode(frame["label"]), index=frame.index, dtype=None)
        return _expand(frame, columns)

    def count(self, model: str) -> int:
        """Number of logged predictions of ``model``."""
        source = self._prediction_source(model, start=None, end=None, version=None)
        if source is None:
            return 0
        sql, params = source
        return int(self._query(f"SELECT count(*) AS n FROM ({sql})", params)["n"].iloc[0])


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


def _expand(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Decode ``prediction`` and ``features``; return ``columns`` then one column per feature."""
    if frame.empty:  # e.g. every logged row is older than ``start``
        return _empty(columns)
    predictions = pd.Series(_decode(frame["prediction"]), index=frame.index, dtype=None)
    features = pd.DataFrame.from_records(_decode(frame["features"]), index=frame.index)
    features = features.rename(
        columns={c: f"feature_{c}" for c in features.columns if c in set(columns)}
    )
    result = frame.assign(prediction=predictions)[list(columns)]
    return pd.concat([result, features], axis=1).reset_index(drop=True)
