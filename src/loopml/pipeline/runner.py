"""Run a pipeline: one tracking run, cached steps, lineage edges.

:func:`run_pipeline` walks the steps in order. For each step it computes the
cache key (:func:`loopml.pipeline.cache.cache_key`); a cacheable step whose
key is in the cache completes from the stored outputs, any other step runs
and (if cacheable) stores its outputs. ``register`` is cached too, so a rerun
with nothing changed returns the version registered before instead of adding
one; ``promote`` is cheap and always re-evaluates its gate.

The tracking run records every step param (``<step>.<param>``), the
evaluation metrics, the datasets read (load output, train and test splits),
a ``cache.<step>`` tag (``hit``/``miss``), a ``cache_key.<step>`` tag, a
``model_version`` tag (``<name>/<version>``, also when ``register`` came from
the cache), the promotion decision, and ``pipeline.json`` among its artifacts
(the spec as run, the fingerprints of the input frames and the seeds; see
:mod:`loopml.pipeline.record`), which :mod:`loopml.pipeline.reproduce` reruns
from. Lineage:
``pipeline:<name> -executed-> run:<id>``, ``dataset:<fp> -input-> run:<id>``
and ``run:<id> -produced-> model_version:<name>/<v>`` for a new version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loopml.entities import RunStatus
from loopml.errors import NotFoundError, PipelineError
from loopml.pipeline.cache import StepCache, cache_key
from loopml.pipeline.record import pipeline_record, write_record
from loopml.pipeline.spec import PipelineSpec, StepSpec
from loopml.pipeline.steps import KINDS, StepContext, TrainedModel
from loopml.schema import Schema
from loopml.tracking import ActiveRun, Tracker

__all__ = ["PipelineResult", "StepResult", "run_pipeline"]

Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class StepResult:
    """How one step went: its cache key, whether it came from cache, time, summary."""

    name: str
    kind: str
    cache_key: str
    cached: bool
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineResult:
    """Outcome of :func:`run_pipeline`.

    ``model_version`` is ``(name, version)`` of the version the ``register``
    step registered (or found in cache), ``None`` without a register step.
    """

    run_id: str
    model_version: tuple[str, int] | None
    steps: tuple[StepResult, ...]
    metrics: dict[str, float] = field(default_factory=dict)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            _flatten(f"{prefix}.{key}", child, out)
    else:
        out[prefix] = str(value)


def _summary(outputs: Mapping[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, value in outputs.items():
        if isinstance(value, pd.DataFrame):
            summary[name] = {"rows": int(value.shape[0]), "columns": int(value.shape[1])}
        elif isinstance(value, dict):
            summary[name] = dict(value)
        elif isinstance(value, TrainedModel):
            summary[name] = {"features": len(value.features), "label": value.label}
        elif isinstance(value, Schema):
            summary[name] = {"columns": len(value.columns)}
    return summary


def _still_valid(step: StepSpec, outputs: Mapping[str, Any], store: Any) -> bool:
    """A cached ``register`` output is only reused while its version exists."""
    version = outputs.get("model_version")
    if step.kind != "register" or version is None:
        return True
    try:
        store.get_model_version(version["name"], int(version["version"]))
    except NotFoundError:
        return False
    return True


def _record(run: ActiveRun, step: StepSpec, outputs: Mapping[str, Any]) -> None:
    """Log what the step produced to the tracking run."""
    if step.kind == "load":
        run.log_input(outputs["data"], name=str(outputs["source"]["name"]), role="source")
    elif step.kind == "split":
        run.log_input(outputs["train"], name=f"{step.name}.train", role="train")
        run.log_input(outputs["test"], name=f"{step.name}.test", role="test")
    elif step.kind == "evaluate":
        run.log_metrics(outputs["metrics"], step=0)
    elif step.kind == "promote":
        decision = outputs["promotion"]
        verdict = "rejected"
        if decision["passed"]:
            verdict = "promoted" if decision["promoted"] else "unchanged"
        run.set_tags({f"{step.name}.decision": verdict, f"{step.name}.reason": decision["reason"]})


def run_pipeline(
    spec: PipelineSpec,
    *,
    tracker: Tracker,
    registry: Any,
    store: Any,
    artifacts: Any,
    inputs: Mapping[str, pd.DataFrame] | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> PipelineResult:
    """Run ``spec`` as one tracking run, reusing cached step outputs.

    Parameters
    ----------
    spec : PipelineSpec
        The pipeline.
    tracker : Tracker
        Records the run (experiment ``spec.experiment``).
    registry : Registry
        For ``register`` and ``promote`` steps.
    store : MetadataStore
        Cache index and lineage edges.
    artifacts : ArtifactStore
        Cached step outputs (``cache/<key>/``).
    inputs : mapping of str to DataFrame, optional
        Frames read by ``source: input:<name>`` load steps.
    params : mapping, optional
        Overrides by dotted path, e.g. ``{"train.estimator_params.max_iter": 50}``.
    progress : callable, optional
        Called as ``progress(step_name, status)`` with status ``running``,
        ``cached``, ``done`` or ``failed``.

    Returns
    -------
    PipelineResult

    Raises
    ------
    ConfigurationError
        If an override names no step or makes the spec invalid (before any run starts).
    PipelineError
        If a step fails; names the step. The run is then marked ``FAILED``.
    """
    if params:
        spec = spec.with_params(params)
    notify: Progress = progress or (lambda name, status: None)
    frames = dict(inputs or {})
    cache = StepCache(store, artifacts)
    run = tracker.start_run(spec.experiment, tags={"pipeline": spec.name})
    store.add_edges([(f"pipeline:{spec.name}", f"run:{run.id}", "executed")])
    write_record(run, pipeline_record(spec, frames))
    keys: dict[str, str] = {}
    produced: dict[str, dict[str, Any]] = {}
    ancestors: dict[str, set[str]] = {}
    results: list[StepResult] = []
    current: StepSpec | None = None
    try:
        logged: dict[str, str] = {}
        for step in spec.steps:
            _flatten(step.name, step.params, logged)
        run.log_params(logged)
        for current in spec.steps:
            step = current
            ancestors[step.name] = {a for i in step.inputs for a in (i, *ancestors[i])}
            upstream: dict[str, Any] = {}
            for earlier in spec.steps:  # listed order: nearer ancestors win
                if earlier.name in ancestors[step.name]:
                    upstream.update(produced[earlier.name])
            ctx = StepContext(
                step=step,
                upstream=upstream,
                pipeline=spec.name,
                model_name=spec.model,
                base_dir=spec.base_dir,
                inputs=frames,
                run_id=run.id,
                registry=registry,
            )
            result = _run_step(step, ctx, cache, keys, produced, store, notify)
            results.append(result)
            _record(run, step, produced[step.name])
            run.set_tags({
                f"cache.{step.name}": "hit" if result.cached else "miss",
                f"cache_key.{step.name}": result.cache_key,
            })
            if step.kind == "register":
                version = produced[step.name]["model_version"]
                run.set_tag("model_version", f"{version['name']}/{version['version']}")
            if step.kind == "register" and not result.cached:
                target = f"model_version:{version['name']}/{version['version']}"
                store.add_edges([(f"run:{run.id}", target, "produced")])
        current = None
    except BaseException as exc:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        if current is not None:
            notify(current.name, "failed")
            run.set_tags({"failed_step": current.name, "error": str(exc)[:500]})
        run.end(status)
        if not isinstance(exc, Exception) or current is None:
            raise
        raise PipelineError(
            f"pipeline {spec.name!r}: step {current.name!r} ({current.kind}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    run.end(RunStatus.FINISHED)
    return _result(run.id, results, produced)


def _run_step(
    step: StepSpec,
    ctx: StepContext,
    cache: StepCache,
    keys: dict[str, str],
    produced: dict[str, dict[str, Any]],
    store: Any,
    notify: Progress,
) -> StepResult:
    kind = KINDS[step.kind]
    notify(step.name, "running")
    started = time.perf_counter()
    key = cache_key(
        step.kind, kind.run, step.params, [keys[i] for i in step.inputs], kind.identity(step, ctx)
    )
    keys[step.name] = key
    outputs = cache.get(key) if kind.cacheable else None
    cached = outputs is not None and _still_valid(step, outputs, store)
    if not cached:
        outputs = kind.run(step, ctx)
        if kind.cacheable:
            cache.put(key, step=step.name, outputs=outputs)
    assert outputs is not None
    produced[step.name] = outputs
    notify(step.name, "cached" if cached else "done")
    seconds = time.perf_counter() - started
    return StepResult(step.name, step.kind, key, cached, seconds, _summary(outputs))


def _result(
    run_id: str, results: list[StepResult], produced: Mapping[str, Mapping[str, Any]]
) -> PipelineResult:
    model_version: tuple[str, int] | None = None
    metrics: dict[str, float] = {}
    for outputs in produced.values():
        if "model_version" in outputs:
            mv = outputs["model_version"]
            model_version = (str(mv["name"]), int(mv["version"]))
        if "metrics" in outputs:
            metrics.update(outputs["metrics"])
    return PipelineResult(run_id, model_version, tuple(results), metrics)
