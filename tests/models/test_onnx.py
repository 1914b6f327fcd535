"""The compiled ONNX fast path: parity at save time, hashed file, native fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from loopml.errors import IntegrityError
from loopml.models import load_model, save_model
from loopml.models.onnx import ONNX_FILE, PARITY_TOLERANCE, compile_onnx
from loopml.schema import infer_schema

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    features, label = load_breast_cancer(return_X_y=True, as_frame=True)
    return features, label


def _mixed(n: int = 300) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "pro", "team"], size=n),
            "region": rng.choice(["eu", "us", "apac", "latam"], size=n),
            "tenure": rng.integers(0, 60, size=n),
            "spend": rng.normal(50.0, 10.0, size=n),
        }
    )
    label = ((frame["tenure"] > 24) ^ (frame["plan"] == "team")).map({True: "yes", False: "no"})
    return frame, label


def _mixed_pipeline() -> Pipeline:
    encode = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("ordinal", OrdinalEncoder(), ["region"]),
            ("scale", StandardScaler(), ["tenure", "spend"]),
        ]
    )
    return Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=500))])


def test_random_forest_passes_parity_and_serves_through_onnx(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, label = cancer
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(features, label)
    manifest = save_model(forest, tmp_path / "m", schema=infer_schema(features), reference=features)

    record = manifest.compiled
    assert record is not None and record.runtime == "onnx", record
    assert record.inputs == "matrix" and record.rows_checked == len(features)
    assert record.max_abs_diff is not None and record.max_abs_diff <= PARITY_TOLERANCE
    assert ONNX_FILE in manifest.files  # hashed like every file

    loaded = load_model(tmp_path / "m")
    assert loaded.runtime == "onnx"
    compiled = loaded.predict_proba(features)
    native = loaded.predict_proba(features, compiled=False)
    assert compiled is not None and native is not None
    np.testing.assert_allclose(compiled, native, atol=PARITY_TOLERANCE, rtol=0)
    assert list(loaded.predict(features)) == list(forest.predict(features))
    # a model-ready float array, columns in feature order, skips conforming
    matrix = features.loc[:, loaded.feature_order].to_numpy()
    np.testing.assert_allclose(loaded.predict_proba(matrix, conformed=True), compiled)
    assert load_model(tmp_path / "m", onnx=False).runtime == "native"


def test_pipeline_with_categorical_encoders_passes_parity(tmp_path: Path) -> None:
    frame, label = _mixed()
    pipeline = _mixed_pipeline().fit(frame, label)
    manifest = save_model(pipeline, tmp_path / "m", schema=infer_schema(frame), reference=frame)

    assert manifest.compiled is not None and manifest.compiled.runtime == "onnx", manifest.compiled
    assert manifest.compiled.inputs == "columns"
    loaded = load_model(tmp_path / "m")
    rows = frame.head(50).to_dict(orient="records")
    compiled = loaded.predict_proba(rows)
    native = pipeline.predict_proba(frame.head(50))
    np.testing.assert_allclose(compiled, native, atol=PARITY_TOLERANCE, rtol=0)
    assert list(loaded.predict(rows)) == list(pipeline.predict(frame.head(50)))
    assert set(loaded.classes or ()) == {"no", "yes"}


def test_rows_with_missing_values_are_scored_natively(tmp_path: Path) -> None:
    frame, label = _mixed()
    pipeline = _mixed_pipeline().fit(frame, label)
    save_model(pipeline, tmp_path / "m", schema=infer_schema(frame), reference=frame)
    loaded = load_model(tmp_path / "m")
    row = {"plan": "pro", "region": "eu", "tenure": 3, "spend": 40.0}
    assert loaded._scorer(loaded.features([row]), compiled=True) is not None
    incomplete = pd.DataFrame([{**row, "spend": np.nan}])
    assert loaded._scorer(incomplete, compiled=True) is None
    assert loaded._scorer(np.array([[1.0, np.nan]]), compiled=True) is None


def test_unconvertible_model_falls_back_to_native_with_the_reason(tmp_path: Path) -> None:
    frame, label = _mixed()
    # skl2onnx has no converter for this estimator: the package is served natively
    from sklearn.ensemble import HistGradientBoostingClassifier

    numeric = frame[["tenure", "spend"]]
    model = HistGradientBoostingClassifier(max_iter=5).fit(numeric, label)
    record = compile_onnx(model, infer_schema(numeric), numeric, tmp_path)
    if record.runtime == "onnx":  # a newer skl2onnx learnt it: then parity must hold
        assert record.max_abs_diff is not None and record.max_abs_diff <= PARITY_TOLERANCE
    else:
        assert "convert" in record.reason or "parity" in record.reason
        assert not (tmp_path / ONNX_FILE).exists()


def test_without_reference_data_nothing_is_compiled(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, label = cancer
    model = LogisticRegression(max_iter=50).fit(features.iloc[:, :3], label)
    manifest = save_model(model, tmp_path / "m", schema=infer_schema(features.iloc[:, :3]))
    assert manifest.compiled is not None and manifest.compiled.runtime == "native"
    assert "no reference data" in manifest.compiled.reason
    assert load_model(tmp_path / "m").runtime == "native"


def test_tampered_onnx_file_is_refused(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, label = cancer
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(features, label)
    save_model(forest, tmp_path / "m", schema=infer_schema(features), reference=features)
    with (tmp_path / "m" / ONNX_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(IntegrityError, match=ONNX_FILE):
        load_model(tmp_path / "m")


def test_compiled_record_round_trips_through_the_manifest(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, label = cancer
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(features, label)
    manifest = save_model(forest, tmp_path / "m", schema=infer_schema(features), reference=features)
    written = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert written["compiled"]["runtime"] == "onnx"
    assert written["compiled"]["tolerance"] == PARITY_TOLERANCE
    assert load_model(tmp_path / "m").manifest.compiled == manifest.compiled
