"""Save a scikit-learn model as a verifiable package folder; load it back safely."""

from __future__ import annotations

import math
import os
import pickle
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io
from sklearn.base import is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from loopml.errors import IntegrityError, ModelPackageError, UntrustedFormatError
from loopml.models.environment import current_requirements, requirement_mismatches
from loopml.models.hashing import hash_folder, sha256_file
from loopml.models.loaded import REFERENCE_FILE, LoadedModel
from loopml.models.manifest import MANIFEST_NAME, Manifest
from loopml.models.onnx import CompiledRecord, OnnxScorer, compile_onnx, open_onnx
from loopml.models.trust import UNSAFE_SUFFIXES, disallowed_types
from loopml.schema import Schema

__all__ = ["MODEL_FILE", "load_model", "save_model"]

MODEL_FILE = "model.skops"
"""Name of the model file :func:`save_model` writes."""

_UNTRUSTED_FORMATS = ("pickle", "joblib")


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    schema: Schema,
    metrics: dict[str, float] | None = None,
    extra: dict[str, Any] | None = None,
    reference: pd.DataFrame | None = None,
    onnx: bool = True,
) -> Manifest:
    """Write a fitted scikit-learn model as a package folder.

    The folder holds ``model.skops`` (:func:`skops.io.dump`; never pickle)
    and ``manifest.json`` (:class:`Manifest`: flavor, format, schema,
    metrics, exact library versions, task and classes, SHA-256 of every
    other file, creation time).

    Parameters
    ----------
    model : estimator
        A fitted scikit-learn estimator or Pipeline.
    path : str or path-like
        Package folder; created if needed, and must be empty if it exists.
    schema : Schema
        The input contract; its feature columns must include every column
        the model was fitted on (``feature_names_in_``).
    metrics : dict of str to float, optional
        Evaluation metrics; ``NaN`` and infinities are stored as ``null``.
    extra : dict, optional
        JSON-serialisable data to keep in the manifest.
    reference : DataFrame, optional
        Reference data (typically the training rows, features and label) kept
        as ``reference.parquet`` and hashed like every file; monitoring
        compares served traffic against it (:meth:`LoadedModel.reference`).
    onnx : bool, default=True
        With ``reference``, convert the model to ONNX (``model.onnx``) and
        keep it when it matches the estimator on the reference rows
        (:func:`loopml.models.onnx.compile_onnx`); the outcome is recorded in
        the manifest's ``compiled`` field either way.

    Returns
    -------
    Manifest
        The manifest written.

    Raises
    ------
    ModelPackageError
        If the model is not a fitted scikit-learn estimator, the schema lacks
        a fitted feature, a metric is not a number, ``extra`` is not JSON,
        the folder is not empty, or skops cannot serialise the model.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> from loopml.schema import infer_schema
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}); y = [0, 0, 1, 1]
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> manifest = save_model(LogisticRegression().fit(X, y), folder, schema=infer_schema(X))
    >>> sorted(manifest.files), manifest.classes
    (['model.skops'], (0, 1))
    """
    folder = Path(path)
    _check_fitted(model)
    _check_schema_covers(model, schema)
    clean_metrics = _clean_metrics(metrics or {})
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ModelPackageError(f"cannot save model to {str(folder)!r}: it exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        skops.io.dump(model, folder / MODEL_FILE)
    except Exception as exc:
        raise ModelPackageError(f"skops cannot serialise {type(model).__name__}: {exc}") from exc
    if reference is not None:
        try:
            reference.to_parquet(folder / REFERENCE_FILE, index=False, compression="zstd")
        except Exception as exc:
            raise ModelPackageError(f"cannot write reference data: {exc}") from exc
    compiled = compile_onnx(model, schema, reference, folder) if onnx else None
    manifest = Manifest(
        flavor="sklearn",
        format="skops",
        model_file=MODEL_FILE,
        schema=schema,
        metrics=clean_metrics,
        requirements=current_requirements(),
        task=_task(model),
        files=hash_folder(folder, exclude=frozenset({MANIFEST_NAME})),
        created_at=datetime.now(UTC),
        extra=dict(extra or {}),
        compiled=compiled,
    )
    text = manifest.to_json()  # raises before anything is written if extra is not JSON
    temporary = folder / f".{MANIFEST_NAME}.tmp"
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(folder / MANIFEST_NAME)
    return manifest


def load_model(
    path: str | os.PathLike[str], *, trust: bool = False, onnx: bool = True
) -> LoadedModel:
    """Load a model package after checking its integrity and safety.

    Parameters
    ----------
    path : str or path-like
        Package folder written by :func:`save_model`.
    trust : bool, default=False
        Load formats and types that can run arbitrary code: ``pickle`` and
        ``joblib`` packages, and skops files referring to types outside the
        allow-list of :mod:`loopml.models.trust`. Only for packages from a
        source you trust.
    onnx : bool, default=True
        Open the package's ``model.onnx`` with onnxruntime when its manifest
        records a passed parity check (:attr:`LoadedModel.runtime` is then
        ``"onnx"``); ``False`` always scores with the estimator.

    Returns
    -------
    LoadedModel

    Raises
    ------
    ModelPackageError
        If the folder or its ``manifest.json`` is missing or malformed, or
        the flavor or format is unknown.
    IntegrityError
        If a file listed in the manifest is missing or its SHA-256 differs,
        or the folder holds a file the manifest does not list; the message
        names the file.
    UntrustedFormatError
        Without ``trust``: if the package is pickle/joblib, holds a
        ``.pkl``/``.pickle``/``.joblib`` file, or its skops file refers to
        types outside the allow-list (named in the message).

    Warns
    -----
    UserWarning
        When the package was saved with other versions of scikit-learn,
        numpy, scipy or skops than the ones installed.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelPackageError(f"model package {str(folder)!r} is not a folder")
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ModelPackageError(f"model package {str(folder)!r} has no {MANIFEST_NAME}")
    manifest = Manifest.from_json(manifest_path.read_bytes())
    if manifest.flavor != "sklearn":
        raise ModelPackageError(
            f"model package {str(folder)!r}: unknown flavor {manifest.flavor!r}"
        )
    if manifest.format not in ("skops", *_UNTRUSTED_FORMATS):
        raise ModelPackageError(
            f"model package {str(folder)!r}: unknown format {manifest.format!r}"
        )
    if not trust:
        _refuse_unsafe_files(folder, manifest)
    _verify_files(folder, manifest)
    _warn_on_version_drift(folder, manifest)
    model_path = folder / manifest.model_file
    if manifest.format == "skops":
        estimator = _load_skops(model_path, trust=trust)
    else:
        estimator = _load_trusted_pickle(model_path, manifest.format)
    compiled = _open_compiled(folder, manifest) if onnx else None
    return LoadedModel(manifest, estimator, folder, compiled=compiled)


def _open_compiled(folder: Path, manifest: Manifest) -> OnnxScorer | None:
    """The verified ``model.onnx`` as a scorer, or ``None`` (native path; a warning says why)."""
    record: CompiledRecord | None = manifest.compiled
    if record is None or record.runtime != "onnx" or record.file is None:
        return None
    if record.file not in manifest.files:
        raise IntegrityError(
            f"model package {str(folder)!r}: compiled file {record.file!r} is not in the manifest"
        )
    try:
        return open_onnx(
            folder / record.file, record, classifier=manifest.task.get("type") == "classification"
        )
    except Exception as exc:  # noqa: BLE001 -- no onnxruntime, or it refuses the file: serve natively
        warnings.warn(
            f"model package {str(folder)!r}: cannot open {record.file} ({exc}); "
            "scoring with the estimator",
            UserWarning,
            stacklevel=3,
        )
        return None


def _check_fitted(model: Any) -> None:
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise ModelPackageError(
            f"{type(model).__name__} is not a scikit-learn estimator (no fit/get_params)"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelPackageError(f"{type(model).__name__} is not fitted: {exc}") from exc
    except TypeError as exc:
        raise ModelPackageError(f"{type(model).__name__} cannot be checked: {exc}") from exc


def _check_schema_covers(model: Any, schema: Schema) -> None:
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is None:
        return
    missing = [str(name) for name in fitted if name not in schema.feature_names]
    if missing:
        raise ModelPackageError(
            f"schema lacks feature(s) the model was fitted on: {', '.join(missing)}"
        )


def _clean_metrics(metrics: dict[str, float]) -> dict[str, float | None]:
    clean: dict[str, float | None] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise ModelPackageError(f"metric {key!r} is not a number: {value!r}") from None
        number = float(value)
        clean[str(key)] = number if math.isfinite(number) else None
    return clean


def _task(model: Any) -> dict[str, Any]:
    if is_classifier(model):
        classes = getattr(model, "classes_", None)
        labels = None if classes is None else list(getattr(classes, "tolist", lambda: classes)())
        return {"type": "classification", "classes": labels}
    if is_regressor(model):
        return {"type": "regression"}
    return {"type": "other"}


def _refuse_unsafe_files(folder: Path, manifest: Manifest) -> None:
    if manifest.format in _UNTRUSTED_FORMATS:
        raise UntrustedFormatError(
            f"model package {str(folder)!r} is in {manifest.format} format, which runs "
            "arbitrary code when loaded; pass trust=True only for a package you trust"
        )
    unsafe = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name.lower().endswith(UNSAFE_SUFFIXES)
    )
    if unsafe:
        raise UntrustedFormatError(
            f"model package {str(folder)!r} holds pickle-like file(s) {', '.join(unsafe)}; "
            "pass trust=True only for a package you trust"
        )


def _verify_files(folder: Path, manifest: Manifest) -> None:
    where = f"model package {str(folder)!r}"
    if manifest.model_file not in manifest.files:
        raise IntegrityError(f"{where}: model file {manifest.model_file!r} is not in the manifest")
    listed = set(manifest.files) | {MANIFEST_NAME}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in listed:
            raise IntegrityError(f"{where}: file {relative!r} is not listed in the manifest")
    root = folder.resolve()
    for relative, expected in manifest.files.items():
        target = (folder / relative).resolve()
        if root not in target.parents:
            raise IntegrityError(f"{where}: file {relative!r} points outside the package")
        if not target.is_file():
            raise IntegrityError(f"{where}: file {relative!r} is missing")
        actual = sha256_file(target)
        if actual != expected:
            raise IntegrityError(
                f"{where}: file {relative!r} has SHA-256 {actual}, manifest says {expected}; "
                "the package was modified or corrupted"
            )


def _warn_on_version_drift(folder: Path, manifest: Manifest) -> None:
    relevant = {"scikit-learn", "numpy", "scipy", "skops"}
    drift = {
        k: v for k, v in requirement_mismatches(manifest.requirements).items() if k in relevant
    }
    if drift:
        shown = ", ".join(
            f"{k} {saved} (installed {now})" for k, (saved, now) in sorted(drift.items())
        )
        warnings.warn(
            f"model package {str(folder)!r} was saved with {shown}; predictions may differ",
            UserWarning,
            stacklevel=3,
        )


def _load_skops(model_path: Path, *, trust: bool) -> Any:
    try:
        untrusted = skops.io.get_untrusted_types(file=model_path)
    except Exception as exc:
        raise ModelPackageError(f"{model_path.name} is not a readable skops file: {exc}") from exc
    refused = disallowed_types(untrusted)
    if refused and not trust:
        raise UntrustedFormatError(
            f"{model_path.name} refers to type(s) outside the allow-list: {', '.join(refused)}; "
            "pass trust=True only for a package you trust"
        )
    try:
        return skops.io.load(model_path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelPackageError(f"skops cannot load {model_path.name}: {exc}") from exc


def _load_trusted_pickle(model_path: Path, package_format: str) -> Any:
    try:
        if package_format == "joblib":
            import joblib

            return joblib.load(model_path)
        with model_path.open("rb") as handle:
            return pickle.load(handle)  # only reached with trust=True
    except Exception as exc:
        raise ModelPackageError(
            f"cannot load {package_format} file {model_path.name}: {exc}"
        ) from exc
