"""Small inline SVG charts for the offline HTML report (no JavaScript, no network).

Two charts, both comparing the share of rows (not counts, so windows of
different sizes compare) in the reference and current windows:

- :func:`histogram_svg` — overlaid histograms of a numeric column;
- :func:`category_bars_svg` — side-by-side horizontal bars per category.

The output is an ``<svg>`` element meant to be inlined in HTML5 (no XML
namespace declaration needed); every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
from numpy.typing import NDArray

__all__ = ["CURRENT_COLOUR", "REFERENCE_COLOUR", "category_bars_svg", "histogram_svg"]

REFERENCE_COLOUR = "#4c72b0"
CURRENT_COLOUR = "#dd8452"
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _num(value: float) -> str:
    return f"{value:.1f}"


def _label(value: float) -> str:
    return f"{value:.4g}"


def _open(title: str, width: int, height: int, *, title_x: float) -> str:
    safe = escape(title)
    return (
        f'<svg role="img" aria-label="{safe}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{safe}</title>'
        f'<text x="{_num(title_x)}" y="14" {_FONT} font-weight="bold">{safe}</text>'
    )


def _legend(x: float, y: float) -> str:
    parts = []
    for i, (name, colour) in enumerate(
        (("reference", REFERENCE_COLOUR), ("current", CURRENT_COLOUR))
    ):
        left = x + i * 90
        parts.append(
            f'<rect x="{_num(left)}" y="{_num(y - 9)}" width="10" height="10" '
            f'fill="{colour}" fill-opacity="0.6"/>'
            f'<text x="{_num(left + 14)}" y="{_num(y)}" {_FONT}>{name}</text>'
        )
    return "".join(parts)


def histogram_svg(
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    *,
    title: str,
    n_bins: int = 20,
    width: int = 520,
    height: int = 240,
) -> str:
    """Overlaid histograms of the reference and current values of one column.

    Parameters
    ----------
    reference, current : ndarray of shape (n_samples,)
        Values; ``NaN`` and ``±inf`` are left out (the caption says how many).
    title : str
        Text above the chart (escaped).
    n_bins : int, default 20
        Equal-width bins over the finite values of both windows.
    width, height : int
        Size in CSS pixels.

    Returns
    -------
    str
        An ``<svg>`` element; bar heights are the share of each window's
        finite values in the bin.
    """
    ref = reference[np.isfinite(reference)]
    cur = current[np.isfinite(current)]
    left, right, top, bottom = 48.0, 12.0, 34.0, 36.0
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_open(title, width, height, title_x=left), _legend(width - right - 170, 14)]
    union = np.concatenate((ref, cur))
    if union.size == 0:
        parts.append(f'<text x="{_num(left)}" y="{_num(top + 20)}" {_FONT}>no finite values</text>')
        return "".join(parts) + "</svg>"
    low, high = float(union.min()), float(union.max())
    if not np.isfinite(high - low):
        # a span beyond float64 (e.g. -1e308 to 1e308): bin on the rank scale instead
        edges = np.quantile(union, np.linspace(0.0, 1.0, n_bins + 1))
        edges = np.unique(edges)
        if edges.size < 2:
            edges = np.array([low, high])
    else:
        edges = np.histogram_bin_edges(union, bins=n_bins)
    shares = [np.histogram(values, bins=edges)[0] / max(values.size, 1) for values in (ref, cur)]
    peak = max(float(max(s.max() for s in shares)), 1e-12)
    bar_w = plot_w / (edges.size - 1)
    for share, colour in zip(shares, (REFERENCE_COLOUR, CURRENT_COLOUR), strict=True):
        for i, value in enumerate(share):
            h = plot_h * float(value) / peak
            parts.append(
                f'<rect x="{_num(left + i * bar_w)}" y="{_num(top + plot_h - h)}" '
                f'width="{_num(max(bar_w - 1, 0.5))}" height="{_num(h)}" '
                f'fill="{colour}" fill-opacity="0.55"/>'
            )
    axis_y = top + plot_h
    x0, x1, y0 = _num(left), _num(left + plot_w), _num(axis_y)
    end = 'text-anchor="end"'
    parts += [
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>',
        f'<line x1="{x0}" y1="{_num(top)}" x2="{x0}" y2="{y0}" stroke="#333"/>',
        f'<text x="{x0}" y="{_num(axis_y + 14)}" {_FONT}>{escape(_label(edges[0]))}</text>',
        f'<text x="{x1}" y="{_num(axis_y + 14)}" {_FONT} {end}>{escape(_label(edges[-1]))}</text>',
        f'<text x="{_num(left - 4)}" y="{_num(top + 4)}" {_FONT} {end}>{peak:.0%}</text>',
        f'<text x="{_num(left - 4)}" y="{y0}" {_FONT} {end}>0%</text>',
    ]
    dropped = (reference.size - ref.size, current.size - cur.size)
    caption = f"share of rows per bin; reference n={ref.size}, current n={cur.size}"
    if any(dropped):
        caption += f" (left out as missing or infinite: {dropped[0]} / {dropped[1]})"
    parts.append(f'<text x="{_num(left)}" y="{_num(height - 6)}" {_FONT}>{escape(caption)}</text>')
    return "".join(parts) + "</svg>"


def category_bars_svg(
    categories: Sequence[object],
    reference_counts: NDArray[np.int64],
    current_counts: NDArray[np.int64],
    *,
    title: str,
    max_categories: int = 15,
    width: int = 520,
) -> str:
    """Side-by-side bars of the share of each category in the two windows.

    Parameters
    ----------
    categories : sequence of shape (n_categories,)
        Category labels (shown with ``str``, escaped).
    reference_counts, current_counts : ndarray of shape (n_categories,)
        Counts per category in each window.
    title : str
        Text above the chart.
    max_categories : int, default 15
        Only the categories with the largest combined share are drawn; the
        caption says how many were left out.
    width : int
        Width in CSS pixels; the height grows with the number of categories.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    ref_share = reference_counts / max(int(reference_counts.sum()), 1)
    cur_share = current_counts / max(int(current_counts.sum()), 1)
    order = np.argsort(-(ref_share + cur_share), kind="stable")[:max_categories]
    label_w, right, top, row_h = 120.0, 48.0, 30.0, 26.0
    plot_w = width - label_w - right
    height = int(top + row_h * len(order) + 24)
    peak = max(float(np.max(ref_share, initial=0.0)), float(np.max(cur_share, initial=0.0)), 1e-12)
    parts = [_open(title, width, height, title_x=4.0), _legend(width - right - 130, 14)]
    for row, index in enumerate(order):
        y = top + row * row_h
        label = str(categories[index])
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<text x="{_num(label_w - 6)}" y="{_num(y + 14)}" {_FONT} text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        for offset, share, colour in (
            (0, ref_share, REFERENCE_COLOUR),
            (11, cur_share, CURRENT_COLOUR),
        ):
            w = plot_w * float(share[index]) / peak
            parts.append(
                f'<rect x="{_num(label_w)}" y="{_num(y + offset)}" width="{_num(w)}" height="10" '
                f'fill="{colour}" fill-opacity="0.8"/>'
                f'<text x="{_num(label_w + w + 4)}" y="{_num(y + offset + 9)}" {_FONT}>'
                f"{float(share[index]):.1%}</text>"
            )
    hidden = len(categories) - len(order)
    caption = f"share of non-missing rows; {len(categories)} categories"
    if hidden > 0:
        caption += f", {hidden} smallest not drawn"
    parts.append(f'<text x="4" y="{_num(height - 6)}" {_FONT}>{escape(caption)}</text>')
    return "".join(parts) + "</svg>"
