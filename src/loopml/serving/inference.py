"""Score JSON records with the served model and log every row.

:class:`Predictor` is shared by ``POST /predict`` and the Open Inference
Protocol ``infer`` endpoint. Its :meth:`Predictor.predict` is blocking (schema
conforming, model call, queueing log records) and runs in a worker thread, so
the event loop keeps answering health checks while a large batch is scored.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from loopml.errors import DataError, LoopMLError, SchemaViolationError, ServingError
from loopml.schema import conform
from loopml.schema.violation import Violation, ViolationKind
from loopml.serving.model_holder import ModelHolder, ServedModel
from loopml.serving.recent_ids import RecentIds
from loopml.serving.wire import INT64_RANGE, NOT_UNICODE, is_valid_unicode, printable, to_jsonable
from loopml.store.predictions import PredictionRecord

__all__ = ["Prediction", "Predictor", "request_ids_for"]

_SCALARS = (str, int, float, bool, type(None))
_NOT_SCALAR = (
    "values must be JSON scalars: finite numbers (64-bit integers), strings, booleans or null"
)


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


def request_ids_for(n_rows: int, header: str | None) -> list[str]:
    """Request ids for ``n_rows`` rows: the ``X-Request-ID`` header (``-<i>`` per row
    when there are several) or a fresh UUID4 per row."""
    if header:
        return [header] if n_rows == 1 else [f"{header}-{i}" for i in range(n_rows)]
    return [uuid.uuid4().hex for _ in range(n_rows)]


def check_records(records: Sequence[Any]) -> list[dict[str, Any]]:
    """Refuse rows no contract can accept, naming the column and rows.

    Rows must be JSON objects of scalars; integers must fit in 64 bits,
    numbers must be finite, and strings (values and column names) must be
    valid Unicode, so that every accepted row can be written to and read
    back from the prediction log. Everything else is left to
    :func:`loopml.schema.conform`.

    Raises
    ------
    DataError
        There are no records (HTTP 400).
    SchemaViolationError
        A value is nested, infinite, an oversized integer or a string with a
        lone UTF-16 surrogate (HTTP 422); each violation names the column.
    """
    if not records:
        raise DataError("no records to predict; send at least one row")
    bad: dict[tuple[str, str], list[int]] = {}
    for row, record in enumerate(records):
        for column, value in record.items():
            name = str(column)
            if not is_valid_unicode(name):
                problem: str | None = f"the column name is {NOT_UNICODE}"
                name = printable(name)
            elif isinstance(value, str):
                problem = None if is_valid_unicode(value) else f"the value is {NOT_UNICODE}"
            elif not isinstance(value, _SCALARS) or (
                (isinstance(value, float) and not math.isfinite(value))
                or (isinstance(value, int) and not INT64_RANGE[0] <= value <= INT64_RANGE[1])
            ):
                problem = _NOT_SCALAR
            else:
                problem = None
            if problem is not None:
                bad.setdefault((name, problem), []).append(row)
    if bad:
        raise SchemaViolationError(
            [
                Violation(
                    column=column,
                    kind=ViolationKind.WRONG_TYPE,
                    count=len(rows),
                    rows=tuple(rows[:5]),
                    detail=problem,
                )
                for (column, problem), rows in bad.items()
            ]
        )
    return [dict(record) for record in records]


class Predictor:
    """Conform, predict and log for the model a :class:`ModelHolder` serves.

    Parameters
    ----------
    holder : ModelHolder
        Source of the served model snapshot.
    route : str
        Route name written to the prediction log (``"champion"``).

    Attributes
    ----------
    writer : loopml.store.predictions.PredictionLogWriter or None
        Where rows are logged; set by the app's lifespan, ``None`` disables logging.
    served_ids : RecentIds
        Request ids of the rows this process scored recently (for ``/feedback``).
    """

    def __init__(self, holder: ModelHolder, *, route: str = "champion") -> None:
        self.holder = holder
        self.route = route
        self.writer: Any = None
        self.served_ids = RecentIds()

    def predict(self, records: Sequence[Any], request_ids: Sequence[str]) -> Prediction:
        """Score ``records`` with the current model and queue one log record per row.

        Blocking; run it in a worker thread.

        Raises
        ------
        DataError, SchemaViolationError
            The rows are unusable or break the model's schema (HTTP 400/422).
        ServingError
            No model is loaded yet (HTTP 503).
        """
        started = time.perf_counter()
        rows = check_records(records)
        served = self.holder.require()
        frame = conform(rows, served.model.schema)
        result = _score(served, frame, list(request_ids))
        latency_ms = (time.perf_counter() - started) * 1000.0
        if self.writer is not None:
            self._log(served, frame, result, latency_ms)
        self.served_ids.add(result.request_ids)
        return result

    def _log(
        self, served: ServedModel, frame: pd.DataFrame, result: Prediction, latency_ms: float
    ) -> None:
        now = datetime.now(UTC)
        features = to_jsonable(frame.to_dict(orient="records"))
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


@functools.cache
def _threadpools() -> ThreadpoolController:
    """Native thread pools, inspected on the first request (once the model's libraries are loaded)."""
    return ThreadpoolController()


def _score(served: ServedModel, frame: pd.DataFrame, request_ids: list[str]) -> Prediction:
    """Score ``frame`` once: class probabilities when the model has them, labels from those.

    Each request is scored with one OpenMP thread: a server gets its
    parallelism from concurrent requests, and OpenMP teams spinning in every
    request thread of a 2-core machine slow everything down (threadpoolctl).
    """
    model = served.model
    try:
        with _threadpools().limit(limits=1, user_api="openmp"):
            classes = model.classes
            proba = model.predict_proba(frame) if classes is not None else None
            if proba is not None and classes is not None:
                probabilities = np.asarray(proba, dtype=float)
                labels = np.asarray(classes, dtype=object)[np.argmax(probabilities, axis=1)]
                predictions = to_jsonable(labels)
            else:
                probabilities = None
                predictions = to_jsonable(np.asarray(model.predict(frame)))
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
