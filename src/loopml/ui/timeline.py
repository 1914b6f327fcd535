"""Inline SVG line chart of values over time (drift scores, realised and estimated performance).

One chart: a few named series over the same sequence of windows, an optional
shaded band around one of them (CBPE's sampling-error band), gaps where a
value is missing (a window without labels draws no point rather than a zero).
No JavaScript; the output is an ``<svg>`` element for HTML5, every text escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from loopml.ui.charts import CURRENT_COLOUR, REFERENCE_COLOUR

__all__ = ["PALETTE", "Series", "line_chart_svg"]

PALETTE = (REFERENCE_COLOUR, CURRENT_COLOUR, "#55a868", "#c44e52", "#8172b3", "#937860")
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Series:
    """One line: a name, one value per window (``None`` for a gap), a colour, and
    optionally a band ``(lower, upper)`` per window drawn shaded behind it."""

    name: str
    values: Sequence[float | None]
    colour: str = REFERENCE_COLOUR
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None
    dashed: bool = False


def _value(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` for a gap (missing or non-finite)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _present(values: Sequence[float | None]) -> list[float]:
    return [v for v in map(_value, values) if v is not None]


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a polyline at its gaps."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def line_chart_svg(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    threshold: float | None = None,
    width: int = 720,
    height: int = 240,
) -> str:
    """Lines of ``series`` over the windows named by ``labels``.

    Parameters
    ----------
    labels : sequence of str, shape (n_windows,)
        One label per window (the first and last are drawn on the x axis).
    series : sequence of Series
        Each with ``n_windows`` values; ``None`` or non-finite values are gaps.
    title : str
        Text above the chart.
    threshold : float, optional
        A horizontal dashed line (a drift threshold).
    width, height : int
        Size in CSS pixels.

    Returns
    -------
    str
        An ``<svg>`` element; with no finite value at all, the chart says so.
    """
    left, right, top, bottom = 48.0, 16.0, 28.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in _present(s.values)]
    for s in series:
        if s.band is not None:
            values += [v for side in s.band for v in _present(side)]
    if threshold is not None:
        values.append(threshold)
    safe = escape(title)
    header = (
        f'<svg role="img" aria-label="{safe}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{safe}</title>'
        f'<text x="4" y="14" {_FONT} font-weight="bold">{safe}</text>'
    )
    parts = [header]
    n = len(labels)
    if not values or n == 0:
        parts.append(f'<text x="{left}" y="{top + 20}" {_FONT}>no values yet</text></svg>')
        return "".join(parts)
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    parts.append(
        f'<line x1="{left}" y1="{top + plot_h:.1f}" x2="{left + plot_w:.1f}" '
        f'y2="{top + plot_h:.1f}" stroke="#8c959f"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h:.1f}" stroke="#8c959f"/>'
    )
    for v in (low + pad, high - pad):
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" {_FONT} text-anchor="end">{v:.3g}</text>'
        )
    for i in sorted({0, n - 1}):
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 22}" {_FONT} text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    if threshold is not None:
        parts.append(
            f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{left + plot_w:.1f}" '
            f'y2="{y(threshold):.1f}" stroke="#a40e26" stroke-dasharray="4 3"/>'
        )
    for s in series:
        if s.band is None:
            continue
        lower, upper = s.band
        pairs = [
            (i, lo, up)
            for i, (lo, up) in enumerate(zip(map(_value, lower), map(_value, upper), strict=True))
            if lo is not None and up is not None
        ]
        if pairs:
            outline = [f"{x(i):.1f},{y(up):.1f}" for i, _, up in pairs]
            outline += [f"{x(i):.1f},{y(lo):.1f}" for i, lo, _ in reversed(pairs)]
            parts.append(
                f'<polygon points="{" ".join(outline)}" fill="{s.colour}" fill-opacity="0.15"/>'
            )
    for index, s in enumerate(series):
        points = [None if v is None else (x(i), y(v)) for i, v in enumerate(map(_value, s.values))]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        for run in _runs(points):
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{s.colour}" '
                f'stroke-width="2"{dash}/>'
            )
            parts += [
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{s.colour}"/>' for px, py in run
            ]
        legend_x = left + index * 170
        parts.append(
            f'<rect x="{legend_x:.1f}" y="{height - 12}" width="10" height="3" fill="{s.colour}"/>'
            f'<text x="{legend_x + 14:.1f}" y="{height - 8}" {_FONT}>{escape(s.name)}</text>'
        )
    return "".join(parts) + "</svg>"
