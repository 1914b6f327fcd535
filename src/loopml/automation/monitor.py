"""Monitor a served model: logged inputs of a window against its training data.

The reference window is the training data stored in the model version's
package (``reference.parquet``); the current window is what the server logged
for the model between ``start`` and ``end`` (default: the most recent
``max_rows`` logged rows). Realised performance comes from the logged rows that
have ground truth (joined by request id).

Beside drift and realised performance the report carries, where they can be
computed: data quality of the window against the contract; prediction drift
(the model's scores on the reference against the logged scores); for binary
classifiers whose reference holds the label, performance estimated without
labels (CBPE, calibrated on the reference); and performance over time
(:data:`OVER_TIME_WINDOWS` sub-windows of equal counts, realised beside
estimated); on the labelled rows, river's streaming detectors (ADWIN,
Page-Hinkley, DDM) on the error stream. A section that cannot be computed (a regressor, no label in the
reference) is left out (``null``) and the reason logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.errors import MonitoringError
from loopml.monitoring import DriftConfig, MonitoringReport, compute_drift, realised_performance
from loopml.monitoring._json import datetime_or_none
from loopml.monitoring.cbpe import CBPE, CBPEEstimate
from loopml.monitoring.concept import ConceptDriftResult, detect_concept_drift
from loopml.monitoring.prediction_drift import PredictionDrift, prediction_drift
from loopml.monitoring.quality import data_quality
from loopml.monitoring.report import drift_over_time
from loopml.monitoring.windows import WindowedPerformance, performance_by_window

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["OVER_TIME_WINDOWS", "current_window", "monitor_model"]

OVER_TIME_WINDOWS = 10
"""Sub-windows of equal prediction counts in the report's performance over time."""
MIN_CALIBRATION_ROWS = 500
"""Labelled production rows of the version needed to calibrate CBPE on them."""

_log = logging.getLogger(__name__)

_LOG_COLUMNS = ("request_id", "version", "route", "timestamp", "latency_ms", "prediction", "score")


def current_window(
    client: Client,
    model: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    max_rows: int | None = None,
    labelled: bool = False,
) -> pd.DataFrame:
    """Logged rows of ``model`` in ``[start, end)``, oldest first, at most the newest ``max_rows``.

    With ``labelled=True`` only rows with feedback are returned, with a ``label`` column.
    """
    reader = client.predictions
    if labelled:
        frame = reader.read_labelled(model, start=start, end=end)
    else:
        frame = reader.read_predictions(model, start=start, end=end)
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.iloc[-max_rows:].reset_index(drop=True)
    return frame


def monitor_model(
    client: Client,
    model: str,
    ref: str = "champion",
    *,
    reference: pd.DataFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_rows: int | None = 20_000,
    label: str | None = None,
    config: DriftConfig | None = None,
) -> tuple[MonitoringReport, pd.DataFrame, pd.DataFrame]:
    """Drift of the logged inputs against the reference, and realised performance.

    Parameters
    ----------
    client : loopml.api.Client
    model : str
        Registered model name.
    ref : str
        Alias or version whose schema and reference data are used.
    reference : DataFrame, optional
        Reference window; default: the training data stored with the version.
    start, end : datetime, optional
        Window of logged predictions (UTC); default: everything logged.
    max_rows : int or None
        Keep only the newest rows of the window.
    label : str, optional
        Name of the label column in the reference (excluded from drift).
    config : DriftConfig, optional
        Test thresholds; see :mod:`loopml.monitoring`.

    Returns
    -------
    (MonitoringReport, reference, current)
        The report and the two feature frames it compared (for plotting).
        Drift uses every logged input of the window, whichever version
        answered; realised performance only the labelled rows that this
        version predicted (``labelled_rows`` counts them).

    Raises
    ------
    loopml.errors.MonitoringError
        Nothing was logged for the model in the window, or no reference data.
    """
    version = client.registry.resolve(model, ref)
    loaded = client.registry.load(model, str(version.version))
    schema = loaded.schema
    if reference is None:
        reference = loaded.reference()
        if reference is None:
            raise MonitoringError(
                f"model {model} v{version.version} has no stored reference data; "
                "pass reference= explicitly"
            )
    current = current_window(client, model, start=start, end=end, max_rows=max_rows)
    if current.empty:
        raise MonitoringError(
            f"no predictions logged for model {model!r} in the window; send traffic first"
        )
    features = [c.name for c in schema.columns if c.name in current.columns]
    drift = compute_drift(
        reference[features], current[features], schema, config=config or DriftConfig()
    )
    labelled = current_window(client, model, start=start, end=end, max_rows=max_rows, labelled=True)
    # realised performance belongs to the version that computed the predictions
    labelled = labelled[labelled["version"] == version.version]
    labelled, bad_labels = _binary_labels(labelled)
    performance = None
    if not labelled.empty and labelled["score"].notna().any():
        performance = realised_performance(
            labelled["label"].to_numpy(dtype=float), labelled["score"].to_numpy(dtype=float)
        )
        if bad_labels:
            performance = replace(performance, finding=bad_labels)
    elif bad_labels:
        _log.warning("model %s: %s", model, bad_labels)
    target = schema.target or label or _label_column(reference, schema.feature_names)
    scores = _Scores.of(loaded, reference[features], target, reference)
    own = current[current["version"] == version.version]
    estimator = scores.estimator(labelled)
    report = MonitoringReport(
        quality=data_quality(reference[features], current[features], schema),
        prediction_drift=scores.drift(own),
        estimated=_estimate(estimator, own),
        over_time=_over_time(client, model, own, estimator),
        concept_drift=_concept_drift(labelled),
        drift_over_time=drift_over_time(
            reference[features],
            current[[*features, "timestamp"]],
            schema,
            n_windows=OVER_TIME_WINDOWS,
            config=config,
        ),
        model=model,
        version=version.version,
        alias=None if str(ref).isdigit() or ref == "latest" else str(ref),
        reference_rows=len(reference),
        window_start=datetime_or_none(current["timestamp"].min()),
        window_end=datetime_or_none(current["timestamp"].max()),
        drift=drift,
        performance=performance,
        labelled_rows=len(labelled),
    )
    return report, reference[features], current[features]


class _Scores:
    """The model's positive-class scores on the reference, and what they allow."""

    def __init__(self, scores: np.ndarray | None, labels: np.ndarray | None) -> None:
        self.scores = scores
        self.labels = labels

    @classmethod
    def of(
        cls, loaded: Any, features: pd.DataFrame, target: str | None, reference: pd.DataFrame
    ) -> _Scores:
        try:
            scores = loaded.positive_score(features)
        except Exception as error:  # noqa: BLE001 -- a report section, never the whole report
            _log.info("no reference scores for prediction drift: %s", error)
            return cls(None, None)
        labels = None
        if scores is not None and target is not None and target in reference.columns:
            labels = pd.to_numeric(reference[target], errors="coerce").to_numpy(dtype=float)
        return cls(scores, labels)

    def drift(self, own: pd.DataFrame) -> PredictionDrift | None:
        if self.scores is None or own["score"].isna().all():
            return None
        return prediction_drift(self.scores, own["score"].to_numpy(dtype=float))

    def estimator(self, labelled: pd.DataFrame) -> CBPE | None:
        """CBPE calibrated on labelled production rows when there are enough, else on the
        reference (the training split: optimistic for a model that overfits)."""
        if self.scores is None:
            return None
        usable = labelled.dropna(subset=["score", "label"])
        if len(usable) >= MIN_CALIBRATION_ROWS and usable["label"].nunique() == 2:
            scores = usable["score"].to_numpy(dtype=float)
            labels = pd.to_numeric(usable["label"], errors="coerce").to_numpy(dtype=float)
        elif self.labels is not None:
            scores, labels = self.scores, self.labels
        else:
            return None
        try:
            return CBPE().fit(scores, labels)
        except MonitoringError as error:
            _log.info("no performance estimate: %s", error)
            return None


def _binary_labels(labelled: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The labelled rows whose label reads as 0 or 1, and what was left out and why.

    Feedback takes any JSON scalar, so one bad label (``3.7``, ``"yes"``) must not stop
    monitoring: such rows are left out of realised performance, CBPE calibration and
    concept drift, and the report says how many.
    """
    if labelled.empty:
        return labelled, None
    numeric = pd.to_numeric(labelled["label"].map(_as_number), errors="coerce")
    good = numeric.isin([0.0, 1.0])
    bad = labelled.loc[~good & labelled["label"].notna(), "label"]
    rows = labelled.loc[good].assign(label=numeric[good].astype(int))
    if bad.empty:
        return rows, None
    return rows, (f"{len(bad)} labels are not 0 or 1 (e.g. {bad.iloc[0]!r}) and were left out")


def _as_number(value: Any) -> Any:
    """Booleans and numeric text as numbers; anything else unchanged (then refused)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return int(value.strip().lower() == "true")
    return value


def _concept_drift(labelled: pd.DataFrame) -> ConceptDriftResult | None:
    """River's detectors on the 0/1 errors of the labelled rows, in prediction order."""
    rows = labelled.dropna(subset=["score", "label"]).sort_values("timestamp", kind="stable")
    if rows.empty:
        return None
    predicted = (rows["score"].to_numpy(dtype=float) >= 0.5).astype(float)
    truth = pd.to_numeric(rows["label"], errors="coerce").to_numpy(dtype=float)
    try:
        return detect_concept_drift(
            y_true=truth, y_pred=predicted, timestamps=rows["timestamp"].to_numpy()
        )
    except MonitoringError as error:
        _log.info("no concept drift detection: %s", error)
        return None


def _label_column(reference: pd.DataFrame, features: tuple[Any, ...] | list[Any]) -> str | None:
    """The reference's one column outside the features (the label the pipeline stored)."""
    extra = [c for c in reference.columns if c not in set(features)]
    return str(extra[0]) if len(extra) == 1 else None


def _estimate(estimator: CBPE | None, own: pd.DataFrame) -> CBPEEstimate | None:
    if estimator is None or own["score"].isna().all():
        return None
    try:
        return estimator.estimate(own["score"].to_numpy(dtype=float))
    except MonitoringError as error:
        _log.info("no performance estimate: %s", error)
        return None


def _over_time(
    client: Client, model: str, own: pd.DataFrame, estimator: CBPE | None
) -> WindowedPerformance | None:
    if own.empty or own["score"].isna().all():
        return None
    predictions = own.loc[:, ["request_id", "timestamp", "score"]].drop_duplicates("request_id")
    try:
        return performance_by_window(
            predictions,
            _binary_labels(client.predictions.read_feedback(model))[0],
            n_windows=OVER_TIME_WINDOWS,
            estimator=estimator,
        )
    except MonitoringError as error:
        _log.info("no performance over time: %s", error)
        return None
