"""Single-row serving throughput and latency: loopml against MLflow and plain FastAPI.

Run::

    PYTHONPATH=src python bench/serving.py [--seconds 10] [--json]

The model: ``RandomForestClassifier(n_estimators=100, random_state=0)`` fitted
on scikit-learn's breast-cancer features (``load_breast_cancer``, shipped with
scikit-learn: 569 rows, 30 float columns). Three servers, each a real process
on 127.0.0.1, started one after the other:

``loopml``
    The model saved as a loopml package (with its training rows as reference
    data, so the compiled ONNX path is parity-checked and used), registered in
    a fresh home and served by ``loopml serve bc@champion --no-auth`` with its
    defaults (micro-batching on, ONNX on, prediction log on). Requests go to
    ``POST /predict`` as ``{"records": [row]}``.
``mlflow``
    The same fitted estimator saved with ``mlflow.sklearn.save_model`` and
    served by ``mlflow models serve --env-manager local`` (one worker, its
    default). Requests go to ``POST /invocations`` as
    ``{"dataframe_records": [row]}``.
``fastapi``
    A minimal plain FastAPI app under uvicorn (one process): a ``def``
    endpoint that builds a one-row DataFrame and calls ``predict_proba`` on
    the same estimator (refitted with the same seed inside the server).

One load-generator process (this one) drives each server with single-row
requests over keep-alive HTTP/1.1 connections (a small asyncio client, so the
generator costs the same for every server), at concurrency 1, 8 and 32, for
``--seconds`` seconds per point after a one-second warm-up. Rows cycle
through the dataset. A request is an error when it fails or answers anything
but 200. Before measuring, each server's answer for the first rows is checked
against the estimator.

Printed: requests/s, p50 and p99 latency (milliseconds) and errors for every
server and concurrency, then loopml's ratios. With ``--json`` the last line
is one JSON object holding every figure plus ``rps_vs_mlflow_c32``,
``p99_vs_mlflow_c32``, ``rps_vs_fastapi_c32``, ``p99_vs_fastapi_c1`` and
``errors`` (failed loopml requests).

MLflow is an optional dependency (``pip install loopml[bench]``); without it
the MLflow rows are skipped and the bench says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CONCURRENCY = (1, 8, 32)
HOST = "127.0.0.1"


@dataclass
class Point:
    """One measurement: a server at one concurrency."""

    server: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "errors": self.errors,
            "requests": self.requests,
        }


# ----------------------------------------------------------------- load generator


def _request_bytes(path: str, body: bytes, port: int) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, body
    return status, await reader.readexactly(length or 0)


async def _worker(
    port: int, requests: list[bytes], start: int, stop_at: float, measure_from: float, out: Point
) -> None:
    reader = writer = None
    i = start
    while time.perf_counter() < stop_at:
        payload = requests[i % len(requests)]
        i += 1
        began = time.perf_counter()
        ok = False
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(payload)
            assert reader is not None
            status, _ = await asyncio.wait_for(_read_response(reader), 30)
            ok = status == 200
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            if writer is not None:
                writer.close()
            reader = writer = None
        ended = time.perf_counter()
        if began >= measure_from and ended <= stop_at:
            out.requests += ok
            out.errors += not ok
            if ok:
                out.latencies_ms.append((ended - began) * 1000.0)
    if writer is not None:
        writer.close()


async def _load(port: int, requests: list[bytes], concurrency: int, seconds: float) -> Point:
    point = Point("", concurrency, 0, 0, seconds, [])
    now = time.perf_counter()
    measure_from, stop_at = now + 1.0, now + 1.0 + seconds
    await asyncio.gather(
        *(_worker(port, requests, k * 97, stop_at, measure_from, point) for k in range(concurrency))
    )
    return point


def run_load(port: int, requests: list[bytes], concurrency: int, seconds: float) -> Point:
    """Drive one server at ``concurrency`` for ``seconds`` (after 1 s of warm-up)."""
    return asyncio.run(_load(port, requests, concurrency, seconds))


# ------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{port}{path}", timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout} s")


@contextlib.contextmanager
def server_process(
    command: list[str], port: int, ready_path: str, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_http(port, ready_path, process, timeout=120)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def fit_model() -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    features, label = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(features, label)
    return model, features


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def check_answers(
    port: int, path: str, bodies: list[bytes], expected: list[Any], pick: Any
) -> None:
    import httpx

    for body, want in zip(bodies, expected, strict=False):
        response = httpx.post(
            f"http://{HOST}:{port}{path}",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        got = pick(response.json())
        if got != want:
            raise RuntimeError(f"server on {path} answered {got!r}, the estimator says {want!r}")


def bench_loopml(
    work: Path, model: Any, features: Any, seconds: float, quiet: bool, extra: list[str]
) -> list[Point]:
    from loopml.api import connect
    from loopml.models import save_model
    from loopml.schema import infer_schema
    from loopml.settings import Settings

    home = work / "loopml-home"
    client = connect(Settings.for_home(home))
    try:
        package = work / "loopml-package"
        manifest = save_model(model, package, schema=infer_schema(features), reference=features)
        version = client.registry.register("bc", package, run_id=None, reason="bench")
        client.registry.set_alias("bc", "champion", version.version, reason="bench")
    finally:
        client.close()
    runtime = manifest.compiled.runtime if manifest.compiled else "native"
    if not quiet:
        print(f"loopml package compiled runtime: {runtime}", file=sys.stderr)
    rows = features.to_dict(orient="records")
    bodies = [json.dumps({"records": [row]}).encode() for row in rows]
    expected = [int(v) for v in model.predict(features.head(20))]
    port = free_port()
    command = [
        shutil.which("loopml") or "loopml", "serve", "bc@champion",
        "--port", str(port), "--no-auth", "--log-level", "warning", *extra,
    ]  # fmt: skip
    env = _env(LOOPML_HOME=str(home))
    with server_process(command, port, "/v2/health/ready", env, work / "loopml.log"):
        check_answers(port, "/predict", bodies[:20], expected, lambda r: r["predictions"][0])
        requests = [_request_bytes("/predict", body, port) for body in bodies]
        return [run_load(port, requests, c, seconds) for c in CONCURRENCY]


def bench_mlflow(work: Path, model: Any, features: Any, seconds: float) -> list[Point]:
    import mlflow.sklearn

    folder = work / "mlflow-model"
    try:
        mlflow.sklearn.save_model(
            model,
            str(folder),
            input_example=features.head(2),
            skops_trusted_types=["sklearn.tree._tree.Tree"],  # our own freshly fitted forest
        )
    except TypeError:  # an MLflow that pickles and has no skops option
        mlflow.sklearn.save_model(model, str(folder), input_example=features.head(2))
    rows = features.to_dict(orient="records")
    bodies = [json.dumps({"dataframe_records": [row]}).encode() for row in rows]
    expected = [int(v) for v in model.predict(features.head(20))]
    port = free_port()
    mlflow_bin = shutil.which("mlflow") or "mlflow"
    command = [
        mlflow_bin, "models", "serve", "-m", str(folder), "--env-manager", "local",
        "--host", HOST, "--port", str(port),
    ]  # fmt: skip
    with server_process(command, port, "/ping", _env(), work / "mlflow.log"):
        check_answers(port, "/invocations", bodies[:20], expected, lambda r: r["predictions"][0])
        requests = [_request_bytes("/invocations", body, port) for body in bodies]
        return [run_load(port, requests, c, seconds) for c in CONCURRENCY]


PLAIN_APP = textwrap.dedent(
    """
    import pandas as pd
    from fastapi import FastAPI
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    features, label = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(features, label)
    app = FastAPI()

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.post("/predict")
    def predict(body: dict):
        frame = pd.DataFrame(body["records"], columns=features.columns)
        proba = model.predict_proba(frame)
        return {
            "predictions": model.classes_[proba.argmax(axis=1)].tolist(),
            "scores": proba[:, 1].tolist(),
        }
    """
)


def bench_fastapi(work: Path, model: Any, features: Any, seconds: float) -> list[Point]:
    (work / "plain_app.py").write_text(PLAIN_APP)
    rows = features.to_dict(orient="records")
    bodies = [json.dumps({"records": [row]}).encode() for row in rows]
    expected = [int(v) for v in model.predict(features.head(20))]
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "plain_app:app", "--host", HOST, "--port", str(port),
        "--workers", "1", "--log-level", "warning", "--app-dir", str(work),
    ]  # fmt: skip
    with server_process(command, port, "/health", _env(), work / "fastapi.log"):
        check_answers(port, "/predict", bodies[:20], expected, lambda r: r["predictions"][0])
        requests = [_request_bytes("/predict", body, port) for body in bodies]
        return [run_load(port, requests, c, seconds) for c in CONCURRENCY]


# -------------------------------------------------------------------- report


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b and np.isfinite(a) and np.isfinite(b) else None


def batching_check(model: Any, features: Any, seconds: float, rounds: int) -> dict[str, Any]:
    """p99 at concurrency 1 with batching (defaults) and without (``--max-batch-size 1``).

    The two configurations alternate in ABBA order for ``rounds`` rounds, each on a fresh
    home and server, so slow drifts of a shared machine hit both alike; the ratio is of
    the medians.
    """
    global CONCURRENCY
    CONCURRENCY = (1,)
    p99: dict[str, list[float]] = {"batched": [], "unbatched": []}
    configs = {"batched": [], "unbatched": ["--max-batch-size", "1"]}
    with tempfile.TemporaryDirectory(prefix="loopml-bench-batching-") as tmp:
        for i in range(rounds):
            order = ["batched", "unbatched"] if i % 2 == 0 else ["unbatched", "batched"]
            for label in order:
                work = Path(tmp) / f"{label}-{i}"
                work.mkdir()
                point = bench_loopml(work, model, features, seconds, True, configs[label])[0]
                p99[label].append(point.summary()["p99_ms"])
                print(f"round {i + 1} {label:<9} p99 {p99[label][-1]:.2f} ms", file=sys.stderr)
    batched, unbatched = float(np.median(p99["batched"])), float(np.median(p99["unbatched"]))
    return {
        "p99_batched_c1_ms": p99["batched"],
        "p99_unbatched_c1_ms": p99["unbatched"],
        "p99_batched_vs_unbatched_c1": ratio(batched, unbatched),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per point")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument(
        "--only", choices=["loopml", "mlflow", "fastapi"], action="append", help="servers to run"
    )
    parser.add_argument(
        "--loopml-args",
        default="",
        help="extra `loopml serve` options, e.g. '--max-batch-size 1' or '--no-onnx'",
    )
    parser.add_argument(
        "--concurrency", type=int, action="append", help="concurrency levels (default 1, 8, 32)"
    )
    parser.add_argument(
        "--batching-check",
        type=int,
        metavar="ROUNDS",
        help="only compare loopml's p99 at concurrency 1 with and without batching, ROUNDS times",
    )
    args = parser.parse_args(argv)
    if args.batching_check:
        model, features = fit_model()
        result = batching_check(model, features, args.seconds, args.batching_check)
        print(
            f"p99 at c1, median of {args.batching_check}: batched / unbatched = "
            f"{result['p99_batched_vs_unbatched_c1']}"
        )
        if args.json:
            print(json.dumps(result))
        return 0
    global CONCURRENCY
    CONCURRENCY = tuple(args.concurrency or CONCURRENCY)
    servers = args.only or ["loopml", "mlflow", "fastapi"]
    model, features = fit_model()
    results: dict[str, list[Point]] = {}
    with tempfile.TemporaryDirectory(prefix="loopml-bench-serving-") as tmp:
        work = Path(tmp)
        for name in servers:
            print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
            if name == "loopml":
                results[name] = bench_loopml(
                    work, model, features, args.seconds, args.json, args.loopml_args.split()
                )
            elif name == "mlflow":
                try:
                    import mlflow  # noqa: F401
                except ImportError:
                    print("mlflow is not installed (pip install loopml[bench]); skipped")
                    continue
                results[name] = bench_mlflow(work, model, features, args.seconds)
            else:
                results[name] = bench_fastapi(work, model, features, args.seconds)
            for point in results[name]:
                point.server = name
    print(f"{'server':<8} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    figures: dict[str, Any] = {}
    for name, points in results.items():
        for point in points:
            s = point.summary()
            figures[f"{name}_c{point.concurrency}"] = s
            print(
                f"{name:<8} {point.concurrency:>4} {s['rps']:>9.1f} {s['p50_ms']:>8.2f} "
                f"{s['p99_ms']:>8.2f} {s['errors']:>6}"
            )

    def get(name: str, c: int, key: str) -> float:
        return float(figures.get(f"{name}_c{c}", {}).get(key, float("nan")))

    ratios = {
        "rps_vs_mlflow_c32": ratio(get("loopml", 32, "rps"), get("mlflow", 32, "rps")),
        "p99_vs_mlflow_c32": ratio(get("loopml", 32, "p99_ms"), get("mlflow", 32, "p99_ms")),
        "rps_vs_fastapi_c32": ratio(get("loopml", 32, "rps"), get("fastapi", 32, "rps")),
        "p99_vs_fastapi_c1": ratio(get("loopml", 1, "p99_ms"), get("fastapi", 1, "p99_ms")),
    }
    errors = sum(p.errors for p in results.get("loopml", []))
    print(
        "loopml at c32: {rps_vs_mlflow_c32}x MLflow's req/s, p99 {p99_vs_mlflow_c32}x MLflow's, "
        "{rps_vs_fastapi_c32}x plain FastAPI's req/s; at c1 p99 {p99_vs_fastapi_c1}x plain "
        "FastAPI's".format(**ratios)
    )
    if args.json:
        print(json.dumps({**ratios, "errors": errors, "seconds": args.seconds, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
