"""``loopml loop once``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import client, console, print_json

app = typer.Typer(help="The closed loop: observe, decide, retrain, judge, promote.", no_args_is_help=True)


@app.command("once")
def once(
    policy: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Policy YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Observe, decide and act once; the decision and its evidence go to the audit log."""
    with client() as c:
        decision = c.loop_once(policy, progress=None if as_json else console.print)
        if as_json:
            print_json(decision.to_dict())
            return
        colour = {"promoted": "green", "rejected": "yellow"}.get(decision.action, "white")
        console.print(f"[{colour}]{decision.action}[/{colour}]")
        for reason in decision.reasons:
            console.print(f"  - {reason}")
