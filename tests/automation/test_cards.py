"""build_card / card_markdown on a real SQLite store: the demo flights pipeline on a small slice,
a real monitoring report written where ``loopml monitor`` writes them, audit decisions."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loopml.automation.cards import NOT_STATED, build_card, card_markdown
from loopml.data.demo import FLIGHTS_FEATURES, FLIGHTS_LABEL, load_flights
from loopml.errors import NotFoundError
from loopml.monitoring import MonitoringReport, compute_drift, realised_performance
from loopml.pipeline import PipelineSpec, run_pipeline
from loopml.registry import Registry
from loopml.store import ArtifactStore, open_store
from loopml.tracking import Tracker


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("cards")
    store = open_store(f"sqlite:///{root / 'loopml.db'}")
    artifacts = ArtifactStore(str(root / "artifacts"))
    registry = Registry(store, artifacts, actor="tester")
    path = Path(str(resources.files("loopml.demo") / "flights_pipeline.yaml"))
    spec = PipelineSpec.from_yaml(path).with_params({
        "load.fallback.query": "month == 1 and day <= 4",
        "train.estimator_params.max_iter": 20,
    })
    result = run_pipeline(spec, tracker=Tracker(store, artifacts), registry=registry,
                          store=store, artifacts=artifacts)
    # a hand-registered second version: stated intended use, no run
    package = artifacts.get_dir(registry.resolve("flights", 1).source)
    registry.register("flights", package, description="Rank <b>flights</b> by delay risk",
                      tags={"intended_data": "scheduled NYC departures",
                            "limitations": "Winter flights only."},
                      reason="copied for the card test")
    registry.set_alias("flights", "champion", 2, reason="try v2")
    registry.rollback("flights", "champion", reason="v2 had no run behind it")
    store.append_event(actor="carol", action="promotion.approve", target="model:flights/version:1",
                       before=None, after={"version": 1}, reason="reviewed the card")
    store.append_event(actor="dave", action="loop.reject", target="model:flights/loop",
                       before={"phase": "pending_approval", "version": 2},
                       after={"decision": {"approved": False}, "version": 2}, reason="no lineage")
    store.append_event(actor="loop:tester", action="loop.rejected", target="model:flights/loop",
                       before={"version": 1}, after={"version": 1, "challenger": 2},
                       reason="challenger v2 lost the gate")
    reports = root / "reports"
    _report(registry, reports, "report-flights-v1-20240101T000000.json")
    decoy = MonitoringReport(model="flights-v1-old", version=2, drift=_drift(registry))
    decoy.to_json(reports / "report-flights-v1-old-v2-20240101T000000.json")
    yield {"store": store, "artifacts": artifacts, "registry": registry, "result": result,
           "reports": reports}
    store.close()


def _drift(registry: Registry) -> Any:
    loaded = registry.load("flights", 1)
    reference = loaded.reference()
    current = load_flights().query("month == 1 and day >= 25")
    return compute_drift(reference[list(FLIGHTS_FEATURES)], current[list(FLIGHTS_FEATURES)],
                         loaded.schema)


def _report(registry: Registry, folder: Path, name: str) -> None:
    loaded = registry.load("flights", 1)
    current = load_flights().query("month == 1 and day >= 25").head(2000)
    scores = loaded.positive_score(current[list(FLIGHTS_FEATURES)])
    report = MonitoringReport(
        model="flights", version=1, alias="champion", drift=_drift(registry),
        performance=realised_performance(current[FLIGHTS_LABEL].to_numpy(), np.asarray(scores)),
        labelled_rows=len(current),
    )
    folder.mkdir(parents=True, exist_ok=True)
    report.to_json(folder / name)


def test_card_of_a_pipeline_version(home: dict[str, Any]) -> None:
    card = build_card(home["store"], home["artifacts"], "flights", 1,
                      reports_dir=home["reports"])
    assert card.intended_use == NOT_STATED and card.intended_data == NOT_STATED
    assert home["result"].run_id in card.registration_note
    assert {d.role for d in card.training_data} == {"source", "train", "test"}
    assert card.label == FLIGHTS_LABEL and card.estimator == "hist_gradient_boosting"
    assert [c["name"] for c in card.schema] == list(FLIGHTS_FEATURES)

    evaluation = card.evaluation
    assert evaluation is not None and evaluation.source == "evaluation split"
    assert home["result"].run_id in evaluation.detail
    # the test split scored again gives the metrics recorded at training
    assert evaluation.overall.roc_auc == pytest.approx(card.metrics_at_training["roc_auc"],
                                                       abs=1e-12)
    by_feature = {s.feature for s in evaluation.slices}
    assert by_feature == {"carrier", "origin", "dest"}
    origins = {s.category: s for s in evaluation.slices if s.feature == "origin"}
    assert set(origins) == {"EWR", "JFK", "LGA"}
    assert sum(s.n for s in origins.values()) == evaluation.overall.n
    assert any(s.category.startswith("other (") for s in evaluation.slices if s.feature == "dest")

    assert [p.file for p in card.history] == ["report-flights-v1-20240101T000000.json"]
    point = card.history[0]
    assert point.dataset_drift and "day" in point.drifted_columns and point.roc_auc is not None
    assert [(a.actor, a.action) for a in card.approvals] == [("carol", "promotion.approve")]
    assert card.other_approvals == 2  # both about v2, although the loop's names champion v1
    assert [d.alias for d in card.lineage.deployments] == ["champion", "champion"]
    assert any("newest 20%" in item for item in card.limitations)
    assert any("found data drift" in item for item in card.limitations)


def test_markdown_sections(home: dict[str, Any]) -> None:
    card = build_card(home["store"], home["artifacts"], "flights", 1,
                      reports_dir=home["reports"])
    text = card_markdown(card)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Model card: flights v1", "## Model details", "## Intended use", "## Training data",
        "### Schema (data contract)", "## Metrics",
        "### Overall and per slice — computed on the evaluation split",
        "## Drift and performance since deployment", "## Lineage", "## Limitations",
        "## Approvals",
    ]
    assert "- Intended use: not stated" in text
    fingerprint = next(d.fingerprint for d in card.training_data if d.role == "train")
    assert f"`{fingerprint}`" in text
    assert "| origin | EWR |" in text
    assert "reviewed the card" in text and "concern other versions" in text
    assert f"-> run {home['result'].run_id}" in text


def test_card_of_a_hand_registered_version_says_what_is_missing(home: dict[str, Any]) -> None:
    card = build_card(home["store"], home["artifacts"], "flights", 2)
    assert card.intended_use == "Rank <b>flights</b> by delay risk"
    assert card.intended_data == "scheduled NYC departures"
    assert card.training_data == () and card.lineage.run is None
    assert card.evaluation is not None and card.evaluation.source == "reference data"
    assert card.limitations[0] == "Winter flights only."
    assert any("optimistic" in item for item in card.limitations)
    assert any("No monitoring report" in item for item in card.limitations)
    assert card.history == () and card.other_approvals == 1
    assert [(a.actor, a.action) for a in card.approvals] == [
        ("dave", "loop.reject"), ("loop:tester", "loop.rejected")
    ]
    text = card_markdown(card)
    assert "Training data: not stated" in text
    assert "computed on the reference data" in text


def test_unknown_version_is_named(home: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError, match="flights"):
        build_card(home["store"], home["artifacts"], "flights", 7)
