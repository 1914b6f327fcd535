"""Offline HTML views of loopml results.

- :func:`render_html` / :func:`write_html` — a monitoring report as one
  self-contained page (inline CSS and SVG; no JavaScript, no network).
"""

from loopml.ui.report import render_html, write_html

__all__ = ["render_html", "write_html"]
