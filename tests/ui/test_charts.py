from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np

from loopml.ui.charts import CURRENT_COLOUR, REFERENCE_COLOUR, category_bars_svg, histogram_svg


def _heights(svg: str, colour: str) -> list[float]:
    return [
        float(h) for h in re.findall(rf'height="([\d.]+)" fill="{colour}" fill-opacity="0.55"', svg)
    ]


def test_histogram_bar_heights_are_shares_scaled_to_the_peak() -> None:
    # reference all in the first of 2 bins, current split evenly: peak share 1.0
    svg = histogram_svg(np.array([0.0, 0.0]), np.array([0.0, 1.0]), title="x", n_bins=2, height=240)
    plot_h = 240 - 34 - 36
    assert _heights(svg, REFERENCE_COLOUR) == [plot_h, 0.0]
    assert _heights(svg, CURRENT_COLOUR) == [plot_h / 2, plot_h / 2]
    assert "100%" in svg


def test_histogram_without_finite_values() -> None:
    svg = histogram_svg(np.array([np.nan]), np.array([np.inf]), title="x")
    assert "no finite values" in svg
    HTMLParser().feed(svg)


def test_category_bars_limit_and_escape() -> None:
    categories = [f"c{i}" for i in range(20)] + ["<x>"]
    ref = np.arange(21, dtype=np.int64)
    cur = np.ones(21, dtype=np.int64)
    svg = category_bars_svg(categories, ref, cur, title="t & u", max_categories=5)
    assert svg.count("<title>") == 1 + 5
    assert "16 smallest not drawn" in svg
    assert "t &amp; u" in svg
    assert "<x>" not in svg
