"""Per-call ``log_metric`` throughput: loopml against MLflow, both on SQLite.

Run::

    PYTHONPATH=src python bench/tracking.py [--json]

loopml: a fresh home in a temporary folder (``loopml.api.connect`` with
``Settings.for_home``, so a real SQLite file in WAL mode), one run, ``--calls``
calls of ``run.log_metric(key, value, step=i)``. The clock stops after
``run.end()`` returns, so the final synchronous flush of buffered metrics is
included; afterwards the bench counts the metric rows in the store and
reports any shortfall as ``lost``.

MLflow: ``mlflow.log_metric(key, value, step=i)`` inside one run with a
``sqlite:///.../mlflow.db`` tracking URI, for ``--mlflow-calls`` calls or
``--mlflow-seconds`` seconds, whichever comes first (MLflow writes one
transaction per call). Database creation and migrations are done before the
clock starts for both tools.

MLflow is an optional dependency (``pip install loopml[bench]``); without it
the bench exits with status 2 and says so.

``--json`` makes the last line of output one JSON object with
``loopml_metrics_per_s``, ``mlflow_metrics_per_s``, ``log_metric_vs_mlflow``,
``n_calls``, ``mlflow_calls`` and ``lost``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """Calls made, seconds taken and metric rows found afterwards."""

    tool: str
    calls: int
    seconds: float
    stored: int

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else float("inf")


def bench_loopml(home: Path, calls: int) -> Measurement:
    """Time ``calls`` loopml ``log_metric`` calls plus the final flush."""
    from loopml.api import connect
    from loopml.settings import Settings

    client = connect(Settings.for_home(home))
    try:
        run = client.start_run("bench", run_name="log_metric")
        start = time.perf_counter()
        for step in range(calls):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.end()
        seconds = time.perf_counter() - start
        stored = len(client.store.get_metric_history(run.id, "loss"))
    finally:
        client.store.close()
    return Measurement("loopml", calls, seconds, stored)


def bench_mlflow(home: Path, calls: int, max_seconds: float) -> Measurement:
    """Time up to ``calls`` MLflow ``log_metric`` calls, stopping after ``max_seconds``."""
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{home / 'mlflow.db'}")
    mlflow.set_experiment("bench")  # creates and migrates the database: not timed
    made = 0
    with mlflow.start_run(run_name="log_metric") as run:
        start = time.perf_counter()
        deadline = start + max_seconds
        for step in range(calls):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            made += 1
            if time.perf_counter() > deadline:
                break
        seconds = time.perf_counter() - start
    history = mlflow.tracking.MlflowClient().get_metric_history(run.info.run_id, "loss")
    return Measurement("mlflow", made, seconds, len(history))


def main(argv: list[str] | None = None) -> int:
    """Run both measurements, print a table (and a JSON line with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50_000, help="loopml log_metric calls")
    parser.add_argument("--mlflow-calls", type=int, default=2_000, help="MLflow calls at most")
    parser.add_argument("--mlflow-seconds", type=float, default=20.0, help="MLflow time bound")
    parser.add_argument("--json", action="store_true", help="last line: a JSON object")
    args = parser.parse_args(argv)

    try:
        import mlflow  # noqa: F401
    except ImportError:
        print(
            "bench/tracking.py needs MLflow for the comparison: pip install 'loopml[bench]' "
            "(or pip install mlflow)",
            file=sys.stderr,
        )
        return 2
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")

    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as tmp:
        ours = bench_loopml(Path(tmp) / "loopml", args.calls)
        mlflow_dir = Path(tmp) / "mlflow"
        mlflow_dir.mkdir()
        theirs = bench_mlflow(mlflow_dir, args.mlflow_calls, args.mlflow_seconds)

    ratio = ours.per_second / theirs.per_second
    lost = ours.calls - ours.stored
    print(f"{'per-call log_metric (SQLite)':<30}{'calls':>8}{'seconds':>10}{'metrics/s':>12}")
    for m in (ours, theirs):
        print(f"{m.tool:<30}{m.calls:>8}{m.seconds:>10.3f}{m.per_second:>12,.0f}")
    print(
        f"loopml / MLflow: {ratio:,.1f}x; loopml metrics lost: {lost}; "
        f"MLflow rows stored: {theirs.stored}/{theirs.calls}"
    )
    if args.json:
        result: dict[str, Any] = {
            "loopml_metrics_per_s": round(ours.per_second, 1),
            "mlflow_metrics_per_s": round(theirs.per_second, 1),
            "log_metric_vs_mlflow": round(ratio, 1),
            "n_calls": ours.calls,
            "mlflow_calls": theirs.calls,
            "lost": lost,
        }
        print(json.dumps(result))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
