"""Concept drift: streaming change detectors on the error stream of a model.

Once ground truth arrives, every labelled prediction is either right (0) or
wrong (1). Fed in time order, that 0/1 *error stream* has a constant rate
while ``P(y | x)`` is stable; concept drift shows up as a change of rate.
:func:`detect_concept_drift` runs river's detectors on it and reports every
detection once, with its position in the stream, the input row and its
timestamp.

==================  ====================================  ==========================================
detector            river class                           default parameters (loopml)
==================  ====================================  ==========================================
``adwin``           :class:`river.drift.ADWIN`            ``delta=0.002, clock=32, max_buckets=5,
                                                          min_window_length=5, grace_period=10``
``page_hinkley``    :class:`river.drift.PageHinkley`      ``min_instances=30, delta=0.005,
                                                          threshold=50, alpha=0.9999, mode="up"``
``ddm``             :class:`river.drift.binary.DDM`       ``warm_start=300, warning_threshold=2,
                                                          drift_threshold=3``
==================  ====================================  ==========================================

These are river's defaults with two exceptions. Page-Hinkley watches rises
only (``mode="up"``): on an error stream a rise is what hurts (DDM only sees
rises; ADWIN sees both ways). DDM waits 300 rows instead of 30 before it
may fire: it compares the running error rate with the lowest rate-plus-SD it
has seen, and a minimum fixed on 30 rows is often a lucky streak (0 errors
gives SD 0, and the next error is a "drift").

False alarms, measured with river 0.26.1 (200 seeds; 6,000 rows at a
constant 10% error rate), and delays (error rate 10% -> 30% at row 3,000;
median / 95th percentile of the first detection after the change):

============  =====================  ==================
detector      streams with an alarm  delay (rows)
============  =====================  ==================
adwin         0%                     103 / 199
page_hinkley  0%                     231 / 302
ddm (300)     17%                    168 / 379
ddm (30)      46%                    185 / 1,002
============  =====================  ==================

DDM stays the noisiest of the three; trust a DDM detection that ADWIN or
Page-Hinkley confirms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none, iso_or_none

__all__ = [
    "DEFAULT_DETECTOR_PARAMETERS",
    "ConceptDriftResult",
    "Detection",
    "DetectorResult",
    "detect_concept_drift",
]

Parameter = float | int | str

DEFAULT_DETECTOR_PARAMETERS: Mapping[str, Mapping[str, Parameter]] = {
    "adwin": {
        "delta": 0.002,
        "clock": 32,
        "max_buckets": 5,
        "min_window_length": 5,
        "grace_period": 10,
    },
    "page_hinkley": {
        "min_instances": 30,
        "delta": 0.005,
        "threshold": 50.0,
        "alpha": 0.9999,
        "mode": "up",
    },
    "ddm": {"warm_start": 300, "warning_threshold": 2.0, "drift_threshold": 3.0},
}
"""Parameters each detector is built with unless overridden (see the module table)."""


class _Detector(Protocol):
    drift_detected: bool

    def update(self, x: float) -> object: ...


def _build(name: str, parameters: Mapping[str, Parameter]) -> _Detector:
    # imported here: river.drift takes ~0.5 s to import, paid only when detecting
    from river.drift import ADWIN, PageHinkley
    from river.drift.binary import DDM

    classes: dict[str, Any] = {"adwin": ADWIN, "page_hinkley": PageHinkley, "ddm": DDM}
    try:
        detector: _Detector = classes[name](**parameters)
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"concept drift: bad parameters for {name!r} ({exc})") from exc
    return detector


@dataclass(frozen=True)
class Detection:
    """One change reported by one detector.

    Attributes
    ----------
    detector : str
        ``"adwin"``, ``"page_hinkley"`` or ``"ddm"``.
    position : int
        0-based index in the error stream (time-ordered, missing rows
        removed) of the error at which the detector fired.
    row : int
        0-based position of that error in the input arrays.
    timestamp : datetime or None
        Its timestamp, when timestamps were given.
    """

    detector: str
    position: int
    row: int
    timestamp: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict."""
        return {
            "detector": self.detector,
            "position": self.position,
            "row": self.row,
            "timestamp": iso_or_none(self.timestamp),
        }


@dataclass(frozen=True)
class DetectorResult:
    """What one detector saw on the whole error stream.

    Attributes
    ----------
    detector : str
        Detector name.
    parameters : dict
        The parameters it was built with (defaults merged with overrides).
    detections : tuple of Detection
        Every detection, in stream order. After a detection river restarts
        the detector from scratch, so each one marks a new change.
    """

    detector: str
    parameters: dict[str, Parameter]
    detections: tuple[Detection, ...] = field(default=())

    @property
    def drifted(self) -> bool:
        """Whether the detector fired at least once."""
        return bool(self.detections)

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict."""
        return {
            "detector": self.detector,
            "parameters": {
                k: finite_or_none(v) if isinstance(v, float) else v
                for k, v in self.parameters.items()
            },
            "drifted": self.drifted,
            "detections": [d.to_dict() for d in self.detections],
        }


@dataclass(frozen=True)
class ConceptDriftResult:
    """Detections of every detector on one error stream.

    Attributes
    ----------
    n : int
        Errors fed to the detectors.
    n_dropped : int
        Rows dropped for a missing label, prediction or error value.
    error_rate : float or None
        Mean of the error stream; ``None`` when it is empty.
    detectors : tuple of DetectorResult
        One per requested detector, in the order requested.
    finding : str or None
        Why nothing could be detected (empty stream), else ``None``.
    """

    n: int
    n_dropped: int
    error_rate: float | None
    detectors: tuple[DetectorResult, ...]
    finding: str | None = None

    @property
    def drifted(self) -> bool:
        """Whether any detector fired."""
        return any(d.drifted for d in self.detectors)

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "n": self.n,
            "n_dropped": self.n_dropped,
            "error_rate": finite_or_none(self.error_rate),
            "drifted": self.drifted,
            "detectors": [d.to_dict() for d in self.detectors],
            "finding": self.finding,
        }


def _error_stream(
    errors: ArrayLike | None, y_true: ArrayLike | None, y_pred: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Return (errors as 0/1 floats with NaN for missing, missing mask)."""
    if (errors is None) == (y_true is None and y_pred is None):
        raise MonitoringError("concept drift: give either errors or both y_true and y_pred")
    if errors is None:
        if y_true is None or y_pred is None:
            raise MonitoringError("concept drift: give both y_true and y_pred")
        truth = pd.Series(np.asarray(y_true, dtype=object).ravel())
        pred = pd.Series(np.asarray(y_pred, dtype=object).ravel())
        if truth.size != pred.size:
            raise MonitoringError(f"concept drift: {truth.size} labels but {pred.size} predictions")
        missing = (truth.isna() | pred.isna()).to_numpy()
        stream = np.full(truth.size, np.nan)
        stream[~missing] = [
            float(t != p) for t, p in zip(truth[~missing], pred[~missing], strict=True)
        ]
        return stream, missing
    try:
        stream = np.asarray(errors, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"concept drift: errors must be 0/1 ({exc})") from exc
    missing = np.isnan(stream)
    if not np.isin(stream[~missing], (0.0, 1.0)).all():
        raise MonitoringError("concept drift: errors must be 0 (right) or 1 (wrong)")
    return stream, missing


def detect_concept_drift(
    errors: ArrayLike | None = None,
    *,
    y_true: ArrayLike | None = None,
    y_pred: ArrayLike | None = None,
    timestamps: ArrayLike | None = None,
    detectors: Sequence[str] = ("adwin", "page_hinkley", "ddm"),
    parameters: Mapping[str, Mapping[str, Parameter]] | None = None,
) -> ConceptDriftResult:
    """Run streaming change detectors over the error stream of a classifier.

    Parameters
    ----------
    errors : array-like of shape (n_samples,), optional
        1 where the prediction was wrong, 0 where right (booleans work);
        ``NaN`` marks an unknown outcome and is dropped.
    y_true, y_pred : array-like of shape (n_samples,), optional
        Instead of ``errors``: labels and predicted classes; the error is
        ``y_true != y_pred``. Rows where either is missing (``None``,
        ``NaN``, ``pd.NA``) are dropped and counted in ``n_dropped``.
    timestamps : array-like of shape (n_samples,), optional
        Prediction times. When given the stream is fed in time order (ties
        keep input order) and detections carry a timestamp; otherwise the
        input order is the time order.
    detectors : str or sequence of str, default ("adwin", "page_hinkley", "ddm")
        Which detectors to run, each on its own copy of the stream.
    parameters : mapping, optional
        Overrides per detector, e.g. ``{"page_hinkley": {"threshold": 25}}``,
        merged into :data:`DEFAULT_DETECTOR_PARAMETERS`.

    Returns
    -------
    ConceptDriftResult
        An empty stream (nothing left after dropping) gives no detection and
        a finding; an all-correct stream gives no detection.

    Raises
    ------
    MonitoringError
        If neither or both of ``errors`` and ``(y_true, y_pred)`` are given,
        lengths differ, an error value is not 0/1, a timestamp is missing or
        unreadable, a detector name is unknown or its parameters are invalid.

    References
    ----------
    .. [1] A. Bifet and R. Gavaldà, "Learning from time-changing data with
       adaptive windowing", SIAM International Conference on Data Mining, 2007 (ADWIN).
    .. [2] E. S. Page, "Continuous inspection schemes", Biometrika 41(1/2),
       100–115, 1954 (Page-Hinkley).
    .. [3] J. Gama, P. Medas, G. Castillo and P. Rodrigues, "Learning with
       drift detection", SBIA 2004, LNCS 3171, 286–295 (DDM).
    .. [4] river, ``river.drift``, https://riverml.xyz/

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> stream = np.r_[rng.random(2000) < 0.1, rng.random(2000) < 0.4]
    >>> result = detect_concept_drift(stream, detectors=["ddm"])
    >>> first = result.detectors[0].detections[0].position
    >>> 2000 <= first < 2200
    True
    """
    if isinstance(detectors, str):
        detectors = (detectors,)
    unknown = [d for d in (*detectors, *(parameters or {})) if d not in DEFAULT_DETECTOR_PARAMETERS]
    if unknown:
        raise MonitoringError(
            f"concept drift: unknown detector(s) {unknown}; "
            f"choose from {sorted(DEFAULT_DETECTOR_PARAMETERS)}"
        )
    stream, missing = _error_stream(errors, y_true, y_pred)
    rows = np.arange(stream.size)
    stamps: pd.Series | None = None
    if timestamps is not None:
        try:
            stamps = pd.Series(pd.to_datetime(np.asarray(timestamps, dtype=object).ravel()))
        except (TypeError, ValueError) as exc:
            raise MonitoringError(f"concept drift: timestamps are unreadable ({exc})") from exc
        if stamps.size != stream.size:
            raise MonitoringError(
                f"concept drift: {stream.size} errors but {stamps.size} timestamps"
            )
        if stamps.isna().any():
            raise MonitoringError(f"concept drift: {int(stamps.isna().sum())} missing timestamp(s)")
        rows = np.argsort(stamps.to_numpy(), kind="stable")
    rows = rows[~missing[rows]]
    values = stream[rows]
    results = []
    for name in detectors:
        params = {**DEFAULT_DETECTOR_PARAMETERS[name], **(parameters or {}).get(name, {})}
        detector = _build(name, params)
        found = []
        for position, value in enumerate(values.tolist()):
            detector.update(value)
            if detector.drift_detected:
                row = int(rows[position])
                stamp = None if stamps is None else pd.Timestamp(stamps.iloc[row]).to_pydatetime()
                found.append(Detection(name, position, row, stamp))
        results.append(DetectorResult(name, params, tuple(found)))
    return ConceptDriftResult(
        n=int(values.size),
        n_dropped=int(missing.sum()),
        error_rate=float(values.mean()) if values.size else None,
        detectors=tuple(results),
        finding=None if values.size else "not enough data: the error stream is empty",
    )
