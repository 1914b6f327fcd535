"""``loopml deployments validate|compare``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import client, console, errors_as_exit, print_json

app = typer.Typer(
    help="Progressive delivery: deployment specs (champion, canary, shadow) and comparisons.",
    no_args_is_help=True,
)


@app.command("validate")
def validate(
    spec: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Deployment YAML.")],
) -> None:
    """Check a deployment spec and show its routes."""
    from loopml.deploy import DeploymentSpec

    with errors_as_exit():
        deployment = DeploymentSpec.from_yaml(spec)
    console.print(f"deployment {deployment.name!r} of model {deployment.model!r}:")
    for route, alias in deployment.aliases.items():
        weight = ""
        if route == "canary" and deployment.canary is not None:
            weight = f" ({deployment.canary.weight:g} % of requests)"
        elif route == "shadow":
            weight = " (copy of every request, never answers)"
        console.print(f"  {route:<9} → {deployment.model}@{alias}{weight}")


@app.command("compare")
def compare(
    model: Annotated[str, typer.Argument(help="Registered model whose log to read.")],
    route: Annotated[str, typer.Option(help="Route compared with the champion: canary or shadow.")] = "canary",
    since: Annotated[
        datetime | None, typer.Option(help="Window start (UTC), e.g. 2026-11-29T00:00:00.")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Window end (UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Canary or shadow vs champion: agreement rate, metric delta (with feedback), latency delta."""
    with client() as c:
        result = c.compare_routes(model, route, start=since, end=until)
        if as_json:
            print_json(result.to_dict())
            return
        table = Table("", "champion", route, "delta", title=f"{model}: {route} vs champion",
                      title_justify="left")
        table.add_row("versions", _join(result.champion_versions), _join(result.candidate_versions), "")
        table.add_row("predictions", str(result.n_champion), str(result.n_candidate), "")
        table.add_row(f"{result.metric} (labelled rows)",
                      _metric(result.champion_metric, result.labelled_champion),
                      _metric(result.candidate_metric, result.labelled_candidate),
                      _num(result.metric_delta))
        table.add_row("latency p50 / p99 (ms)", "", "",
                      f"{_num(result.latency_p50_delta_ms)} / {_num(result.latency_p99_delta_ms)}")
        console.print(table)
        agreement = "n/a" if result.agreement_rate is None else f"{result.agreement_rate:.1%}"
        console.print(f"agreement on {result.paired} paired requests: {agreement}")
        for finding in result.findings:
            console.print(f"  - {finding}")


def _join(versions: tuple[int, ...]) -> str:
    return ", ".join(f"v{v}" for v in versions) or "-"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def _metric(value: float | None, n: int) -> str:
    return f"{'n/a' if value is None else f'{value:.4f}'} ({n})"
