"""The monitoring report of one model over one window, and its JSON shape.

A :class:`MonitoringReport` bundles the data-drift verdict of a current
window (logged predictions) against a reference window (training data) with
the realised performance on the rows whose ground truth has arrived, and,
when they could be computed, data quality, prediction drift (the model's
output distribution), performance estimated without labels (CBPE) and
performance over time (one entry per sub-window, realised beside estimated).
``to_dict()`` returns strict JSON (no ``NaN``/``Infinity``: non-finite
numbers become ``null``); ``to_json()`` serialises it. The shape is published
as a JSON Schema, :data:`REPORT_JSON_SCHEMA` (``schemas/report-v2.schema.json``). The shape, version 2 (version 1 had no ``quality``, ``prediction_drift``,
``estimated``, ``over_time`` keys, no ``effect_size``/``p_value_adjusted``/``notes``
per column)::

    {
      "schema_version": 2,
      "model": "flights",                  # registered model name
      "version": 3,                        # model version, or null
      "alias": "champion",                 # alias monitored, or null
      "created_at": "2024-05-01T12:00:00+00:00",
      "window": {"start": "<ISO 8601>" | null, "end": "<ISO 8601>" | null},
      "reference_rows": 5000,
      "current_rows": 1200,
      "labelled_rows": 300,                # current rows with ground truth
      "verdict": "drift" | "no_drift",
      "drift": {
        "dataset_drift": true,
        "share_drifted": 0.4,              # n_drifted / n_tested
        "drift_share_threshold": 0.5,
        "n_columns": 5, "n_tested": 5, "n_drifted": 2,
        "drifted_columns": ["distance", "carrier"],
        "n_reference": 5000, "n_current": 1200,
        "columns": [
          {"name": "distance", "kind": "numeric" | "categorical" | "unsupported",
           "method": "wasserstein" | "ks" | "chi_square" | "jensen_shannon" | "psi" | null,
           "statistic": 0.31 | null, "p_value": 0.001 | null, "threshold": 0.1 | null,
           "drifted": true, "n_reference": 5000, "n_current": 1200,
           "missing_reference": 0.0 | null, "missing_current": 0.02 | null,
           "finding": null | "all missing in the current window (1200 rows)",
           "effect_size": 0.31 | null, "effect_size_name": "wasserstein_norm" | null,
           "p_value_adjusted": 0.004 | null, "notes": ["..."]}
        ]
      },
      "performance": null | {
        "n": 300, "positives": 81, "n_dropped": 0, "threshold": 0.5,
        "roc_auc": 0.83 | null, "accuracy": 0.8, "precision": 0.7, "recall": 0.6,
        "f1": 0.65, "log_loss": 0.45, "brier": 0.14, "finding": null | "..."
      },
      "quality": null | {"n_current", "schema_violation_count", "violations": {kind: n},
                         "columns": [{"name", "missing_reference", "missing_current",
                                      "missing_change", "out_of_range_share",
                                      "unknown_category_share", "wrong_type_share",
                                      "finding"}]},            # loopml.monitoring.quality
      "prediction_drift": null | {...},    # loopml.monitoring.prediction_drift
      "estimated": null | {...},           # CBPE estimate of the whole window (cbpe.py)
      "over_time": null | {"windows": [{"start", "end", "n_predictions", "n_labelled",
                                         "label_coverage", "performance": {...} | null,
                                         "estimated": {...} | null, "finding"}], ...},
      "drift_over_time": [{"start", "end", "n_current", "share_drifted", "dataset_drift",
                           "statistics": {column: statistic | null}}],
      "concept_drift": null | {...}        # river detectors on the errors (concept.py)
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.monitoring._json import datetime_or_none, finite_or_none, iso_or_none
from loopml.monitoring.cbpe import CBPEEstimate
from loopml.monitoring.concept import ConceptDriftResult
from loopml.monitoring.config import DriftConfig
from loopml.monitoring.drift import DriftReport, compute_drift
from loopml.monitoring.performance import PerformanceResult
from loopml.monitoring.prediction_drift import PredictionDrift
from loopml.monitoring.quality import QualityReport
from loopml.monitoring.windows import WindowedPerformance
from loopml.schema import Schema

__all__ = [
    "REPORT_JSON_SCHEMA",
    "REPORT_SCHEMA_VERSION",
    "DriftPoint",
    "MonitoringReport",
    "drift_over_time",
]

REPORT_SCHEMA_VERSION = 2
"""Version of the JSON shape written by :meth:`MonitoringReport.to_dict`."""

REPORT_JSON_SCHEMA = (
    Path(__file__).parent / "schemas" / f"report-v{REPORT_SCHEMA_VERSION}.schema.json"
)
"""The JSON Schema (draft 2020-12) every report of this version validates against."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DriftPoint:
    """Data drift of one sub-window of the current window (drift over time).

    Attributes
    ----------
    start, end : datetime or None
        Timestamps of the first and last row of the sub-window.
    n_current : int
        Rows in the sub-window.
    share_drifted : float
        Share of tested columns that drifted.
    dataset_drift : bool
        Whether the share reached the threshold.
    statistics : dict
        Column name -> test statistic (``None`` when not tested).
    """

    start: datetime | None
    end: datetime | None
    n_current: int
    share_drifted: float
    dataset_drift: bool
    statistics: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict."""
        return {
            "start": iso_or_none(self.start),
            "end": iso_or_none(self.end),
            "n_current": self.n_current,
            "share_drifted": finite_or_none(self.share_drifted),
            "dataset_drift": self.dataset_drift,
            "statistics": {k: finite_or_none(v) for k, v in self.statistics.items()},
        }


def drift_over_time(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: Schema,
    *,
    n_windows: int = 10,
    config: DriftConfig | None = None,
    timestamp: str = "timestamp",
) -> tuple[DriftPoint, ...]:
    """Drift of each of ``n_windows`` consecutive sub-windows of equal row counts.

    Parameters
    ----------
    reference : DataFrame
        Reference window.
    current : DataFrame
        Current window with a ``timestamp`` column; sorted by it here.
    schema : loopml.schema.Schema
        The data contract.
    n_windows : int, default 10
        Sub-windows (fewer when there are fewer rows).
    config : DriftConfig, optional
        As for :func:`loopml.monitoring.compute_drift`.

    Returns
    -------
    tuple of DriftPoint
        Oldest first; empty for an empty current window.
    """
    if current.empty:
        return ()
    ordered = current.sort_values(timestamp, kind="stable") if timestamp in current else current
    chunks = np.array_split(np.arange(len(ordered)), min(n_windows, len(ordered)))
    points = []
    for positions in chunks:
        chunk = ordered.iloc[positions]
        drift = compute_drift(reference, chunk, schema, config=config)
        stamps = chunk[timestamp] if timestamp in chunk else pd.Series([], dtype=object)
        points.append(
            DriftPoint(
                start=datetime_or_none(stamps.min()) if len(stamps) else None,
                end=datetime_or_none(stamps.max()) if len(stamps) else None,
                n_current=len(chunk),
                share_drifted=drift.share_drifted,
                dataset_drift=drift.dataset_drift,
                statistics={str(c.name): c.statistic for c in drift.columns},
            )
        )
    return tuple(points)


@dataclass(frozen=True, kw_only=True)
class MonitoringReport:
    """Drift and realised performance of one model over one window.

    Parameters
    ----------
    model : str
        Registered model name.
    version : int or None
        Model version whose traffic was monitored.
    drift : DriftReport
        Data drift of the current window against the reference.
    alias : str or None, default None
        Alias the version was reached through (``"champion"``, ``"canary"`` ...).
    window_start, window_end : datetime or None, default None
        Timestamps of the oldest and newest logged prediction in the window.
    performance : PerformanceResult or None, default None
        Realised performance; ``None`` when no ground truth has arrived.
    reference_rows : int or None, default None
        Rows in the reference window; default ``drift.n_reference``.
    labelled_rows : int, default 0
        Current rows with ground truth.
    created_at : datetime, default now (UTC)
        When the report was made.
    quality : QualityReport or None, default None
        Data quality of the current window.
    prediction_drift : PredictionDrift or None, default None
        Drift of the model's outputs.
    estimated : CBPEEstimate or None, default None
        Performance of the whole window estimated without labels.
    over_time : WindowedPerformance or None, default None
        Realised (and estimated) performance per sub-window.
    drift_over_time : tuple of DriftPoint, default ()
        Data drift per sub-window (:func:`drift_over_time`).
    concept_drift : ConceptDriftResult or None, default None
        Streaming detectors on the error stream of the labelled rows.
    """

    model: str
    version: int | None
    drift: DriftReport
    alias: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    performance: PerformanceResult | None = None
    reference_rows: int | None = None
    labelled_rows: int = 0
    created_at: datetime = field(default_factory=_utc_now)
    quality: QualityReport | None = None
    prediction_drift: PredictionDrift | None = None
    estimated: CBPEEstimate | None = None
    over_time: WindowedPerformance | None = None
    drift_over_time: tuple[DriftPoint, ...] = ()
    concept_drift: ConceptDriftResult | None = None

    @property
    def verdict(self) -> str:
        """``"drift"`` when the dataset drifted, else ``"no_drift"``."""
        return "drift" if self.drift.dataset_drift else "no_drift"

    def to_dict(self) -> dict[str, Any]:
        """Return the report as strict JSON-ready dict (shape in the module docstring)."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "created_at": iso_or_none(self.created_at),
            "window": {
                "start": iso_or_none(self.window_start),
                "end": iso_or_none(self.window_end),
            },
            "reference_rows": (
                self.drift.n_reference if self.reference_rows is None else self.reference_rows
            ),
            "current_rows": self.drift.n_current,
            "labelled_rows": self.labelled_rows,
            "verdict": self.verdict,
            "drift": self.drift.to_dict(),
            "performance": None if self.performance is None else self.performance.to_dict(),
            "quality": None if self.quality is None else self.quality.to_dict(),
            "prediction_drift": (
                None if self.prediction_drift is None else self.prediction_drift.to_dict()
            ),
            "estimated": None if self.estimated is None else self.estimated.to_dict(),
            "over_time": None if self.over_time is None else self.over_time.to_dict(),
            "drift_over_time": [point.to_dict() for point in self.drift_over_time],
            "concept_drift": None if self.concept_drift is None else self.concept_drift.to_dict(),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Serialise :meth:`to_dict` as strict JSON; also write it to ``path`` when given.

        Parameters
        ----------
        path : str or Path, optional
            File to write (UTF-8); parent folders must exist.
        indent : int or None, default 2
            JSON indentation; ``None`` for one line.

        Returns
        -------
        str
            The JSON text.
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text
