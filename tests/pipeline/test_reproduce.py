"""reproduce_run: a recorded run reruns to the same metrics, data and package, or says what differs."""

from __future__ import annotations

import json
import shutil
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopml.data import fingerprint
from loopml.errors import ConfigurationError, DataError, NotFoundError
from loopml.pipeline import PipelineSpec, run_pipeline
from loopml.pipeline.record import RECORD_FILE, read_record
from loopml.pipeline.reproduce import reproduce_run, skops_digest
from loopml.registry import Registry
from loopml.store import ArtifactStore, MetadataStore
from loopml.tracking import Tracker


def _run(spec: PipelineSpec, tracker: Tracker, registry: Registry, **kwargs: Any) -> Any:
    return run_pipeline(spec, tracker=tracker, registry=registry, store=tracker.store,
                        artifacts=tracker.artifacts, **kwargs)


def _by(result: Any, kind: str) -> dict[str, Any]:
    return {c.name: c for c in result.checks if c.kind == kind}


def test_run_records_spec_inputs_seeds_and_step_keys(
    spec: PipelineSpec, frame: pd.DataFrame, tracker: Tracker, registry: Registry,
    artifacts: ArtifactStore,
) -> None:
    result = _run(spec, tracker, registry, inputs={"train": frame})
    run = tracker.get_run(result.run_id)
    record = read_record(artifacts, run.artifact_uri)
    assert record is not None and record["format"] == 1
    assert PipelineSpec.from_dict(record["spec"], base_dir=record["base_dir"]) == spec
    assert record["inputs"] == {"train": {"fingerprint": fingerprint(frame), "n_rows": 3000,
                                          "n_columns": 5}}
    assert record["seeds"] == {"split.seed": None, "train.random_state": 0}
    assert {s.name: run.tags[f"cache_key.{s.name}"] for s in result.steps} == {
        s.name: s.cache_key for s in result.steps
    }
    assert run.tags["model_version"] == "toy-model/1"


def test_rerun_matches_metrics_data_and_package_without_touching_the_registry(
    spec: PipelineSpec, frame: pd.DataFrame, tracker: Tracker, registry: Registry,
    store: MetadataStore, artifacts: ArtifactStore,
) -> None:
    result = _run(spec, tracker, registry, inputs={"train": frame})
    events_before = len(store.list_events())
    seen: list[tuple[str, str]] = []

    out = reproduce_run(result.run_id, store=store, artifacts=artifacts,
                        progress=lambda step, status: seen.append((step, status)))

    assert out.matches and out.metrics_match and out.artifacts_match, out.to_dict()
    assert out.model_version == "toy-model/1"
    metrics = _by(out, "metric")
    assert set(metrics) == {"roc_auc", "accuracy", "log_loss"}
    assert metrics["roc_auc"].recorded == pytest.approx(result.metrics["roc_auc"], abs=0)
    assert set(_by(out, "dataset")) == {"input:train", "split.train", "split.test"}
    artifacts_checked = _by(out, "artifact")
    assert {"model.skops", "reference.parquet", "manifest.json:schema"} <= set(artifacts_checked)
    assert "skops content digest" in artifacts_checked["model.skops"].note
    assert all(c.matches for c in _by(out, "step").values())  # same code, params, inputs
    assert any("taken from the step cache" in n for n in out.notes)
    assert any("promote" in n for n in out.notes)
    assert ("promote", "skipped") in seen and ("train", "done") in seen
    # read-only: no new version, no alias move, no audit event
    assert [v.version for v in registry.list_versions("toy-model")] == [1]
    assert len(store.list_events()) == events_before
    json.dumps(out.to_dict(), allow_nan=False)


def test_input_must_be_given_when_not_cached_and_its_fingerprint_is_checked_first(
    spec: PipelineSpec, frame: pd.DataFrame, tracker: Tracker, registry: Registry,
    store: MetadataStore, artifacts: ArtifactStore, tmp_path: Path,
) -> None:
    result = _run(spec, tracker, registry, inputs={"train": frame})
    shutil.rmtree(Path(artifacts.root) / "cache")  # the cached copies are gone

    with pytest.raises(DataError) as info:
        reproduce_run(result.run_id, store=store, artifacts=artifacts)
    message = str(info.value)
    assert result.run_id in message and "--input train=PATH.parquet" in message
    assert fingerprint(frame) in message

    changed = frame.assign(x=frame["x"] + 1.0)
    changed.to_parquet(tmp_path / "changed.parquet")
    seen: list[str] = []
    with pytest.raises(DataError, match="is not the data run"):
        reproduce_run(result.run_id, store=store, artifacts=artifacts,
                      inputs={"train": tmp_path / "changed.parquet"},
                      progress=lambda step, status: seen.append(step))
    assert seen == []  # refused before any step ran

    with pytest.raises(ConfigurationError, match="no input frame named 'other'"):
        reproduce_run(result.run_id, store=store, artifacts=artifacts,
                      inputs={"other": frame})

    frame.to_parquet(tmp_path / "train.parquet")
    out = reproduce_run(result.run_id, store=store, artifacts=artifacts,
                        inputs={"train": tmp_path / "train.parquet"})
    assert out.matches, out.to_dict()


def test_differences_are_reported_per_check(
    spec: PipelineSpec, frame: pd.DataFrame, tracker: Tracker, registry: Registry,
    store: MetadataStore, artifacts: ArtifactStore, tmp_path: Path,
) -> None:
    result = _run(spec, tracker, registry, inputs={"train": frame})
    with sqlite3.connect(tmp_path / "loopml.db") as conn:
        conn.execute("UPDATE metrics SET value = 0.5 WHERE run_id = ? AND key = 'roc_auc'",
                     (result.run_id,))
    package = artifacts.get_dir(registry.resolve("toy-model", 1).source)
    pd.DataFrame({"x": [1.0]}).to_parquet(package / "reference.parquet")

    out = reproduce_run(result.run_id, store=store, artifacts=artifacts)

    assert not out.matches and not out.metrics_match and not out.artifacts_match
    assert not _by(out, "metric")["roc_auc"].matches
    assert _by(out, "metric")["accuracy"].matches
    assert not _by(out, "artifact")["reference.parquet"].matches
    assert _by(out, "artifact")["model.skops"].matches


def test_run_without_record_needs_the_matching_spec(
    spec: PipelineSpec, frame: pd.DataFrame, tracker: Tracker, registry: Registry,
    store: MetadataStore, artifacts: ArtifactStore,
) -> None:
    result = _run(spec, tracker, registry, inputs={"train": frame})
    run = tracker.get_run(result.run_id)
    (artifacts.get_dir(run.artifact_uri) / RECORD_FILE).unlink()

    with pytest.raises(ConfigurationError, match="--spec FILE"):
        reproduce_run(result.run_id, store=store, artifacts=artifacts)
    other = spec.with_params({"train.estimator_params.max_iter": 16})
    with pytest.raises(ConfigurationError, match="train.estimator_params.max_iter"):
        reproduce_run(result.run_id, store=store, artifacts=artifacts, spec=other,
                      inputs={"train": frame})
    out = reproduce_run(result.run_id, store=store, artifacts=artifacts, spec=spec,
                        inputs={"train": frame})
    assert out.matches, out.to_dict()


def test_unknown_run_is_named(store: MetadataStore, artifacts: ArtifactStore) -> None:
    with pytest.raises(NotFoundError, match="no-such-run"):
        reproduce_run("no-such-run", store=store, artifacts=artifacts)


def test_demo_flights_pipeline_on_a_small_slice_reproduces(
    tracker: Tracker, registry: Registry, store: MetadataStore, artifacts: ArtifactStore,
) -> None:
    path = Path(str(resources.files("loopml.demo") / "flights_pipeline.yaml"))
    spec = PipelineSpec.from_yaml(path).with_params({
        "load.fallback.query": "month == 1 and day <= 4",
        "train.estimator_params.max_iter": 20,
    })
    result = _run(spec, tracker, registry)
    record = read_record(artifacts, tracker.get_run(result.run_id).artifact_uri)
    assert record is not None and record["spec_path"] == str(path.resolve())
    assert record["inputs"] == {}  # the demo source, not a passed frame

    out = reproduce_run(result.run_id, store=store, artifacts=artifacts)

    assert out.matches, out.to_dict()
    assert _by(out, "dataset")["demo:flights"].matches
    assert out.model_version == "flights/1"
    assert out.code["recorded_commit"] == out.code["current_commit"]


def test_skops_digest_ignores_object_ids_and_zip_times(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    from loopml.models import save_model
    from loopml.models.hashing import sha256_file
    from loopml.pipeline.estimators import build_estimator
    from loopml.schema import infer_schema

    features = frame[["colour", "x", "z"]]

    def saved(folder: str, max_iter: int) -> Path:
        model = build_estimator("hist_gradient_boosting", {"max_iter": max_iter}, features,
                                step="train").fit(features, frame["label"])
        save_model(model, tmp_path / folder, schema=infer_schema(features), onnx=False)
        return tmp_path / folder / "model.skops"

    a, b, other = saved("a", 10), saved("b", 10), saved("c", 11)
    assert sha256_file(a) != sha256_file(b)  # two fits, same model: different bytes
    assert skops_digest(a) == skops_digest(b)
    assert skops_digest(a) != skops_digest(other)
    (tmp_path / "not.skops").write_bytes(b"plain")
    with pytest.raises(DataError, match="not a readable skops file"):
        skops_digest(tmp_path / "not.skops")
