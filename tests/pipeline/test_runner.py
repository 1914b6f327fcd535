from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopml.data import fingerprint
from loopml.entities import RunStatus
from loopml.errors import PipelineError
from loopml.pipeline import PipelineResult, PipelineSpec, run_pipeline
from loopml.registry import Registry
from loopml.tracking import Tracker

CACHEABLE = ["load", "validate", "split", "train", "evaluate", "register"]


def _run(
    spec: PipelineSpec,
    tracker: Tracker,
    registry: Registry,
    frame: pd.DataFrame,
    **kwargs: object,
) -> PipelineResult:
    return run_pipeline(
        spec,
        tracker=tracker,
        registry=registry,
        store=tracker.store,
        artifacts=tracker.artifacts,
        inputs={"train": frame},
        **kwargs,  # type: ignore[arg-type]
    )


def _cached(result: PipelineResult) -> dict[str, bool]:
    return {s.name: s.cached for s in result.steps}


def test_first_run_trains_registers_promotes_and_tracks(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    seen: list[tuple[str, str]] = []
    result = _run(spec, tracker, registry, frame, progress=lambda s, st: seen.append((s, st)))
    assert result.model_version == ("toy-model", 1)
    assert not any(_cached(result).values())
    assert seen[:2] == [("load", "running"), ("load", "done")]
    assert len(seen) == 2 * len(spec.steps)
    run = tracker.get_run(result.run_id)
    assert run.status is RunStatus.FINISHED
    assert run.params["train.estimator_params.max_iter"] == "15"
    assert run.params["split.by"] == "when"
    assert {i.role for i in run.inputs} == {"source", "train", "test"}
    assert run.tags["promote.decision"] == "promoted"
    assert "no champion yet" in run.tags["promote.reason"]
    metrics = {m.key: m.value for m in tracker.metric_history(result.run_id)}
    assert metrics == pytest.approx(result.metrics)
    assert 0.6 < metrics["roc_auc"] <= 1.0
    assert registry.resolve("toy-model", "champion").version == 1


def test_rerun_with_nothing_changed_completes_from_cache(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    first = _run(spec, tracker, registry, frame)
    second = _run(spec, tracker, registry, frame)
    assert _cached(second) == {**dict.fromkeys(CACHEABLE, True), "promote": False}
    assert [s.cache_key for s in second.steps] == [s.cache_key for s in first.steps]
    assert second.model_version == first.model_version == ("toy-model", 1)
    assert [v.version for v in tracker.store.list_model_versions("toy-model")] == [1]
    assert second.metrics == pytest.approx(first.metrics)
    run = tracker.get_run(second.run_id)
    assert run.tags["cache.train"] == "hit"
    assert run.tags["promote.decision"] == "unchanged"
    assert "v1 already is champion" in run.tags["promote.reason"]


def test_changed_train_param_reruns_only_train_and_downstream(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    first = _run(spec, tracker, registry, frame)
    changed = _run(spec, tracker, registry, frame, params={"train.features": ["z"]})
    assert _cached(changed) == {
        "load": True,
        "validate": True,
        "split": True,
        "train": False,
        "evaluate": False,
        "register": False,
        "promote": False,
    }
    assert changed.model_version == ("toy-model", 2)
    assert changed.metrics["roc_auc"] < first.metrics["roc_auc"]
    # z alone carries little signal: the new version loses on the same test rows
    run = tracker.get_run(changed.run_id)
    assert run.tags["promote.decision"] == "rejected"
    assert "does not beat champion v1" in run.tags["promote.reason"]
    assert f"{changed.metrics['roc_auc']:.4f}" in run.tags["promote.reason"]
    assert registry.resolve("toy-model", "champion").version == 1
    assert run.params["train.features"] == "['z']"


def test_changed_input_data_reruns_everything(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    _run(spec, tracker, registry, frame)
    shifted = frame.assign(x=frame["x"] + 0.01)
    again = _run(spec, tracker, registry, shifted)
    assert not any(_cached(again).values())
    assert again.model_version == ("toy-model", 2)


def test_lineage_edges(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    result = _run(spec, tracker, registry, frame)
    store = tracker.store
    node = f"run:{result.run_id}"
    into = {(e.source, e.relation) for e in store.edges_to(node)}
    assert ("pipeline:toy", "executed") in into
    assert (f"dataset:{fingerprint(frame)}", "input") in into
    out = {(e.target, e.relation) for e in store.edges_from(node)}
    assert out == {("model_version:toy-model/1", "produced")}


def test_failing_step_raises_pipeline_error_and_marks_run_failed(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    seen: list[tuple[str, str]] = []
    broken = frame.drop(columns=["z"])
    with pytest.raises(PipelineError, match=r"step 'validate' \(validate\).*'z'"):
        _run(spec, tracker, registry, broken, progress=lambda s, st: seen.append((s, st)))
    assert seen[-1] == ("validate", "failed")
    (run,) = tracker.list_runs("toy")
    assert run.status is RunStatus.FAILED
    assert run.tags["failed_step"] == "validate"
    assert tracker.store.list_registered_models() == []
    # the store stays usable: the same pipeline on good data succeeds afterwards
    assert _run(spec, tracker, registry, frame).model_version == ("toy-model", 1)


def test_bad_estimator_param_fails_the_train_step(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    with pytest.raises(PipelineError, match=r"step 'train'.*max_depthh"):
        _run(spec, tracker, registry, frame, params={"train.estimator_params.max_depthh": 3})


def test_promotion_gate_min_rejects_and_records_why(
    spec: PipelineSpec, tracker: Tracker, registry: Registry, frame: pd.DataFrame
) -> None:
    result = _run(spec, tracker, registry, frame, params={"promote.min": 0.999})
    run = tracker.get_run(result.run_id)
    assert run.tags["promote.decision"] == "rejected"
    assert "< min 0.999" in run.tags["promote.reason"]
    assert result.model_version == ("toy-model", 1)
    assert tracker.store.list_aliases("toy-model") == []


def test_csv_source_relative_to_yaml_with_query_and_columns(
    tmp_path: Path, tracker: Tracker, registry: Registry, frame: pd.DataFrame, toy: dict[str, Any]
) -> None:
    import yaml

    frame.to_csv(tmp_path / "data.csv", index=False)
    data = toy
    data["steps"][0]["params"] = {
        "source": "data.csv",
        "columns": ["when", "colour", "x", "z", "label"],
        "query": "x > -3",
    }
    data["steps"] = data["steps"][:5]  # no register/promote
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    spec = PipelineSpec.from_yaml(tmp_path / "p.yaml")
    result = run_pipeline(
        spec, tracker=tracker, registry=registry, store=tracker.store, artifacts=tracker.artifacts
    )
    assert result.model_version is None
    assert result.steps[0].summary["data"]["rows"] == int((frame["x"] > -3).sum())
    (tmp_path / "data.csv").write_text((tmp_path / "data.csv").read_text().replace("red", "RED"))
    again = run_pipeline(
        spec, tracker=tracker, registry=registry, store=tracker.store, artifacts=tracker.artifacts
    )
    assert not again.steps[0].cached  # the file's bytes are part of the load step's key


def test_missing_input_without_fallback_names_the_load_step(
    spec: PipelineSpec, tracker: Tracker, registry: Registry
) -> None:
    with pytest.raises(PipelineError, match=r"step 'load'.*no input frame 'train'"):
        run_pipeline(
            spec,
            tracker=tracker,
            registry=registry,
            store=tracker.store,
            artifacts=tracker.artifacts,
        )


def test_validate_against_schema_file_reports_violations(
    tmp_path: Path, tracker: Tracker, registry: Registry, frame: pd.DataFrame, toy: dict[str, Any]
) -> None:
    from loopml.schema import infer_schema

    schema = infer_schema(frame[["colour", "x", "z"]])
    (tmp_path / "contract.json").write_text(schema.to_json())
    data = toy
    data["steps"][1]["params"] = {"schema": "contract.json", "features": ["colour", "x", "z"]}
    spec = PipelineSpec.from_dict(data, base_dir=tmp_path)
    ok = _run(spec, tracker, registry, frame)
    assert ok.steps[1].summary["schema"]["columns"] == 3
    bad = frame.assign(colour=frame["colour"].replace({"red": "purple"}))
    with pytest.raises(PipelineError, match=r"step 'validate'.*colour"):
        _run(spec, tracker, registry, bad)


def test_inferred_contract_lets_every_feature_be_missing(
    tmp_path: Path, tracker: Tracker, registry: Registry, frame: pd.DataFrame, toy: dict[str, Any]
) -> None:
    """x and colour are never missing in the training rows; a model trained on them must
    still score rows that lack them (found by bench/loop_outcome.py: a retrained flights
    model refused the gate's held-out rows with a missing wind speed)."""
    spec = PipelineSpec.from_dict(toy, base_dir=tmp_path)
    _run(spec, tracker, registry, frame)
    model = registry.load("toy-model", "1")
    assert [c.nullable for c in model.schema.columns] == [True, True, True]
    rows = frame[["colour", "x", "z"]].head(3).astype(object)
    rows.loc[0, "x"] = None
    rows.loc[1, "colour"] = None
    assert len(model.predict(rows)) == 3
    observed = dict(toy)
    observed["steps"] = [dict(s) for s in toy["steps"]]
    observed["steps"][1] = {
        **toy["steps"][1],
        "params": {**toy["steps"][1]["params"], "nullable": "observed"},
    }
    observed["model"] = "toy-observed"
    _run(PipelineSpec.from_dict(observed, base_dir=tmp_path), tracker, registry, frame)
    strict = registry.load("toy-observed", "1").schema
    assert [c.nullable for c in strict.columns] == [False, False, True]
