"""Registry service over the memory store and a SQLite file, with real artifact folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopml.errors import (
    ConflictError,
    IntegrityError,
    ModelPackageError,
    NotFoundError,
    StoreError,
)
from loopml.registry import Registry, parse_model_ref
from loopml.store import ArtifactStore, MemoryStore, MetadataStore, open_store


@pytest.fixture(params=["memory", "sqlite"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    store: MetadataStore = (
        MemoryStore() if request.param == "memory" else open_store(f"sqlite:///{tmp_path / 'db' / 'l.db'}")
    )
    yield Registry(store, ArtifactStore(str(tmp_path / "artifacts")), actor="alice")
    store.close()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"\x00\x01weights")
    (folder / "sub" / "manifest.json").write_text('{"flavor": "test"}')
    return folder


def test_register_copies_package_and_audits(registry: Registry, package: Path, tmp_path: Path) -> None:
    v1 = registry.register("flights", package, description="first", reason="baseline")
    v2 = registry.register("flights", package)
    assert (v1.version, v2.version, v1.description) == (1, 2, "first")
    assert v1.source != v2.source
    copied = registry.artifacts.get_dir(v1.source)
    assert copied.parent == tmp_path / "artifacts" / "models" / "flights"
    assert len(copied.name) == 32  # models/<name>/<uuid hex>
    assert (copied / "model.bin").read_bytes() == b"\x00\x01weights"
    assert (copied / "sub" / "manifest.json").read_text() == '{"flavor": "test"}'
    (package / "model.bin").write_bytes(b"changed")  # the registered copy is independent
    assert (copied / "model.bin").read_bytes() == b"\x00\x01weights"
    events = registry.audit_events("flights")
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("model_version.create", "alice", "model:flights/version:1"),
        ("model_version.create", "alice", "model:flights/version:2"),
    ]
    assert events[0].reason == "baseline" and events[0].after == {"source": v1.source, "run_id": None}


def test_register_with_run(registry: Registry, package: Path) -> None:
    experiment = registry.store.create_experiment("e")
    run = registry.store.create_run(
        experiment.id, name="r", start_time=pd.Timestamp("2024-01-01", tz="UTC").to_pydatetime(),
        git_commit=None, environment={}, artifact_uri="",
    )
    assert registry.register("flights", package, run_id=run.id).run_id == run.id
    with pytest.raises(NotFoundError, match="nope"):
        registry.register("flights", package, run_id="nope")
    assert [v.version for v in registry.list_versions("flights")] == [1]


def test_register_rejects_bad_input(registry: Registry, package: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelPackageError, match="does not exist"):
        registry.register("flights", tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelPackageError, match="no files"):
        registry.register("flights", tmp_path / "empty")
    for bad in ("", "a@b", "a/b", " flights", "-x", "x" * 201):
        with pytest.raises(StoreError, match="model name"):
            registry.register(bad, package)
    assert registry.list_models() == []


def test_resolve_refs(registry: Registry, package: Path) -> None:
    for _ in range(3):
        registry.register("flights", package)
    registry.set_alias("flights", "champion", 2, reason="best")
    assert registry.resolve("flights", 3).version == 3
    assert registry.resolve("flights", "1").version == 1
    assert registry.resolve("flights", "champion").version == 2
    assert registry.resolve("flights", "champion").aliases == ("champion",)
    assert registry.resolve("flights", "latest").version == 3
    registry.delete_version("flights", 3, reason="broken")
    assert registry.resolve("flights", "latest").version == 2
    with pytest.raises(NotFoundError, match="challenger"):
        registry.resolve("flights", "challenger")
    with pytest.raises(NotFoundError, match="version 3"):
        registry.resolve("flights", 3)
    with pytest.raises(NotFoundError, match="nope"):
        registry.resolve("nope", "latest")
    registry.store.create_registered_model("empty")
    with pytest.raises(NotFoundError, match="no versions"):
        registry.resolve("empty", "latest")


def test_alias_rules(registry: Registry, package: Path) -> None:
    registry.register("flights", package)
    for bad in ("3", "latest", "LATEST", "a@b", "", "with space"):
        with pytest.raises(StoreError, match="alias"):
            registry.set_alias("flights", bad, 1, reason="")
    assert registry.store.list_aliases("flights") == []


def test_alias_move_rollback_delete(registry: Registry, package: Path) -> None:
    for _ in range(3):
        registry.register("flights", package)
    registry.set_alias("flights", "champion", 1, reason="first")
    registry.set_alias("flights", "champion", 3, reason="promoted")
    with pytest.raises(ConflictError, match="champion"):
        registry.delete_version("flights", 3, reason="")
    event = registry.rollback("flights", "champion", reason="canary failed")
    assert (event.before, event.after, event.actor) == ({"version": 3}, {"version": 1}, "alice")
    assert registry.resolve("flights", "champion").version == 1
    with pytest.raises(ConflictError):
        registry.rollback("flights", "champion", reason="")
    registry.delete_version("flights", 3, reason="unused now")
    registry.delete_alias("flights", "champion", reason="retired")
    assert registry.list_models()[0].aliases == {}
    actions = [e.action for e in registry.audit_events("flights")]
    assert actions[3:] == ["alias.set", "alias.set", "alias.rollback", "model_version.delete", "alias.delete"]


def test_audit_events_scoped_to_model(registry: Registry, package: Path) -> None:
    registry.register("flights", package)
    registry.register("flights2", package)
    assert [e.target for e in registry.audit_events("flights")] == ["model:flights/version:1"]
    assert len(registry.audit_events()) == 2
    assert registry.store.verify_chain()


def test_load_real_model_by_alias(registry: Registry, tmp_path: Path) -> None:
    from loopml.models import save_model
    from loopml.schema import infer_schema

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"distance": rng.uniform(100, 3000, 200), "hour": rng.integers(0, 24, 200)})
    label = (frame["hour"] > 17).astype(int)
    estimator = LogisticRegression(max_iter=500).fit(frame, label)
    save_model(estimator, tmp_path / "pkg", schema=infer_schema(frame), metrics={"auc": 0.9})
    version = registry.register("flights", tmp_path / "pkg")
    registry.set_alias("flights", "champion", version.version, reason="")
    loaded = registry.load("flights", "champion")
    assert loaded.manifest.metrics == {"auc": 0.9}
    np.testing.assert_array_equal(loaded.predict(frame), estimator.predict(frame))
    model_file = registry.artifacts.get_dir(version.source) / loaded.manifest.model_file
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError):
        registry.load("flights", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flights@champion", ("flights", "champion")),
        ("flights@3", ("flights", "3")),
        ("models:/flights@latest", ("flights", "latest")),
        ("  flights  ", ("flights", "latest")),
        ("my.model-v2@canary_1", ("my.model-v2", "canary_1")),
    ],
)
def test_parse_model_ref(text: str, expected: tuple[str, str]) -> None:
    assert parse_model_ref(text) == expected


@pytest.mark.parametrize("text", ["", "@champion", "flights@", "flights@a@b", "fl ights@x"])
def test_parse_model_ref_rejects(text: str) -> None:
    with pytest.raises(StoreError):
        parse_model_ref(text)


def test_parse_model_ref_default() -> None:
    assert parse_model_ref("flights", default="champion") == ("flights", "champion")
