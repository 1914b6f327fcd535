"""A model read back from a verified package, ready to score requests."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from loopml.models.manifest import Manifest
from loopml.models.onnx import OnnxScorer, feature_order
from loopml.schema import Schema, conform

__all__ = ["REFERENCE_FILE", "LoadedModel"]

REFERENCE_FILE = "reference.parquet"
"""Name of the reference-data file in a package (training rows, Parquet)."""


class LoadedModel:
    """A fitted estimator with its manifest; inputs are conformed to its schema.

    Built by :func:`loopml.models.load_model`; the constructor only stores
    its arguments.

    Parameters
    ----------
    manifest : Manifest
        The verified manifest of the package.
    estimator : object
        The fitted scikit-learn estimator or Pipeline.
    path : Path, optional
        The verified package folder (for :meth:`reference`).
    compiled : OnnxScorer, optional
        The package's ``model.onnx`` (parity-checked at save time), opened
        by :func:`loopml.models.load_model`; ``None`` scores natively.

    Notes
    -----
    Every scoring method accepts a DataFrame or a list of JSON-like records,
    passes it through :func:`loopml.schema.conform` (so column order, extra
    columns and JSON number types do not matter, and blocking contract
    violations raise :class:`loopml.errors.SchemaViolationError`), then
    orders the columns as the estimator saw them in ``fit``. With
    ``conformed=True`` they take rows that are already model-ready (the
    output of :meth:`features`, or a float array whose columns are in
    :attr:`feature_order`) and skip conforming. With a compiled model
    (:attr:`runtime` ``"onnx"``) complete rows are scored by onnxruntime and
    rows with a missing value by the estimator; ``compiled=False`` always
    uses the estimator.
    """

    def __init__(
        self,
        manifest: Manifest,
        estimator: Any,
        path: Path | None = None,
        *,
        compiled: OnnxScorer | None = None,
    ) -> None:
        self.manifest = manifest
        self.estimator = estimator
        self.path = path
        self.compiled = compiled

    def reference(self) -> pd.DataFrame | None:
        """The reference data stored with the package (training rows), or ``None``.

        Written by :func:`loopml.models.save_model` with ``reference=``; its
        SHA-256 was verified when the package was loaded. Monitoring compares
        served traffic against it.
        """
        if self.path is None or REFERENCE_FILE not in self.manifest.files:
            return None
        return pd.read_parquet(self.path / REFERENCE_FILE)

    def __repr__(self) -> str:
        return (
            f"LoadedModel(flavor={self.manifest.flavor!r}, "
            f"estimator={type(self.estimator).__name__}, "
            f"features={len(self.schema.feature_names)})"
        )

    @property
    def schema(self) -> Schema:
        """The input contract recorded in the package."""
        return self.manifest.schema

    @property
    def classes(self) -> tuple[Any, ...] | None:
        """Class labels of a classifier (``predict_proba`` column order), else ``None``."""
        return self.manifest.classes

    @property
    def runtime(self) -> str:
        """``"onnx"`` when a parity-checked compiled model scores complete rows, else ``"native"``."""
        return "native" if self.compiled is None else "onnx"

    @functools.cached_property
    def feature_order(self) -> list[Any]:
        """Feature columns in the order the estimator was fitted on."""
        return feature_order(self.estimator, self.schema)

    def features(self, data: pd.DataFrame | Sequence[Mapping[Any, Any]]) -> pd.DataFrame:
        """Return the frame the estimator receives for ``data``.

        Parameters
        ----------
        data : DataFrame or list of dict
            Rows to score.

        Returns
        -------
        pandas.DataFrame
            Conformed to :attr:`schema`, columns in the estimator's
            ``feature_names_in_`` order when it has one.

        Raises
        ------
        SchemaViolationError
            If ``data`` breaks the contract (missing column, wrong type,
            null in a non-nullable column).
        """
        frame = conform(data, self.schema)
        fitted_names = getattr(self.estimator, "feature_names_in_", None)
        if fitted_names is not None and all(name in frame.columns for name in fitted_names):
            frame = frame.loc[:, list(fitted_names)]
        return frame

    def predict(
        self,
        data: pd.DataFrame | Sequence[Mapping[Any, Any]] | npt.NDArray[Any],
        *,
        conformed: bool = False,
        compiled: bool = True,
    ) -> npt.NDArray[Any]:
        """Predict class labels (classifiers) or values (regressors).

        Parameters
        ----------
        data : DataFrame, list of dict, or ndarray of shape (n_rows, n_features)
            Rows to score (an array only with ``conformed=True``).
        conformed : bool, default=False
            ``data`` is already model-ready; do not conform it again.
        compiled : bool, default=True
            Use the compiled model when there is one.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        frame = self._ready(data, conformed)
        scorer = self._scorer(frame, compiled)
        if scorer is None:
            return np.asarray(self.estimator.predict(self._native_input(frame)))
        values = scorer.run(frame)
        if scorer.classifier:
            labels: npt.NDArray[Any] = np.asarray(self.classes)[np.argmax(values, axis=1)]
            return labels
        return values.reshape(-1)

    def predict_proba(
        self,
        data: pd.DataFrame | Sequence[Mapping[Any, Any]] | npt.NDArray[Any],
        *,
        conformed: bool = False,
        compiled: bool = True,
    ) -> npt.NDArray[np.float64] | None:
        """Class probabilities, or ``None`` when the estimator has no ``predict_proba``.

        Parameters are those of :meth:`predict`. Compiled probabilities are
        computed in ``float32`` and match the estimator's within the
        tolerance recorded in the manifest (``compiled.tolerance``).

        Returns
        -------
        ndarray of shape (n_rows, n_classes) or None
            Columns in :attr:`classes` order.
        """
        if not hasattr(self.estimator, "predict_proba"):
            return None
        frame = self._ready(data, conformed)
        scorer = self._scorer(frame, compiled)
        if scorer is not None and scorer.classifier:
            return scorer.run(frame)
        proba = self.estimator.predict_proba(self._native_input(frame))
        return np.asarray(proba, dtype=np.float64)

    def _ready(
        self, data: pd.DataFrame | Sequence[Mapping[Any, Any]] | npt.NDArray[Any], conformed: bool
    ) -> pd.DataFrame | npt.NDArray[Any]:
        if not conformed:
            return self.features(data)
        if isinstance(data, (pd.DataFrame, np.ndarray)):
            return data
        raise TypeError("conformed=True takes a DataFrame or an ndarray")

    def _scorer(self, rows: pd.DataFrame | npt.NDArray[Any], compiled: bool) -> OnnxScorer | None:
        """The compiled model when allowed and every row is complete."""
        if not compiled or self.compiled is None or len(rows) == 0:
            return None
        if isinstance(rows, np.ndarray):
            complete = rows.dtype.kind in "fiub" and not np.isnan(rows).any()
        else:
            complete = not rows.isna().to_numpy().any()
        return self.compiled if complete else None

    def _native_input(self, rows: pd.DataFrame | npt.NDArray[Any]) -> pd.DataFrame:
        if isinstance(rows, pd.DataFrame):
            return rows
        return pd.DataFrame(rows, columns=self.feature_order)

    def positive_score(
        self, data: pd.DataFrame | Sequence[Mapping[Any, Any]]
    ) -> npt.NDArray[np.float64] | None:
        """Probability of the positive class of a binary classifier.

        The positive class is ``classes[1]``, scikit-learn's convention (the
        larger label: ``1`` of ``{0, 1}``, ``True`` of ``{False, True}``).

        Returns
        -------
        ndarray of shape (n_rows,) or None
            ``None`` for regressors, multi-class classifiers and estimators
            without ``predict_proba``.
        """
        classes = self.classes
        if classes is None or len(classes) != 2:
            return None
        proba = self.predict_proba(data)
        return None if proba is None else proba[:, 1]
