"""Fixtures for tracking tests: a tracker over each real metadata store backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.store import ArtifactStore, MemoryStore, MetadataStore, open_store
from loopml.tracking import Tracker


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    if request.param == "memory":
        backend: MetadataStore = MemoryStore()
    else:
        backend = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield backend
    backend.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def tracker(store: MetadataStore, artifacts: ArtifactStore) -> Tracker:
    return Tracker(store, artifacts)
