"""Monitor a served model: logged inputs of a window against its training data.

The reference window is the training data stored in the model version's
package (``reference.parquet``); the current window is what the server logged
for the model between ``start`` and ``end`` (default: the most recent
``max_rows`` logged rows). Realised performance comes from the logged rows that
have ground truth (joined by request id).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from loopml.errors import MonitoringError
from loopml.monitoring import DriftConfig, MonitoringReport, compute_drift, realised_performance

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["current_window", "monitor_model"]

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
    performance = None
    if not labelled.empty and labelled["score"].notna().any():
        performance = realised_performance(
            labelled["label"].to_numpy(dtype=float), labelled["score"].to_numpy(dtype=float)
        )
    report = MonitoringReport(
        model=model,
        version=version.version,
        alias=None if str(ref).isdigit() or ref == "latest" else str(ref),
        reference_rows=len(reference),
        window_start=_ts(current["timestamp"].min()),
        window_end=_ts(current["timestamp"].max()),
        drift=drift,
        performance=performance,
        labelled_rows=len(labelled),
    )
    return report, reference[features], current[features]


def _ts(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp: datetime = pd.Timestamp(value).to_pydatetime()
    return stamp
