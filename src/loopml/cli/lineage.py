"""``loopml lineage NAME@VERSION`` and ``loopml reproduce RUN_ID``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import client, console, errors_as_exit, print_json


def lineage(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (or NAME@ALIAS) to trace.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show dataset fingerprints -> pipeline run -> model version -> deployments, and alias history."""
    from loopml.automation.lineage import lineage_lines, version_lineage
    from loopml.registry import parse_model_ref

    with client() as c:
        name, ref = parse_model_ref(model)
        version = c.registry.resolve(name, ref).version
        result = version_lineage(c.store, name, version, artifacts=c.artifacts)
    if as_json:
        print_json(result.to_dict())
        return
    for line in lineage_lines(result):
        console.print(line, markup=False)
    if result.run is not None and result.run.metrics:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in sorted(result.run.metrics.items()))
        console.print(f"run metrics: {shown}", markup=False)
    if result.alias_history:
        table = Table("time", "actor", "action", "alias", "from", "to", "reason",
                      title="alias history", title_justify="left")
        for m in result.alias_history:
            table.add_row(f"{m.time:%Y-%m-%d %H:%M:%S}", m.actor, m.action, m.alias,
                          _v(m.from_version), _v(m.to_version), m.reason)
        console.print(table)
    if result.events:
        table = Table("time", "actor", "action", "target", "reason",
                      title="other audit events", title_justify="left")
        for e in result.events:
            table.add_row(f"{e.time:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target, e.reason)
        console.print(table)
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")


def _v(version: int | None) -> str:
    return "-" if version is None else f"v{version}"


def _inputs(items: list[str]) -> dict[str, Path]:
    inputs: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"expected NAME=PATH, got {item!r}", param_hint="--input")
        inputs[name] = Path(path)
    return inputs


def reproduce(
    run_id: Annotated[str, typer.Argument(help="Id of the pipeline run to rerun.")],
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i",
            help="NAME=PATH.parquet: an input frame the run read (loopml keeps its fingerprint, "
            "not its rows); checked against the recorded fingerprint before anything runs.",
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(help="Pipeline YAML, only for runs recorded without their spec."),
    ] = None,
    tolerance: Annotated[
        float, typer.Option(min=0.0, help="Largest metric difference that still matches.")
    ] = 1e-9,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rerun a pipeline run from its recorded spec, inputs, params and seeds; compare.

    Reports whether the metrics, the data fingerprints and the model package
    files come out the same (exit 0) or not (exit 1), step by step, with the
    recorded and current code version. Nothing is registered or promoted.
    """
    from loopml.pipeline import PipelineSpec
    from loopml.pipeline.reproduce import reproduce_run

    inputs = _inputs(input_ or [])
    with client() as c, errors_as_exit():
        pipeline = None if spec is None else PipelineSpec.from_yaml(spec)
        progress = None if as_json else (
            lambda step, status: console.print(f"  {step}: {status}", markup=False)
        )
        result = reproduce_run(run_id, store=c.store, artifacts=c.artifacts, inputs=inputs,
                               spec=pipeline, tolerance=tolerance, progress=progress)
    if as_json:
        print_json(result.to_dict())
    else:
        _render(result)
    if not result.matches:
        raise typer.Exit(code=1)


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text[:16] + "..." if len(text) > 19 else text


def _render(result: Any) -> None:
    table = Table("check", "name", "recorded", "reproduced", "same", "note",
                  title=f"run {result.run_id} ({result.pipeline})", title_justify="left")
    for check in result.checks:
        same = "[green]yes[/green]" if check.matches else "[red]no[/red]"
        table.add_row(check.kind, check.name, _short(check.recorded), _short(check.reproduced),
                      same, check.note)
    console.print(table)
    code = result.code
    console.print(
        f"code: recorded commit {code['recorded_commit'] or '-'}, now {code['current_commit'] or '-'}"
        + "".join(f"; {name} {old} -> {new}" for name, (old, new) in code["packages"].items()),
        markup=False,
    )
    for note in result.notes:
        console.print(note, markup=False)
    if result.matches:
        console.print(f"[green]reproduced[/green]: metrics and artifacts match "
                      f"({result.seconds:.1f} s)")
    else:
        failed = sorted({c.kind for c in result.checks if not c.matches and c.kind in
                         ("metric", "dataset", "artifact")})
        console.print(f"[red]not reproduced[/red]: {', '.join(failed)} differ")
