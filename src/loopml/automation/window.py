"""The labelled window the loop retrains and judges on, and scores of models on it.

The window is the newest ``window.max_rows`` logged predictions that have
ground truth (optionally only those of the last ``window.max_age_days``),
oldest first. :func:`split_by_time` keeps its newest ``holdout_fraction`` for
judging; :func:`training_frame` turns the older rows back into the frame the
champion was trained on (a missing value the champion's contract calls
non-nullable is kept, see :func:`lenient`). The controller writes both frames to artifact
storage before training (:func:`save_frames`), so a restarted controller
retrains on exactly the same rows and the pipeline cache answers.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.automation.monitor import current_window
from loopml.automation.policy import Policy
from loopml.monitoring import realised_performance

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = [
    "labelled_window",
    "lenient",
    "load_frames",
    "realised_metric",
    "save_frames",
    "score_metric",
    "scores",
    "split_by_time",
    "training_frame",
]


def labelled_window(client: Client, policy: Policy, now: datetime) -> pd.DataFrame:
    """Logged rows of the policy's model with a label, newest ``max_rows``, oldest first."""
    start = None if policy.max_age_days is None else now - timedelta(days=policy.max_age_days)
    frame = current_window(client, policy.model, start=start, max_rows=policy.max_rows, labelled=True)
    return frame[frame["label"].notna()].reset_index(drop=True)


def split_by_time(frame: pd.DataFrame, holdout_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Older ``1 - holdout_fraction`` of the rows to train on, the newest rest to judge on."""
    ordered = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    cut = round(len(ordered) * (1.0 - holdout_fraction))
    return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)


def training_frame(labelled: pd.DataFrame, schema: Any, label: str) -> pd.DataFrame:
    """Logged rows as the champion saw them in training: contract dtypes, categoricals as such.

    The log stores features as JSON, so text comes back as plain strings; the
    champion's categorical columns are cast back to ``category`` so the
    retrained model's contract keeps them categorical (and monitorable).
    """
    from loopml.schema import LogicalType, conform

    features = [c for c in schema.feature_names if c in labelled.columns]
    frame = conform(labelled[features], lenient(schema.select(features)))
    for column in schema.select(features).columns:
        if column.logical_type == LogicalType.CATEGORICAL:
            frame[column.name] = frame[column.name].astype("category")
    frame[label] = labelled["label"].to_numpy()
    frame["timestamp"] = labelled["timestamp"].to_numpy()
    return frame.reset_index(drop=True)


def save_frames(client: Client, model: str, frames: dict[str, pd.DataFrame]) -> str:
    """Write ``frames`` as ``<name>.parquet`` to a new artifact folder; returns its URI."""
    with tempfile.TemporaryDirectory() as folder:
        for name, frame in frames.items():
            frame.to_parquet(Path(folder) / f"{name}.parquet", index=False)
        uri: str = client.artifacts.put_dir(folder, f"loop/{model}/{uuid.uuid4().hex}")
        return uri


def load_frames(client: Client, uri: str) -> dict[str, pd.DataFrame]:
    """The frames :func:`save_frames` wrote, by name."""
    folder = Path(client.artifacts.get_dir(uri))
    return {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def lenient(schema: Any) -> Any:
    """``schema`` with every column nullable.

    A contract inferred from training rows makes a column that had no missing
    value there non-nullable; logged traffic may still miss it. The loop
    retrains and judges on such rows (the estimators take missing values)
    instead of failing on them.
    """
    return replace(schema, columns=tuple(replace(c, nullable=True) for c in schema.columns))


def scores(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """Positive-class scores (or predictions) of a loaded model on logged rows.

    Rows are conformed to the model's contract made :func:`lenient`, so both
    models of the gate score every row.
    """
    from loopml.schema import conform

    features = conform(frame[list(model.schema.feature_names)], lenient(model.schema))
    fitted = getattr(model.estimator, "feature_names_in_", None)
    if fitted is not None and all(name in features.columns for name in fitted):
        features = features.loc[:, list(fitted)]
    classes = model.classes
    if classes is not None and len(classes) == 2:
        proba = model.predict_proba(features, conformed=True)
        if proba is not None:
            return np.asarray(proba[:, 1], dtype=float)
    return np.asarray(model.predict(features, conformed=True), dtype=float)


def realised_metric(labelled: pd.DataFrame, metric: str) -> float | None:
    """``metric`` of the logged scores of ``labelled`` rows; ``None`` if undefined."""
    if labelled.empty or labelled["score"].isna().all():
        return None
    rows = labelled[labelled["score"].notna()]
    y = pd.to_numeric(rows["label"], errors="coerce").to_numpy(dtype=float)
    return score_metric(metric, y, rows["score"].to_numpy(dtype=float))


def score_metric(metric: str, y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """``metric`` of binary labels given positive-class scores; ``None`` if undefined.

    The numbers come from :func:`loopml.monitoring.realised_performance`, the
    same computation the monitoring report shows.
    """
    if len(y_true) == 0 or len(np.unique(y_true)) < 2:
        return None
    performance = realised_performance(y_true, y_score)
    if metric == "neg_log_loss":
        return -float(performance.log_loss)
    value = getattr(performance, metric)
    return None if value is None else float(value)
