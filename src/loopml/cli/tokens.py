"""``loopml tokens create|list|revoke``: bearer tokens of the model server."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import client, console, err_console, print_json
from loopml.entities import TOKEN_ROLES, ApiToken

app = typer.Typer(
    help=f"Bearer tokens for `loopml serve` (roles: {', '.join(TOKEN_ROLES)}).",
    no_args_is_help=True,
)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Unique name of the token, e.g. web-frontend.")],
    role: Annotated[
        list[str],
        typer.Option("--role", help=f"Role to grant (repeat): {', '.join(TOKEN_ROLES)}."),
    ],
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit log.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the secret).")] = False,
) -> None:
    """Create a token and print its secret, once: it is stored only as a hash."""
    with client() as c:
        token, secret = c.tokens.create(name, role, reason=reason)
    if as_json:
        print_json(_token_dict(token) | {"secret": secret})
        return
    err_console.print(
        f"created token [bold]{token.name}[/bold] ({token.id}) with role(s) "
        f"{', '.join(token.roles)}; copy the secret now, it is not shown again:"
    )
    typer.echo(secret)


@app.command("list")
def list_tokens(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens (never their secrets)."""
    with client() as c:
        tokens = c.tokens.list(include_revoked=all_)
    if as_json:
        print_json([_token_dict(t) for t in tokens])
        return
    table = Table("name", "roles", "created", "by", "revoked")
    table.add_column("id", no_wrap=True, min_width=32)
    for t in tokens:
        revoked = f"{t.revoked_at:%Y-%m-%d %H:%M:%S}" if t.revoked_at else "-"
        table.add_row(
            t.name, ", ".join(t.roles), f"{t.created_at:%Y-%m-%d %H:%M:%S}", t.created_by,
            revoked, t.id,
        )
    console.print(table)


@app.command("revoke")
def revoke(
    name_or_id: Annotated[str, typer.Argument(help="Token name or id.")],
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit log.")] = "",
) -> None:
    """Revoke a token; servers refuse it within their cache time (30 s)."""
    with client() as c:
        token = c.tokens.revoke(name_or_id, reason=reason)
    console.print(f"revoked token {token.name} ({token.id})")


def _token_dict(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "roles": list(token.roles),
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by,
        "revoked_at": None if token.revoked_at is None else token.revoked_at.isoformat(),
    }
