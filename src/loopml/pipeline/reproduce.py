"""Rerun a recorded pipeline run and say whether its metrics and artifacts come out the same.

:func:`reproduce_run` reads what the run recorded (``pipeline.json``: the spec
as run, input fingerprints, seeds; see :mod:`loopml.pipeline.record`), gets
the inputs (verifying each fingerprint *before* anything runs), then runs the
steps with the installed code, outside the step cache and without touching the
registry:

- ``register`` writes its model package to a scratch folder instead of
  registering it; the package is compared file by file with the recorded
  model version's package;
- ``promote`` is not replayed (it would move an alias).

It compares, each as a :class:`Check`: every evaluation metric (within
``tolerance``), the fingerprints of the loaded data and of the train and test
splits, the SHA-256 of every package file, and each step's cache key (which
hashes the step's code, params and inputs: a different key with equal results
means the code changed without changing the outcome). It also reports the
recorded and current git commit and the package versions that differ.

A skops model file embeds object ids and zip timestamps, so two saves of the
same fitted model differ byte for byte; ``model.skops`` is compared by
:func:`skops_digest`, a hash of its content with those normalised.

Input frames passed to a run (``source: input:<name>``) are fingerprinted, not
stored. Reproduce finds them in the step cache while the cached load output is
the same table; otherwise the caller passes them (``inputs=``, ``loopml
reproduce RUN --input name=path.parquet``) and a frame whose fingerprint
differs is refused.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from loopml.entities import ModelVersion, Run
from loopml.errors import ConfigurationError, DataError, NotFoundError, PipelineError
from loopml.pipeline.cache import StepCache, cache_key
from loopml.pipeline.compare import Check, Reproduction, compare_packages, skops_digest
from loopml.pipeline.record import RECORD_FILE, RECORD_FORMAT, read_record, spec_seeds
from loopml.pipeline.spec import PipelineSpec
from loopml.pipeline.steps import KINDS, StepContext

__all__ = ["Check", "Reproduction", "reproduce_run", "skops_digest"]

Progress = Callable[[str, str], None]
InputSource: TypeAlias = pd.DataFrame | str | Path


class _PackageCapture:
    """Stands in for the registry during a rerun: keeps the package instead of registering it."""

    def __init__(self, folder: Path, version: int) -> None:
        self.folder = folder
        self.version = version

    def register(self, name: str, package_dir: Path, **_: Any) -> ModelVersion:
        shutil.copytree(package_dir, self.folder)
        return ModelVersion(name=name, version=self.version, source=str(self.folder),
                            run_id=None, created_at=datetime.now(UTC))


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            _flatten(f"{prefix}.{key}", child, out)
    else:
        out[prefix] = str(value)


def _spec_for(run: Run, record: dict[str, Any] | None, spec: PipelineSpec | None) -> PipelineSpec:
    if record is None:
        if spec is None:
            raise ConfigurationError(
                f"run {run.id} has no {RECORD_FILE} among its artifacts (it was recorded before "
                "loopml kept the pipeline spec with each run): pass the pipeline file it ran "
                "(--spec FILE); its params are checked against the run's"
            )
        flat: dict[str, str] = {}
        for step in spec.steps:
            _flatten(step.name, step.params, flat)
        differ = sorted(k for k in set(flat) | set(run.params) if flat.get(k) != run.params.get(k))
        if differ:
            raise ConfigurationError(
                f"pipeline {spec.name!r} does not have the params run {run.id} recorded: "
                f"{', '.join(differ[:10])} differ"
            )
        return spec
    if spec is not None:
        raise ConfigurationError(
            f"run {run.id} recorded the spec it ran; a pipeline file is only taken for runs "
            "recorded without one"
        )
    if int(record.get("format", 0)) > RECORD_FORMAT:
        raise ConfigurationError(
            f"run {run.id}: {RECORD_FILE} has format {record.get('format')}, newer than this "
            f"loopml reads ({RECORD_FORMAT})"
        )
    return PipelineSpec.from_dict(record["spec"], base_dir=record.get("base_dir"))


def _read_frame(source: InputSource, name: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.is_file():
        raise DataError(f"input {name!r}: file {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise DataError(f"input {name!r}: {str(path)!r} is not a .parquet or .csv file")


def _resolve_inputs(
    run: Run,
    spec: PipelineSpec,
    record: dict[str, Any] | None,
    given: Mapping[str, InputSource],
    cache: StepCache,
    notes: list[str],
) -> dict[str, pd.DataFrame]:
    from loopml.data import fingerprint

    loads = {s.params["source"][6:]: s for s in spec.steps
             if s.kind == "load" and str(s.params["source"]).startswith("input:")}
    if record is not None:
        recorded = {n: v for n, v in record.get("inputs", {}).items() if n in loads}
    else:  # older runs: the load output's fingerprint is checked after the load step
        recorded = {i.name[6:]: None for i in run.inputs
                    if i.role == "source" and i.name.startswith("input:") and i.name[6:] in loads}
    unknown = sorted(set(given) - set(recorded))
    if unknown:
        read = ", ".join(sorted(recorded)) or "none"
        raise ConfigurationError(
            f"run {run.id} read no input frame named {', '.join(map(repr, unknown))} "
            f"(input frames it read: {read})"
        )
    frames: dict[str, pd.DataFrame] = {}
    for name, facts in sorted(recorded.items()):
        if name in given:
            frame = _read_frame(given[name], name)
            if facts is not None and fingerprint(frame) != facts["fingerprint"]:
                raise DataError(
                    f"input {name!r} is not the data run {run.id} read: fingerprint "
                    f"{fingerprint(frame)[:16]}... ({len(frame)} rows), recorded "
                    f"{facts['fingerprint'][:16]}... ({facts['n_rows']} rows)"
                )
            frames[name] = frame
            continue
        key = run.tags.get(f"cache_key.{loads[name].name}")
        cached = None if key is None or facts is None else cache.get(key)
        if cached is not None and fingerprint(cached["data"]) == facts["fingerprint"]:
            frames[name] = cached["data"]
            notes.append(f"input {name!r} taken from the step cache (same fingerprint)")
            continue
        shape = "" if facts is None else (
            f" ({facts['n_rows']} rows x {facts['n_columns']} columns, fingerprint "
            f"{facts['fingerprint']})"
        )
        raise DataError(
            f"run {run.id} read the input frame {name!r}{shape}, which loopml does not store: "
            f"reproduce needs it, pass --input {name}=PATH.parquet (its fingerprint is checked "
            "before anything runs)"
        )
    return frames


def _recorded_version(run: Run, store: Any) -> tuple[str, int] | None:
    tag = run.tags.get("model_version")
    if tag:
        name, _, version = tag.rpartition("/")
        return name, int(version)
    for edge in store.edges_from(f"run:{run.id}"):
        if edge.relation == "produced" and edge.target.startswith("model_version:"):
            name, _, version = edge.target.removeprefix("model_version:").rpartition("/")
            return name, int(version)
    return None


def _code(run: Run) -> dict[str, Any]:
    from loopml.tracking import capture_environment, git_commit

    now = capture_environment()
    then = run.environment or {}
    old_packages, new_packages = then.get("packages") or {}, now.get("packages") or {}
    packages = {name: [old_packages.get(name), new_packages.get(name)]
                for name in sorted(set(old_packages) | set(new_packages))
                if old_packages.get(name) != new_packages.get(name)}
    return {
        "recorded_commit": run.git_commit,
        "current_commit": git_commit(),
        "python": [then.get("python"), now.get("python")],
        "packages": packages,
    }


def reproduce_run(
    run_id: str,
    *,
    store: Any,
    artifacts: Any,
    inputs: Mapping[str, InputSource] | None = None,
    spec: PipelineSpec | None = None,
    tolerance: float = 1e-9,
    progress: Progress | None = None,
) -> Reproduction:
    """Rerun pipeline run ``run_id`` from its record and compare the outcome with it.

    Parameters
    ----------
    run_id : str
        A run made by :func:`loopml.pipeline.run_pipeline`.
    store : MetadataStore
        Read only: the run, its metrics and tags, the step cache index, the
        recorded model version.
    artifacts : ArtifactStore
        Read only: ``pipeline.json``, cached inputs, the recorded package.
    inputs : mapping of str to DataFrame or path, optional
        Input frames the run read (``.parquet`` or ``.csv`` paths accepted),
        by name; each must have the recorded fingerprint.
    spec : PipelineSpec, optional
        Only for runs recorded without ``pipeline.json``: the pipeline they
        ran, whose params must equal the run's recorded params.
    tolerance : float, default 1e-9
        Largest absolute difference at which two metric values agree.
    progress : callable, optional
        ``progress(step, status)`` with status ``running``, ``done`` or ``skipped``.

    Returns
    -------
    Reproduction

    Raises
    ------
    NotFoundError
        If there is no run ``run_id``.
    ConfigurationError
        If the run has no record and no ``spec`` was given (or it does not
        match), or ``inputs`` names a frame the run did not read.
    DataError
        If an input frame is needed but neither given nor cached, if a given
        frame's fingerprint differs from the recorded one, or if a load step
        now reads other data than the run did; the message names the run,
        the input or step, and both fingerprints.
    PipelineError
        If a step fails; names the run and the step.

    Examples
    --------
    >>> import loopml
    >>> with loopml.connect() as client:  # doctest: +SKIP
    ...     result = reproduce_run(run_id, store=client.store, artifacts=client.artifacts,
    ...                            inputs={"train": "july.parquet"})
    >>> result.matches, [c.name for c in result.checks if not c.matches]  # doctest: +SKIP
    (True, [])
    """
    from loopml.data import fingerprint

    started = time.perf_counter()
    report = progress or (lambda step, status: None)
    run = store.get_run(run_id)
    record = read_record(artifacts, run.artifact_uri)
    spec = _spec_for(run, record, spec)
    cache = StepCache(store, artifacts)
    notes: list[str] = []
    frames = _resolve_inputs(run, spec, record, dict(inputs or {}), cache, notes)
    recorded_inputs = {(i.role, i.name): i.fingerprint for i in run.inputs}
    metrics = {m.key: m.value for m in store.get_metric_history(run_id)}
    version = _recorded_version(run, store)
    checks: list[Check] = []
    if record is not None:
        now = spec_seeds(spec)
        for name, value in sorted((record.get("seeds") or {}).items()):
            checks.append(Check("seed", name, value, now.get(name), value == now.get(name)))
    keys: dict[str, str] = {}
    produced: dict[str, dict[str, Any]] = {}
    ancestors: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="loopml-reproduce-") as tmp:
        capture = _PackageCapture(Path(tmp) / "package", version[1] if version else 0)
        for step in spec.steps:
            ancestors[step.name] = {a for i in step.inputs for a in (i, *ancestors[i])}
            upstream: dict[str, Any] = {}
            for earlier in spec.steps:
                if earlier.name in ancestors[step.name] and earlier.name in produced:
                    upstream.update(produced[earlier.name])
            kind = KINDS[step.kind]
            ctx = StepContext(step=step, upstream=upstream, pipeline=spec.name,
                              model_name=spec.model, base_dir=spec.base_dir, inputs=frames,
                              run_id=run.id, registry=capture)
            if step.kind == "promote":
                notes.append(f"step {step.name!r} (promote) not replayed: it would move an alias")
                report(step.name, "skipped")
                continue
            report(step.name, "running")
            try:
                key = cache_key(step.kind, kind.run, step.params,
                                [keys[i] for i in step.inputs], kind.identity(step, ctx))
                outputs = kind.run(step, ctx)
            except DataError as exc:
                raise DataError(f"reproducing run {run.id}: step {step.name!r}: {exc}") from exc
            except Exception as exc:
                raise PipelineError(
                    f"reproducing run {run.id}: step {step.name!r} ({step.kind}) failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            keys[step.name] = key
            produced[step.name] = outputs
            old_key = run.tags.get(f"cache_key.{step.name}")
            checks.append(Check(
                "step", step.name, old_key, key, old_key == key,
                "not recorded" if old_key is None else (
                    "same step code, params and inputs" if old_key == key
                    else "step code, params or inputs differ from the run's"),
            ))
            checks.extend(_step_checks(run, step.name, step.kind, outputs, recorded_inputs,
                                       metrics, tolerance, fingerprint))
            report(step.name, "done")
        if capture.folder.is_dir():
            checks.extend(_package_checks(run, version, capture.folder, store, artifacts, notes))
    return Reproduction(
        run_id=run.id,
        pipeline=spec.name,
        model_version=None if version is None else f"{version[0]}/{version[1]}",
        checks=tuple(checks),
        code=_code(run),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


def _step_checks(
    run: Run,
    name: str,
    kind: str,
    outputs: Mapping[str, Any],
    recorded: Mapping[tuple[str, str], str],
    metrics: Mapping[str, float],
    tolerance: float,
    fingerprint: Callable[[pd.DataFrame], str],
) -> list[Check]:
    if kind == "load":
        source = str(outputs["source"]["name"])
        old, new = recorded.get(("source", source)), fingerprint(outputs["data"])
        if old is not None and old != new:
            raise DataError(
                f"reproducing run {run.id}: step {name!r} read {source!r} with fingerprint "
                f"{new[:16]}..., the run read {old[:16]}...; reproduce needs the same data"
            )
        return [Check("dataset", source, old, new, old == new, "loaded data")]
    if kind == "split":
        return [
            Check("dataset", f"{name}.{part}", recorded.get((part, f"{name}.{part}")),
                  fingerprint(outputs[part]),
                  recorded.get((part, f"{name}.{part}")) == fingerprint(outputs[part]),
                  f"{part} split")
            for part in ("train", "test")
        ]
    if kind == "evaluate":
        checks = []
        for key, value in sorted(outputs["metrics"].items()):
            old_value = metrics.get(key)
            same = old_value is not None and (
                abs(old_value - value) <= tolerance or (math.isnan(old_value) and math.isnan(value))
            )
            note = "" if old_value is None else f"difference {value - old_value:+.3g}"
            checks.append(Check("metric", key, old_value, float(value), same, note))
        return checks
    return []


def _package_checks(
    run: Run,
    version: tuple[str, int] | None,
    rerun: Path,
    store: Any,
    artifacts: Any,
    notes: list[str],
) -> list[Check]:
    if version is None:
        notes.append(f"run {run.id} recorded no model version: the package was not compared")
        return []
    try:
        source = store.get_model_version(*version).source
        folder = artifacts.get_dir(source)
    except NotFoundError:
        notes.append(
            f"model version {version[0]}/{version[1]} or its package no longer exists: "
            "the package was not compared"
        )
        return []
    return compare_packages(Path(folder), rerun)
