"""``loopml runs list|show``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import client, console, print_json

app = typer.Typer(help="Tracked runs: params, metrics, inputs, environment.", no_args_is_help=True)


@app.command("list")
def list_runs(
    experiment: Annotated[str | None, typer.Option(help="Only runs of this experiment.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most recent runs to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the most recent runs."""
    with client() as c:
        runs = c.tracker.list_runs(experiment, limit=limit)
        if as_json:
            print_json([_run_dict(r) for r in runs])
            return
        table = Table("experiment", "name", "status", "started", "duration")
        table.add_column("run id", no_wrap=True, min_width=32)
        names = {e.id: e.name for e in c.store.list_experiments()}
        for r in runs:
            duration = (
                f"{(r.end_time - r.start_time).total_seconds():.1f} s" if r.end_time else "-"
            )
            table.add_row(
                names.get(r.experiment_id, r.experiment_id), r.name, r.status.value,
                r.start_time.strftime("%Y-%m-%d %H:%M:%S"), duration, r.id,
            )
        console.print(table)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="Run id (from `loopml runs list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one run: params, latest metrics, tags, inputs, environment."""
    with client() as c:
        run = c.tracker.get_run(run_id)
        history = c.tracker.metric_history(run_id)
        latest: dict[str, float] = {}
        for m in history:
            latest[m.key] = m.value
        data = _run_dict(run) | {"metrics": latest, "metric_points": len(history)}
        if as_json:
            print_json(data)
            return
        console.print(f"[bold]run {run.id}[/bold]  {run.name}  [{run.status.value}]")
        ended = f"{run.end_time:%Y-%m-%d %H:%M:%S}" if run.end_time else "-"
        console.print(f"started {run.start_time:%Y-%m-%d %H:%M:%S}  ended {ended} (UTC)")
        console.print(f"git commit: {run.git_commit or '-'}   artifacts: {run.artifact_uri}")
        for title, values in (("params", run.params), ("metrics", latest), ("tags", run.tags)):
            if values:
                table = Table("key", "value", title=title, title_justify="left")
                for k, v in sorted(values.items()):
                    table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
                console.print(table)
        if run.inputs:
            table = Table("role", "name", "rows", "columns", "fingerprint", title="inputs",
                          title_justify="left")
            for i in run.inputs:
                table.add_row(i.role, i.name, str(i.n_rows), str(i.n_columns), i.fingerprint[:16])
            console.print(table)
        env = run.environment
        if env:
            console.print(f"python {env.get('python', '?')}  packages: "
                          + ", ".join(f"{k} {v}" for k, v in sorted(env.get('packages', {}).items())))


def _run_dict(run: object) -> dict[str, object]:
    from dataclasses import asdict

    data = asdict(run)  # type: ignore[call-overload]
    data["status"] = run.status.value  # type: ignore[attr-defined]
    return dict(data)
