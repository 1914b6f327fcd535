"""The compiled fast path: a scikit-learn model converted to ONNX, checked, served by onnxruntime.

:func:`compile_onnx` converts the estimator with skl2onnx, scores the
package's reference data with both the estimator and onnxruntime, and keeps
``model.onnx`` only when the two agree: identical class labels (the label of
the largest probability) and every probability within ``tolerance``
(absolute), or, for regressors, every prediction within ``tolerance`` times
``max(1, |native|)``. The outcome is a :class:`CompiledRecord`, stored in the
manifest (field ``compiled``); ``model.onnx`` is listed with its SHA-256 like
every other file, so :func:`loopml.models.load_model` verifies it.

:func:`open_onnx` opens the verified file as an :class:`OnnxScorer` with one
intra-op and one inter-op thread: a server gets its parallelism from
concurrent batches, not from thread teams inside one predict.

Inputs follow the schema: integer, float and boolean columns are fed as
``float32`` (what scikit-learn trees compute in), categorical and string
columns as strings; a model whose features are all numeric takes one
``float32`` tensor ``X`` of shape ``(n, k)``, columns in the estimator's
order. Datetime columns are not compiled. Rows with a missing value are
never sent to onnxruntime (the caller scores them natively): the parity
check covers complete rows only.

References
----------
.. [1] ONNX, "Open Neural Network Exchange", https://onnx.ai
.. [2] skl2onnx, "Convert scikit-learn models to ONNX", https://onnx.ai/sklearn-onnx/
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import is_classifier, is_regressor

from loopml.schema import Schema, conform
from loopml.schema.types import LogicalType

__all__ = [
    "ONNX_FILE",
    "PARITY_TOLERANCE",
    "CompiledRecord",
    "OnnxScorer",
    "compile_onnx",
    "open_onnx",
]

ONNX_FILE = "model.onnx"
"""Name of the compiled model file in a package."""

PARITY_TOLERANCE = 1e-5
"""Largest absolute probability difference accepted by the parity check."""

_MAX_PARITY_ROWS = 5000
_NUMERIC = (LogicalType.INTEGER, LogicalType.FLOAT, LogicalType.BOOLEAN)
_TEXT = (LogicalType.CATEGORICAL, LogicalType.STRING)


@dataclass(frozen=True)
class CompiledRecord:
    """Outcome of compiling a package's model (manifest field ``compiled``).

    Attributes
    ----------
    runtime : str
        ``"onnx"`` when ``model.onnx`` passed the parity check, else ``"native"``.
    reason : str
        Why the runtime is what it is (parity figures, or why it was not compiled).
    file : str or None
        The compiled file (``"model.onnx"``) when ``runtime`` is ``"onnx"``.
    inputs : str or None
        ``"matrix"`` (one float tensor ``X``) or ``"columns"`` (one tensor per column).
    feature_order : list of str
        Column names in the order the compiled model takes them.
    tolerance : float
        Absolute tolerance of the probability (or prediction) comparison.
    max_abs_diff : float or None
        Largest absolute difference seen on the reference rows.
    rows_checked : int
        Reference rows scored by both runtimes.
    versions : dict of str to str
        ``skl2onnx``, ``onnx`` and ``onnxruntime`` versions used.
    """

    runtime: str
    reason: str
    file: str | None = None
    inputs: str | None = None
    feature_order: list[str] = field(default_factory=list)
    tolerance: float = PARITY_TOLERANCE
    max_abs_diff: float | None = None
    rows_checked: int = 0
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict stored in ``manifest.json``."""
        return {
            "runtime": self.runtime,
            "reason": self.reason,
            "file": self.file,
            "inputs": self.inputs,
            "feature_order": list(self.feature_order),
            "tolerance": self.tolerance,
            "max_abs_diff": self.max_abs_diff,
            "rows_checked": self.rows_checked,
            "versions": dict(self.versions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledRecord:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            runtime=str(data["runtime"]),
            reason=str(data.get("reason", "")),
            file=data.get("file"),
            inputs=data.get("inputs"),
            feature_order=[str(name) for name in data.get("feature_order") or []],
            tolerance=float(data.get("tolerance", PARITY_TOLERANCE)),
            max_abs_diff=data.get("max_abs_diff"),
            rows_checked=int(data.get("rows_checked", 0)),
            versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
        )


def _native(reason: str, **fields: Any) -> CompiledRecord:
    return CompiledRecord(runtime="native", reason=reason, **fields)


def feature_order(estimator: Any, schema: Schema) -> list[Any]:
    """Columns in the order the estimator was fitted on (schema order when unknown)."""
    fitted = getattr(estimator, "feature_names_in_", None)
    names = list(schema.feature_names)
    if fitted is not None and all(name in names for name in fitted):
        return list(fitted)
    return names


def compile_onnx(
    estimator: Any,
    schema: Schema,
    reference: pd.DataFrame | None,
    folder: Path,
    *,
    tolerance: float = PARITY_TOLERANCE,
) -> CompiledRecord:
    """Convert ``estimator`` to ONNX and keep it only if it matches on ``reference``.

    Parameters
    ----------
    estimator : estimator
        Fitted scikit-learn classifier, regressor or Pipeline.
    schema : Schema
        The package's input contract (logical type of every feature).
    reference : DataFrame or None
        Rows to check parity on (the package's reference data); at most
        5000 complete rows are used. Without it nothing is compiled.
    folder : Path
        Package folder; ``model.onnx`` is written there only when parity holds.
    tolerance : float, default=1e-5
        Largest absolute probability difference accepted.

    Returns
    -------
    CompiledRecord
        ``runtime="onnx"`` with the parity figures, or ``runtime="native"``
        with the reason (no reference data, unsupported column type,
        skl2onnx cannot convert, onnxruntime fails, parity broken). Never raises
        for a model that cannot be compiled.
    """
    if not (is_classifier(estimator) or is_regressor(estimator)):
        return _native("only classifiers and regressors are compiled")
    if reference is None or len(reference) == 0:
        return _native("no reference data to check parity on")
    try:
        import onnx
        import onnxruntime
        import skl2onnx
    except ImportError as error:
        return _native(f"skl2onnx/onnxruntime not installed: {error}")
    versions = {
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    order = feature_order(estimator, schema)
    by_name = {column.name: column for column in schema.features}
    if any(not isinstance(name, str) for name in order):
        return _native("column names must be strings to name ONNX inputs", versions=versions)
    unsupported = [n for n in order if by_name[n].logical_type not in (*_NUMERIC, *_TEXT)]
    if unsupported:
        kinds = ", ".join(f"{n} ({by_name[n].logical_type.value})" for n in unsupported)
        return _native(f"columns of unsupported type: {kinds}", versions=versions)
    try:
        frame = conform(reference, schema)
    except Exception as error:  # noqa: BLE001 -- reference data that breaks its contract
        return _native(f"reference data does not conform: {error}", versions=versions)
    frame = frame.loc[~frame.isna().any(axis=1).to_numpy(), order].head(_MAX_PARITY_ROWS)
    if len(frame) == 0:
        return _native("reference data has no complete rows", versions=versions)
    numeric = all(by_name[n].logical_type in _NUMERIC for n in order)
    attempts = ["matrix", "columns"] if numeric else ["columns"]
    errors: list[str] = []
    for inputs in attempts:
        try:
            model_bytes = _convert(estimator, order, by_name, inputs)
        except Exception as error:  # noqa: BLE001 -- skl2onnx raises anything for unsupported models
            errors.append(f"{inputs} inputs: {type(error).__name__}: {error}")
            continue
        try:
            scorer = OnnxScorer(_session(model_bytes), order, inputs, is_classifier(estimator))
            record = _parity(estimator, scorer, frame, tolerance)
        except Exception as error:  # noqa: BLE001 -- onnxruntime refuses the graph
            errors.append(f"{inputs} inputs: onnxruntime: {type(error).__name__}: {error}")
            continue
        fields: dict[str, Any] = {
            "inputs": inputs,
            "feature_order": order,
            "tolerance": tolerance,
            "rows_checked": len(frame),
            "versions": versions,
        }
        if record is not None:
            return _native(record[0], max_abs_diff=record[1], **fields)
        diff = scorer.last_diff
        (folder / ONNX_FILE).write_bytes(model_bytes)
        reason = f"parity on {len(frame)} reference rows: max |diff| {diff:.2e} <= {tolerance:g}"
        return CompiledRecord(
            runtime="onnx", reason=reason, file=ONNX_FILE, max_abs_diff=diff, **fields
        )
    return _native("skl2onnx cannot convert: " + "; ".join(errors)[:500], versions=versions)


def _convert(estimator: Any, order: list[Any], by_name: dict[Any, Any], inputs: str) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    if inputs == "matrix":
        initial = [("X", FloatTensorType([None, len(order)]))]
    else:
        initial = [
            (
                name,
                FloatTensorType([None, 1])
                if by_name[name].logical_type in _NUMERIC
                else StringTensorType([None, 1]),
            )
            for name in order
        ]
    options = {"zipmap": False} if is_classifier(estimator) else None
    model = to_onnx(estimator, initial_types=initial, options=options, target_opset=None)
    return bytes(model.SerializeToString())


def _session(model_bytes: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
    )


def _parity(
    estimator: Any, scorer: OnnxScorer, frame: pd.DataFrame, tolerance: float
) -> tuple[str, float] | None:
    """``None`` when the runtimes agree, else (reason, max |diff|)."""
    compiled = scorer.run(frame)
    if scorer.classifier:
        native = np.asarray(estimator.predict_proba(frame), dtype=np.float64)
        if compiled.shape != native.shape:
            return (
                f"parity broken: probabilities of shape {compiled.shape}, not {native.shape}",
                0.0,
            )
        diff = float(np.max(np.abs(compiled - native)))
        differing = int(np.sum(np.argmax(compiled, axis=1) != np.argmax(native, axis=1)))
        scorer.last_diff = diff
        if differing:
            return (
                f"parity broken: {differing} of {len(frame)} reference rows get another class",
                diff,
            )
    else:
        native = np.asarray(estimator.predict(frame), dtype=np.float64).reshape(-1)
        compiled = compiled.reshape(-1)
        diff = float(np.max(np.abs(compiled - native) / np.maximum(1.0, np.abs(native))))
        scorer.last_diff = diff
    if diff > tolerance:
        return f"parity broken: max |diff| {diff:.2e} > tolerance {tolerance:g}", diff
    return None


class OnnxScorer:
    """An onnxruntime session that scores conformed rows like the estimator it came from.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The session (one intra-op thread).
    order : list of str
        Feature columns in the compiled model's order.
    inputs : str
        ``"matrix"`` or ``"columns"`` (see :class:`CompiledRecord`).
    classifier : bool
        Whether :meth:`run` returns class probabilities (else predictions).
    """

    def __init__(self, session: Any, order: list[Any], inputs: str, classifier: bool) -> None:
        self.session = session
        self.order = order
        self.inputs = inputs
        self.classifier = classifier
        self.last_diff = 0.0
        self._inputs = [(node.name, node.type) for node in session.get_inputs()]
        outputs = [output.name for output in session.get_outputs()]
        self._output = outputs[1] if classifier and len(outputs) > 1 else outputs[0]

    def run(self, data: pd.DataFrame | npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Probabilities of shape ``(n, n_classes)`` (classifiers) or predictions ``(n, 1)``.

        Parameters
        ----------
        data : DataFrame or ndarray of shape (n, k)
            Complete rows (no missing value): a conformed frame holding the
            feature columns, or a float array whose columns are in
            :attr:`order` (``"matrix"`` inputs only).
        """
        if self.inputs == "matrix":
            if isinstance(data, pd.DataFrame):
                matrix = data.loc[:, self.order].to_numpy(dtype=np.float32)
            else:
                matrix = np.asarray(data, dtype=np.float32)
            feed: dict[str, Any] = {"X": matrix}
        else:
            if not isinstance(data, pd.DataFrame):
                data = pd.DataFrame(data, columns=self.order)
            feed = {}
            for name, kind in self._inputs:
                column = data[name]
                if kind == "tensor(string)":
                    feed[name] = column.to_numpy(dtype=object).astype(str).reshape(-1, 1)
                else:
                    feed[name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
        result = self.session.run([self._output], feed)[0]
        return np.asarray(result, dtype=np.float64)


def open_onnx(path: Path, record: CompiledRecord, *, classifier: bool) -> OnnxScorer:
    """Open a verified ``model.onnx`` as an :class:`OnnxScorer`.

    Raises
    ------
    ImportError
        onnxruntime is not installed.
    """
    return OnnxScorer(
        _session(path.read_bytes()), list(record.feature_order), str(record.inputs), classifier
    )
