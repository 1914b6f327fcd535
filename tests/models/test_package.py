from __future__ import annotations

import collections
import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline

from loopml.data.demo import FLIGHTS_FEATURES
from loopml.errors import (
    IntegrityError,
    ModelPackageError,
    SchemaViolationError,
    UntrustedFormatError,
)
from loopml.models import MANIFEST_NAME, MODEL_FILE, Manifest, load_model, save_model
from loopml.models.hashing import sha256_file
from loopml.schema import Schema, infer_schema


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as a JSON client would send them (None for missing)."""
    plain = frame.astype(object).where(frame.notna(), None)
    return json.loads(json.dumps(plain.to_dict("records"), default=str))


def test_demo_pipeline_round_trips_with_identical_predictions(
    fitted_demo: tuple[Pipeline, Schema],
    flights_slice: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
) -> None:
    pipeline, schema = fitted_demo
    _, later = flights_slice
    features = later[list(FLIGHTS_FEATURES)]
    manifest = save_model(pipeline, tmp_path / "pkg", schema=schema, metrics={"roc_auc": 0.71})
    loaded = load_model(tmp_path / "pkg")

    expected = pipeline.predict_proba(features)
    np.testing.assert_array_equal(loaded.predict_proba(features), expected)
    np.testing.assert_array_equal(loaded.predict(features), pipeline.predict(features))
    np.testing.assert_array_equal(loaded.positive_score(features), expected[:, 1])
    # JSON records (numbers as float/int, codes as str, None for missing) score the same
    np.testing.assert_allclose(loaded.positive_score(_records(features)), expected[:, 1])
    # column order and extra columns do not matter
    shuffled = later[["delayed", *reversed(FLIGHTS_FEATURES)]]
    np.testing.assert_array_equal(loaded.predict_proba(shuffled), expected)

    assert loaded.classes == (0, 1) and manifest.classes == (0, 1)
    assert loaded.schema == schema
    assert loaded.manifest == manifest
    assert isinstance(loaded.estimator, Pipeline)


def test_manifest_contents(fitted_demo: tuple[Pipeline, Schema], tmp_path: Path) -> None:
    pipeline, schema = fitted_demo
    folder = tmp_path / "pkg"
    save_model(
        pipeline,
        folder,
        schema=schema,
        metrics={"auc": np.float64(0.5), "ll": float("nan")},
        extra={"run_id": "abc"},
    )
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME, MODEL_FILE]
    data = json.loads((folder / MANIFEST_NAME).read_text())
    assert (data["flavor"], data["format"], data["model_file"]) == ("sklearn", "skops", MODEL_FILE)
    assert data["files"] == {MODEL_FILE: sha256_file(folder / MODEL_FILE)}
    assert data["metrics"] == {"auc": 0.5, "ll": None}
    assert data["task"] == {"type": "classification", "classes": [0, 1]}
    assert data["extra"] == {"run_id": "abc"}
    assert set(data["requirements"]) == {
        "python",
        "scikit-learn",
        "numpy",
        "scipy",
        "skops",
        "pandas",
        "loopml",
    }
    import sklearn

    assert data["requirements"]["scikit-learn"] == sklearn.__version__
    assert Schema.from_dict(data["schema"]) == schema
    assert Manifest.from_json((folder / MANIFEST_NAME).read_text()).created_at.tzinfo is not None


def test_logistic_regression_with_integer_column_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)))  # columns 0, 1, 2
    y = (X[0] + 0.5 * X[2] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    save_model(model, tmp_path / "lr", schema=infer_schema(X))
    loaded = load_model(tmp_path / "lr")
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    from_json = loaded.positive_score([{"0": 1.0, "1": 0, "2": 2}])
    assert from_json is not None
    assert from_json[0] == pytest.approx(model.predict_proba(pd.DataFrame([[1.0, 0.0, 2.0]]))[0, 1])


def test_regressor_and_multiclass_scores(tmp_path: Path) -> None:
    X = pd.DataFrame({"x": np.arange(30.0)})
    regressor = LinearRegression().fit(X, 2 * X["x"])
    save_model(regressor, tmp_path / "reg", schema=infer_schema(X))
    loaded = load_model(tmp_path / "reg")
    assert loaded.classes is None and loaded.manifest.task == {"type": "regression"}
    assert loaded.predict_proba(X) is None and loaded.positive_score(X) is None
    np.testing.assert_allclose(loaded.predict([{"x": 4}]), [8.0])

    three = LogisticRegression().fit(X, np.arange(30) % 3)
    save_model(three, tmp_path / "multi", schema=infer_schema(X))
    loaded = load_model(tmp_path / "multi")
    assert loaded.classes == (0, 1, 2)
    assert loaded.positive_score(X) is None
    proba = loaded.predict_proba(X)
    assert proba is not None and proba.shape == (30, 3)


def test_predict_enforces_the_contract(
    fitted_demo: tuple[Pipeline, Schema], tmp_path: Path
) -> None:
    pipeline, schema = fitted_demo
    save_model(pipeline, tmp_path / "pkg", schema=schema)
    loaded = load_model(tmp_path / "pkg")
    with pytest.raises(SchemaViolationError) as caught:
        loaded.predict([{"carrier": "UA"}])
    assert {v.column for v in caught.value.violations} >= {"origin", "distance"}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    folder = tmp_path / "pkg"
    save_model(LogisticRegression().fit(X, [0, 0, 1, 1]), folder, schema=infer_schema(X))
    return folder


def test_tampered_model_file_is_refused_by_name(package: Path) -> None:
    model_file = package / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_file.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="'model.skops' has SHA-256"):
        load_model(package)


def test_missing_model_file_is_refused(package: Path) -> None:
    (package / MODEL_FILE).unlink()
    with pytest.raises(IntegrityError, match="'model.skops' is missing"):
        load_model(package)


def test_unlisted_file_is_refused(package: Path) -> None:
    (package / "notes.txt").write_text("hello")
    with pytest.raises(IntegrityError, match="'notes.txt' is not listed"):
        load_model(package)


def test_missing_or_broken_manifest(package: Path, tmp_path: Path) -> None:
    (package / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ModelPackageError, match="not valid JSON"):
        load_model(package)
    (package / MANIFEST_NAME).unlink()
    with pytest.raises(ModelPackageError, match="no manifest.json"):
        load_model(package)
    with pytest.raises(ModelPackageError, match="not a folder"):
        load_model(tmp_path / "nowhere")


def test_pickle_file_in_a_skops_package_is_refused(package: Path) -> None:
    (package / "model.pkl").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(UntrustedFormatError, match="model.pkl"):
        load_model(package)


def _repackage(package: Path, fmt: str) -> Path:
    """Turn a skops package into a pickle/joblib one, hashes updated (as another tool might)."""
    estimator = load_model(package).estimator
    (package / MODEL_FILE).unlink()
    name = f"model.{'pkl' if fmt == 'pickle' else 'joblib'}"
    if fmt == "pickle":
        (package / name).write_bytes(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, package / name)
    manifest = json.loads((package / MANIFEST_NAME).read_text())
    manifest.update(format=fmt, model_file=name, files={name: sha256_file(package / name)})
    (package / MANIFEST_NAME).write_text(json.dumps(manifest))
    return package


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_pickle_formats_need_trust(package: Path, fmt: str) -> None:
    _repackage(package, fmt)
    with pytest.raises(UntrustedFormatError, match=f"{fmt} format"):
        load_model(package)
    loaded = load_model(package, trust=True)
    assert loaded.manifest.format == fmt
    assert loaded.predict([{"a": 3.0, "b": 0.0}]).tolist() == [1]


def test_skops_types_outside_the_allow_list_need_trust(tmp_path: Path) -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    model.note_ = collections.Counter("abc")  # a type outside sklearn/numpy/scipy
    save_model(model, tmp_path / "pkg", schema=infer_schema(X))
    with pytest.raises(UntrustedFormatError, match="collections.Counter"):
        load_model(tmp_path / "pkg")
    assert load_model(tmp_path / "pkg", trust=True).estimator.note_ == collections.Counter("abc")


def test_version_drift_warns(package: Path) -> None:
    manifest = json.loads((package / MANIFEST_NAME).read_text())
    manifest["requirements"]["scikit-learn"] = "0.24.2"
    (package / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=r"scikit-learn 0\.24\.2 \(installed"):
        load_model(package)


def test_save_refusals(tmp_path: Path, package: Path) -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    schema = infer_schema(X)
    fitted = LogisticRegression().fit(X, [0, 0, 1, 1])
    with pytest.raises(ModelPackageError, match="not fitted"):
        save_model(LogisticRegression(), tmp_path / "a", schema=schema)
    with pytest.raises(ModelPackageError, match="not a scikit-learn estimator"):
        save_model(object(), tmp_path / "b", schema=schema)
    with pytest.raises(ModelPackageError, match="not empty"):
        save_model(fitted, package, schema=schema)
    with pytest.raises(ModelPackageError, match="lacks feature.*b"):
        save_model(fitted, tmp_path / "c", schema=schema.select(["a"]))
    with pytest.raises(ModelPackageError, match="metric 'auc'"):
        save_model(fitted, tmp_path / "d", schema=schema, metrics={"auc": "high"})  # type: ignore[dict-item]
    with pytest.raises(ModelPackageError, match="JSON"):
        save_model(fitted, tmp_path / "e", schema=schema, extra={"when": object()})
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()
