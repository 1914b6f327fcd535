"""Shared helpers of the CLI: the client, error rendering, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from loopml.api import Client, connect
from loopml.errors import LoopMLError

# Piped output (CI logs, `| less`) gets a wide console so tables keep ids and reasons whole.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


@contextmanager
def client() -> Iterator[Client]:
    """Connect from ``LOOPML_*`` settings; turn loopml errors into a one-line message and exit 1."""
    try:
        with connect() as c:
            yield c
    except LoopMLError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from None


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn loopml errors into a one-line message on stderr and exit code 1."""
    try:
        yield
    except LoopMLError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from None


def require_model(c: Client, name: str) -> None:
    """Exit 1 with one line when ``name`` is not a registered model."""
    if name not in {m.name for m in c.registry.list_models()}:
        err_console.print(
            f"[red]error:[/red] model {name!r} is not registered (`loopml models list` shows what is)"
        )
        raise typer.Exit(code=1)


def print_json(value: Any) -> None:
    """Print strict JSON (no NaN/Infinity tokens) on one line."""
    typer.echo(json.dumps(value, default=str, allow_nan=False, sort_keys=False))
