from __future__ import annotations

import copy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import loopml.ui
from loopml.ui import render_html, write_html


class _Collector(HTMLParser):
    """Record tags, attributes, figure ids and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.svg_in_figure = 0
        self._figure_depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "figure":
            self._figure_depth += 1
        if tag == "svg" and self._figure_depth:
            self.svg_in_figure += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure_depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser


def test_page_has_one_chart_per_tested_column_and_no_external_resources(
    report_dict: dict[str, Any], windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    reference, current = windows
    assert report_dict["drift"]["drifted_columns"] == ["income", "city"]
    page = render_html(report_dict, reference=reference, current=current)
    parsed = _parse(page)
    assert parsed.tags[0] == "html"
    assert parsed.tags.count("svg") == 3  # age, income, city; the identifier-like note is untested
    assert parsed.svg_in_figure == 3
    assert page.index('aria-label="income') < page.index('aria-label="age')  # drifted first
    assert "script" not in parsed.tags
    assert not [(k, v) for k, v in parsed.attrs if k in ("src", "href")]
    assert "http://" not in page and "https://" not in page
    text = " ".join(parsed.text)
    for expected in (
        "churn",
        "v7",
        "champion",
        "Dataset drift detected",
        "2 of 3 tested",
        "ks",
        "chi_square",
    ):
        assert expected in text
    assert "not tested" in text  # the string column's finding
    assert "ROC AUC" in text and "0.8333" in text  # 5 of 6 pairs ordered


def test_numeric_chart_is_a_histogram_and_categorical_chart_names_categories(
    report_dict: dict[str, Any], windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    page = render_html(report_dict, reference=windows[0], current=windows[1])
    income_svg = page[page.index('aria-label="income') : page.index("</svg>")]
    assert income_svg.count("<rect") == 2 + 2 * 20  # legend + 20 bins per window
    city_svg = page[page.index('aria-label="city') :]
    city_svg = city_svg[: city_svg.index("</svg>")]
    for name in ("paris", "lyon", "nice"):
        assert f"<title>{name}</title>" in city_svg


def test_no_drift_and_no_performance(
    windows: tuple[pd.DataFrame, pd.DataFrame], report_dict: dict[str, Any]
) -> None:
    quiet = copy.deepcopy(report_dict)
    for column in quiet["drift"]["columns"]:
        column["drifted"] = False
    quiet["drift"].update(drifted_columns=[], n_drifted=0, share_drifted=0.0, dataset_drift=False)
    quiet["performance"] = None
    quiet["labelled_rows"] = 0
    page = render_html(quiet, reference=windows[0], current=windows[1])
    parsed = _parse(page)
    assert parsed.tags.count("svg") == 3  # every tested column is still drawn
    assert "No dataset drift" in page
    assert "No ground truth has arrived" in page
    quiet["labelled_rows"] = 1000  # labels, but no binary performance (a regressor)
    page = render_html(quiet, reference=windows[0], current=windows[1])
    assert "No ground truth has arrived" not in page
    assert "1000 rows have ground truth" in page


def test_names_are_escaped(report_dict: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report_dict)
    hostile["model"] = "<script>alert(1)</script>"
    column = next(c for c in hostile["drift"]["columns"] if c["name"] == "city")
    column["name"] = "<b>city</b>"
    reference = pd.DataFrame({"<b>city</b>": ["a", "b"] * 5})
    current = pd.DataFrame({"<b>city</b>": ["<i>x</i>"] * 10})
    page = render_html(hostile, reference=reference, current=current)
    parsed = _parse(page)
    assert "script" not in parsed.tags and "b" not in parsed.tags and "i" not in parsed.tags
    assert "&lt;script&gt;" in page


def test_drifted_column_with_awkward_values_still_gets_a_chart(report_dict: dict[str, Any]) -> None:
    data = copy.deepcopy(report_dict)
    reference = pd.DataFrame({"income": [1.0, 2.0, np.nan, np.inf], "city": [None, "a", "a", "b"]})
    current = pd.DataFrame({"income": [np.nan] * 4, "city": [None] * 4})
    page = render_html(data, reference=reference, current=current)
    assert _parse(page).tags.count("svg") == 3
    assert "left out as missing or infinite: 2 / 4" in page


def test_drift_and_performance_over_time_are_drawn_with_gaps(report_dict: dict[str, Any]) -> None:
    data = copy.deepcopy(report_dict)
    starts = [f"2026-07-0{i}T00:00:00+00:00" for i in range(1, 5)]
    data["drift_over_time"] = [
        {
            "start": start,
            "end": start,
            "n_current": 100,
            "share_drifted": share,
            "dataset_drift": share >= 0.5,
            "statistics": {"income": stat, "city": None},
        }
        for start, share, stat in zip(starts, [0.0, 0.34, 0.67, 0.67], [0.01, 0.2, 0.4, 0.5])
    ]
    estimate = {"value": 0.7, "lower": 0.65, "upper": 0.75, "sampling_error": 0.017}
    data["over_time"] = {
        "windows": [
            {
                "start": start,
                "performance": None if i == 1 else {"roc_auc": 0.7 - 0.02 * i},
                "estimated": {"roc_auc": estimate},
            }
            for i, start in enumerate(starts)
        ]
    }
    page = render_html(data, reference=pd.DataFrame(), current=pd.DataFrame())
    assert "Drift over time: share of drifted columns" in page
    assert "Performance over time (ROC AUC)" in page
    performance = page[page.index('aria-label="Performance over time') :]
    performance = performance[: performance.index("</svg>")]
    assert performance.count("<polyline") == 3  # realised split by its gap, estimated whole
    assert performance.count("<polygon") == 1  # the CBPE band
    assert "NaN" not in page


def test_write_html_creates_folders(
    tmp_path: Path, report_dict: dict[str, Any], windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    path = write_html(
        tmp_path / "a" / "report.html", report_dict, reference=windows[0], current=windows[1]
    )
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_exported_members() -> None:
    assert sorted(loopml.ui.__all__) == ["render_html", "write_html"]
