"""``loopml approve MODEL -r WHY`` and ``loopml reject MODEL -r WHY``."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli._common import client, console, require_model

Model = Annotated[str, typer.Argument(help="Registered model whose promotion waits.")]
Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (recorded in the audit log).")]


def _decide(model: str, reason: str, *, approve: bool) -> None:
    from loopml.automation import decide

    with client() as c:
        require_model(c, model)
        state = decide(c, model, approve=approve, reason=reason)
        verb = "approved" if approve else "rejected"
        console.print(
            f"{verb} the promotion of {model} v{state.challenger_version} as "
            f"{c.settings.actor}; the loop acts on it at its next cycle"
        )


def approve(model: Model, reason: Reason) -> None:
    """Approve the promotion of MODEL's challenger waiting for approval (recorded with you as
    actor); the loop promotes it at its next cycle."""
    _decide(model, reason, approve=True)


def reject(model: Model, reason: Reason) -> None:
    """Reject the promotion of MODEL's challenger waiting for approval (recorded with you as
    actor); the loop withdraws it at its next cycle."""
    _decide(model, reason, approve=False)
