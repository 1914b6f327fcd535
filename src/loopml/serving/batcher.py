"""Adaptive micro-batching: concurrent requests for a model share one predict call.

A :class:`Batcher` keeps one queue per served model. Requests join the queue
and wait; one dispatcher task takes every queued request (up to
``max_batch_size`` rows), scores them in a worker thread with one call of
:meth:`loopml.serving.inference.Predictor.score_batch`, and answers them in
arrival order. While a batch is being scored, new requests gather in the
queue and form the next batch, so the batch size follows the load: one
request at a time when traffic is light, dozens under heavy concurrency.

Nothing waits on purpose when nothing else is coming: a request that finds
the queue empty, no batch being scored and no other request being read is
scored at once by its own coroutine, without passing through the dispatcher,
so at concurrency 1 the batcher costs one flag check. Only when other requests have
already arrived and are still being read (:meth:`Batcher.expect`) does the
dispatcher wait for them, at most ``max_wait_ms``.

References
----------
.. [1] BentoML, "Adaptive batching",
   https://docs.bentoml.com/en/latest/guides/adaptive-batching.html
.. [2] C. Olston et al., "TensorFlow-Serving: Flexible, High-Performance ML
   Serving", 2017 (batching scheduler: max batch size, batch timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio.to_thread

from loopml.serving.inference import Job, Prediction, Predictor

__all__ = ["DEFAULT_MAX_BATCH_SIZE", "DEFAULT_MAX_BATCH_WAIT_MS", "Batcher"]


def answer(future: asyncio.Future[Prediction], result: Any) -> None:
    """Resolve ``future`` with a result or an error, unless its client went away."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


DEFAULT_MAX_BATCH_SIZE = 64
"""Rows per model call, by default (bench/serving.py: throughput flat from 32 up)."""

DEFAULT_MAX_BATCH_WAIT_MS = 2.0
"""Longest wait for requests already being read, by default (milliseconds)."""


class Batcher:
    """Coalesce concurrent requests into one model call.

    Parameters
    ----------
    predictor : Predictor
        Scores a batch (:meth:`Predictor.score_batch`).
    max_batch_size : int, default=64
        Most rows per model call; ``1`` turns batching off (one request per call).
        A single request with more rows is scored alone.
    max_batch_wait_ms : float, default=2.0
        Longest time a batch waits for requests that have arrived but are
        still being read; ``0`` never waits.
    on_batch : callable, optional
        Called with the number of rows of each model call (metrics).

    Examples
    --------
    >>> batcher = Batcher(predictor)              # doctest: +SKIP
    >>> result = await batcher.predict(records, ids)  # doctest: +SKIP
    """

    def __init__(
        self,
        predictor: Predictor,
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        max_batch_wait_ms: float = DEFAULT_MAX_BATCH_WAIT_MS,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.predictor = predictor
        self.max_batch_size = max_batch_size
        self.max_batch_wait_ms = max_batch_wait_ms
        self.on_batch = on_batch
        self._queue: deque[tuple[Job, asyncio.Future[Prediction]]] = deque()
        self._arriving = 0
        self._busy = False  # a batch is being scored (by the dispatcher or a lone request)
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def expect(self) -> AsyncIterator[None]:
        """Mark a request as arriving while its body is read and parsed.

        The dispatcher waits (at most ``max_batch_wait_ms``) for arriving
        requests to join a batch that is about to start.
        """
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1

    async def predict(self, records: Sequence[Any], request_ids: Sequence[str]) -> Prediction:
        """Score one request's rows in the next batch; its own result or error.

        Raises
        ------
        loopml.errors.LoopMLError
            As :meth:`Predictor.predict`, for this request only.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        job = Job(records, list(request_ids))
        if self._idle():
            # Nothing queued, nothing being scored, nobody else arriving: score this
            # request here, without the hop through the dispatcher task.
            self._busy = True
            try:
                await self._run([(job, future)])
            finally:
                self._busy = False
                if self._queue:
                    self._ensure_running()
                    assert self._wakeup is not None
                    self._wakeup.set()
            return await future
        self._queue.append((job, future))
        self._ensure_running()
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    def _idle(self) -> bool:
        return not self._busy and not self._queue and self._arriving == 0

    async def close(self, timeout: float = 10.0) -> None:
        """Finish the batch being scored (its rows logged), then stop the dispatcher.

        A request's answer is delivered before its rows are written to the
        prediction log, so shutdown waits (at most ``timeout`` seconds) until
        no batch is being scored; requests still queued then fail with
        ``CancelledError``.
        """
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._queue:
            _, future = self._queue.popleft()
            future.cancel()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._dispatch(), name="loopml-batcher"
            )

    async def _dispatch(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        while True:
            if not self._queue:
                wakeup.clear()
                await wakeup.wait()
                continue
            if self._busy:  # a lone request is being scored; it wakes us when done
                wakeup.clear()
                await wakeup.wait()
                continue
            await self._gather()
            batch = self._take()
            self._busy = True
            try:
                await self._run(batch)
            finally:
                self._busy = False

    async def _gather(self) -> None:
        """Wait for requests that are being read, if any, up to ``max_batch_wait_ms``."""
        if self.max_batch_wait_ms <= 0 or self.max_batch_size <= 1:
            return
        deadline = time.perf_counter() + self.max_batch_wait_ms / 1000.0
        while self._arriving > 0 and self._rows_queued() < self.max_batch_size:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            assert self._wakeup is not None
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _rows_queued(self) -> int:
        return sum(len(job.request_ids) for job, _ in self._queue)

    def _take(self) -> list[tuple[Job, asyncio.Future[Prediction]]]:
        batch = [self._queue.popleft()]
        rows = len(batch[0][0].request_ids)
        while self._queue:
            size = len(self._queue[0][0].request_ids)
            if rows + size > self.max_batch_size:
                break
            batch.append(self._queue.popleft())
            rows += size
        return batch

    async def _run(self, batch: list[tuple[Job, asyncio.Future[Prediction]]]) -> None:
        loop = asyncio.get_running_loop()
        jobs = [job for job, _ in batch]

        def answer_all(results: list[Prediction | BaseException]) -> None:
            for (_, future), result in zip(batch, results, strict=True):
                answer(future, result)

        def deliver(results: list[Prediction | BaseException]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                loop.call_soon_threadsafe(answer_all, results)

        if self.on_batch is not None:
            self.on_batch(sum(len(job.request_ids) for job in jobs))
        try:
            await anyio.to_thread.run_sync(self.predictor.score_batch, jobs, deliver)
        except Exception as error:  # noqa: BLE001 -- never leave a request hanging
            for _, future in batch:
                if not future.done():
                    answer(future, error)
