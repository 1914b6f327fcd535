"""The HTML model card: one self-contained page, escaped, every section, a chart per report history."""

from __future__ import annotations

from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from loopml.automation.cards import ModelCard, build_card
from loopml.data.demo import FLIGHTS_FEATURES, load_flights
from loopml.monitoring import MonitoringReport, compute_drift
from loopml.pipeline import PipelineSpec, run_pipeline
from loopml.registry import Registry
from loopml.store import ArtifactStore, open_store
from loopml.tracking import Tracker
from loopml.ui.card import render_card_html, write_card_html


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            if key == "id" and value:
                self.ids.append(value)
            if key in ("src", "href") and value:
                self.urls.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> ModelCard:
    root = tmp_path_factory.mktemp("card-html")
    store = open_store(f"sqlite:///{root / 'loopml.db'}")
    artifacts = ArtifactStore(str(root / "artifacts"))
    registry = Registry(store, artifacts, actor="tester")
    path = Path(str(resources.files("loopml.demo") / "flights_pipeline.yaml"))
    spec = PipelineSpec.from_yaml(path).with_params({
        "load.fallback.query": "month == 1 and day <= 3",
        "train.estimator_params.max_iter": 15,
    })
    run_pipeline(spec, tracker=Tracker(store, artifacts), registry=registry, store=store,
                 artifacts=artifacts)
    store.append_event(actor="<img src=x>", action="promotion.approve",
                       target="model:flights/version:1", before=None, after=None,
                       reason="<script>alert(1)</script>")
    loaded = registry.load("flights", 1)
    features = list(FLIGHTS_FEATURES)
    reports = root / "reports"
    reports.mkdir()
    for i, days in enumerate(((10, 12), (20, 22))):
        current = load_flights().query(f"month == 1 and {days[0]} <= day <= {days[1]}")
        drift = compute_drift(loaded.reference()[features], current[features], loaded.schema)
        MonitoringReport(model="flights", version=1, alias="champion", drift=drift).to_json(
            reports / f"report-flights-v1-2024010{i}T000000.json")
    try:
        return build_card(store, artifacts, "flights", 1, reports_dir=reports)
    finally:
        store.close()


def test_page_is_self_contained_and_complete(card: ModelCard, tmp_path: Path) -> None:
    html = render_card_html(card)
    page = _Page()
    page.feed(html)
    assert html.startswith("<!doctype html>")
    assert "Content-Security-Policy" in html
    assert "script" not in page.tags and page.urls == []
    assert "http://" not in html and "https://" not in html
    assert page.ids == ["details", "intended-use", "training-data", "metrics", "history",
                        "history-chart", "lineage", "limitations", "approvals"]
    assert page.tags.count("svg") == 1  # drift per report; no labels, so no ROC AUC chart
    text = " ".join(page.text)
    assert "not stated" in text and "computed on the evaluation split" in text
    assert "EWR" in text and "carrier" in text
    assert "<script>alert(1)</script>" in text  # shown as text, escaped in the markup
    assert "<script>alert(1)</script>" not in html and "&lt;img src=x&gt;" in html
    written = write_card_html(tmp_path / "out" / "card.html", card)
    assert written.read_text(encoding="utf-8") == render_card_html(card)
