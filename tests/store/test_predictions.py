"""Prediction log: writer thread, Parquet layout, DuckDB reads, feedback join, several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from loopml.errors import StoreError
from loopml.store.predictions import (
    PREDICTION_COLUMNS,
    PredictionLogReader,
    PredictionLogWriter,
    PredictionRecord,
    append_feedback,
)

T0 = datetime(2024, 3, 1, 23, 59, 0, tzinfo=UTC)
SRC = str(Path(__file__).resolve().parents[2] / "src")


def record(
    i: int, *, model: str = "churn", version: int = 1, at: datetime = T0
) -> PredictionRecord:
    return PredictionRecord(
        request_id=f"req-{i}",
        model=model,
        version=version,
        route="champion",
        timestamp=at + timedelta(seconds=i),
        latency_ms=1.25,
        features={
            "plan": "pro" if i % 2 else "basic",
            "tenure": i,
            "spend": float("nan") if i == 3 else i / 2,
        },
        prediction=i % 2,
        score=0.9 if i % 2 else 0.1,
    )


def test_n_appends_then_close_gives_exactly_n_rows(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path, batch_size=7, flush_interval=10.0).start()
    for i in range(100):  # crosses midnight at i=60: two date partitions
        writer.append(record(i))
    writer.close()
    assert writer.written == 100
    assert writer.queue_depth == 0

    frame = PredictionLogReader(tmp_path).read_predictions("churn")
    assert len(frame) == 100
    assert list(frame.columns) == [*PREDICTION_COLUMNS, "plan", "tenure", "spend"]
    assert frame["request_id"].tolist() == [f"req-{i}" for i in range(100)]
    assert frame["prediction"].tolist() == [i % 2 for i in range(100)]
    assert frame["tenure"].tolist() == list(range(100))
    assert pd.isna(frame.loc[3, "spend"]) and frame.loc[4, "spend"] == 2.0
    assert str(frame["timestamp"].dt.tz) == "UTC"
    dates = sorted(p.name for p in (tmp_path / "model=churn").iterdir())
    assert dates == ["date=2024-03-01", "date=2024-03-02"]
    files = list(tmp_path.glob("model=churn/date=*/*.parquet"))
    assert all(f.name.startswith(f"part-{os.getpid()}-") for f in files)
    assert not list(tmp_path.rglob("*.tmp"))


def test_flush_makes_appended_rows_readable_without_closing(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path, batch_size=1_000, flush_interval=60.0).start()
    reader = PredictionLogReader(tmp_path)
    for i in range(5):
        writer.append(record(i))
    writer.flush(timeout=10)
    assert reader.count("churn") == 5
    writer.append(record(5))
    writer.flush(timeout=10)
    assert reader.count("churn") == 6
    writer.close()


def test_interval_writes_without_flush(tmp_path: Path) -> None:
    with PredictionLogWriter(tmp_path, batch_size=1_000, flush_interval=0.05) as writer:
        writer.append(record(0))
        for _ in range(200):
            if writer.written:
                break
            time.sleep(0.01)
        assert writer.written == 1


def test_filters_by_time_and_version(tmp_path: Path) -> None:
    with PredictionLogWriter(tmp_path) as writer:
        for i in range(10):
            writer.append(record(i, version=1 if i < 6 else 2))
    reader = PredictionLogReader(tmp_path)
    assert len(reader.read_predictions("churn", version=2)) == 4
    window = reader.read_predictions(
        "churn", start=T0 + timedelta(seconds=2), end=T0 + timedelta(seconds=5)
    )
    assert window["request_id"].tolist() == ["req-2", "req-3", "req-4"]
    assert reader.count("other-model") == 0


def test_window_after_every_row_is_empty_with_the_columns(tmp_path: Path) -> None:
    with PredictionLogWriter(tmp_path) as writer:
        writer.append(record(1))
    reader = PredictionLogReader(tmp_path)
    frame = reader.read_predictions("churn", start=T0 + timedelta(hours=1))
    assert frame.empty and list(frame.columns) == list(PREDICTION_COLUMNS)
    assert reader.read_labelled("churn", start=T0 + timedelta(hours=1)).empty


def test_empty_log_has_the_columns(tmp_path: Path) -> None:
    reader = PredictionLogReader(tmp_path / "never-written")
    frame = reader.read_predictions("churn")
    assert frame.empty and list(frame.columns) == list(PREDICTION_COLUMNS)
    assert reader.read_feedback("churn").empty
    labelled = reader.read_labelled("churn")
    assert labelled.empty and "label" in labelled.columns
    assert reader.count("churn") == 0


def test_feedback_join_uses_latest_label(tmp_path: Path) -> None:
    with PredictionLogWriter(tmp_path) as writer:
        for i in range(6):
            writer.append(record(i))
    append_feedback(tmp_path, "churn", [("req-1", 1, T0), ("req-4", 0, T0), ("unknown", 1, T0)])
    append_feedback(tmp_path, "churn", [("req-1", 0, T0 + timedelta(hours=1))])
    reader = PredictionLogReader(tmp_path)

    feedback = reader.read_feedback("churn")
    assert sorted(feedback["request_id"]) == ["req-1", "req-4", "unknown"]

    labelled = reader.read_labelled("churn")
    assert labelled["request_id"].tolist() == ["req-1", "req-4"]
    assert labelled["label"].tolist() == [0, 0]
    assert labelled["prediction"].tolist() == [1, 0]
    assert "tenure" in labelled.columns
    assert append_feedback(tmp_path, "churn", []) == 0


def test_model_names_are_separate_and_path_safe(tmp_path: Path) -> None:
    with PredictionLogWriter(tmp_path) as writer:
        writer.append(record(0, model="a/b"))
        writer.append(record(1, model="a"))
    reader = PredictionLogReader(tmp_path)
    assert reader.count("a/b") == 1 and reader.count("a") == 1
    assert (tmp_path / "model=a%2Fb").is_dir()


def test_closed_or_unstarted_writer_refuses_appends(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path)
    with pytest.raises(StoreError, match="not started"):
        writer.append(record(0))
    writer.start()
    writer.close()
    with pytest.raises(StoreError, match="closed"):
        writer.append(record(0))
    writer.close()  # idempotent


def test_full_queue_raises_when_asked_to(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")  # writes fail: the thread keeps rows, so the queue fills
    writer = PredictionLogWriter(
        blocker, max_queue=1, batch_size=1_000, flush_interval=60, on_full="raise"
    )
    writer.start()
    with pytest.raises(StoreError, match="full"):
        for i in range(10_000):
            writer.append(record(i))
    with pytest.raises(StoreError, match="failed"):
        writer.flush(timeout=10)


WORKER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from loopml.store.predictions import PredictionLogWriter, PredictionRecord

    root, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    writer = PredictionLogWriter(root, batch_size=50, flush_interval=0.01).start()
    for i in range(n):
        writer.append(PredictionRecord(f"{tag}-{i}", "churn", 1, "champion",
                                       datetime.now(timezone.utc), 0.5, {"x": i}, i, None))
    writer.close()
    """
)


def test_two_writer_processes_lose_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    n = 2_000
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), tag, str(n)], env=env)
        for tag in ("a", "b")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]

    files = list(tmp_path.glob("model=churn/date=*/*.parquet"))
    assert {f.name.split("-")[1] for f in files} == {str(p.pid) for p in procs}
    assert sum(pq.read_metadata(f).num_rows for f in files) == 2 * n
    frame = PredictionLogReader(tmp_path).read_predictions("churn")
    assert len(frame) == 2 * n
    assert frame["request_id"].is_unique
