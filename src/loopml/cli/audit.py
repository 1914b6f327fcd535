"""``loopml audit verify``: is the audit log intact, and if not, where and how is it broken."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli._common import client, console, err_console, print_json

app = typer.Typer(
    help="The tamper-evident audit log: verify its hash chain.",
    no_args_is_help=True,
)


@app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="A head hash printed by an earlier verify and kept elsewhere: also detects "
            "events deleted from the end of the log.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check every audit event's hash and link; exit 1 naming the first break.

    Detects an edited, deleted, reordered or inserted event and says which
    (position in id order, event id, kind). Prints the current head hash:
    keep it outside the database and pass it as --anchor next time.
    """
    import re
    from pathlib import Path

    from loopml.settings import Settings
    from loopml.store.audit_chain import verify_store

    if anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", anchor):
        raise typer.BadParameter(
            "an anchor is the 64-hex-digit head hash an earlier verify printed",
            param_hint="--anchor",
        )
    url = Settings.from_env().store_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        err_console.print(
            f"[red]error:[/red] no metadata store at {url}: nothing to verify "
            "(is LOOPML_HOME or LOOPML_STORE_URL set to the right place?)"
        )
        raise typer.Exit(code=1)
    with client() as c:
        result = verify_store(c.store, anchor=anchor)
        versions = sum(len(c.registry.list_versions(m.name)) for m in c.registry.list_models())
    if result.ok and result.n_events == 0 and versions:
        err_console.print(
            f"[red]audit log is empty but the registry holds {versions} model versions[/red]: "
            "every registration writes an event, so events were removed"
        )
        raise typer.Exit(code=1)
    if as_json:
        print_json(result.to_dict())
    elif result.ok:
        console.print(
            f"[green]audit chain intact[/green]: {result.n_events} events"
            + ("" if anchor is None else ", anchor found")
        )
    else:
        first = result.first
        assert first is not None
        where = "past the last event" if first.event_id is None else f"event id {first.event_id}"
        console.print(
            f"[red]audit chain broken[/red] at position {first.position} ({where}): "
            f"{first.kind.value}: {first.detail}"
        )
        for other in result.breaks[1:]:
            console.print(
                f"  also at position {other.position}: {other.kind.value}: {other.detail}"
            )
    if not as_json and result.ok:
        head = "-" if result.head_id is None else f"event id {result.head_id}"
        console.print(f"head: {result.head_hash} ({head}); pass it as --anchor to a later verify")
    if not result.ok:
        raise typer.Exit(code=1)
