"""Score JSON records with the served model and log every row.

:class:`Predictor` is shared by ``POST /predict`` and the Open Inference
Protocol ``infer`` endpoint. :meth:`Predictor.score_batch` scores the
requests of one micro-batch (:mod:`loopml.serving.batcher`) with one model
snapshot and one model call; it is blocking and runs in a worker thread, so
the event loop keeps answering while a batch is scored.

Each request's rows are checked (:func:`loopml.serving.records.check_records`) and made model-ready
once: when every feature is a float or integer column and a row holds exactly
numbers (or ``null`` in a nullable column) under the schema's column names, the
row goes straight into a float matrix (the *numeric fast path*); anything else
goes through :func:`loopml.schema.conform`, which names every violation. The
model call uses the compiled ONNX model when the package has one and the
predictor allows it (:attr:`Predictor.onnx`). Results are handed back
before the rows are logged, so logging stays off the response path.
"""

from __future__ import annotations

import functools
import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from loopml.errors import DataError, LoopMLError, ServingError
from loopml.schema.types import LogicalType
from loopml.serving.model_holder import ModelHolder, ServedModel
from loopml.serving.recent_ids import RecentIds
from loopml.serving.records import check_records
from loopml.serving.wire import to_jsonable
from loopml.store.predictions import PredictionRecord

__all__ = [
    "Job",
    "Prediction",
    "Predictor",
]


@dataclass(frozen=True)
class Prediction:
    """What one request computed, all from the same model version.

    Attributes
    ----------
    version : int
        The model version that computed every row.
    predictions : list
        One JSON-able prediction per input row.
    scores : list of float or None, or None
        Positive-class probability per row for binary classifiers, else ``None``.
    probabilities : ndarray of shape (n_rows, n_classes) or None
        Class probabilities for classifiers, columns in the order of ``classes``.
    classes : list or None
        Class labels of a classifier.
    request_ids : list of str
        The id each row was logged under.
    """

    version: int
    predictions: list[Any]
    scores: list[float | None] | None
    probabilities: np.ndarray | None
    classes: list[Any] | None
    request_ids: list[str]


@dataclass
class Job:
    """One request waiting in a micro-batch.

    Attributes
    ----------
    records : sequence of dict
        The request's rows, as parsed from JSON.
    request_ids : list of str
        One id per row, logged with it.
    arrived : float
        ``time.perf_counter()`` when the request was queued (latency is logged from it).
    """

    records: Sequence[Any]
    request_ids: list[str]
    arrived: float = field(default_factory=time.perf_counter)


Deliver = Callable[[list["Prediction | BaseException"]], None]
"""Callback taking every job's result or error, in job order."""


@dataclass(frozen=True)
class _Plan:
    """How the numeric fast path builds a float matrix for one model version."""

    order: tuple[str, ...]
    integer: frozenset[str]
    nullable: frozenset[str]


@dataclass
class _Ready:
    """A job whose rows are model-ready: a float matrix (fast path) or a conformed frame."""

    index: int
    job: Job
    rows: np.ndarray | pd.DataFrame
    features: list[dict[str, Any]] | None = None


class Predictor:
    """Conform, predict and log for the model a :class:`ModelHolder` serves.

    Parameters
    ----------
    holder : ModelHolder
        Source of the served model snapshot.
    route : str
        Route name written to the prediction log (``"champion"``).
    onnx : bool
        Score with the package's compiled ONNX model when it has one.

    Attributes
    ----------
    writer : loopml.store.predictions.PredictionLogWriter or None
        Where rows are logged; set by the app's lifespan, ``None`` disables logging.
    served_ids : RecentIds
        Request ids of the rows this process scored recently (for ``/feedback``).
    """

    def __init__(self, holder: ModelHolder, *, route: str = "champion", onnx: bool = True) -> None:
        self.holder = holder
        self.route = route
        self.onnx = onnx
        self.writer: Any = None
        self.served_ids = RecentIds()
        self._plans: dict[int, _Plan | None] = {}

    def runtime(self, served: ServedModel) -> str:
        """``"onnx"`` or ``"native"``: how ``served`` is scored by this predictor."""
        runtime = getattr(served.model, "runtime", "native")
        return "onnx" if self.onnx and runtime == "onnx" else "native"

    def predict(self, records: Sequence[Any], request_ids: Sequence[str]) -> Prediction:
        """Score ``records`` with the current model and queue one log record per row.

        Blocking; run it in a worker thread. A batch of one
        (:meth:`score_batch`).

        Raises
        ------
        DataError, SchemaViolationError
            The rows are unusable or break the model's schema (HTTP 400/422).
        ServingError
            No model is loaded yet (HTTP 503).
        """
        outcome: list[Prediction | BaseException] = []
        self.score_batch([Job(records, list(request_ids))], outcome.extend)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def score_batch(self, jobs: Sequence[Job], deliver: Deliver) -> None:
        """Score the requests of one micro-batch with one model version, then log them.

        ``deliver`` is called once with one :class:`Prediction`, or the error
        that refused it (a bad request fails alone), per job in job order. Rows
        are logged after the results were delivered. Blocking.
        """
        try:
            served = self.holder.require()
        except LoopMLError as error:
            deliver([error] * len(jobs))
            return
        ready: list[_Ready] = []
        failed: dict[int, BaseException] = {}
        for index, job in enumerate(jobs):
            try:
                ready.append(self._prepare(index, job, served))
            except Exception as error:  # noqa: BLE001 -- refused requests fail alone
                failed[index] = error
        results: dict[int, Prediction | BaseException] = dict(failed)
        matrices = [item for item in ready if isinstance(item.rows, np.ndarray)]
        frames = [item for item in ready if not isinstance(item.rows, np.ndarray)]
        for group in (matrices, frames):
            if group:
                results.update(self._score_group(served, group))
        deliver([results[index] for index in range(len(jobs))])
        if self.writer is not None:
            done = time.perf_counter()
            for item in ready:
                result = results[item.index]
                if isinstance(result, Prediction):
                    self._log(served, item, result, (done - item.job.arrived) * 1000.0)
        for item in ready:
            result = results[item.index]
            if isinstance(result, Prediction):
                self.served_ids.add(result.request_ids)

    def _prepare(self, index: int, job: Job, served: ServedModel) -> _Ready:
        rows = check_records(job.records)
        if len(rows) != len(job.request_ids):
            raise ServingError(f"{len(job.request_ids)} request ids for {len(rows)} rows")
        plan = self._plan(served)
        if plan is not None:
            matrix = _numeric_matrix(rows, plan)
            if matrix is not None:
                return _Ready(index, job, matrix)
        return _Ready(index, job, served.model.features(rows))

    def _plan(self, served: ServedModel) -> _Plan | None:
        """The numeric fast path for this model version, or ``None`` when its schema has
        a non-numeric feature (cached per version)."""
        key = id(served.model)
        plans = self._plans
        if key not in plans:
            plans = self._plans = {key: _numeric_plan(served.model)}  # one version at a time
            # a new model version: move the objects alive now (modules, the model) out of
            # the collector's reach, so full collections stay short on the request path
            gc.freeze()
        return plans[key]

    def _score_group(
        self, served: ServedModel, group: list[_Ready]
    ) -> dict[int, Prediction | BaseException]:
        """One model call for the group; on failure, each job alone (the error is its own)."""
        if len(group) > 1:
            try:
                rows = _stack([item.rows for item in group])
                ids = [rid for item in group for rid in item.job.request_ids]
                whole = _score(served, rows, ids, compiled=self.onnx)
            except Exception:  # noqa: BLE001, S110 -- find out which request the model refuses
                pass
            else:
                return dict(_split(whole, group))
        out: dict[int, Prediction | BaseException] = {}
        for item in group:
            try:
                out[item.index] = _score(
                    served, item.rows, item.job.request_ids, compiled=self.onnx
                )
            except Exception as error:  # noqa: BLE001 -- delivered to the request
                out[item.index] = error
        return out

    def _log(
        self, served: ServedModel, item: _Ready, result: Prediction, latency_ms: float
    ) -> None:
        now = datetime.now(UTC)
        features = _features_of(item.rows, self._plan(served))
        scores = result.scores or [None] * len(result.predictions)
        for request_id, row, prediction, score in zip(
            result.request_ids, features, result.predictions, scores, strict=True
        ):
            self.writer.append(
                PredictionRecord(
                    request_id=request_id,
                    model=served.name,
                    version=served.version,
                    route=self.route,
                    timestamp=now,
                    latency_ms=latency_ms,
                    features=row,
                    prediction=prediction,
                    score=score,
                )
            )


def _numeric_plan(model: Any) -> _Plan | None:
    schema = getattr(model, "schema", None)
    order = getattr(model, "feature_order", None)
    if schema is None or order is None:
        return None
    kinds = {column.name: column for column in schema.features}
    numeric = (LogicalType.FLOAT, LogicalType.INTEGER)
    if not all(isinstance(n, str) and kinds[n].logical_type in numeric for n in order):
        return None
    if set(order) != set(kinds):
        return None
    return _Plan(
        order=tuple(order),
        integer=frozenset(n for n in order if kinds[n].logical_type == LogicalType.INTEGER),
        nullable=frozenset(n for n in order if kinds[n].nullable),
    )


def _numeric_matrix(rows: list[dict[str, Any]], plan: _Plan) -> np.ndarray | None:
    """Rows as a float64 matrix in ``plan.order``; ``None`` when a row needs :func:`conform`.

    A row qualifies when it holds every column under its exact name, every
    value is a number (not a boolean; integral for integer columns) or
    ``null`` in a nullable column. :func:`check_records` already refused
    non-finite and oversized numbers. Extra keys are ignored, as by conform.
    """
    order = plan.order
    table: list[list[float]] = []
    nan = math.nan
    for row in rows:
        values: list[float] = []
        for name in order:
            value = row.get(name, _ABSENT)
            kind = type(value)
            if kind is float:
                if name in plan.integer and not value.is_integer():
                    return None
                values.append(value)
            elif kind is int:
                values.append(value)
            elif value is None and name in plan.nullable:
                values.append(nan)
            else:
                return None
        table.append(values)
    return np.array(table, dtype=np.float64)


_ABSENT = object()


def _features_of(rows: np.ndarray | pd.DataFrame, plan: _Plan | None) -> list[dict[str, Any]]:
    """One JSON-able dict of model inputs per row, for the prediction log."""
    if isinstance(rows, pd.DataFrame) or plan is None:
        return list(to_jsonable(pd.DataFrame(rows).to_dict(orient="records")))
    order = plan.order
    integer = plan.integer
    out = []
    for values in rows.tolist():
        row: dict[str, Any] = {}
        for name, value in zip(order, values, strict=True):
            if math.isnan(value):  # a missing value
                row[name] = None
            else:
                row[name] = int(value) if name in integer else value
        out.append(row)
    return out


def _stack(parts: list[np.ndarray | pd.DataFrame]) -> np.ndarray | pd.DataFrame:
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts, axis=0)
    return pd.concat(parts, ignore_index=True)


def _split(whole: Prediction, group: list[_Ready]) -> list[tuple[int, Prediction]]:
    out = []
    start = 0
    for item in group:
        stop = start + len(item.job.request_ids)
        out.append(
            (
                item.index,
                Prediction(
                    version=whole.version,
                    predictions=whole.predictions[start:stop],
                    scores=None if whole.scores is None else whole.scores[start:stop],
                    probabilities=None
                    if whole.probabilities is None
                    else whole.probabilities[start:stop],
                    classes=whole.classes,
                    request_ids=item.job.request_ids,
                ),
            )
        )
        start = stop
    return out


@functools.cache
def _threadpools() -> ThreadpoolController:
    """Native thread pools, inspected on the first request (once the model's libraries are loaded)."""
    return ThreadpoolController()


def _score(
    served: ServedModel,
    rows: np.ndarray | pd.DataFrame,
    request_ids: list[str],
    *,
    compiled: bool = True,
) -> Prediction:
    """Score model-ready ``rows`` once: class probabilities when the model has them,
    labels from those.

    Each batch is scored with one OpenMP thread (and the compiled model's
    session has one intra-op thread): a server gets its parallelism from
    concurrent batches, and OpenMP teams spinning in every thread of a 2-core
    machine slow everything down (threadpoolctl).
    """
    model = served.model
    try:
        with _threadpools().limit(limits=1, user_api="openmp"):
            classes = model.classes
            proba = (
                model.predict_proba(rows, conformed=True, compiled=compiled)
                if classes is not None
                else None
            )
            if proba is not None and classes is not None:
                probabilities = np.asarray(proba, dtype=float)
                labels = np.asarray(classes, dtype=object)[np.argmax(probabilities, axis=1)]
                predictions = to_jsonable(labels)
            else:
                probabilities = None
                predictions = to_jsonable(
                    np.asarray(model.predict(rows, conformed=True, compiled=compiled))
                )
        scores = None
        if probabilities is not None and classes is not None and len(classes) == 2:
            # the positive class is classes[1], as in LoadedModel.positive_score
            scores = to_jsonable(probabilities[:, 1])
    except LoopMLError:
        raise
    except (ValueError, TypeError) as error:  # the estimator refused rows the contract allowed
        raise DataError(
            f"model {served.name} version {served.version} cannot score these rows: {error}"
        ) from error
    except Exception as error:
        raise ServingError(
            f"model {served.name} version {served.version} failed to predict: {error}"
        ) from error
    if len(predictions) != len(request_ids):
        raise ServingError(
            f"model {served.name} version {served.version} returned {len(predictions)} "
            f"predictions for {len(request_ids)} rows"
        )
    return Prediction(
        version=served.version,
        predictions=predictions,
        scores=scores,
        probabilities=probabilities,
        classes=None if classes is None else to_jsonable(list(classes)),
        request_ids=request_ids,
    )
