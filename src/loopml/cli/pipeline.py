"""``loopml run PIPELINE.yaml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import client, console, print_json


def run(
    pipeline: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Pipeline YAML file.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Override a step param: step.key=value (JSON value)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run a pipeline; unchanged steps complete from cache."""
    overrides: dict[str, object] = {}
    for item in param or []:
        key, sep, raw = item.partition("=")
        if not sep or "." not in key:
            raise typer.BadParameter(f"expected step.key=value, got {item!r}", param_hint="--param")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw

    def progress(step: str, status: str) -> None:
        if not as_json:
            console.print(f"  {step:<12} {status}")

    with client() as c:
        if not as_json:
            console.print(f"[bold]pipeline[/bold] {pipeline}")
        result = c.run_pipeline(pipeline, params=overrides or None, progress=progress)
        summary = {
            "run_id": result.run_id,
            "model_version": list(result.model_version) if result.model_version else None,
            "steps": [
                {"name": s.name, "kind": s.kind, "cached": s.cached, "seconds": round(s.seconds, 3)}
                for s in result.steps
            ],
        }
        if as_json:
            print_json(summary)
            return
        cached = sum(s.cached for s in result.steps)
        console.print(f"run {result.run_id}: {len(result.steps)} steps, {cached} from cache")
        if result.model_version:
            name, version = result.model_version
            console.print(f"model version: {name} v{version}")
