"""Reference data stored in a package: hashed, verified, read back identically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopml.errors import IntegrityError
from loopml.models import REFERENCE_FILE, load_model, save_model
from loopml.schema import infer_schema


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, None], "y": [0, 0, 1, 1, 1]})


def test_reference_round_trips_and_is_hashed(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = LogisticRegression().fit(frame[["x"]].fillna(0.0), frame["y"])
    manifest = save_model(model, tmp_path / "pkg", schema=infer_schema(frame[["x"]]), reference=frame)
    assert REFERENCE_FILE in manifest.files
    loaded = load_model(tmp_path / "pkg")
    reference = loaded.reference()
    assert reference is not None
    pd.testing.assert_frame_equal(reference, frame)


def test_package_without_reference_returns_none(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = LogisticRegression().fit(frame[["x"]].fillna(0.0), frame["y"])
    save_model(model, tmp_path / "pkg", schema=infer_schema(frame[["x"]]))
    assert load_model(tmp_path / "pkg").reference() is None


def test_tampered_reference_is_refused_by_name(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = LogisticRegression().fit(frame[["x"]].fillna(0.0), frame["y"])
    save_model(model, tmp_path / "pkg", schema=infer_schema(frame[["x"]]), reference=frame)
    frame.assign(x=frame["x"] * 2).to_parquet(tmp_path / "pkg" / REFERENCE_FILE, index=False)
    with pytest.raises(IntegrityError, match=REFERENCE_FILE):
        load_model(tmp_path / "pkg")
