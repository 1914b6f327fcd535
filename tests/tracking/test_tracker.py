from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.entities import RunStatus
from loopml.errors import ConflictError, DataError, NotFoundError
from loopml.store import MetadataStore
from loopml.tracking import Tracker


def test_get_or_create_experiment_is_idempotent(tracker: Tracker) -> None:
    first = tracker.get_or_create_experiment("flights")
    again = tracker.get_or_create_experiment("flights")
    assert first.id == again.id
    assert first.name == "flights"


def test_run_records_params_tags_environment_and_finishes(tracker: Tracker) -> None:
    with tracker.start_run("flights", run_name="baseline", tags={"team": "ops"}) as run:
        run.log_param("max_iter", 100)
        run.log_params({"lr": 0.1, "loss": "log_loss"})
        run.set_tag("stage", "dev")
        assert tracker.get_run(run.id).status is RunStatus.RUNNING
    stored = tracker.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.end_time is not None
    assert stored.name == "baseline"
    assert stored.params == {"max_iter": "100", "lr": "0.1", "loss": "log_loss"}
    assert stored.tags == {"team": "ops", "stage": "dev"}
    assert stored.environment["packages"]["pandas"] == pd.__version__
    assert stored.git_commit is None or len(stored.git_commit) == 40


def test_exception_marks_run_failed_and_is_reraised(tracker: Tracker) -> None:
    with pytest.raises(ZeroDivisionError), tracker.start_run("flights") as run:
        run.log_metric("loss", 1.0)
        1 / 0  # noqa: B018
    assert tracker.get_run(run.id).status is RunStatus.FAILED
    assert [m.value for m in tracker.metric_history(run.id)] == [1.0]


def test_param_is_write_once(tracker: Tracker) -> None:
    with tracker.start_run("flights") as run:
        run.log_param("seed", 1)
        with pytest.raises(ConflictError):
            run.log_param("seed", 2)


def test_ten_thousand_metrics_all_stored_in_step_order(tracker: Tracker) -> None:
    run = tracker.start_run("flights")
    for step in range(10_000):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.end()
    history = tracker.metric_history(run.id, "loss")
    assert [m.step for m in history] == list(range(10_000))
    assert history[-1].value == pytest.approx(1e-4)


def test_metrics_reach_the_store_in_the_background(tmp_path: Path, store: MetadataStore) -> None:
    from loopml.store import ArtifactStore

    tracker = Tracker(store, ArtifactStore(str(tmp_path / "a")), flush_interval=0.05)
    run = tracker.start_run("flights")
    run.log_metric("loss", 0.5)
    import time

    deadline = time.monotonic() + 5
    while not tracker.metric_history(run.id) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m.value for m in tracker.metric_history(run.id)] == [0.5]
    run.end()


def test_default_step_counts_per_key_and_log_metrics_shares_step(tracker: Tracker) -> None:
    with tracker.start_run("flights") as run:
        run.log_metric("loss", 0.9)
        run.log_metric("loss", 0.8)
        run.log_metric("acc", 0.5)
        run.log_metrics({"roc_auc": 0.7, "log_loss": 0.6}, step=5)
    history = tracker.metric_history(run.id)
    by_key = {(m.key, m.step): m.value for m in history}
    assert by_key == {
        ("loss", 0): 0.9,
        ("loss", 1): 0.8,
        ("acc", 0): 0.5,
        ("roc_auc", 5): 0.7,
        ("log_loss", 5): 0.6,
    }
    roc, ll = (m for m in history if m.step == 5)
    assert roc.timestamp == ll.timestamp


def test_metric_values_are_validated_with_the_key_named(tracker: Tracker) -> None:
    with tracker.start_run("flights") as run:
        run.log_metric("nan_ok", float("nan"))
        run.log_metric("numpy_ok", np.float32(0.25))
        run.log_metric("int_ok", np.int64(3))
        for bad in ("0.5", None, True, [1.0]):
            with pytest.raises(DataError, match="'val_loss'"):
                run.log_metric("val_loss", bad)  # type: ignore[arg-type]
        with pytest.raises(DataError, match="'val_loss'.*infinite"):
            run.log_metric("val_loss", float("inf"))
        with pytest.raises(DataError, match="key"):
            run.log_metric("", 1.0)
    values = {m.key: m.value for m in tracker.metric_history(run.id)}
    assert math.isnan(values["nan_ok"])
    assert values["numpy_ok"] == 0.25
    assert values["int_ok"] == 3.0
    assert "val_loss" not in values


def test_ended_run_refuses_more_logging(tracker: Tracker) -> None:
    run = tracker.start_run("flights")
    ended = run.end()
    assert ended.status is RunStatus.FINISHED
    assert run.end().status is RunStatus.FINISHED  # idempotent
    with pytest.raises(ConflictError, match=run.id):
        run.log_metric("loss", 1.0)
    with pytest.raises(ConflictError):
        run.log_param("a", 1)


def test_log_artifact_file_and_folder(tracker: Tracker, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hello")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.csv").write_text("x\n1\n")
    with tracker.start_run("flights") as run:
        file_uri = run.log_artifact(note)
        dir_uri = run.log_artifact(folder, dest="figures")
        with pytest.raises(NotFoundError):
            run.log_artifact(tmp_path / "missing.txt")
    stored = tracker.get_run(run.id)
    assert file_uri == f"{stored.artifact_uri}/note.txt"
    assert dir_uri == f"{stored.artifact_uri}/figures"
    local = tracker.artifacts.get_dir(dir_uri)
    assert (local / "sub" / "a.csv").read_text() == "x\n1\n"


def test_list_runs_by_experiment(tracker: Tracker) -> None:
    with tracker.start_run("a") as first:
        pass
    with tracker.start_run("b") as second:
        pass
    assert [r.id for r in tracker.list_runs("a")] == [first.id]
    assert {r.id for r in tracker.list_runs()} == {first.id, second.id}
    with pytest.raises(NotFoundError):
        tracker.list_runs("missing")
