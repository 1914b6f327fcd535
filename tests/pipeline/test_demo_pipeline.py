"""The shipped example pipeline runs on the demo data and trains a useful model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loopml.data.demo import FLIGHTS_FEATURES, FLIGHTS_LABEL
from loopml.pipeline import PipelineSpec, run_pipeline
from loopml.registry import Registry
from loopml.tracking import Tracker


def test_flights_pipeline_on_demo_data(tracker: Tracker, registry: Registry) -> None:
    path = Path(str(resources.files("loopml.demo") / "flights_pipeline.yaml"))
    spec = PipelineSpec.from_yaml(path)
    assert spec.step("train").params["features"] == list(FLIGHTS_FEATURES)
    assert spec.step("train").params["label"] == FLIGHTS_LABEL
    result = run_pipeline(
        spec, tracker=tracker, registry=registry, store=tracker.store, artifacts=tracker.artifacts
    )
    rows = result.steps[0].summary["data"]["rows"]
    assert 45_000 < rows < 55_000
    assert result.metrics["roc_auc"] > 0.62
    assert result.model_version == ("flights", 1)
    assert registry.resolve("flights", "champion").version == 1
    loaded = registry.load("flights", "champion")
    assert list(loaded.schema.feature_names) == list(FLIGHTS_FEATURES)
