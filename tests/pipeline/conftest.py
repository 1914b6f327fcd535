"""Fixtures for pipeline tests: a real SQLite store, artifacts, tracker, registry, data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.pipeline import PipelineSpec
from loopml.registry import Registry
from loopml.store import ArtifactStore, MetadataStore, open_store
from loopml.tracking import Tracker


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    backend = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield backend
    backend.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def tracker(store: MetadataStore, artifacts: ArtifactStore) -> Tracker:
    return Tracker(store, artifacts)


@pytest.fixture
def registry(store: MetadataStore, artifacts: ArtifactStore) -> Registry:
    return Registry(store, artifacts, actor="pipeline-test")


@pytest.fixture
def frame() -> pd.DataFrame:
    """3 000 rows: a learnable binary label from a category and two numbers."""
    rng = np.random.default_rng(7)
    n = 3000
    colour = rng.choice(["red", "green", "blue"], size=n)
    x = rng.normal(size=n)
    z = rng.uniform(0, 10, size=n)
    z[rng.random(n) < 0.05] = np.nan
    logit = 1.5 * x + np.where(colour == "red", 1.0, -0.5) + 0.1 * np.nan_to_num(z)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    when = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame({"when": when, "colour": colour, "x": x, "z": z, "label": label})


@pytest.fixture
def toy() -> dict[str, Any]:
    """A fresh full pipeline over ``input:train`` as plain data (tests may edit it)."""
    return {
        "name": "toy",
        "experiment": "toy",
        "model": "toy-model",
        "steps": [
            {"name": "load", "kind": "load", "params": {"source": "input:train"}},
            {
                "name": "validate",
                "kind": "validate",
                "params": {"features": ["colour", "x", "z"], "label": "label"},
            },
            {"name": "split", "kind": "split", "params": {"test_size": 0.25, "by": "when"}},
            {
                "name": "train",
                "kind": "train",
                "params": {
                    "estimator": "hist_gradient_boosting",
                    "estimator_params": {"max_iter": 15},
                    "features": ["colour", "x", "z"],
                    "label": "label",
                },
            },
            {"name": "evaluate", "kind": "evaluate"},
            {"name": "register", "kind": "register"},
            {
                "name": "promote",
                "kind": "promote",
                "params": {"metric": "roc_auc", "min": 0.6, "must_beat": "champion"},
            },
        ],
    }


@pytest.fixture
def spec(tmp_path: Path, toy: dict[str, Any]) -> PipelineSpec:
    return PipelineSpec.from_dict(toy, base_dir=tmp_path)
