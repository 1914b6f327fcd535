"""``loopml models list|show|alias|rollback|delete|audit``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import client, console, print_json

app = typer.Typer(
    help="The model registry: versions, aliases (champion, challenger ...), rollback, audit.",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option("--reason", "-r", help="Why; recorded in the audit log.")]


@app.command("list")
def list_models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List registered models with their latest version and aliases."""
    with client() as c:
        models = c.registry.list_models()
        if as_json:
            print_json([
                {"name": m.name, "latest_version": m.latest_version, "aliases": m.aliases,
                 "created_at": m.created_at.isoformat()} for m in models
            ])
            return
        table = Table("model", "latest version", "aliases", "created")
        for m in models:
            aliases = ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items())) or "-"
            table.add_row(m.name, str(m.latest_version), aliases, f"{m.created_at:%Y-%m-%d %H:%M}")
        console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a model's versions (source run, aliases) and its recent audit events."""
    with client() as c:
        versions = c.registry.list_versions(name)
        events = c.registry.audit_events(name)
        if as_json:
            print_json({
                "name": name,
                "versions": [
                    {"version": v.version, "run_id": v.run_id, "source": v.source,
                     "aliases": list(v.aliases), "created_at": v.created_at.isoformat()}
                    for v in versions
                ],
                "audit": [
                    {"time": e.time.isoformat(), "actor": e.actor, "action": e.action,
                     "target": e.target, "before": e.before, "after": e.after, "reason": e.reason}
                    for e in events
                ],
            })
            return
        table = Table("version", "aliases", "run", "created", title=name, title_justify="left")
        for v in versions:
            table.add_row(str(v.version), ", ".join(v.aliases) or "-", v.run_id or "-",
                          f"{v.created_at:%Y-%m-%d %H:%M:%S}")
        console.print(table)
        _print_events(events[-10:])


@app.command("alias")
def alias(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias, e.g. champion.")],
    version: Annotated[int, typer.Argument(min=1, help="Version the alias should point at.")],
    reason: Reason = "set by hand",
) -> None:
    """Point ALIAS of model NAME at VERSION (atomic, audited)."""
    with client() as c:
        event = c.registry.set_alias(name, alias_name, version, reason=reason)
        console.print(f"{name}@{alias_name}: {_fmt(event.before)} → v{version}  ({event.reason})")


@app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias to move back.")] = "champion",
    reason: Reason = "rollback by hand",
) -> None:
    """Move ALIAS back to the version it pointed at before its last move (audited)."""
    with client() as c:
        event = c.registry.rollback(name, alias_name, reason=reason)
        console.print(f"{name}@{alias_name}: {_fmt(event.before)} → {_fmt(event.after)}  ({event.reason})")


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(min=1, help="Version to delete.")],
    force: Annotated[bool, typer.Option(help="Also remove aliases that point at it.")] = False,
    reason: Reason = "deleted by hand",
) -> None:
    """Delete a model version; refused while an alias points at it unless --force."""
    with client() as c:
        c.registry.delete_version(name, version, reason=reason, force=force)
        console.print(f"deleted {name} v{version}")


@app.command("audit")
def audit(
    name: Annotated[str | None, typer.Argument(help="Only events of this model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the audit log (who changed what, when and why)."""
    with client() as c:
        events = c.registry.audit_events(name)
        if as_json:
            print_json([
                {"time": e.time.isoformat(), "actor": e.actor, "action": e.action,
                 "target": e.target, "before": e.before, "after": e.after, "reason": e.reason,
                 "hash": e.hash}
                for e in events
            ])
            return
        _print_events(events)


def _fmt(state: dict[str, object] | None) -> str:
    if not state:
        return "-"
    version = state.get("version")
    return f"v{version}" if version is not None else str(state)


def _print_events(events: list[object]) -> None:
    if not events:
        return
    table = Table("time", "actor", "action", "target", "before", "after", "reason",
                  title="audit", title_justify="left")
    for e in events:
        table.add_row(f"{e.time:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target,  # type: ignore[attr-defined]
                      _fmt(e.before), _fmt(e.after), e.reason)  # type: ignore[attr-defined]
    console.print(table)
