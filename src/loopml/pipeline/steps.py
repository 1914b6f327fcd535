"""Built-in step kinds: load, validate, split, train, evaluate, register, promote.

Each kind is a function ``(step, context) -> outputs`` where ``outputs`` is a
small dict of named values that downstream steps read through
:meth:`StepContext.value`:

==========  =========================================================
kind        outputs
==========  =========================================================
load        ``data`` (DataFrame), ``source`` (``{"name": <source read>}``)
validate    ``schema`` (:class:`loopml.schema.Schema`, label as target; inferred
            contracts let every feature be missing unless ``nullable: observed``)
split       ``train``, ``test`` (DataFrames)
train       ``model`` (:class:`TrainedModel`)
evaluate    ``metrics`` (dict of metric name -> float)
register    ``model_version`` (``{"name": ..., "version": ...}``)
promote     ``promotion`` (``{"promoted": bool, "alias": ..., "reason": ...}``)
==========  =========================================================

A step sees the outputs of all its ancestors (nearest wins), so ``evaluate``
after ``train`` finds both the model and the test split. The source code of
each function is part of its steps' cache keys: editing a kind invalidates
its cached outputs.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import ConfigurationError, DataError, NotFoundError, SchemaViolationError
from loopml.pipeline.estimators import build_estimator, score_binary
from loopml.pipeline.spec import StepSpec
from loopml.schema import Schema, infer_schema, validate

__all__ = ["KINDS", "StepContext", "StepKind", "TrainedModel"]


@dataclass(frozen=True)
class TrainedModel:
    """A fitted estimator with the feature schema and label it was trained on.

    ``estimator`` is a scikit-learn estimator (fresh from ``train``) or a
    :class:`loopml.models.LoadedModel` (read back from the step cache); both
    offer ``predict_proba``.
    """

    estimator: Any
    schema: Schema
    features: tuple[str, ...]
    label: str

    def fitted(self) -> Any:
        """The scikit-learn estimator itself (unwrapped from a LoadedModel)."""
        from loopml.models import LoadedModel

        if isinstance(self.estimator, LoadedModel):
            return self.estimator.estimator
        return self.estimator


@dataclass(frozen=True)
class StepContext:
    """What a step may read and act on while it runs.

    Parameters
    ----------
    step : StepSpec
        The step being run.
    upstream : mapping
        Outputs of every ancestor step, nearest ancestor winning on a clash.
    pipeline : str
        Pipeline name.
    model_name : str
        Registered model name (``register`` and ``promote``).
    base_dir : Path or None
        Folder of the pipeline YAML; relative paths resolve against it.
    inputs : mapping
        DataFrames passed by the caller, read by ``source: input:<name>``.
    run_id : str
        The tracking run of this pipeline run.
    registry : Registry
        Model registry (``register`` and ``promote``).
    """

    step: StepSpec
    upstream: Mapping[str, Any]
    pipeline: str
    model_name: str
    base_dir: Path | None
    inputs: Mapping[str, pd.DataFrame]
    run_id: str
    registry: Any

    def value(self, key: str) -> Any:
        """The upstream output ``key``; raises ConfigurationError naming the step."""
        if key not in self.upstream:
            raise ConfigurationError(
                f"step {self.step.name!r} ({self.step.kind}) needs {key!r}, which none of its "
                f"upstream steps {list(self.step.inputs)} produces"
            )
        return self.upstream[key]

    def path(self, relative: str) -> Path:
        """``relative`` resolved against the pipeline file's folder."""
        path = Path(relative)
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path


@dataclass(frozen=True)
class StepKind:
    """How the runner treats one kind of step.

    ``run`` computes the outputs; ``cacheable`` says whether they are stored
    and reused; ``identity`` adds what the cache key must see besides params
    and inputs (a source file's hash, the model name).
    """

    run: Callable[[StepSpec, StepContext], dict[str, Any]]
    cacheable: bool = True
    identity: Callable[[StepSpec, StepContext], str] = field(default=lambda step, ctx: "")


# -- load ---------------------------------------------------------------------


def _load_params(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    params = step.params
    source = params["source"]
    if source.startswith("input:") and source[6:] not in ctx.inputs and "fallback" in params:
        return dict(params["fallback"])
    return dict(params)


def _read_source(source: str, ctx: StepContext) -> pd.DataFrame:
    if source.startswith("input:"):
        name = source[6:]
        if name not in ctx.inputs:
            raise DataError(f"step {ctx.step.name!r}: no input frame {name!r} was passed")
        return ctx.inputs[name]
    if source == "demo:flights":
        from loopml.data.demo import load_flights

        return load_flights()
    if source.startswith("demo:"):
        raise ConfigurationError(f"step {ctx.step.name!r}: unknown demo source {source!r}")
    path = ctx.path(source)
    if not path.is_file():
        raise DataError(f"step {ctx.step.name!r}: source file {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise ConfigurationError(f"step {ctx.step.name!r}: source {source!r} is not .parquet or .csv")


def load_identity(step: StepSpec, ctx: StepContext) -> str:
    """Content hash of the source: file bytes, or the fingerprint of the frame."""
    from loopml.data import fingerprint

    source = _load_params(step, ctx)["source"]
    if source.startswith(("input:", "demo:")):
        return str(fingerprint(_read_source(source, ctx)))
    path = ctx.path(source)
    if not path.is_file():
        raise DataError(f"step {step.name!r}: source file {str(path)!r} does not exist")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Read the source, ``rename`` columns, keep ``columns``, filter rows with ``query``.

    With ``source: input:<name>`` and no such frame passed, the ``fallback``
    load params (another source, its own query ...) are used instead.
    """
    params = _load_params(step, ctx)
    frame = _read_source(params["source"], ctx)
    rename = params.get("rename") or {}
    if rename:
        _require_columns(step, frame, list(rename), "renamed")
        frame = frame.rename(columns=rename)
    columns = params.get("columns")
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"step {step.name!r}: source has no column(s) {missing}")
        frame = frame[columns]
    if params.get("query"):
        try:
            frame = frame.query(params["query"])
        except Exception as exc:
            raise DataError(f"step {step.name!r}: query {params['query']!r} failed: {exc}") from exc
    if frame.empty:
        raise DataError(f"step {step.name!r}: no rows left after loading {params['source']!r}")
    return {"data": frame.reset_index(drop=True), "source": {"name": params["source"]}}


# -- validate, split ----------------------------------------------------------


def _require_columns(step: StepSpec, frame: pd.DataFrame, names: list[str], what: str) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise DataError(f"step {step.name!r}: {what} column(s) {missing} are not in the data")


def validate_identity(step: StepSpec, ctx: StepContext) -> str:
    """Hash of the schema file the step checks against, if any."""
    if "schema" not in step.params:
        return ""
    return hashlib.sha256(ctx.path(step.params["schema"]).read_bytes()).hexdigest()


def validate_step(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Check the data against a schema file, or infer the contract from it."""
    frame: pd.DataFrame = ctx.value("data")
    label = step.params.get("label")
    features = step.params.get("features") or [c for c in frame.columns if c != label]
    _require_columns(step, frame, [*features, *([label] if label else [])], "feature/label")
    if "schema" in step.params:
        path = ctx.path(step.params["schema"])
        try:
            schema = Schema.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DataError(f"step {step.name!r}: schema file {str(path)!r}: {exc}") from exc
        checked = frame[[c for c in frame.columns if c in schema or c in features]]
        violations = validate(checked, schema)
        if violations:
            raise SchemaViolationError(violations)
        return {"schema": schema}
    columns = [*features, *([label] if label else [])]
    inferred = infer_schema(frame[columns], target=label)
    nullable = step.params.get("nullable", "all")
    if nullable not in ("all", "observed"):
        raise ConfigurationError(
            f"step {step.name!r}: nullable must be 'all' (every feature may be missing, the "
            f"default) or 'observed' (only features missing in these rows), got {nullable!r}"
        )
    if nullable == "observed":
        return {"schema": inferred}
    # A sample cannot show that a feature will never be missing: a column complete in this
    # month's rows may lack values next month, and a contract that refuses them would stop
    # retrained models from scoring (or being judged on) rows their champion took. Every
    # feature may be missing unless the step says nullable: observed; the label keeps its own.
    return {
        "schema": replace(
            inferred,
            columns=tuple(
                c if c.name == label else replace(c, nullable=True) for c in inferred.columns
            ),
        )
    }


def split(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Hold out the last ``test_size`` share by time (``by``) or a seeded random share."""
    frame: pd.DataFrame = ctx.value("data")
    test_size = float(step.params.get("test_size", 0.2))
    n_test = math.ceil(len(frame) * test_size)
    if n_test < 1 or n_test >= len(frame):
        raise DataError(
            f"step {step.name!r}: {len(frame)} rows cannot be split with test_size {test_size}"
        )
    by = step.params.get("by")
    if by is not None:
        _require_columns(step, frame, [by], "time")
        ordered = frame.sort_values(by, kind="mergesort").reset_index(drop=True)
        train, test = ordered.iloc[:-n_test], ordered.iloc[-n_test:]
    else:
        order = np.random.default_rng(step.params.get("seed", 0)).permutation(len(frame))
        train, test = frame.iloc[np.sort(order[n_test:])], frame.iloc[np.sort(order[:n_test])]
    return {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}


# -- train, evaluate ----------------------------------------------------------


def train(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Fit the chosen estimator on the train split's features and label."""
    frame: pd.DataFrame = ctx.value("train")
    features, label = list(step.params["features"]), step.params["label"]
    _require_columns(step, frame, [*features, label], "feature/label")
    y = frame[label]
    if y.isna().any():
        raise DataError(f"step {step.name!r}: label {label!r} has {int(y.isna().sum())} missing")
    if y.nunique() != 2:
        raise DataError(
            f"step {step.name!r}: label {label!r} must have exactly 2 classes, found {y.nunique()}"
        )
    estimator = build_estimator(
        step.params["estimator"],
        dict(step.params.get("estimator_params") or {}),
        frame[features],
        step=step.name,
    )
    estimator.fit(frame[features], y)
    upstream = ctx.upstream.get("schema")
    schema = (
        upstream.select(features)
        if isinstance(upstream, Schema) and all(f in upstream for f in features)
        else infer_schema(frame[features])
    )
    return {"model": TrainedModel(estimator, schema, tuple(features), label)}


def evaluate(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Binary classification metrics of the model on the test split."""
    model: TrainedModel = ctx.value("model")
    test: pd.DataFrame = ctx.value("test")
    _require_columns(step, test, [*model.features, model.label], "feature/label")
    chosen = tuple(step.params.get("metrics") or ("roc_auc", "accuracy", "log_loss"))
    proba = np.asarray(model.estimator.predict_proba(test[list(model.features)]))
    classes = getattr(model.estimator, "classes_", None)
    classes = list(model.estimator.classes if classes is None else classes)
    metrics = score_binary(test[model.label].to_numpy(), proba, classes, chosen, step=step.name)
    return {"metrics": metrics}


# -- register, promote --------------------------------------------------------


def register_identity(step: StepSpec, ctx: StepContext) -> str:
    """The registered model name: the same model under another name is a new version."""
    return ctx.model_name


def register(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Save a model package (schema, evaluation metrics, reference data) and register a version.

    The reference data kept in the package is the train split's features and
    label, at most ``reference_rows`` (default 50 000) rows drawn with a fixed
    seed; monitoring compares served traffic against it.
    """
    from loopml.models import save_model

    model: TrainedModel = ctx.value("model")
    reference = _reference(ctx.upstream.get("train"), model, int(step.params.get("reference_rows", 50_000)))
    metrics: dict[str, float] = dict(ctx.upstream.get("metrics") or {})
    estimator = model.fitted()
    shown = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())) or "no metrics"
    with tempfile.TemporaryDirectory(prefix="loopml-register-") as tmp:
        package = Path(tmp) / "model"
        save_model(estimator, package, schema=model.schema, metrics=metrics, reference=reference)
        version = ctx.registry.register(
            ctx.model_name,
            package,
            run_id=ctx.run_id,
            reason=step.params.get("description")
            or f"pipeline {ctx.pipeline!r} run {ctx.run_id}: {shown}",
        )
    return {"model_version": {"name": version.name, "version": int(version.version)}}


def _reference(train: Any, model: TrainedModel, max_rows: int) -> pd.DataFrame | None:
    if not isinstance(train, pd.DataFrame):
        return None
    columns = [c for c in (*model.features, model.label) if c in train.columns]
    frame = train[columns]
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).sort_index()
    return frame.reset_index(drop=True)


def _better(metric: str, value: float, other: float, margin: float) -> bool:
    if metric == "log_loss":  # lower is better
        return value <= other - margin
    return value >= other + margin


def _beats_alias(step: StepSpec, ctx: StepContext, alias: str, version: int) -> tuple[bool, str]:
    """Score the model behind ``alias`` on this run's test split; (passed, why)."""
    metric, margin = step.params["metric"], float(step.params.get("margin", 0.0))
    value = float(ctx.value("metrics")[metric])
    try:
        current = ctx.registry.resolve(ctx.model_name, alias)
    except NotFoundError:
        return True, f"no {alias} yet, so nothing to beat"
    if int(current.version) == version:
        return True, f"v{version} already is {alias}"
    test: pd.DataFrame = ctx.value("test")
    label = ctx.value("model").label
    loaded = ctx.registry.load(ctx.model_name, str(current.version))
    needed = list(loaded.schema.feature_names)
    lacking = [c for c in needed if c not in test.columns]
    if lacking:
        return False, f"{alias} v{current.version} needs column(s) {lacking} the test split lacks"
    proba = np.asarray(loaded.predict_proba(test[needed]))
    y = test[label].to_numpy()
    theirs = score_binary(y, proba, list(loaded.classes), (metric,), step=step.name)[metric]
    won = _better(metric, value, theirs, margin)
    return won, (
        f"{metric} {value:.4f} {'beats' if won else 'does not beat'} {alias} v{current.version} "
        f"{theirs:.4f} on the same {len(test)} test rows (margin {margin})"
    )


def promote(step: StepSpec, ctx: StepContext) -> dict[str, Any]:
    """Move an alias to the new version when the gate (min/max/must_beat) passes."""
    metric = step.params["metric"]
    alias = step.params.get("alias", "champion")
    version = int(ctx.value("model_version")["version"])
    value = float(ctx.value("metrics")[metric])
    passed, reasons = True, []
    if "min" in step.params:
        limit = float(step.params["min"])
        passed &= value >= limit
        reasons.append(f"{metric} {value:.4f} {'>=' if value >= limit else '<'} min {limit}")
    if "max" in step.params:
        limit = float(step.params["max"])
        passed &= value <= limit
        reasons.append(f"{metric} {value:.4f} {'<=' if value <= limit else '>'} max {limit}")
    if "must_beat" in step.params:
        won, why = _beats_alias(step, ctx, step.params["must_beat"], version)
        passed &= won
        reasons.append(why)
    reason = "; ".join(reasons)
    promoted = False
    if passed:
        try:
            already = int(ctx.registry.resolve(ctx.model_name, alias).version) == version
        except NotFoundError:
            already = False
        if not already:
            ctx.registry.set_alias(
                ctx.model_name,
                alias,
                version,
                reason=f"pipeline {ctx.pipeline!r} run {ctx.run_id}: gate passed: {reason}",
            )
            promoted = True
    decision = {"promoted": promoted, "passed": passed, "alias": alias, "version": version}
    return {"promotion": {**decision, "reason": reason}}


KINDS: dict[str, StepKind] = {
    "load": StepKind(load, identity=load_identity),
    "validate": StepKind(validate_step, identity=validate_identity),
    "split": StepKind(split),
    "train": StepKind(train),
    "evaluate": StepKind(evaluate),
    "register": StepKind(register, identity=register_identity),
    "promote": StepKind(promote, cacheable=False),
}
"""The built-in step kinds by name."""
