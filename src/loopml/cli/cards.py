"""``loopml card NAME@VERSION [--format md|html] [--out FILE]``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import client, console, errors_as_exit


class CardFormat(str, enum.Enum):
    """Output formats of a model card."""

    md = "md"
    html = "html"


def card(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (or NAME@ALIAS) of the model version.")],
    format_: Annotated[
        CardFormat, typer.Option("--format", "-f", help="Markdown or self-contained HTML.")
    ] = CardFormat.md,
    out: Annotated[
        Path | None, typer.Option(help="File to write; the card goes to stdout otherwise.")
    ] = None,
) -> None:
    """Write the model card of a version: intended use and data, training data and schema,
    metrics overall and per slice, drift and performance since deployment, lineage,
    limitations, approvals."""
    from loopml.automation.cards import build_card, card_markdown
    from loopml.registry import parse_model_ref

    with client() as c, errors_as_exit():
        name, ref = parse_model_ref(model)
        version = c.registry.resolve(name, ref).version
        built = build_card(c.store, c.artifacts, name, version,
                           reports_dir=c.settings.home / "reports")
    if format_ is CardFormat.html:
        from loopml.ui.card import render_card_html

        text = render_card_html(built)
    else:
        text = card_markdown(built)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"model card of {name} v{version}: {out}", markup=False)
