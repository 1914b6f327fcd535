"""CLI tests run the real Typer app against a real SQLite home in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopml.settings import Settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("LOOPML_STORE_URL", "LOOPML_ARTIFACT_ROOT", "LOOPML_PREDICTION_LOG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LOOPML_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOOPML_ACTOR", "tester")
    return Settings.from_env()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    from loopml.models import save_model
    from loopml.schema import infer_schema

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    model = LogisticRegression().fit(frame[["x"]], [0, 0, 1, 1])
    folder = tmp_path / "pkg"
    save_model(model, folder, schema=infer_schema(frame[["x"]]))
    return folder
