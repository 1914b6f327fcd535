"""Data drift on wide frames: loopml against Evidently, NannyML and a numpy/scipy floor.

Run::

    python bench/drift.py [--sizes 10k,100k,1M] [--quick] [--json]

The data
--------
Seeded synthetic reference and current frames of ``n`` rows each (``--seed``,
default 0), 20 numeric and 5 categorical columns. Seven columns are shifted
in the current frame (the truth); the other 18 are drawn from the same
distribution for both frames.

======  ================================================  =============================
column  reference                                         current (shifted columns)
======  ================================================  =============================
n00     normal(0, 1)                                      mean + 0.3 sd
n01     normal(5, 2)                                      sd x 1.5, same mean
n02     lognormal(0, 0.75)                                log-mean + 0.3 (values x 1.35)
n03     uniform(0, 10)                                    + 1.0 (0.35 sd)
n04     integer: round(normal(500, 100))                  + 40 (0.4 sd)
c00     5 levels, shares .40 .25 .15 .12 .08              .28 .24 .18 .16 .14
c01     50 levels, Zipf shares (s = 1.1)                  top level x 0.6, ranks 11-20 x 2
======  ================================================  =============================

Unshifted: n05-n19 take, by column number modulo 8, normal(10, 3),
lognormal(1, 0.5), uniform(-5, 5), integer Poisson(30), exponential(2),
Student t(5), beta(2, 5) or integers uniform on 0..9999 (n09 and n13 have
1 % missing values); c02 3 levels, c03 12 levels, c04 30 levels (Zipf
s = 0.8, 1 % missing). Integer columns are ``int64``,
float columns ``float64``, categorical columns ``object`` arrays of ``str``.
Every tool sees the same frames and the same column types: loopml a
:class:`loopml.schema.Schema` (float / integer / categorical), Evidently a
``DataDefinition`` (numerical / categorical columns), NannyML
``treat_as_numerical`` / ``treat_as_categorical``.

The tools
---------
``loopml``
    ``loopml.monitoring.compute_drift(reference, current, schema)`` with its
    defaults: the automatic test choice (above 1000 reference rows
    Wasserstein distance in reference standard deviations >= 0.1 for numeric
    columns, Jensen-Shannon distance >= 0.1 for categorical ones).
``evidently``
    Evidently's current API: ``Report([DataDriftPreset()], include_tests=True)``
    run on two ``Dataset.from_pandas`` (both timed); its defaults choose the
    same tests and thresholds. A column counts as detected when its
    "Value Drift" test fails.
``nannyml``
    ``UnivariateDriftCalculator`` with ``continuous_methods=["wasserstein"]``,
    ``categorical_methods=["jensen_shannon"]`` and its default chunking (10
    chunks); ``fit(reference)`` and ``calculate(current)`` are timed. NannyML
    sets thresholds from the spread of the statistic over the reference
    chunks (not a fixed cut-off) and works per chunk; a column counts as
    detected when any current chunk raises an alert.
``floor``
    The same tests loopml chooses, written plainly with vectorised
    numpy/scipy (see :func:`floor_drift`): Wasserstein-1 from the two sorted
    samples via their quantile functions, divided by ``np.std`` of the
    reference; Jensen-Shannon from ``np.bincount`` of ``pandas.factorize``
    codes (hashing; ``np.unique`` on strings sorts and is ~40x slower) and
    ``scipy.spatial.distance.jensenshannon``. KS and chi-square below 1001
    reference rows, as loopml does.

How it is measured
------------------
Each tool runs in a fresh child process (``sys.executable bench/drift.py
--child TOOL``), so its peak memory is its own. The child imports the tool,
builds the frames from the seed, runs the tool once on the first 2000 rows
as a warm-up (lazy imports, first-call caches), then calls ``gc.collect()``
and glibc ``malloc_trim(0)`` and records its resident set size (RSS) as the
baseline. Peak memory is the kernel's high-water mark of the RSS
(``VmHWM`` in ``/proc/self/status``), reset to the current RSS just before
the timed call by writing ``5`` to ``/proc/self/clear_refs``; the figure is
``VmHWM - baseline``, i.e. peak RSS above the loaded frames (and imports).
This counts every allocation (numpy, pandas, Python objects, C libraries)
at no cost to the tool, unlike ``tracemalloc`` (Python-level allocations
only, and it slows Python-heavy code) or a sampling thread (misses short
peaks). Where ``clear_refs`` is not available the child falls back to
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (whose high-water mark may
include the frame building, so it can understate) and says so. Wall time is
``time.perf_counter`` around the drift computation only (not imports, data
generation or reading the results).

``--quick`` skips Evidently and NannyML at sizes of 1M rows and more (about
two minutes and more than a gigabyte for Evidently alone). With ``--json`` the
last line of output is one JSON object with every figure plus
``speedup_vs_evidently_1m`` (Evidently seconds / loopml seconds),
``memory_ratio_vs_evidently_1m`` (loopml peak MB above the frames /
Evidently's), ``slowdown_vs_floor_1m`` (loopml seconds / floor seconds) and
``true_positives`` / ``false_positives`` (loopml's detected columns at 1M
rows against the 7 shifted ones); these are ``null`` when 1M rows were not
run. Evidently and NannyML are optional (``pip install 'loopml[bench]'``); a
tool that does not import is reported as skipped.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TOOLS = ("loopml", "evidently", "nannyml", "floor")
ANCHORS = ("evidently", "nannyml")
SHIFTED = frozenset({"n00", "n01", "n02", "n03", "n04", "c00", "c01"})
NUMERIC = tuple(f"n{i:02d}" for i in range(20))
CATEGORICAL = tuple(f"c{i:02d}" for i in range(5))
INTEGER = frozenset({"n04"} | {f"n{i:02d}" for i in range(5, 20) if i % 8 in (3, 7)})
WARM_UP_ROWS = 2000
ONE_MILLION = 1_000_000


# ----------------------------------------------------------------------- data


def _zipf(k: int, s: float) -> np.ndarray:
    shares = 1.0 / np.arange(1, k + 1, dtype=np.float64) ** s
    return np.asarray(shares / shares.sum(), dtype=np.float64)


def _labels(k: int) -> np.ndarray:
    return np.array([f"{chr(97 + k % 26)}{i:02d}" for i in range(k)], dtype=object)


def _categorical(
    rng: np.random.Generator, n: int, shares: np.ndarray, missing: float
) -> np.ndarray:
    values = _labels(shares.size)[rng.choice(shares.size, size=n, p=shares)]
    if missing:
        values[rng.random(n) < missing] = None
    return values


def _unshifted_numeric(rng: np.random.Generator, index: int, n: int) -> np.ndarray:
    kind = index % 8
    if kind == 0:
        return rng.normal(10.0, 3.0, n)
    if kind == 1:
        return rng.lognormal(1.0, 0.5, n)
    if kind == 2:
        return rng.uniform(-5.0, 5.0, n)
    if kind == 3:
        return rng.poisson(30, n).astype(np.int64)
    if kind == 4:
        return rng.exponential(2.0, n)
    if kind == 5:
        return rng.standard_t(5, n)
    if kind == 6:
        return rng.beta(2.0, 5.0, n)
    return rng.integers(0, 10_000, n, dtype=np.int64)


def make_frame(n: int, seed: int, *, current: bool) -> pd.DataFrame:
    """Build the reference (``current=False``) or current frame of ``n`` rows."""
    rng = np.random.default_rng([seed, int(current)])
    shift = 1.0 if current else 0.0
    columns: dict[str, np.ndarray] = {
        "n00": rng.normal(0.3 * shift, 1.0, n),
        "n01": rng.normal(5.0, 2.0 * (1.0 + 0.5 * shift), n),
        "n02": rng.lognormal(0.3 * shift, 0.75, n),
        "n03": rng.uniform(1.0 * shift, 10.0 + 1.0 * shift, n),
        "n04": np.round(rng.normal(500.0 + 40.0 * shift, 100.0, n)).astype(np.int64),
    }
    for i in range(5, 20):
        values = _unshifted_numeric(rng, i, n)
        if i in (9, 13):
            values[rng.random(n) < 0.01] = np.nan
        columns[f"n{i:02d}"] = values
    c00 = np.array([0.40, 0.25, 0.15, 0.12, 0.08])
    c01 = _zipf(50, 1.1)
    if current:
        c00 = np.array([0.28, 0.24, 0.18, 0.16, 0.14])
        c01 = c01.copy()
        c01[0] *= 0.6
        c01[10:20] *= 2.0
        c01 /= c01.sum()
    columns["c00"] = _categorical(rng, n, c00, 0.0)
    columns["c01"] = _categorical(rng, n, c01, 0.0)
    columns["c02"] = _categorical(rng, n, np.array([0.5, 0.3, 0.2]), 0.0)
    columns["c03"] = _categorical(
        rng, n, np.linspace(1.0, 2.0, 12) / np.linspace(1.0, 2.0, 12).sum(), 0.0
    )
    columns["c04"] = _categorical(rng, n, _zipf(30, 0.8), 0.01)
    assert all(isinstance(k, str) for k in columns)
    frame = pd.DataFrame(columns)
    assert tuple(frame.columns) == NUMERIC + CATEGORICAL
    assert set(frame.columns[frame.dtypes == np.int64]) == INTEGER
    return frame


# ---------------------------------------------------------------------- tools


def run_loopml(reference: pd.DataFrame, current: pd.DataFrame) -> Callable[[], set[str]]:
    from loopml.monitoring import compute_drift
    from loopml.schema import ColumnSchema, LogicalType, Schema

    def logical(name: str) -> LogicalType:
        if name in CATEGORICAL:
            return LogicalType.CATEGORICAL
        return LogicalType.INTEGER if name in INTEGER else LogicalType.FLOAT

    schema = Schema(
        columns=tuple(
            ColumnSchema(name, logical(name), nullable=True) for name in reference.columns
        )
    )
    return lambda: set(map(str, compute_drift(reference, current, schema).drifted_columns))


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> Callable[[], set[str]]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=list(NUMERIC), categorical_columns=list(CATEGORICAL)
    )

    def run() -> Any:
        report = Report([DataDriftPreset()], include_tests=True)
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )

    return run


def evidently_detected(snapshot: Any) -> set[str]:
    """Columns whose Evidently "Value Drift" test failed."""
    detected = set()
    for test in snapshot.dict()["tests"]:
        params = test["metric_config"]["params"]
        if params.get("type", "").endswith("ValueDrift") and test["status"] == "FAIL":
            detected.add(str(params["column"]))
    return detected


def run_nannyml(reference: pd.DataFrame, current: pd.DataFrame) -> Callable[[], Any]:
    import nannyml

    def run() -> Any:
        calculator = nannyml.UnivariateDriftCalculator(
            column_names=list(NUMERIC + CATEGORICAL),
            treat_as_numerical=list(NUMERIC),
            treat_as_categorical=list(CATEGORICAL),
            continuous_methods=["wasserstein"],
            categorical_methods=["jensen_shannon"],
        )
        calculator.fit(reference)
        return calculator.calculate(current)

    return run


def nannyml_detected(result: Any) -> set[str]:
    """Columns with an alert in at least one current (analysis) chunk."""
    frame = result.filter(period="analysis").to_df()
    return {
        str(column)
        for column, method, field in frame.columns
        if field == "alert" and column != "chunk" and bool(frame[(column, method, field)].any())
    }


def _w1_sorted(u: np.ndarray, v: np.ndarray) -> float:
    """Wasserstein-1 distance of two *sorted* samples: the integral of |Fu^-1 - Fv^-1|.

    Breakpoints of the two quantile functions are ``i/n`` and ``j/m``; on the
    common denominator ``n*m`` they are the integers ``i*m`` and ``j*n``, so
    merging them and indexing each sample is exact integer work.
    """
    n, m = u.size, v.size
    if n == m:
        return float(np.mean(np.abs(u - v)))
    levels = np.concatenate(
        (np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n)
    )
    levels.sort(kind="stable")  # two sorted runs: a linear merge
    widths = np.diff(levels, prepend=0) / (n * m)
    gaps = np.abs(u[(levels + m - 1) // m - 1] - v[(levels + n - 1) // n - 1])
    return float(np.dot(widths, gaps))


def floor_drift(reference: pd.DataFrame, current: pd.DataFrame) -> set[str]:
    """The tests loopml chooses, in plain vectorised numpy/scipy; returns drifted columns."""
    from scipy import stats
    from scipy.spatial import distance

    large = len(reference) > 1000
    drifted = set()
    for name in NUMERIC:
        u = reference[name].to_numpy(dtype=np.float64)
        v = current[name].to_numpy(dtype=np.float64)
        if not large:
            u, v = u[~np.isnan(u)], v[~np.isnan(v)]
            if stats.ks_2samp(u, v).pvalue < 0.05:
                drifted.add(name)
            continue
        u, v = np.sort(u[np.isfinite(u)]), np.sort(v[np.isfinite(v)])
        scale = np.std(u)
        if _w1_sorted(u, v) / scale >= 0.1:
            drifted.add(name)
    for name in CATEGORICAL:
        codes, _ = pd.factorize(
            np.concatenate((reference[name].to_numpy(), current[name].to_numpy()))
        )
        n_ref = len(reference)
        ref_codes, cur_codes = codes[:n_ref], codes[n_ref:]
        k = int(codes.max()) + 1
        p = np.bincount(ref_codes[ref_codes >= 0], minlength=k)  # -1 marks missing
        q = np.bincount(cur_codes[cur_codes >= 0], minlength=k)
        if not large:
            if stats.chi2_contingency(np.vstack((p, q)), correction=False).pvalue < 0.05:
                drifted.add(name)
        elif distance.jensenshannon(p / p.sum(), q / q.sum(), base=2.0) >= 0.1:
            drifted.add(name)
    return drifted


RUNNERS: dict[str, tuple[Callable[..., Callable[[], Any]], Callable[[Any], set[str]]]] = {
    "loopml": (run_loopml, lambda detected: detected),
    "evidently": (run_evidently, evidently_detected),
    "nannyml": (run_nannyml, nannyml_detected),
    "floor": (lambda ref, cur: lambda: floor_drift(ref, cur), lambda detected: detected),
}


# ---------------------------------------------------------------- measurement


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def child(tool: str, rows: int, seed: int) -> dict[str, Any]:
    """Measure one tool on one size in this (fresh) process."""
    warnings.filterwarnings("ignore")
    prepare, detected_of = RUNNERS[tool]
    reference = make_frame(rows, seed, current=False)
    current = make_frame(rows, seed, current=True)
    warm = min(rows, WARM_UP_ROWS)
    prepare(reference.head(warm).copy(), current.head(warm).copy())()
    run = prepare(reference, current)
    _trim()
    baseline_kb = _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    exact = _reset_peak()
    start = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - start
    peak_kb = _status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    detected = sorted(detected_of(outcome))
    return {
        "tool": tool,
        "rows": rows,
        "seconds": round(seconds, 3),
        "peak_mb": round(max(0, (peak_kb or 0) - baseline_kb) / 1024, 1),
        "baseline_mb": round(baseline_kb / 1024, 1),
        "memory_method": "VmHWM reset by clear_refs" if exact else "ru_maxrss (may understate)",
        "detected": detected,
        "true_positives": len(SHIFTED.intersection(detected)),
        "false_positives": len(set(detected) - SHIFTED),
    }


def measure(tool: str, rows: int, seed: int, timeout: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its JSON line."""
    command = [sys.executable, __file__, "--child", tool, "--rows", str(rows), "--seed", str(seed)]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "rows": rows, "error": f"timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"tool": tool, "rows": rows, "error": f"exit {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def installed(tool: str) -> bool:
    if tool not in ANCHORS:
        return True
    try:
        __import__(tool)
    except Exception:  # noqa: BLE001 - any import failure means "not usable here"
        return False
    return True


def code_version() -> str | None:
    """``git describe --always --dirty`` of the checkout (what loopml code was measured)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            check=False,
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def label(rows: int) -> str:
    if rows >= ONE_MILLION and rows % ONE_MILLION == 0:
        return f"{rows // ONE_MILLION}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 2)


def main(argv: list[str] | None = None) -> int:
    """Measure every tool at every size, print tables (and a JSON line with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="rows per frame, e.g. 10k,100k,1M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="skip the anchors at >= 1M rows")
    parser.add_argument("--only", choices=TOOLS, action="append", help="tools to run (default all)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per tool and size")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.seed)))
        return 0

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    tools = [t for t in TOOLS if t in (args.only or TOOLS)]
    for tool in [t for t in tools if not installed(t)]:
        print(f"{tool} is not installed (pip install 'loopml[bench]'): skipped")
        tools.remove(tool)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for rows in sizes:
        size = label(rows)
        results[size] = {}
        for tool in tools:
            if args.quick and tool in ANCHORS and rows >= ONE_MILLION:
                print(f"--quick: {tool} skipped at {size} rows")
                continue
            print(f"measuring {tool} at {size} rows ...", file=sys.stderr, flush=True)
            results[size][tool] = measure(tool, rows, args.seed, args.timeout)
        print_table(size, results[size])

    figures: dict[str, Any] = {"sizes": results, "truth": sorted(SHIFTED), "code": code_version()}
    for size, by_tool in results.items():
        ours = by_tool.get("loopml", {})
        for tool in ("evidently", "nannyml"):
            theirs = by_tool.get(tool, {})
            figures[f"speedup_vs_{tool}_{size.lower()}"] = _ratio(
                theirs.get("seconds"), ours.get("seconds")
            )
            figures[f"memory_ratio_vs_{tool}_{size.lower()}"] = _ratio(
                ours.get("peak_mb"), theirs.get("peak_mb")
            )
        figures[f"slowdown_vs_floor_{size.lower()}"] = _ratio(
            ours.get("seconds"), by_tool.get("floor", {}).get("seconds")
        )
    one_m = results.get("1M", {}).get("loopml", {})
    figures["true_positives"] = one_m.get("true_positives")
    figures["false_positives"] = one_m.get("false_positives")
    for key in ("speedup_vs_evidently_1m", "memory_ratio_vs_evidently_1m", "slowdown_vs_floor_1m"):
        figures.setdefault(key, None)
    print(
        "at 1M rows: loopml speedup vs Evidently {speedup_vs_evidently_1m}, memory ratio "
        "{memory_ratio_vs_evidently_1m}, slowdown vs floor {slowdown_vs_floor_1m}, "
        "TP {true_positives}/7, FP {false_positives}".format(**figures)
    )
    if args.json:
        print(json.dumps(figures))
    failed = any("error" in r for by_tool in results.values() for r in by_tool.values())
    return 1 if failed else 0


def print_table(size: str, by_tool: dict[str, dict[str, Any]]) -> None:
    """One table per size: seconds, peak MB above the frames, detections against the truth."""
    print(f"\n{size} rows per frame (truth: {', '.join(sorted(SHIFTED))})")
    print(
        f"{'tool':<10}{'seconds':>10}{'peak MB':>10}{'detected':>10}{'TP':>4}{'FP':>4}  misses / false alarms"
    )
    for tool, r in by_tool.items():
        if "error" in r:
            print(f"{tool:<10}  {r['error']}")
            continue
        detected = set(r["detected"])
        notes = sorted(SHIFTED - detected, key=str)
        extra = sorted(detected - SHIFTED, key=str)
        note = f"missed {notes}" if notes else ""
        note += f" false {extra}" if extra else ""
        print(
            f"{tool:<10}{r['seconds']:>10.2f}{r['peak_mb']:>10.1f}{len(detected):>10}"
            f"{r['true_positives']:>4}{r['false_positives']:>4}  {note}"
        )
    ours = by_tool.get("loopml")
    if ours and "error" not in ours:
        parts = []
        for tool in ("evidently", "nannyml", "floor"):
            theirs = by_tool.get(tool)
            if theirs and "error" not in theirs:
                if tool == "floor":
                    parts.append(f"slowdown vs floor {_ratio(ours['seconds'], theirs['seconds'])}x")
                else:
                    parts.append(
                        f"speedup vs {tool} {_ratio(theirs['seconds'], ours['seconds'])}x "
                        f"(memory ratio {_ratio(ours['peak_mb'], theirs['peak_mb'])})"
                    )
        if parts:
            print("loopml: " + "; ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
