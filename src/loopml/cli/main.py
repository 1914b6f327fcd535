"""Entry point of the ``loopml`` console script."""

from __future__ import annotations

import typer

from loopml.cli import (
    approve,
    audit,
    cards,
    deployments,
    lineage,
    loop,
    models,
    monitor,
    pipeline,
    quickstart,
    runs,
    serve,
    tokens,
)

app = typer.Typer(
    name="loopml",
    help="loopml: train, track, register, serve, monitor and retrain tabular models in one loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(runs.app, name="runs")
app.add_typer(models.app, name="models")
app.add_typer(loop.app, name="loop")
app.add_typer(tokens.app, name="tokens")
app.add_typer(deployments.app, name="deployments")
app.command("run")(pipeline.run)
app.command("serve")(serve.serve)
app.command("monitor")(monitor.monitor)
app.command(
    "report",
    help="Write the monitoring report of NAME@ALIAS (JSON + self-contained offline HTML): "
    "drift per column and over time, quality, realised and estimated performance. The same "
    "command as `loopml monitor`; the server serves the newest one at /admin/report.",
)(monitor.monitor)
app.command("quickstart")(quickstart.quickstart)
app.command("approve")(approve.approve)
app.command("reject")(approve.reject)
app.add_typer(audit.app, name="audit")
app.command("lineage")(lineage.lineage)
app.command("reproduce")(lineage.reproduce)
app.command("card")(cards.card)


def main() -> None:
    """Run the CLI (console script ``loopml``)."""
    app()
