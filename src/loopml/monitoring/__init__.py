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
- :class:`MonitoringReport` — both, for one model and window; strict JSON
  (shape in :mod:`loopml.monitoring.report`).
"""

from loopml.monitoring.column import ColumnDrift, ColumnKind, column_drift
from loopml.monitoring.config import CATEGORICAL_METHODS, NUMERIC_METHODS, DriftConfig
from loopml.monitoring.drift import DriftReport, compute_drift
from loopml.monitoring.performance import PerformanceResult, realised_performance
from loopml.monitoring.report import REPORT_SCHEMA_VERSION, MonitoringReport

__all__ = [
    "CATEGORICAL_METHODS",
    "NUMERIC_METHODS",
    "REPORT_SCHEMA_VERSION",
    "ColumnDrift",
    "ColumnKind",
    "DriftConfig",
    "DriftReport",
    "MonitoringReport",
    "PerformanceResult",
    "column_drift",
    "compute_drift",
    "realised_performance",
]
