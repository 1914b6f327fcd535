"""Render a model card as one self-contained, offline HTML page.

Same rules as the monitoring report (:mod:`loopml.ui.report`): built from
``templates/card.html`` (Jinja2, autoescaped), inline CSS and inline SVG, no
JavaScript, nothing loaded from the network (a Content-Security-Policy forbids
it). The card's content comes from :func:`loopml.automation.cards.build_card`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from loopml.automation.cards import ModelCard
from loopml.ui.charts import CURRENT_COLOUR, REFERENCE_COLOUR
from loopml.ui.report import environment
from loopml.ui.timeline import Series, line_chart_svg

__all__ = ["render_card_html", "write_card_html"]


def _history_chart(history: list[dict[str, Any]]) -> Markup | None:
    """Share of drifted columns and ROC AUC (realised, estimated) per monitoring report."""
    if not history:
        return None
    labels = [str(p["created_at"])[:16].replace("T", " ") for p in history]
    drift = Series("share of columns drifted", [p["share_drifted"] for p in history], "#c44e52")
    realised = Series("realised ROC AUC", [p["roc_auc"] for p in history], REFERENCE_COLOUR)
    estimated = Series(
        "estimated ROC AUC (CBPE)",
        [p["estimated_roc_auc"] for p in history],
        CURRENT_COLOUR,
        dashed=True,
    )
    svg = line_chart_svg(labels, [drift], title="Data drift per monitoring report")
    if any(p["roc_auc"] is not None or p["estimated_roc_auc"] is not None for p in history):
        svg += line_chart_svg(labels, [realised, estimated], title="ROC AUC per monitoring report")
    return Markup(svg)


def render_card_html(card: ModelCard) -> str:
    """The card as a self-contained HTML document.

    Parameters
    ----------
    card : ModelCard
        From :func:`loopml.automation.cards.build_card`.

    Returns
    -------
    str
        HTML with the sections of the Markdown card (details, intended use,
        training data and schema, metrics overall and per slice, drift and
        performance history with charts, lineage, limitations, approvals).

    Examples
    --------
    >>> html = render_card_html(card)  # doctest: +SKIP
    >>> html.startswith("<!doctype html>")  # doctest: +SKIP
    True
    """
    data = card.to_dict()
    slices: dict[str, list[dict[str, Any]]] = {}
    evaluation = data["evaluation"]
    if evaluation is not None:
        for item in evaluation["slices"]:
            slices.setdefault(item["feature"], []).append(item)
    return (
        environment()
        .get_template("card.html")
        .render(card=data, slices=slices, history_chart=_history_chart(data["history"]))
    )


def write_card_html(path: str | Path, card: ModelCard) -> Path:
    """Write :func:`render_card_html` output to ``path`` (UTF-8, parents created); return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_card_html(card), encoding="utf-8")
    return target
