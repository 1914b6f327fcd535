"""Render a monitoring report as one self-contained, offline HTML page.

The page is built from ``templates/report.html`` (Jinja2, autoescaped) with
inline CSS and inline SVG charts (:mod:`loopml.ui.charts`): no JavaScript,
no fonts, stylesheets or images from the network, and a Content-Security-
Policy that forbids loading any. It opens from a file, an e-mail attachment
or an artifact store the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from numpy.typing import NDArray

from loopml.stats import category_counts
from loopml.ui.charts import CURRENT_COLOUR, REFERENCE_COLOUR, category_bars_svg, histogram_svg
from loopml.ui.timeline import PALETTE, Series, line_chart_svg

__all__ = ["environment", "render_html", "write_html"]

_TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    """The Jinja2 environment of the offline HTML pages (report, model card): autoescaped,
    templates from ``ui/templates``, filters ``num`` and ``pct``."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _format_number
    env.filters["pct"] = lambda v: "–" if v is None else f"{float(v):.1%}"
    return env


def _format_number(value: Any) -> str:
    if value is None:
        return "–"
    number = float(value)
    if number != 0.0 and abs(number) < 1e-4:
        return f"{number:.2e}"
    return f"{number:.4g}"


def _series(frame: pd.DataFrame, name: Any) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([], dtype=object)


def _floats(series: pd.Series) -> NDArray[np.float64]:
    numbers = pd.to_numeric(series, errors="coerce").astype("Float64")
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _chart(column: Mapping[str, Any], reference: pd.DataFrame, current: pd.DataFrame) -> Markup:
    name = column["name"]
    ref, cur = _series(reference, name), _series(current, name)
    title = f"{name}: reference vs current"
    if column["kind"] == "numeric":
        return Markup(histogram_svg(_floats(ref), _floats(cur), title=title))
    ref_values = ref[~ref.isna()].to_numpy(dtype=object)
    cur_values = cur[~cur.isna()].to_numpy(dtype=object)
    if ref_values.size == 0 or cur_values.size == 0:
        return Markup(histogram_svg(np.array([]), np.array([]), title=title))
    categories, ref_counts, cur_counts = category_counts(ref_values, cur_values, method="report")
    return Markup(category_bars_svg(categories, ref_counts, cur_counts, title=title))


def render_html(
    report: Mapping[str, Any], *, reference: pd.DataFrame, current: pd.DataFrame
) -> str:
    """Render a monitoring report as a self-contained HTML page.

    Parameters
    ----------
    report : mapping
        :meth:`loopml.monitoring.MonitoringReport.to_dict` output (the JSON
        shape documented in :mod:`loopml.monitoring.report`).
    reference, current : DataFrame
        The two windows the report compared; used only to draw one chart per
        drifted column (overlaid histograms for numeric columns, side-by-side
        bars for categorical ones).

    Returns
    -------
    str
        The HTML document: header (model, version, window, verdict), the
        table of every column's test, the charts, realised performance.

    Raises
    ------
    KeyError
        If ``report`` lacks a field of the documented shape.
    """
    drift = report["drift"]
    tested = [c for c in drift["columns"] if c.get("finding") is None]
    tested.sort(key=lambda c: not c["drifted"])  # drifted columns first
    charts = [(c, _chart(c, reference, current)) for c in tested]
    return (
        environment()
        .get_template("report.html")
        .render(
            report=report,
            drift=drift,
            charts=charts,
            performance=report.get("performance"),
            quality=report.get("quality"),
            estimated=report.get("estimated"),
            prediction_drift=report.get("prediction_drift"),
            drift_timeline=_drift_timeline(report),
            performance_timeline=_performance_timeline(report),
        )
    )


def _short(stamp: Any) -> str:
    return "?" if not stamp else str(stamp)[:16].replace("T", " ")


def _drift_timeline(report: Mapping[str, Any]) -> Markup | None:
    """Share of drifted columns per sub-window, and the statistics of the drifted columns."""
    points = report.get("drift_over_time") or []
    if not points:
        return None
    labels = [_short(p["start"]) for p in points]
    series = [Series("share of columns drifted", [p["share_drifted"] for p in points], "#c44e52")]
    svg = line_chart_svg(
        labels,
        series,
        title="Drift over time: share of drifted columns",
        threshold=report["drift"]["drift_share_threshold"],
    )
    drifted = report["drift"]["drifted_columns"][: len(PALETTE)]
    columns = [
        Series(str(name), [p["statistics"].get(str(name)) for p in points], PALETTE[i])
        for i, name in enumerate(drifted)
    ]
    if columns:
        svg += line_chart_svg(labels, columns, title="Drift statistic of the drifted columns")
    return Markup(svg)


def _metric(window: Mapping[str, Any], section: str, key: str = "value") -> float | None:
    part = window.get(section)
    if not part:
        return None
    if section == "performance":
        value = part.get("roc_auc")
    else:
        value = (part.get("roc_auc") or {}).get(key)
    return None if value is None else float(value)


def _performance_timeline(report: Mapping[str, Any]) -> Markup | None:
    """Realised ROC AUC beside the CBPE estimate (with its band) per sub-window."""
    over_time = report.get("over_time") or {}
    windows = over_time.get("windows") or []
    if not windows:
        return None
    labels = [_short(w["start"]) for w in windows]
    estimated = Series(
        "estimated ROC AUC (CBPE, ±3 SE)",
        [_metric(w, "estimated") for w in windows],
        CURRENT_COLOUR,
        band=(
            [_metric(w, "estimated", "lower") for w in windows],
            [_metric(w, "estimated", "upper") for w in windows],
        ),
        dashed=True,
    )
    realised = Series(
        "realised ROC AUC", [_metric(w, "performance") for w in windows], REFERENCE_COLOUR
    )
    return Markup(
        line_chart_svg(labels, [realised, estimated], title="Performance over time (ROC AUC)")
    )


def write_html(
    path: str | Path,
    report: Mapping[str, Any],
    *,
    reference: pd.DataFrame,
    current: pd.DataFrame,
) -> Path:
    """Write :func:`render_html` output to ``path`` (UTF-8) and return the path.

    Parent folders are created when missing.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(report, reference=reference, current=current), encoding="utf-8")
    return target
