"""Realised performance per time window, from logged predictions joined with feedback.

Ground truth arrives late: a flight is known to be delayed hours after it was
scored, a loan defaults months later. :func:`performance_by_window` joins the
feedback to the predictions **by request id** and places every label in the
window of its *prediction* timestamp, never of its arrival. Recomputing after
more labels have arrived therefore updates the old windows, and ``as_of``
replays what a window looked like at an earlier moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none, iso_or_none
from loopml.monitoring.cbpe import CBPE, CBPEEstimate
from loopml.monitoring.performance import PerformanceResult, realised_performance

__all__ = ["MAX_WINDOWS", "WindowPerformance", "WindowedPerformance", "performance_by_window"]

MAX_WINDOWS = 100_000
"""Most ``freq`` windows one call may produce (guards against ``freq="s"`` over a year)."""


@dataclass(frozen=True)
class WindowPerformance:
    """Predictions, labels and realised performance of one window.

    Attributes
    ----------
    start, end : datetime
        Time window ``[start, end)`` for ``freq`` windows; for ``n_windows``
        windows the timestamps of the first and last prediction (both in).
    n_predictions : int
        Predictions whose timestamp falls in the window.
    n_labelled : int
        Of those, predictions with a label (as of ``as_of``).
    label_coverage : float or None
        ``n_labelled / n_predictions``; ``None`` for an empty window.
    performance : PerformanceResult or None
        Realised metrics on the labelled predictions; ``None`` without any.
    estimated : CBPEEstimate or None
        Performance estimated without labels on every prediction of the
        window, when an estimator was given.
    finding : str or None
        Why ``performance`` is missing ("no predictions", "no labels yet").
    """

    start: datetime
    end: datetime
    n_predictions: int
    n_labelled: int
    label_coverage: float | None
    performance: PerformanceResult | None
    estimated: CBPEEstimate | None = None
    finding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "start": iso_or_none(self.start),
            "end": iso_or_none(self.end),
            "n_predictions": self.n_predictions,
            "n_labelled": self.n_labelled,
            "label_coverage": finite_or_none(self.label_coverage),
            "performance": None if self.performance is None else self.performance.to_dict(),
            "estimated": None if self.estimated is None else self.estimated.to_dict(),
            "finding": self.finding,
        }


@dataclass(frozen=True)
class WindowedPerformance:
    """Realised performance over consecutive windows, and how the feedback was joined.

    Attributes
    ----------
    windows : tuple of WindowPerformance
        Oldest first; ``freq`` windows include empty ones between the first
        and last prediction.
    n_predictions : int
        Predictions given.
    n_labelled : int
        Predictions with a label.
    n_feedback : int
        Feedback rows given (before ``as_of`` filtering).
    n_feedback_used : int
        Feedback rows that labelled a prediction (one per labelled request id).
    n_superseded : int
        Older feedback rows replaced by a later label for the same request id.
    n_unmatched : int
        Request ids with a (latest) label that match no prediction.
    n_missing_label : int
        Feedback rows without a label, ignored.
    n_after_as_of : int
        Feedback rows that arrived after ``as_of``, ignored.

        Every feedback row is counted once: ``n_feedback == n_feedback_used +
        n_unmatched + n_superseded + n_missing_label + n_after_as_of``.
    threshold : float
        Score at or above which a prediction counts as positive.
    as_of : datetime or None
        Only feedback that arrived at or before this moment was used.
    """

    windows: tuple[WindowPerformance, ...]
    n_predictions: int
    n_labelled: int
    n_feedback: int
    n_feedback_used: int
    n_superseded: int
    n_unmatched: int
    n_missing_label: int
    n_after_as_of: int
    threshold: float
    as_of: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "n_predictions": self.n_predictions,
            "n_labelled": self.n_labelled,
            "n_feedback": self.n_feedback,
            "n_feedback_used": self.n_feedback_used,
            "n_superseded": self.n_superseded,
            "n_unmatched": self.n_unmatched,
            "n_missing_label": self.n_missing_label,
            "n_after_as_of": self.n_after_as_of,
            "threshold": finite_or_none(self.threshold),
            "as_of": iso_or_none(self.as_of),
            "windows": [window.to_dict() for window in self.windows],
        }


def _require(frame: pd.DataFrame, columns: tuple[str, ...], role: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MonitoringError(f"{role} frame has no column(s) {missing}")


def _timestamps(values: pd.Series, role: str) -> pd.Series:
    try:
        stamps = pd.to_datetime(values)
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"{role} column 'timestamp' is not a timestamp ({exc})") from exc
    if stamps.isna().any():
        raise MonitoringError(
            f"{role} column 'timestamp' has {int(stamps.isna().sum())} missing value(s)"
        )
    return stamps


def _numbers(values: pd.Series, column: str, role: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    try:
        numbers = pd.to_numeric(values, errors="raise").astype("Float64")
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"{role} column {column!r} must be numeric ({exc})") from exc
    array: np.ndarray[Any, np.dtype[np.float64]] = numbers.to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return array


def _pydatetime(value: Any) -> datetime:
    stamp: datetime = pd.Timestamp(value).to_pydatetime()
    return stamp


def _latest_labels(
    feedback: pd.DataFrame, as_of: datetime | None
) -> tuple[pd.Series, dict[str, int]]:
    """Latest label per request id (by arrival time, then row order) and the counts."""
    _require(feedback, ("request_id", "label", "timestamp"), "feedback")
    frame = pd.DataFrame(
        {
            "request_id": feedback["request_id"].reset_index(drop=True),
            "label": _numbers(feedback["label"], "label", "feedback"),
            "arrived": _timestamps(feedback["timestamp"], "feedback").reset_index(drop=True),
        }
    )
    n_after = 0
    if as_of is not None:
        try:
            late = (frame["arrived"] > pd.Timestamp(as_of)).to_numpy(dtype=bool)
        except TypeError as exc:
            raise MonitoringError(
                f"as_of {as_of!r} cannot be compared with the feedback timestamps ({exc})"
            ) from exc
        n_after = int(late.sum())
        frame = frame[~late]
    missing = np.isnan(frame["label"].to_numpy())
    frame = frame[~missing]
    labels = frame["label"].to_numpy()
    if not np.isin(labels, (0.0, 1.0)).all():
        bad = np.unique(labels[~np.isin(labels, (0.0, 1.0))])[:5].tolist()
        raise MonitoringError(f"feedback column 'label' must be 0 or 1, got {bad}")
    latest = frame.sort_values("arrived", kind="stable").drop_duplicates("request_id", keep="last")
    counts = {
        "n_missing_label": int(missing.sum()),
        "n_after_as_of": n_after,
        "n_superseded": len(frame) - len(latest),
    }
    return latest.set_index("request_id")["label"], counts


def _groups(
    stamps: pd.Series, *, freq: str | None, n_windows: int | None
) -> list[tuple[datetime, datetime, np.ndarray[Any, np.dtype[np.intp]]]]:
    """(start, end, positions) of every window, oldest first."""
    if (freq is None) == (n_windows is None):
        raise MonitoringError("performance by window: give exactly one of freq or n_windows")
    if n_windows is not None:
        if n_windows < 1:
            raise MonitoringError(f"performance by window: n_windows must be >= 1, got {n_windows}")
        order = np.argsort(stamps.to_numpy(), kind="stable")
        chunks = [c for c in np.array_split(order, n_windows) if c.size]
        return [
            (_pydatetime(stamps.iloc[c[0]]), _pydatetime(stamps.iloc[c[-1]]), c) for c in chunks
        ]
    try:
        offset = to_offset(freq)
        if isinstance(offset, Tick) and stamps.size:
            span = stamps.max() - stamps.min()
            if span / pd.Timedelta(offset) > MAX_WINDOWS:
                raise MonitoringError(
                    f"performance by window: freq {freq!r} cuts {span} into more than "
                    f"{MAX_WINDOWS:,} windows"
                )
        grouped = pd.Series(np.arange(len(stamps)), index=stamps).groupby(
            pd.Grouper(freq=freq, closed="left", label="left")
        )
        bins = [(start, group.to_numpy()) for start, group in grouped]
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"performance by window: bad freq {freq!r} ({exc})") from exc
    return [
        (_pydatetime(start), _pydatetime(pd.Timestamp(start) + offset), positions)
        for start, positions in bins
    ]


def performance_by_window(
    predictions: pd.DataFrame,
    feedback: pd.DataFrame,
    *,
    freq: str | None = None,
    n_windows: int | None = None,
    threshold: float = 0.5,
    as_of: datetime | None = None,
    estimator: CBPE | None = None,
) -> WindowedPerformance:
    """Realised performance of logged predictions, window by window.

    Feedback is joined to predictions by ``request_id``. When a request id has
    several feedback rows, the **latest label wins**: the one with the latest
    arrival ``timestamp``, and among equal timestamps the last row. A label
    belongs to the window of its prediction's timestamp, whenever it arrived,
    so calling this again after late labels arrive updates the windows they
    belong to.

    Parameters
    ----------
    predictions : DataFrame
        One row per served prediction with ``request_id`` (unique),
        ``timestamp`` (when it was served; no missing values) and ``score``
        (probability of class 1, ``NaN`` when the model gave none). Other
        columns, ``prediction`` included, are ignored: the class is
        ``score >= threshold``.
    feedback : DataFrame
        Ground truth: ``request_id``, ``label`` (0/1 or boolean; a missing
        label is ignored and counted) and ``timestamp`` (when the label
        arrived; no missing values). May be empty.
    freq : str, optional
        pandas offset alias (``"h"``, ``"D"``, ``"W-MON"``, ``"MS"``): windows
        ``[start, end)`` aligned like ``pandas.Grouper(freq=freq,
        closed="left", label="left")``, empty ones included (at most
        :data:`MAX_WINDOWS`).
    n_windows : int, optional
        Instead of ``freq``: predictions in time order are cut into this many
        windows of (nearly) equal counts; fewer when there are fewer rows.
    threshold : float, default 0.5
        Scores ``>= threshold`` count as predicted positive.
    as_of : datetime, optional
        Use only feedback that arrived at or before this moment (replay a
        past view); comparable with the feedback timestamps.
    estimator : CBPE, optional
        A fitted :class:`~loopml.monitoring.cbpe.CBPE`; each window then also
        carries the performance estimated without labels, to show beside the
        realised one.

    Returns
    -------
    WindowedPerformance

    Raises
    ------
    MonitoringError
        If a required column is missing, there are no predictions ("not
        enough data"), request ids repeat in ``predictions`` (filter to one
        model version first: shadow traffic logs the same ids), a timestamp
        is missing or unreadable, a label is not 0/1, a score lies outside
        ``[0, 1]``, not exactly one of ``freq``/``n_windows`` is given, or
        ``freq`` is unknown or would give more than :data:`MAX_WINDOWS` windows.

    Examples
    --------
    >>> t = pd.Timestamp("2024-01-01", tz="UTC")
    >>> predictions = pd.DataFrame({"request_id": ["a", "b", "c", "d"],
    ...     "timestamp": [t, t, t + pd.Timedelta(days=1), t + pd.Timedelta(days=1)],
    ...     "score": [0.9, 0.2, 0.8, 0.3]})
    >>> feedback = pd.DataFrame({"request_id": ["a", "b", "c"], "label": [1, 0, 0],
    ...     "timestamp": [t + pd.Timedelta(days=3)] * 3})
    >>> result = performance_by_window(predictions, feedback, freq="D")
    >>> [(w.n_labelled, w.performance.accuracy) for w in result.windows]
    [(2, 1.0), (1, 0.0)]
    """
    _require(predictions, ("request_id", "timestamp", "score"), "predictions")
    if predictions.empty:
        raise MonitoringError("performance by window: not enough data (no predictions)")
    ids = predictions["request_id"]
    if ids.duplicated().any():
        repeated = ids[ids.duplicated()].unique()[:5].tolist()
        raise MonitoringError(
            f"predictions repeat request ids {repeated}; filter to one model version first"
        )
    stamps = _timestamps(predictions["timestamp"], "predictions").reset_index(drop=True)
    scores = _numbers(predictions["score"], "score", "predictions")
    latest, counts = _latest_labels(feedback, as_of)
    matched = latest.index.isin(ids)
    labels = ids.map(latest).to_numpy(dtype=np.float64, na_value=np.nan)
    windows = []
    for start, end, positions in _groups(stamps, freq=freq, n_windows=n_windows):
        y, s = labels[positions], scores[positions]
        labelled = ~np.isnan(y)
        finding = None
        performance = None
        if positions.size == 0:
            finding = "no predictions in the window"
        elif not labelled.any():
            finding = "no labels yet"
        elif np.isnan(s[labelled]).all():
            finding = "no labelled prediction has a score"
        else:
            performance = realised_performance(y[labelled], s[labelled], threshold=threshold)
        estimated = None
        if estimator is not None and not np.isnan(s).all():
            estimated = estimator.estimate(s, threshold=threshold)
        windows.append(
            WindowPerformance(
                start=start,
                end=end,
                n_predictions=int(positions.size),
                n_labelled=int(labelled.sum()),
                label_coverage=float(labelled.mean()) if positions.size else None,
                performance=performance,
                estimated=estimated,
                finding=finding,
            )
        )
    return WindowedPerformance(
        windows=tuple(windows),
        n_predictions=len(predictions),
        n_labelled=int((~np.isnan(labels)).sum()),
        n_feedback=len(feedback),
        n_feedback_used=int(matched.sum()),
        n_unmatched=int((~matched).sum()),
        threshold=threshold,
        as_of=as_of,
        **counts,
    )
