"""Adaptive micro-batching: coalescing, arrival order, isolation of bad requests, no wait at c1."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from loopml.api import Client
from loopml.errors import DataError
from loopml.models import save_model
from loopml.schema import infer_schema
from loopml.serving import create_app
from loopml.serving.batcher import Batcher
from loopml.serving.inference import Job, Prediction

Serve = Callable[..., Any]
MODEL = "churn"
ROW = {"plan": "pro", "tenure": 30}


class SlowPredictor:
    """Records each batch; takes ``delay`` seconds per batch; refuses rows holding ``bad``."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.batches: list[list[str]] = []

    def score_batch(self, jobs: Sequence[Job], deliver: Callable[[list[Any]], None]) -> None:
        self.batches.append([job.request_ids[0] for job in jobs])
        time.sleep(self.delay)
        results: list[Any] = []
        for job in jobs:
            if any("bad" in record for record in job.records):
                results.append(DataError(f"refused {job.request_ids[0]}"))
            else:
                results.append(
                    Prediction(1, [job.request_ids[0]], None, None, None, job.request_ids)
                )
        deliver(results)


def test_concurrent_requests_share_one_call_and_complete_in_arrival_order() -> None:
    predictor = SlowPredictor()
    batcher = Batcher(predictor, max_batch_size=64, max_batch_wait_ms=0)  # type: ignore[arg-type]
    finished: list[str] = []

    async def one(i: int) -> Prediction:
        result = await batcher.predict([{"x": i}], [f"r{i}"])
        finished.append(result.request_ids[0])
        return result

    async def main() -> list[Prediction]:
        tasks = [asyncio.create_task(one(0))]
        await asyncio.sleep(0.01)  # r0 found nothing queued and is being scored alone
        tasks += [asyncio.create_task(one(i)) for i in range(1, 10)]
        try:
            return await asyncio.gather(*tasks)
        finally:
            await batcher.close()

    results = asyncio.run(main())
    # the rest arrived while r0 was being scored, and share the next call
    assert predictor.batches == [["r0"], [f"r{i}" for i in range(1, 10)]]
    assert [r.request_ids for r in results] == [[f"r{i}"] for i in range(10)]
    assert finished == [f"r{i}" for i in range(10)]


def test_max_batch_size_caps_rows_per_call() -> None:
    predictor = SlowPredictor(delay=0.02)
    batcher = Batcher(predictor, max_batch_size=3, max_batch_wait_ms=0)  # type: ignore[arg-type]

    async def main() -> None:
        try:
            await asyncio.gather(*(batcher.predict([{"x": i}], [f"r{i}"]) for i in range(6)))
        finally:
            await batcher.close()

    asyncio.run(main())
    # The first request finds the batcher idle and is scored at once, alone; the five
    # that queued behind it go in calls of at most 3 rows.
    assert [len(batch) for batch in predictor.batches] == [1, 3, 2]


def test_a_refused_request_fails_alone() -> None:
    predictor = SlowPredictor()
    batcher = Batcher(predictor, max_batch_wait_ms=0)  # type: ignore[arg-type]

    async def main() -> list[Any]:
        try:
            calls = [batcher.predict([{"x": 0}], ["first"])]
            calls += [
                batcher.predict([{"bad": 1}] if i == 2 else [{"x": i}], [f"r{i}"]) for i in range(5)
            ]
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await batcher.close()

    results = asyncio.run(main())
    assert isinstance(results[3], DataError)
    assert all(isinstance(r, Prediction) for i, r in enumerate(results) if i != 3)


def test_a_lone_request_does_not_wait_for_a_batch() -> None:
    predictor = SlowPredictor(delay=0.0)
    batcher = Batcher(predictor, max_batch_wait_ms=5_000)  # type: ignore[arg-type]

    async def main() -> float:
        try:
            started = time.perf_counter()
            async with batcher.expect():
                pass  # body read
            await batcher.predict([{"x": 1}], ["only"])
            elapsed = time.perf_counter() - started
            assert batcher._task is None  # scored by its own coroutine, no dispatcher hop
            return elapsed
        finally:
            await batcher.close()

    assert asyncio.run(main()) < 0.5


def test_server_batches_concurrent_requests_with_own_ids_and_version(
    home: Client, serve: Serve
) -> None:
    app = create_app(home, MODEL, "champion", poll_interval=0.1, auth=False)
    server = serve(app)
    batches: list[int] = []
    batcher = app.state.batcher
    hook = batcher.on_batch
    batcher.on_batch = lambda n: (batches.append(n), hook(n) if hook else None)
    barrier = threading.Barrier(16)

    def call(i: int) -> Any:
        barrier.wait()
        rows = [{"plan": "basic", "tenure": "x"}] if i == 5 else [{**ROW, "tenure": i}]
        return server.http.post("/predict", json=rows, headers={"X-Request-ID": f"req-{i}"})

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(call, range(16)))
    assert responses[5].status_code == 422
    for i, response in enumerate(responses):
        if i == 5:
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["request_ids"] == [f"req-{i}"]
        assert body["version"] == 1 and response.headers["X-Model-Version"] == "1"
    assert sum(batches) == 16
    model = app.state.holder.require().model
    expected = model.predict([{**ROW, "tenure": i} for i in range(16)])
    got = [r.json()["predictions"][0] for i, r in enumerate(responses) if i != 5]
    assert got == [int(v) for i, v in enumerate(expected) if i != 5]


def _register_compiled(client: Client, tmp_path: Path) -> None:
    """Version 2 of ``churn``: a forest over one-hot ``plan``, saved with reference data."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"plan": rng.choice(["basic", "pro", "team"], size=200), "tenure": rng.integers(0, 60, 200)}
    )
    label = ((frame["tenure"] > 24) ^ (frame["plan"] == "team")).astype(int)
    encode = ColumnTransformer(
        [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])], remainder="passthrough"
    )
    estimator = Pipeline(
        [("encode", encode), ("model", RandomForestClassifier(20, random_state=0))]
    ).fit(frame, label)
    package = tmp_path / "compiled"
    save_model(estimator, package, schema=infer_schema(frame), reference=frame)
    version = client.registry.register(MODEL, package, run_id=None, reason="test")
    client.registry.set_alias(MODEL, "champion", version.version, reason="test")


@pytest.mark.parametrize("onnx", [True, False])
def test_metadata_names_the_runtime_and_onnx_can_be_switched_off(
    home: Client, serve: Serve, tmp_path: Path, onnx: bool
) -> None:
    pytest.importorskip("onnxruntime")
    _register_compiled(home, tmp_path)
    app = create_app(home, MODEL, "champion", poll_interval=0.1, auth=False, onnx=onnx)
    server = serve(app)
    deadline = time.monotonic() + 10
    while app.state.holder.require().version != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    metadata = server.http.get(f"/v2/models/{MODEL}").json()
    assert metadata["parameters"]["runtime"] == ("onnx" if onnx else "native")
    assert metadata["parameters"]["compiled"]["runtime"] == "onnx"
    response = server.http.post("/predict", json=[ROW])
    assert response.status_code == 200
    assert response.json()["version"] == 2
