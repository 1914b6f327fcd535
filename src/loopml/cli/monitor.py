"""``loopml monitor NAME@ALIAS``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import client, console, print_json


def monitor(
    model: Annotated[str, typer.Argument(help="NAME@ALIAS (or NAME@VERSION) whose traffic to check.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for report.json and report.html (default: LOOPML_HOME/reports).")
    ] = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Newest logged rows in the current window.")] = 20_000,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s",
            help="Drift setting FIELD=VALUE, e.g. wasserstein_threshold=0.2 or drift_share=0.3 "
            "(fields of loopml.monitoring.DriftConfig).",
        ),
    ] = None,
    alerts: Annotated[
        Path | None,
        typer.Option(
            help="Alert rules YAML (docs/alerts.md): rules on report values, delivered to the "
            "log, webhooks or Slack, each (model, rule) quiet for its cooldown.",
        ),
    ] = None,
    profiles: Annotated[
        bool,
        typer.Option(
            "--profiles",
            help="Drift only, from mergeable profiles: every logged file is profiled once and "
            "cached (LOOPML_HOME/profiles), so a run reads only what it has not seen.",
        ),
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="With --profiles: first day (UTC) of the log."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare logged inputs (current window) with the training data (reference).

    Writes a JSON report and a self-contained HTML report (works offline).
    Tests and thresholds: see `loopml.monitoring.config` (KS / chi-square on
    small references, normalised Wasserstein / Jensen-Shannon on large ones).
    """
    from loopml.registry import parse_model_ref

    config = drift_config(setting or [])
    alert_config = None
    if alerts is not None:
        from loopml.cli._common import errors_as_exit
        from loopml.monitoring.alerts import AlertConfig

        with errors_as_exit():
            alert_config = AlertConfig.from_yaml(alerts)
    if profiles:
        if alerts is not None:
            raise typer.BadParameter(
                "alerts run on the full report; drop --profiles or --alerts", param_hint="--alerts"
            )
        monitor_profiles(model, config, since, as_json)
        return
    if since is not None:
        raise typer.BadParameter(
            "--since selects log days for --profiles; the full report takes the newest "
            "--max-rows rows",
            param_hint="--since",
        )
    with client() as c:
        name, ref = parse_model_ref(model)
        report, reference, current = c.monitor(name, ref, max_rows=max_rows, config=config)
        folder = out or (c.settings.home / "reports")
        try:
            paths = write_reports(report, reference, current, folder)
        except OSError as error:
            console.print(f"[red]error:[/red] cannot write the report to {folder}: {error}")
            raise typer.Exit(1) from None
        fired: dict[str, Any] | None = None
        if alert_config is not None:
            from loopml.monitoring.alerts import run_alerts

            run = run_alerts(alert_config, report, store=c.store)
            fired = {
                "fired": [f.alert.to_dict() for f in run.fired],
                "suppressed": [a.rule.name for a in run.suppressed],
                "findings": run.findings,
                "failed_deliveries": [
                    {"rule": rule, "channel": d.channel, "error": d.error}
                    for rule, d in run.failed_deliveries
                ],
            }
        if as_json:
            extra: dict[str, Any] = {"report_path": str(paths["html"])}
            if fired is not None:
                extra["alerts"] = fired
            print_json(report.to_dict() | extra)
            return
        render_summary(report)
        if fired is not None:
            render_alerts(fired)
        console.print(f"report: {paths['html']}  (JSON: {paths['json']})")


def monitor_profiles(model: str, config: Any, since: datetime | None, as_json: bool) -> None:
    """``loopml monitor --profiles``: drift of the whole log (since a day) from profiles."""
    from loopml.automation.profiles import monitor_from_profiles
    from loopml.cli._common import errors_as_exit
    from loopml.registry import parse_model_ref

    with client() as c, errors_as_exit():
        name, ref = parse_model_ref(model)
        result = monitor_from_profiles(
            c, name, ref, since=None if since is None else since.date(), config=config
        )
    if as_json:
        print_json(result.to_dict())
        return
    render_drift(result.drift, f"{name}@{ref}: drift from profiles")
    console.print(
        f"{result.files} log files: {result.profiled} profiled now, {result.cached} from the cache"
    )


def render_alerts(run: dict[str, Any]) -> None:
    """Print what the alert rules did: fired, quiet for their cooldown, unreadable, failed."""
    for alert in run["fired"]:
        console.print(f"[red]alert[/red] {alert['rule']}: {alert['reason']}")
    for rule in run["suppressed"]:
        console.print(f"alert {rule}: firing, quiet for its cooldown")
    for rule, finding in run["findings"].items():
        console.print(f"[yellow]alert rule {rule}: {finding}[/yellow]")
    for failed in run["failed_deliveries"]:
        console.print(
            f"[yellow]alert {failed['rule']} not delivered to {failed['channel']}: "
            f"{failed['error']}[/yellow]"
        )


def drift_config(settings: list[str]) -> Any:
    """Build a DriftConfig from ``FIELD=VALUE`` strings; bad ones are a usage error."""
    import dataclasses

    from loopml.errors import ConfigurationError
    from loopml.monitoring import DriftConfig

    fields = {f.name: f.type for f in dataclasses.fields(DriftConfig) if f.name != "column_methods"}
    values: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or key not in fields:
            raise typer.BadParameter(
                f"expected FIELD=VALUE with FIELD one of {', '.join(sorted(fields))}; got {item!r}",
                param_hint="--set",
            )
        kind = str(fields[key])
        try:
            values[key] = raw if "str" in kind else (int(raw) if "int" in kind else float(raw))
        except ValueError:
            raise typer.BadParameter(f"{key} needs a number, got {raw!r}", param_hint="--set") from None
    try:
        return DriftConfig(**values)
    except (ConfigurationError, TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from None


def write_reports(report: Any, reference: Any, current: Any, folder: Path) -> dict[str, Path]:
    """Write ``report-<model>-<time>.json`` and ``.html`` under ``folder``; return both paths."""
    from loopml.ui import render_html

    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    base = folder / f"report-{report.model}-v{report.version}-{stamp}"
    json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
    json_path.write_text(report.to_json())
    html_path.write_text(render_html(report.to_dict(), reference=reference, current=current))
    return {"json": json_path, "html": html_path}


def render_summary(report: Any) -> None:
    """Print the drift table and verdict of a monitoring report."""
    render_drift(report.drift, f"{report.model} v{report.version}: drift")
    if report.performance is not None:
        perf = report.performance
        auc = "n/a" if perf.roc_auc is None else f"{perf.roc_auc:.4f}"
        console.print(f"realised performance on {perf.n} labelled rows: ROC AUC {auc}")


def render_drift(drift: Any, title: str) -> None:
    """Print a drift table and the dataset verdict."""
    table = Table("column", "test", "statistic", "p-value", "threshold", "drifted",
                  title=title, title_justify="left")
    for col in drift.columns:
        p = "-" if col.p_value is None else f"{col.p_value:.3g}"
        stat = "-" if col.statistic is None else f"{col.statistic:.4f}"
        flag = "[red]yes[/red]" if col.drifted else ("no" if col.finding is None else col.finding)
        threshold = "-" if col.threshold is None else f"{col.threshold:g}"
        table.add_row(str(col.name), col.method or "-", stat, p, threshold, flag)
    console.print(table)
    verdict = "[red]drift detected[/red]" if drift.dataset_drift else "[green]no dataset drift[/green]"
    console.print(
        f"{verdict}: {drift.n_drifted} of {drift.n_tested} tested columns drifted "
        f"(share {drift.share_drifted:.2f}, dataset drift at {drift.drift_share_threshold:g})"
    )
