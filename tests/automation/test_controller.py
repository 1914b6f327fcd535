"""The controller is crash-safe, idempotent, leased, and waits for approval when asked.

Crashes are injected at the dangerous points (after the retraining registered
its version, before the champion alias moves, after it moved but before the
promotion is recorded); a second controller process is stood in for by a new
:class:`Controller` whose clock is past the dead one's lease.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import loopml
from loopml.api import Client
from loopml.automation import Controller, Policy, decide, loop_once
from loopml.data.demo import FLIGHTS_LABEL, FLIGHTS_TIME, load_flights
from loopml.errors import ConflictError
from loopml.registry import Registry
from loopml.settings import Settings
from loopml.store.controller_state import ControllerState
from loopml.store.predictions import PredictionRecord

MODEL = "flights"


class Crash(Exception):
    """Stands in for the process being killed at this point."""


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return load_flights().rename(columns={FLIGHTS_TIME: "timestamp"})


@pytest.fixture(scope="module")
def pipeline_path() -> Path:
    source = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(source) as path:
        return Path(path)


@pytest.fixture
def home(tmp_path: Path, flights: pd.DataFrame, pipeline_path: Path) -> Client:
    """Champion v1 trained on January; 2,400 labelled July predictions logged (drift)."""
    client = loopml.connect(Settings.for_home(tmp_path / "home"))
    january = flights[flights["month"] == 1].sample(n=3000, random_state=0)
    assert client.run_pipeline(pipeline_path, inputs={"train": january}).model_version == (MODEL, 1)
    client.registry.set_alias(MODEL, "champion", 1, reason="test")
    july = flights[flights["month"] == 7].sample(n=2400, random_state=1)
    model = client.registry.load(MODEL, "1")
    features = july[list(model.schema.feature_names)]
    scores = model.positive_score(features)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [uuid.uuid4().hex for _ in range(len(july))]
    writer = client.open_prediction_writer()
    for i, (rid, row) in enumerate(zip(ids, features.to_dict(orient="records"), strict=True)):
        writer.append(PredictionRecord(
            request_id=rid, model=MODEL, version=1, route="champion",
            timestamp=start + timedelta(seconds=i), latency_ms=1.0,
            features={k: (None if pd.isna(v) else v) for k, v in row.items()},
            prediction=int(scores[i] >= 0.5), score=float(scores[i]),
        ))
    writer.close()
    client.append_feedback(MODEL, [(r, int(y), start) for r, y in zip(ids, july[FLIGHTS_LABEL])])
    return client


def _policy(pipeline_path: Path, **sections: Any) -> Policy:
    return Policy.from_dict({
        "model": MODEL, "pipeline": str(pipeline_path),
        "triggers": {"drift_share": 0.3, "performance_drop": None, "min_labelled_rows": 500},
        "challenger": {"margin": 0.0, "alpha": 0.2, "resamples": 300},
        **sections,
    })


def _loop_events(client: Client, action: str) -> list[Any]:
    return [e for e in client.registry.audit_events(MODEL) if e.action == f"loop.{action}"]


def _champion_moves(client: Client) -> list[Any]:
    return [e for e in client.registry.audit_events(MODEL)
            if e.target == f"model:{MODEL}/alias:champion" and e.action == "alias.set"]


def test_killed_at_each_step_it_resumes_and_promotes_exactly_once(
    home: Client, pipeline_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy(pipeline_path)
    moves_before = len(_champion_moves(home))

    # 1. killed right after the retraining pipeline registered v2
    run_pipeline = home.run_pipeline

    def train_then_die(*args: Any, **kwargs: Any) -> Any:
        run_pipeline(*args, **kwargs)
        raise Crash("killed after training")

    monkeypatch.setattr(home, "run_pipeline", train_then_die)
    dead = Controller(home, policy, holder="dead", lease_seconds=60)
    with pytest.raises(Crash):
        dead.step()
    state = home.store.get_controller_state(MODEL)
    assert state.phase == "retraining" and state.data["retrain"]["running"] is True
    assert [v.version for v in home.registry.list_versions(MODEL)] == [1, 2]
    # the dead controller's lease still holds: nobody else acts meanwhile
    with pytest.raises(ConflictError, match="'dead'"):
        Controller(home, policy, holder="other").step()
    monkeypatch.setattr(home, "run_pipeline", run_pipeline)

    # 2. a new controller after the lease expired resumes the retraining on the same rows
    #    (the cache returns v2) and is killed just before the champion alias moves
    later = [datetime.now(UTC) + timedelta(seconds=61)]
    set_alias = Registry.set_alias

    def die_on_champion(
        self: Registry, name: str, alias: str, version: int, *, reason: str
    ) -> Any:
        if alias == "champion":
            raise Crash("killed before moving the champion")
        return set_alias(self, name, alias, version, reason=reason)

    monkeypatch.setattr(Registry, "set_alias", die_on_champion)
    second = Controller(home, policy, holder="second", clock=lambda: later[0])
    with pytest.raises(Crash):
        second.step()
    state = home.store.get_controller_state(MODEL)
    assert state.phase == "promoting" and state.challenger_version == 2
    assert state.data["previous"] == 1
    assert home.registry.resolve(MODEL, "champion").version == 1
    assert [v.version for v in home.registry.list_versions(MODEL)] == [1, 2]  # no retrain twice
    assert len(_loop_events(home, "retrained")) == 1
    monkeypatch.setattr(Registry, "set_alias", set_alias)

    # 3. killed after the alias moved, before the promotion was recorded
    append = home.store.append_event

    def die_on_record(**event: Any) -> Any:
        if event["action"] == "loop.promoted":
            raise Crash("killed before recording the promotion")
        return append(**event)

    monkeypatch.setattr(home.store, "append_event", die_on_record)
    later[0] += timedelta(seconds=400)
    with pytest.raises(Crash):
        Controller(home, policy, holder="third", clock=lambda: later[0]).step()
    assert home.registry.resolve(MODEL, "champion").version == 2
    assert home.store.get_controller_state(MODEL).phase == "promoting"
    monkeypatch.setattr(home.store, "append_event", append)

    # 4. the next controller finds the world already promoted: records it, moves nothing
    later[0] += timedelta(seconds=400)
    decision = Controller(home, policy, holder="fourth", clock=lambda: later[0]).step()
    assert decision.action == "promoted" and decision.champion_after == 2
    assert home.store.get_controller_state(MODEL).phase == "idle"
    champion_moves = _champion_moves(home)[moves_before:]
    assert [e.after["version"] for e in champion_moves] == [2]  # moved once, never twice
    promoted = _loop_events(home, "promoted")
    assert len(promoted) == 1
    gate = promoted[0].after["evidence"]["gate"]["gate"]
    assert gate["passed"] and gate["p_value"] <= 0.2 and gate["n"] == 720
    assert home.store.verify_chain()

    # 5. and a further cycle is idempotent: nothing fires again on the same rows
    again = Controller(home, policy, holder="fourth", clock=lambda: later[0]).step()
    assert again.action in ("none", "rejected")
    assert [e.after["version"] for e in _champion_moves(home)[moves_before:]] == [2]
    assert len(_loop_events(home, "promoted")) == 1


def test_promotion_waits_for_an_approver_and_is_recorded(
    home: Client, pipeline_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy(pipeline_path, approval={"timeout_hours": 1, "approvers": ["alice"]})
    first = loop_once(home, policy)
    assert first.action == "pending_approval" and first.phase == "pending_approval", first.reasons
    assert home.registry.resolve(MODEL, "champion").version == 1
    assert loop_once(home, policy).action == "pending_approval"  # still waiting

    from loopml.cli.main import app

    for key, value in home.settings.as_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    status = runner.invoke(app, ["loop", "status", MODEL])
    assert status.exit_code == 0 and "pending_approval" in status.output
    assert f"loopml approve {MODEL}" in status.output
    monkeypatch.setenv("LOOPML_ACTOR", "mallory")
    refused = runner.invoke(app, ["approve", MODEL, "-r", "looks fine"])
    assert refused.exit_code == 1 and "approvers: alice" in refused.output
    monkeypatch.setenv("LOOPML_ACTOR", "alice")
    approved = runner.invoke(app, ["approve", MODEL, "-r", "gate and data look fine"])
    assert approved.exit_code == 0, approved.output
    again = runner.invoke(app, ["reject", MODEL, "-r", "changed my mind"])
    assert again.exit_code == 1 and "already approved by alice" in again.output

    done = loop_once(home, policy)
    assert done.action == "promoted" and home.registry.resolve(MODEL, "champion").version == 2
    record = _loop_events(home, "approve")
    assert len(record) == 1 and record[0].actor == "alice"
    assert record[0].reason == "gate and data look fine"
    promoted = _loop_events(home, "promoted")[0]
    assert "approved by alice" in promoted.reason
    status = runner.invoke(app, ["loop", "status", MODEL, "--json"])
    assert '"phase": "idle"' in status.output


def test_pending_approval_times_out_or_is_rejected(home: Client, pipeline_path: Path) -> None:
    policy = _policy(pipeline_path, approval={"timeout_hours": 1})
    version = home.registry.register(
        MODEL, Path(home.artifacts.get_dir(home.registry.resolve(MODEL, "1").source)),
        reason="a challenger"
    ).version
    store = home.store
    now = datetime.now(UTC)

    def pending(deadline: datetime) -> None:
        state = store.get_controller_state(MODEL)
        data = {"champion": 1, "previous": 1, "approval": {
            "deadline": deadline.isoformat(), "approvers": [], "decision": None,
            "version": version}}
        store.save_controller_state(
            ControllerState(MODEL, "pending_approval", version, None, data,
                            revision=state.revision), holder=None)

    pending(now - timedelta(minutes=1))
    timed_out = loop_once(home, policy)
    assert timed_out.action == "withdrawn" and "timed out" in timed_out.reasons[0]
    assert home.registry.resolve(MODEL, "champion").version == 1

    pending(now + timedelta(hours=1))
    with pytest.raises(ConflictError, match="needs a reason"):
        decide(home, MODEL, approve=False, reason=" ")
    decide(home, MODEL, approve=False, reason="not this quarter")
    rejected = loop_once(home, policy)
    assert rejected.action == "withdrawn" and "not this quarter" in rejected.reasons[0]
    assert store.get_controller_state(MODEL).phase == "idle"
    with pytest.raises(ConflictError, match="no promotion waiting"):
        decide(home, MODEL, approve=True, reason="too late")
    assert home.registry.resolve(MODEL, "champion").version == 1


def test_each_trigger_fires_only_with_its_evidence(home: Client, pipeline_path: Path) -> None:
    from loopml.automation.triggers import observe

    created = home.registry.resolve(MODEL, "1").created_at
    now = datetime.now(UTC)

    def seen(**triggers: Any) -> Any:
        base = {"drift_share": None, "performance_drop": None, "min_rows": 100}
        policy = Policy.from_dict({"model": MODEL, "pipeline": str(pipeline_path),
                                   "triggers": base | triggers})
        before_rows = datetime(2025, 12, 31, tzinfo=UTC)  # the logged rows are from 2026-01-01
        return observe(home, policy, champion=1, since=before_rows,
                       last_retrain_at=created - timedelta(hours=1),
                       now=now)

    assert seen().reasons == ()
    temp = seen(column_drift={"temp": 0.01})
    assert len(temp.reasons) == 1 and temp.reasons[0].startswith("column 'temp'")
    assert temp.evidence["column_drift"]["temp"]["statistic"] >= 0.01
    assert seen(column_drift={"temp": {"threshold": 0.01, "min_rows": 10_000}}).reasons == ()
    assert seen(drift_share={"threshold": 0.3, "min_rows": 100}).reasons[0].startswith(
        "drift share"
    )
    assert seen(drift_share={"threshold": 0.3, "min_rows": 5000}).reasons == ()
    assert "labelled rows since" in seen(new_labelled_rows=2000).reasons[0]
    assert seen(new_labelled_rows=3000).reasons == ()
    assert "was due" in seen(schedule="* * * * *").reasons[0]
    estimated = seen(estimated_performance_drop=0.0).evidence["estimated_roc_auc"]
    assert isinstance(estimated, float) and 0.0 < estimated < 1.0
    short = seen(schedule="* * * * *", min_labelled_rows=5000)
    assert short.reasons == () and "only 2400 labelled rows" in short.why_not
    assert "although schedule" in short.why_not


def test_narrow_contracts_and_failed_retraining_end_the_attempt_not_the_loop(
    home: Client, flights: pd.DataFrame, pipeline_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a model whose contract was inferred from rows in which wind_speed was never missing
    # (as a retrained one can be): its contract calls wind_speed non-nullable
    from dataclasses import replace

    from loopml.automation.window import scores, training_frame
    from loopml.errors import PipelineError, SchemaViolationError

    model = home.registry.load(MODEL, "1")
    narrow = replace(model.schema, columns=tuple(
        replace(c, nullable=c.name != "wind_speed") for c in model.schema.columns))
    model.manifest = replace(model.manifest, schema=narrow)
    assert not next(c for c in model.schema.columns if c.name == "wind_speed").nullable
    rows = flights[flights["month"] == 7].head(50).copy()
    rows.loc[rows.index[0], "wind_speed"] = float("nan")
    with pytest.raises(SchemaViolationError):
        model.positive_score(rows[list(model.schema.feature_names)])
    scored = scores(model, rows)  # the gate scores every row all the same
    assert len(scored) == 50 and np.isfinite(scored).all()
    labelled = rows.assign(label=rows[FLIGHTS_LABEL])
    assert training_frame(labelled, model.schema, FLIGHTS_LABEL)["wind_speed"].isna().sum() == 1

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise PipelineError("step 'train' failed: the estimator refused the data")

    monkeypatch.setattr(home, "run_pipeline", broken)
    decision = loop_once(home, _policy(pipeline_path))
    assert decision.action == "failed" and decision.phase == "idle"
    assert "step 'train' failed" in decision.reasons[-1]
    failed = _loop_events(home, "failed")
    assert len(failed) == 1 and failed[0].after["evidence"]["retrain"]["train_rows"] == 1680
    assert home.registry.resolve(MODEL, "champion").version == 1
