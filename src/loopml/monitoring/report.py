"""The monitoring report of one model over one window, and its JSON shape.

A :class:`MonitoringReport` bundles the data-drift verdict of a current
window (logged predictions) against a reference window (training data) with
the realised performance on the rows whose ground truth has arrived, and,
when they could be computed, data quality, prediction drift (the model's
output distribution), performance estimated without labels (CBPE) and
performance over time (one entry per sub-window, realised beside estimated).
``to_dict()`` returns strict JSON (no ``NaN``/``Infinity``: non-finite
numbers become ``null``); ``to_json()`` serialises it. The shape, version 2 (version 1 had no ``quality``, ``prediction_drift``,
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
                                         "estimated": {...} | null, "finding"}], ...}
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.monitoring._json import iso_or_none
from loopml.monitoring.cbpe import CBPEEstimate
from loopml.monitoring.drift import DriftReport
from loopml.monitoring.performance import PerformanceResult
from loopml.monitoring.prediction_drift import PredictionDrift
from loopml.monitoring.quality import QualityReport
from loopml.monitoring.windows import WindowedPerformance

__all__ = ["REPORT_SCHEMA_VERSION", "MonitoringReport"]

REPORT_SCHEMA_VERSION = 2
"""Version of the JSON shape written by :meth:`MonitoringReport.to_dict`."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
