"""Monitoring: data drift and realised performance of a model over a window.

The *reference* window is what the model was trained on; the *current*
window is what it sees in production (prediction-log rows as a DataFrame:
the feature columns plus ``request_id``, ``timestamp``, ``version``,
``prediction``, ``score`` and, once joined with feedback, ``label``).
Functions here take frames, never readers or stores.

- :class:`DriftConfig` — which test per column, thresholds (table in
  :mod:`loopml.monitoring.config`).
- :func:`column_drift` -> :class:`ColumnDrift` — one column.
- :func:`compute_drift` -> :class:`DriftReport` — every column of a schema,
  plus the dataset-level verdict.
- :func:`realised_performance` -> :class:`PerformanceResult` — binary
  classification metrics on labelled rows.
- :func:`data_quality` -> :class:`QualityReport` — missing-rate change,
  out-of-range, unknown-category and wrong-type shares against the contract.
- :func:`prediction_drift` -> :class:`PredictionDrift` — the model's outputs.
- :class:`CBPE` -> :class:`CBPEEstimate` — performance estimated without
  labels (confidence-based performance estimation).
- :func:`performance_by_window` -> :class:`WindowedPerformance` — realised
  (and estimated) performance over time, late labels in their windows.
- :func:`detect_concept_drift` -> :class:`ConceptDriftResult` — river's
  ADWIN, Page-Hinkley and DDM on the error stream.
- :class:`MonitoringReport` — all of it, for one model and window; strict JSON
  (shape in :mod:`loopml.monitoring.report`).
- :mod:`loopml.monitoring.alerts` — alert rules, delivery, cooldown, gauges
  (``AlertConfig``, ``run_alerts``); not imported here, so that importing
  monitoring does not load httpx and prometheus-client.
- :mod:`loopml.monitoring.profile` — mergeable column profiles (KLL sketches).
"""

from loopml.monitoring.cbpe import CBPE, CBPEEstimate, MetricEstimate
from loopml.monitoring.column import ColumnDrift, ColumnKind, column_drift
from loopml.monitoring.concept import ConceptDriftResult, Detection, detect_concept_drift
from loopml.monitoring.config import CATEGORICAL_METHODS, NUMERIC_METHODS, DriftConfig
from loopml.monitoring.drift import DriftReport, compute_drift
from loopml.monitoring.performance import PerformanceResult, realised_performance
from loopml.monitoring.prediction_drift import PredictionDrift, prediction_drift
from loopml.monitoring.quality import ColumnQuality, QualityReport, data_quality
from loopml.monitoring.report import REPORT_SCHEMA_VERSION, MonitoringReport
from loopml.monitoring.windows import WindowedPerformance, WindowPerformance, performance_by_window

__all__ = [
    "CATEGORICAL_METHODS",
    "CBPE",
    "NUMERIC_METHODS",
    "REPORT_SCHEMA_VERSION",
    "CBPEEstimate",
    "ColumnDrift",
    "ColumnKind",
    "ColumnQuality",
    "ConceptDriftResult",
    "Detection",
    "DriftConfig",
    "DriftReport",
    "MetricEstimate",
    "MonitoringReport",
    "PerformanceResult",
    "PredictionDrift",
    "QualityReport",
    "WindowPerformance",
    "WindowedPerformance",
    "column_drift",
    "compute_drift",
    "data_quality",
    "detect_concept_drift",
    "performance_by_window",
    "prediction_drift",
    "realised_performance",
]
