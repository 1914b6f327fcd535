"""``loop_once`` on the shipped flights data, with predictions logged through the real log.

The promote path (drift -> retrain -> challenger wins -> champion moves) runs
end to end in ``tests/cli/test_quickstart.py``; here: the decisions not to act,
and a challenger that loses, each audited with its reason.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import loopml
from loopml.api import Client
from loopml.automation import Policy
from loopml.data.demo import FLIGHTS_LABEL, FLIGHTS_TIME, load_flights
from loopml.settings import Settings
from loopml.store.predictions import PredictionRecord


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return load_flights().rename(columns={FLIGHTS_TIME: "timestamp"})


@pytest.fixture(scope="module")
def pipeline_path() -> Path:
    source = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(source) as path:
        return Path(path)


def _home(tmp_path: Path, flights: pd.DataFrame, pipeline_path: Path) -> Client:
    client = loopml.connect(Settings.for_home(tmp_path / "home"))
    january = flights[flights["month"] == 1].reset_index(drop=True)
    client.run_pipeline(pipeline_path, inputs={"train": january})
    assert client.registry.resolve("flights", "champion").version == 1
    return client


def _log(client: Client, rows: pd.DataFrame) -> None:
    """Score ``rows`` with the champion and log them with their labels, as the server would."""
    model = client.registry.load("flights", "champion")
    version = client.registry.resolve("flights", "champion").version
    features = rows[list(model.schema.feature_names)]
    scores = model.positive_score(features)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [uuid.uuid4().hex for _ in range(len(rows))]
    writer = client.open_prediction_writer()
    for i, (rid, record) in enumerate(zip(ids, features.to_dict(orient="records"))):
        clean = {k: (None if pd.isna(v) else v) for k, v in record.items()}
        writer.append(PredictionRecord(
            request_id=rid, model="flights", version=version, route="champion",
            timestamp=start + timedelta(seconds=i), latency_ms=1.0, features=clean,
            prediction=int(scores[i] >= 0.5), score=float(scores[i]),
        ))
    writer.close()
    client.append_feedback(
        "flights", [(rid, int(y), start) for rid, y in zip(ids, rows[FLIGHTS_LABEL])]
    )


def _policy(pipeline_path: Path, **triggers: object) -> Policy:
    return Policy.from_dict(
        {"model": "flights", "pipeline": str(pipeline_path),
         "triggers": {"drift_share": 0.3, "performance_drop": 0.03, "min_labelled_rows": 500}
         | triggers}
    )


def test_too_few_labelled_rows_means_no_retrain(
    tmp_path: Path, flights: pd.DataFrame, pipeline_path: Path
) -> None:
    client = _home(tmp_path, flights, pipeline_path)
    _log(client, flights[flights["month"] == 7].sample(n=200, random_state=1))
    decision = client.loop_once(_policy(pipeline_path))
    assert decision.action == "none"
    assert decision.labelled_rows == 200
    assert decision.reasons == ("no retrain, because only 200 labelled rows (policy needs >= 500)",)
    assert client.registry.resolve("flights", "champion").version == 1
    event = client.registry.audit_events("flights")[-1]
    assert event.action == "loop.none" and "only 200 labelled rows" in event.reason
    client.close()


def test_no_drift_and_no_decay_means_no_retrain(
    tmp_path: Path, flights: pd.DataFrame, pipeline_path: Path
) -> None:
    client = _home(tmp_path, flights, pipeline_path)
    january = flights[flights["month"] == 1]
    _log(client, january.iloc[: int(len(january) * 0.8)].sample(n=1500, random_state=2))
    decision = client.loop_once(_policy(pipeline_path))
    assert decision.action == "none", decision.reasons
    assert decision.drift_share is not None and decision.drift_share < 0.3
    assert decision.reasons[0].startswith("no retrain: drift share")
    assert [v.version for v in client.registry.list_versions("flights")] == [1]
    client.close()


def test_losing_challenger_is_rejected_and_champion_kept(
    tmp_path: Path, flights: pd.DataFrame, pipeline_path: Path
) -> None:
    client = _home(tmp_path, flights, pipeline_path)
    _log(client, flights[flights["month"] == 7].sample(n=1500, random_state=3))
    policy = replace(
        _policy(pipeline_path), challenger=replace(_policy(pipeline_path).challenger, margin=0.5)
    )
    decision = client.loop_once(policy)
    assert decision.action == "rejected", decision.reasons
    assert decision.champion_before == decision.champion_after == 1
    assert decision.challenger_version == 2
    assert decision.holdout_rows == 450
    assert decision.champion_metric is not None and decision.challenger_metric is not None
    assert client.registry.resolve("flights", "champion").version == 1
    assert client.registry.resolve("flights", "challenger").version == 2
    event = client.registry.audit_events("flights")[-1]
    assert event.action == "loop.rejected" and "kept champion, because" in event.reason

    # the same window again: the pipeline comes from cache, nothing new to judge
    again = client.loop_once(policy)
    assert again.action == "none"
    assert "from cache" in again.reasons[-1]
    assert [v.version for v in client.registry.list_versions("flights")] == [1, 2]
    client.close()
