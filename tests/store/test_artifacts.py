"""ArtifactStore on a local folder and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from loopml.errors import NotFoundError, StoreError
from loopml.store import ArtifactStore


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "nested" / "deeper" / "b.bin").write_bytes(bytes(range(256)))
    (src / "ünï côdé.txt").write_text("ok")
    return src


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_local_round_trip(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    uri = store.put_dir(folder, "runs/r1/model")
    assert uri == f"file://{tmp_path}/artifacts/runs/r1/model"
    assert uri == store.uri_for("runs/r1/model")
    assert store.exists(uri) and not store.exists(store.uri_for("runs/r2"))
    local = store.get_dir(uri)
    assert local == tmp_path / "artifacts" / "runs" / "r1" / "model"
    assert _files(local) == _files(folder)
    file_uri = store.put_file(folder / "a.txt", "runs/r1/notes/a.txt")
    assert store.exists(file_uri)
    assert (tmp_path / "artifacts" / "runs" / "r1" / "notes" / "a.txt").read_text() == "alpha"


def test_put_dir_overwrites_same_names(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    uri = store.put_dir(folder, "x")
    (folder / "a.txt").write_text("beta")
    assert store.put_dir(folder, "x") == uri
    assert (store.get_dir(uri) / "a.txt").read_text() == "beta"


def test_remote_filesystem_downloads(tmp_path: Path, folder: Path) -> None:
    root = f"memory://loopml-test-{uuid.uuid4().hex}"
    store = ArtifactStore(root, cache_dir=str(tmp_path / "cache"))
    uri = store.put_dir(folder, "models/flights/1")
    assert uri.startswith("memory://") and uri.endswith("/models/flights/1")
    local = store.get_dir(uri)
    assert local.is_relative_to(tmp_path / "cache")
    assert _files(local) == _files(folder)


@pytest.mark.parametrize("dest", ["", "/abs/path", "../escape", "a/../b", "."])
def test_bad_destinations(tmp_path: Path, folder: Path, dest: str) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    with pytest.raises(StoreError, match="destination"):
        store.put_dir(folder, dest)


def test_missing_things(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    with pytest.raises(NotFoundError, match="nope.txt"):
        store.put_file(tmp_path / "nope.txt", "x")
    with pytest.raises(NotFoundError, match="nodir"):
        store.put_dir(tmp_path / "nodir", "x")
    with pytest.raises(NotFoundError, match="gone"):
        store.get_dir(store.uri_for("gone"))
