"""version_lineage over the memory store: runs, datasets, deployments and audit events of one version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopml.automation.lineage import lineage_lines, mentions_version, version_lineage
from loopml.entities import DatasetInput
from loopml.errors import NotFoundError
from loopml.store import MemoryStore


def _store() -> tuple[MemoryStore, str]:
    store = MemoryStore()
    experiment = store.create_experiment("churn")
    run = store.create_run(experiment.id, name="r", start_time=datetime(2024, 1, 1, tzinfo=UTC),
                           git_commit="a" * 40, environment={}, artifact_uri="memory://none")
    train = DatasetInput(fingerprint="f" * 64, name="split.train", role="train", n_rows=10,
                         n_columns=3)
    store.log_inputs(run.id, [train])
    store.add_edges([(f"dataset:{'f' * 64}", f"run:{run.id}", "input"),
                     (f"dataset:{'e' * 64}", f"run:{run.id}", "input"),
                     ("pipeline:churn-train", f"run:{run.id}", "executed"),
                     (f"run:{run.id}", "model_version:churn/1", "produced")])
    store.create_model_version("churn", source="memory://v1", run_id=run.id, actor="ci")
    store.create_model_version("churn", source="memory://v2", run_id=None, actor="bob")
    store.set_alias("churn", "champion", 1, actor="ci", reason="first")
    store.set_alias("churn", "champion", 2, actor="loop", reason="challenger won")
    store.rollback_alias("churn", "champion", actor="loop", reason="live AUC fell")
    store.set_alias("churn", "shadow", 2, actor="bob", reason="watch it")
    store.append_event(actor="loop", action="loop.promoted", target="model:churn/loop",
                       before={"version": 1}, after={"version": 2}, reason="won by 0.02")
    store.append_event(actor="bob", action="note", target="model:other/loop",
                       before=None, after={"version": 2}, reason="another model")
    return store, run.id


def test_version_lineage_joins_run_datasets_and_deployments() -> None:
    store, run_id = _store()
    one = version_lineage(store, "churn", 1)
    assert one.run is not None and one.run.id == run_id
    assert one.run.pipeline == "churn-train" and not one.run.reproducible
    assert [(d.role, d.n_rows) for d in one.run.datasets] == [("train", 10), ("input", None)]
    assert [(d.alias, d.end is None) for d in one.deployments] == [
        ("champion", False), ("champion", True)
    ]
    assert one.deployments[0].ended_by == "alias.set to v2 by loop"
    assert one.deployed_at == one.deployments[0].start
    assert [e.action for e in one.events] == ["model_version.create", "loop.promoted"]

    two = version_lineage(store, "churn", 2)
    assert two.run is None and "by hand" in two.notes[0]
    assert sorted(two.aliases) == ["shadow"]
    assert [m.action for m in two.alias_history] == ["alias.set", "alias.rollback", "alias.set"]
    lines = lineage_lines(two)
    assert lines[0] == f"model version churn/2  registered {two.created_at:%Y-%m-%d %H:%M:%S}"
    assert any("shadow:" in line and ".. now" in line for line in lines)


def test_unknown_version_is_named() -> None:
    store, _ = _store()
    with pytest.raises(NotFoundError, match="churn"):
        version_lineage(store, "churn", 9)


def test_mentions_version_reads_nested_and_named_keys() -> None:
    assert mentions_version({"canary": {"challenger_version": 4}}, 4)
    assert mentions_version([{"champion": 4}], 4)
    assert not mentions_version({"rows": 4, "version": True}, 4)
    assert not mentions_version(None, 4)
