"""One contract suite for every MetadataStore backend: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from loopml.entities import DatasetInput, Metric, RunStatus
from loopml.errors import AlreadyExistsError, ConflictError, NotFoundError
from loopml.store import MetadataStore

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(metadata_store: MetadataStore) -> MetadataStore:
    return metadata_store


def _run(store: MetadataStore, *, experiment: str = "exp", start: datetime = T0) -> str:
    try:
        exp = store.get_experiment(experiment)
    except NotFoundError:
        exp = store.create_experiment(experiment)
    run = store.create_run(
        exp.id,
        name="r",
        start_time=start,
        git_commit="abc123",
        environment={"python": "3.11", "packages": {"numpy": "2.4"}},
        artifact_uri="file:///a",
    )
    return run.id


def _versions(store: MetadataStore, name: str, n: int) -> None:
    for i in range(n):
        store.create_model_version(name, source=f"file:///m/{i + 1}", run_id=None, actor="alice")


# ------------------------------------------------------------------ experiments
def test_experiment_create_get_list(store: MetadataStore) -> None:
    a = store.create_experiment("churn")
    b = store.create_experiment("délai ✈")
    assert len(a.id) == 32 and a.id != b.id
    assert store.get_experiment("délai ✈") == b
    assert [e.name for e in store.list_experiments()] == ["churn", "délai ✈"]
    assert a.created_at.tzinfo is not None


def test_experiment_duplicate_and_missing(store: MetadataStore) -> None:
    store.create_experiment("churn")
    with pytest.raises(AlreadyExistsError, match="churn"):
        store.create_experiment("churn")
    with pytest.raises(NotFoundError, match="nope"):
        store.get_experiment("nope")
    assert len(store.list_experiments()) == 1


# ------------------------------------------------------------------------- runs
def test_run_round_trip(store: MetadataStore) -> None:
    run_id = _run(store)
    run = store.get_run(run_id)
    assert run.status is RunStatus.RUNNING
    assert run.start_time == T0 and run.end_time is None
    assert run.git_commit == "abc123" and run.artifact_uri == "file:///a"
    assert run.environment == {"python": "3.11", "packages": {"numpy": "2.4"}}
    assert (run.params, run.tags, run.inputs) == ({}, {}, ())


def test_run_times_are_utc(store: MetadataStore) -> None:
    plus2 = timezone(timedelta(hours=2))
    run_id = _run(store, start=datetime(2024, 5, 1, 14, 0, tzinfo=plus2))
    assert store.get_run(run_id).start_time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    naive = _run(store, start=datetime(2024, 5, 1, 12, 0))
    assert store.get_run(naive).start_time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_run_missing_experiment_and_run(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        store.create_run(
            "0" * 32, name="r", start_time=T0, git_commit=None, environment={}, artifact_uri=""
        )
    with pytest.raises(NotFoundError, match="ffff"):
        store.get_run("ffff")
    for call in (
        lambda: store.log_params("ffff", {"a": "1"}),
        lambda: store.set_tags("ffff", {"a": "1"}),
        lambda: store.log_metrics("ffff", [Metric("loss", 1.0, 0, T0)]),
        lambda: store.get_metric_history("ffff"),
        lambda: store.log_inputs("ffff", []),
        lambda: store.end_run("ffff", RunStatus.FINISHED, T0),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_list_runs_most_recent_first_with_filter_and_limit(store: MetadataStore) -> None:
    first = _run(store, experiment="a", start=T0)
    second = _run(store, experiment="b", start=T0 + timedelta(seconds=1))
    third = _run(store, experiment="a", start=T0 + timedelta(seconds=2))
    assert [r.id for r in store.list_runs()] == [third, second, first]
    exp_a = store.get_experiment("a").id
    assert [r.id for r in store.list_runs(exp_a)] == [third, first]
    assert [r.id for r in store.list_runs(limit=1)] == [third]
    assert store.list_runs(limit=0) == []


def test_end_run(store: MetadataStore) -> None:
    run_id = _run(store)
    ended = store.end_run(run_id, RunStatus.FAILED, T0 + timedelta(minutes=5))
    assert ended.status is RunStatus.FAILED
    assert ended.end_time == T0 + timedelta(minutes=5)
    assert store.get_run(run_id).status is RunStatus.FAILED
    with pytest.raises(ConflictError, match="already ended"):
        store.end_run(run_id, RunStatus.FINISHED, T0)
    other = _run(store)
    with pytest.raises(ConflictError, match="RUNNING"):
        store.end_run(other, RunStatus.RUNNING, T0)


def test_params_are_write_once_and_atomic(store: MetadataStore) -> None:
    run_id = _run(store)
    store.log_params(run_id, {"lr": "0.1", "depth": "3"})
    store.log_params(run_id, {"lr": "0.1"})  # same value again is fine
    with pytest.raises(ConflictError, match="'lr'"):
        store.log_params(run_id, {"new": "x", "lr": "0.2"})
    assert store.get_run(run_id).params == {"lr": "0.1", "depth": "3"}


def test_tags_overwrite(store: MetadataStore) -> None:
    run_id = _run(store)
    store.set_tags(run_id, {"team": "a", "stage": "dev"})
    store.set_tags(run_id, {"stage": "prod"})
    store.set_tags(run_id, {})
    assert store.get_run(run_id).tags == {"team": "a", "stage": "prod"}


def test_metrics_bulk_order_and_special_values(store: MetadataStore) -> None:
    run_id = _run(store)
    batch = [Metric("loss", float(10 - s), s, T0 + timedelta(seconds=s)) for s in range(500)]
    batch += [
        Metric("acc", 0.5, 1, T0),
        Metric("acc", 0.4, 0, T0 + timedelta(seconds=9)),
        Metric("acc", 0.6, 1, T0 - timedelta(seconds=1)),
    ]
    store.log_metrics(run_id, batch)
    store.log_metrics(run_id, [])
    store.log_metrics(
        run_id, [Metric("odd", math.nan, 0, T0), Metric("odd", math.inf, 1, T0), Metric("odd", -math.inf, 2, T0)]
    )
    history = store.get_metric_history(run_id)
    assert [m.key for m in history[:3]] == ["acc"] * 3
    assert [(m.step, m.value) for m in history[:3]] == [(0, 0.4), (1, 0.6), (1, 0.5)]
    loss = store.get_metric_history(run_id, "loss")
    assert len(loss) == 500 and [m.step for m in loss] == list(range(500))
    assert loss[7] == Metric("loss", 3.0, 7, T0 + timedelta(seconds=7))
    odd = [m.value for m in store.get_metric_history(run_id, "odd")]
    assert math.isnan(odd[0]) and odd[1:] == [math.inf, -math.inf]
    assert store.get_metric_history(run_id, "missing") == []


def test_inputs_deduplicated_in_order(store: MetadataStore) -> None:
    run_id = _run(store)
    train = DatasetInput("a" * 64, "flights", "train", 1000, 12)
    evals = DatasetInput("b" * 64, "flights", "eval", 200, 12)
    store.log_inputs(run_id, [train, evals, train])
    store.log_inputs(run_id, [evals])
    assert store.get_run(run_id).inputs == (train, evals)


# --------------------------------------------------------------------- registry
def test_versions_numbered_from_one_and_model_created(store: MetadataStore) -> None:
    run_id = _run(store)
    v1 = store.create_model_version(
        "churn", source="file:///m/1", run_id=run_id, description="first", tags={"k": "v"}, actor="alice"
    )
    v2 = store.create_model_version("churn", source="file:///m/2", run_id=None, actor="bob")
    assert (v1.version, v2.version) == (1, 2)
    assert (v1.run_id, v1.description, v1.tags, v1.aliases) == (run_id, "first", {"k": "v"}, ())
    assert store.get_model_version("churn", 1) == v1
    assert [v.version for v in store.list_model_versions("churn")] == [1, 2]
    model = store.get_registered_model("churn")
    assert (model.latest_version, model.aliases) == (2, {})


def test_registered_model_explicit_create(store: MetadataStore) -> None:
    model = store.create_registered_model("b-model", description="delays")
    store.create_registered_model("a-model")
    assert (model.description, model.latest_version) == ("delays", 0)
    with pytest.raises(AlreadyExistsError, match="b-model"):
        store.create_registered_model("b-model")
    assert [m.name for m in store.list_registered_models()] == ["a-model", "b-model"]
    assert store.create_model_version("b-model", source="s", run_id=None, actor="a").version == 1
    assert store.get_registered_model("b-model").description == "delays"


def test_registry_not_found(store: MetadataStore) -> None:
    _versions(store, "churn", 1)
    with pytest.raises(NotFoundError, match="nope"):
        store.get_registered_model("nope")
    with pytest.raises(NotFoundError, match="version 7"):
        store.get_model_version("churn", 7)
    with pytest.raises(NotFoundError):
        store.list_model_versions("nope")
    with pytest.raises(NotFoundError, match="ffff"):
        store.create_model_version("churn", source="s", run_id="ffff", actor="a")
    with pytest.raises(NotFoundError):
        store.set_alias("churn", "champion", 2, actor="a", reason="")
    with pytest.raises(NotFoundError, match="champion"):
        store.get_alias("churn", "champion")
    with pytest.raises(NotFoundError):
        store.delete_model_version("churn", 9, actor="a", reason="")
    assert store.get_registered_model("churn").latest_version == 1


def test_alias_set_get_list_and_version_aliases(store: MetadataStore) -> None:
    _versions(store, "churn", 3)
    event = store.set_alias("churn", "champion", 2, actor="alice", reason="best AUC")
    store.set_alias("churn", "challenger", 3, actor="alice", reason="")
    assert (event.action, event.target) == ("alias.set", "model:churn/alias:champion")
    assert (event.before, event.after, event.reason) == (None, {"version": 2}, "best AUC")
    assert store.get_alias("churn", "champion").version == 2
    assert [(a.alias, a.version) for a in store.list_aliases("churn")] == [
        ("challenger", 3),
        ("champion", 2),
    ]
    assert store.get_model_version("churn", 2).aliases == ("champion",)
    assert store.get_registered_model("churn").aliases == {"challenger": 3, "champion": 2}
    moved = store.set_alias("churn", "champion", 3, actor="bob", reason="promote")
    assert (moved.before, moved.after) == ({"version": 2}, {"version": 3})
    assert store.get_model_version("churn", 3).aliases == ("challenger", "champion")


def test_rollback_walks_back_through_history(store: MetadataStore) -> None:
    _versions(store, "churn", 4)
    for version in (1, 2, 2, 3, 4):  # setting the same version again is not a move
        store.set_alias("churn", "champion", version, actor="a", reason="")
    event = store.rollback_alias("churn", "champion", actor="ops", reason="bad canary")
    assert (event.action, event.before, event.after) == ("alias.rollback", {"version": 4}, {"version": 3})
    assert store.get_alias("churn", "champion").version == 3
    store.rollback_alias("churn", "champion", actor="ops", reason="")
    store.rollback_alias("churn", "champion", actor="ops", reason="")
    assert store.get_alias("churn", "champion").version == 1
    with pytest.raises(ConflictError, match="no earlier version"):
        store.rollback_alias("churn", "champion", actor="ops", reason="")
    assert store.get_alias("churn", "champion").version == 1


def test_rollback_after_move_following_rollback(store: MetadataStore) -> None:
    _versions(store, "churn", 3)
    store.set_alias("churn", "champion", 1, actor="a", reason="")
    store.set_alias("churn", "champion", 2, actor="a", reason="")
    store.rollback_alias("churn", "champion", actor="a", reason="")  # -> 1
    store.set_alias("churn", "champion", 3, actor="a", reason="")  # history: [1]
    store.rollback_alias("churn", "champion", actor="a", reason="")
    assert store.get_alias("churn", "champion").version == 1
    with pytest.raises(ConflictError):
        store.rollback_alias("churn", "champion", actor="a", reason="")


def test_rollback_unknown_alias_and_new_alias(store: MetadataStore) -> None:
    _versions(store, "churn", 1)
    with pytest.raises(NotFoundError):
        store.rollback_alias("churn", "canary", actor="a", reason="")
    store.set_alias("churn", "canary", 1, actor="a", reason="")
    with pytest.raises(ConflictError):
        store.rollback_alias("churn", "canary", actor="a", reason="")


def test_delete_version_guarded_by_alias(store: MetadataStore) -> None:
    _versions(store, "churn", 3)
    store.set_alias("churn", "champion", 2, actor="a", reason="")
    store.set_alias("churn", "shadow", 2, actor="a", reason="")
    with pytest.raises(ConflictError, match="champion, shadow"):
        store.delete_model_version("churn", 2, actor="a", reason="")
    assert store.get_model_version("churn", 2).aliases == ("champion", "shadow")
    store.delete_model_version("churn", 2, actor="ops", reason="leaked labels", force=True)
    assert store.list_aliases("churn") == []
    assert [v.version for v in store.list_model_versions("churn")] == [1, 3]
    event = store.list_events(action="model_version.delete")[-1]
    assert event.target == "model:churn/version:2"
    assert event.before == {"source": "file:///m/2", "run_id": None, "aliases": ["champion", "shadow"]}
    assert (event.after, event.reason, event.actor) == (None, "leaked labels", "ops")


def test_version_numbers_never_reused(store: MetadataStore) -> None:
    _versions(store, "churn", 2)
    store.delete_model_version("churn", 2, actor="a", reason="")
    assert store.create_model_version("churn", source="s", run_id=None, actor="a").version == 3
    assert store.get_registered_model("churn").latest_version == 3


def test_rollback_skips_deleted_versions(store: MetadataStore) -> None:
    _versions(store, "churn", 3)
    for version in (1, 2, 3):
        store.set_alias("churn", "champion", version, actor="a", reason="")
    store.delete_model_version("churn", 2, actor="a", reason="")
    store.rollback_alias("churn", "champion", actor="a", reason="")
    assert store.get_alias("churn", "champion").version == 1


def test_delete_alias(store: MetadataStore) -> None:
    _versions(store, "churn", 2)
    store.set_alias("churn", "canary", 1, actor="a", reason="")
    store.set_alias("churn", "canary", 2, actor="a", reason="")
    event = store.delete_alias("churn", "canary", actor="a", reason="canary over")
    assert (event.action, event.before, event.after) == ("alias.delete", {"version": 2}, None)
    with pytest.raises(NotFoundError):
        store.get_alias("churn", "canary")
    with pytest.raises(NotFoundError):
        store.delete_alias("churn", "canary", actor="a", reason="")
    store.delete_model_version("churn", 2, actor="a", reason="")  # no alias guards it now


# ------------------------------------------------------------------------ audit
def test_audit_chain_and_filters(store: MetadataStore) -> None:
    assert store.list_events() == [] and store.verify_chain()
    _versions(store, "churn", 2)
    _versions(store, "churn_x", 1)
    store.set_alias("churn", "champion", 1, actor="a", reason="")
    custom = store.append_event(
        actor="loop", action="policy.update", target="policy:default",
        before={"threshold": 0.2}, after={"threshold": 0.1, "tags": ["a", "ü"]}, reason="tuning",
    )
    events = store.list_events()
    assert [e.action for e in events] == ["model_version.create"] * 3 + ["alias.set", "policy.update"]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert events[-1] == custom
    assert all(e.time.tzinfo is not None for e in events)
    assert [e.target for e in store.list_events(target_prefix="model:churn/")] == [
        "model:churn/version:1",
        "model:churn/version:2",
        "model:churn/alias:champion",
    ]
    assert len(store.list_events(action="model_version.create")) == 3
    assert [e.action for e in store.list_events(limit=2)] == ["alias.set", "policy.update"]
    assert store.verify_chain()


def test_audit_prefix_is_literal(store: MetadataStore) -> None:
    _versions(store, "a_b", 1)
    _versions(store, "axb", 1)
    _versions(store, "a%", 1)
    assert [e.target for e in store.list_events(target_prefix="model:a_b/")] == ["model:a_b/version:1"]
    assert [e.target for e in store.list_events(target_prefix="model:a%")] == ["model:a%/version:1"]


# --------------------------------------------------------------- lineage, cache
def test_lineage_edges(store: MetadataStore) -> None:
    store.add_edges([("dataset:aa", "run:1", "input"), ("run:1", "model_version:churn/1", "produced")])
    store.add_edges([("dataset:aa", "run:1", "input"), ("dataset:bb", "run:1", "input")])
    store.add_edges([])
    into_run = store.edges_to("run:1")
    assert [(e.source, e.relation) for e in into_run] == [("dataset:aa", "input"), ("dataset:bb", "input")]
    assert [e.target for e in store.edges_from("run:1")] == ["model_version:churn/1"]
    assert store.edges_from("nothing") == []


def test_cache_entries_first_put_wins(store: MetadataStore) -> None:
    key = "f" * 64
    assert store.get_cache_entry(key) is None
    store.put_cache_entry(key, step="train", value={"uri": "file:///x", "n": [1, 2]})
    store.put_cache_entry(key, step="train", value={"uri": "file:///other"})
    assert store.get_cache_entry(key) == {"uri": "file:///x", "n": [1, 2]}


def test_returned_values_are_copies(store: MetadataStore) -> None:
    run_id = _run(store)
    store.set_tags(run_id, {"a": "1"})
    store.get_run(run_id).tags["a"] = "changed"
    store.get_run(run_id).environment["python"] = "2.7"
    assert store.get_run(run_id).tags == {"a": "1"}
    assert store.get_run(run_id).environment["python"] == "3.11"
