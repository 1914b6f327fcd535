"""The manifest of a model package: what is inside and how to trust it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopml.errors import ModelPackageError
from loopml.models.onnx import CompiledRecord
from loopml.schema import Schema

__all__ = ["MANIFEST_FORMAT_VERSION", "MANIFEST_NAME", "Manifest"]

MANIFEST_NAME = "manifest.json"
"""File name of the manifest inside a package folder."""

MANIFEST_FORMAT_VERSION = 1
"""Version of the manifest layout this loopml writes and reads."""


@dataclass(frozen=True)
class Manifest:
    """Everything a package says about its model, written as ``manifest.json``.

    Parameters
    ----------
    flavor : str
        Model family, ``"sklearn"`` (scikit-learn estimator or Pipeline).
    format : str
        Serialisation of the model file: ``"skops"`` (safe, written by
        :func:`loopml.models.save_model`), or ``"pickle"``/``"joblib"``
        (accepted by :func:`loopml.models.load_model` only with ``trust``).
    model_file : str
        Path of the model file relative to the package folder.
    schema : Schema
        The input contract; requests are conformed to it before predicting.
    metrics : dict of str to float or None
        Evaluation metrics at save time; non-finite values are ``None``.
    requirements : dict of str to str
        Exact versions at save time: ``python``, ``scikit-learn``,
        ``numpy``, ``scipy``, ``skops``, ``pandas``, ``loopml``.
    task : dict
        ``{"type": "classification", "classes": [...]}`` for classifiers
        (classes in the estimator's ``classes_`` order, JSON scalars),
        ``{"type": "regression"}`` or ``{"type": "other"}``.
    files : dict of str to str
        SHA-256 (hex) of every file in the package except the manifest,
        keyed by POSIX path relative to the package folder.
    created_at : datetime
        When the package was written (UTC, timezone-aware).
    extra : dict, default={}
        Caller-supplied JSON data (run id, training data fingerprint ...).
    format_version : int, default=1
        Layout version of the manifest itself.
    compiled : CompiledRecord or None, default=None
        Outcome of compiling the model to ONNX at save time (runtime
        ``"onnx"`` with the parity figures, or ``"native"`` and why);
        ``None`` when no compilation was attempted. Written only when set.
    """

    flavor: str
    format: str
    model_file: str
    schema: Schema
    metrics: dict[str, float | None]
    requirements: dict[str, str]
    task: dict[str, Any]
    files: dict[str, str]
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = MANIFEST_FORMAT_VERSION
    compiled: CompiledRecord | None = None

    @property
    def classes(self) -> tuple[Any, ...] | None:
        """Class labels of a classifier, in ``predict_proba`` column order; else ``None``."""
        classes = self.task.get("classes")
        return None if classes is None else tuple(classes)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict written to ``manifest.json``."""
        data: dict[str, Any] = {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "format": self.format,
            "model_file": self.model_file,
            "schema": self.schema.to_dict(),
            "metrics": dict(self.metrics),
            "requirements": dict(self.requirements),
            "task": dict(self.task),
            "files": dict(self.files),
            "created_at": self.created_at.isoformat(),
            "extra": dict(self.extra),
        }
        if self.compiled is not None:
            data["compiled"] = self.compiled.to_dict()
        return data

    def to_json(self) -> str:
        """Serialise to strict, human-readable JSON (sorted keys, no NaN literals).

        Raises
        ------
        ModelPackageError
            If ``extra`` or ``task`` hold values JSON cannot represent.
        """
        try:
            return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise ModelPackageError(f"manifest is not JSON-serialisable: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Rebuild a manifest from :meth:`to_dict` output.

        Raises
        ------
        ModelPackageError
            If the layout version is unknown or a field is missing or malformed.
        """
        version = data.get("format_version")
        if version != MANIFEST_FORMAT_VERSION:
            raise ModelPackageError(
                f"manifest format_version {version!r} is not supported "
                f"(this loopml reads version {MANIFEST_FORMAT_VERSION})"
            )
        try:
            files = data["files"]
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise ModelPackageError("manifest field 'files' must map paths to SHA-256 hex")
            return cls(
                flavor=str(data["flavor"]),
                format=str(data["format"]),
                model_file=str(data["model_file"]),
                schema=Schema.from_dict(data["schema"]),
                metrics=dict(data.get("metrics") or {}),
                requirements={str(k): str(v) for k, v in (data.get("requirements") or {}).items()},
                task=dict(data.get("task") or {"type": "other"}),
                files=dict(files),
                created_at=datetime.fromisoformat(data["created_at"]),
                extra=dict(data.get("extra") or {}),
                format_version=version,
                compiled=None
                if data.get("compiled") is None
                else CompiledRecord.from_dict(data["compiled"]),
            )
        except KeyError as exc:
            raise ModelPackageError(f"manifest lacks field {exc.args[0]!r}") from None
        except ModelPackageError:
            raise
        except Exception as exc:  # malformed schema, date or container types
            raise ModelPackageError(f"manifest is malformed: {exc}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Parse ``manifest.json`` text.

        Raises
        ------
        ModelPackageError
            If the text is not a JSON object or not a valid manifest.
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelPackageError(f"{MANIFEST_NAME} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelPackageError(f"{MANIFEST_NAME} must hold a JSON object")
        return cls.from_dict(data)
