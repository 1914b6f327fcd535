"""Pipeline specifications: a validated YAML (or dict) description of a DAG of steps.

A pipeline file looks like::

    name: flights-delay
    experiment: flights
    model: flights-delay
    steps:
      - name: load
        kind: load
        params: {source: demo:flights, query: "month <= 3"}
      - {name: validate, kind: validate, params: {features: [carrier, distance]}}
      - {name: split, kind: split, params: {test_size: 0.2, by: time_hour}}
      - name: train
        kind: train
        params:
          estimator: hist_gradient_boosting
          estimator_params: {max_iter: 100}
          features: [carrier, distance]
          label: delayed
      - {name: evaluate, kind: evaluate}
      - {name: register, kind: register}
      - {name: promote, kind: promote, params: {metric: roc_auc, must_beat: champion}}

Every step's ``inputs`` default to the previous step; inputs must name
earlier steps, so the listed order is a topological order. Every error is a
:class:`loopml.errors.ConfigurationError` naming the step and field.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loopml.errors import ConfigurationError

__all__ = ["ESTIMATORS", "METRICS", "STEP_KINDS", "PipelineSpec", "StepSpec"]

ESTIMATORS: tuple[str, ...] = ("hist_gradient_boosting", "logistic_regression", "random_forest")
"""Estimators a ``train`` step may name."""

METRICS: tuple[str, ...] = ("roc_auc", "accuracy", "log_loss")
"""Binary classification metrics an ``evaluate`` step computes."""

# kind -> (required params, optional params)
_KIND_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "load": (frozenset({"source"}), frozenset({"columns", "query", "rename", "fallback"})),
    "validate": (frozenset(), frozenset({"schema", "features", "label", "nullable"})),
    "split": (frozenset(), frozenset({"test_size", "by", "seed"})),
    "train": (
        frozenset({"estimator", "features", "label"}),
        frozenset({"estimator_params"}),
    ),
    "evaluate": (frozenset(), frozenset({"metrics"})),
    "register": (frozenset(), frozenset({"description"})),
    "promote": (frozenset({"metric"}), frozenset({"min", "max", "must_beat", "margin", "alias"})),
}

STEP_KINDS: tuple[str, ...] = tuple(_KIND_PARAMS)
"""Built-in step kinds, in the order a typical pipeline uses them."""


@dataclass(frozen=True)
class StepSpec:
    """One step of a pipeline.

    Parameters
    ----------
    name : str
        Unique name within the pipeline (used in param overrides ``name.key``).
    kind : str
        One of :data:`STEP_KINDS`.
    params : dict
        Kind-specific parameters (plain JSON-like values).
    inputs : tuple of str
        Names of the upstream steps whose outputs this step reads.
    """

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()


def _fail(where: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"pipeline {where}: {message}" if where else f"pipeline: {message}")


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"field {key!r} is required and must be a non-empty string")
    return value


def _check_params(name: str, kind: str, params: dict[str, Any]) -> None:
    where = f"step {name!r} ({kind})"
    required, optional = _KIND_PARAMS[kind]
    unknown = sorted(set(params) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional)) or "none"
        raise _fail(where, f"unknown param(s) {', '.join(unknown)}; allowed: {allowed}")
    missing = sorted(required - set(params))
    if missing:
        raise _fail(where, f"missing required param(s) {', '.join(missing)}")

    def strings(key: str) -> None:
        value = params.get(key)
        if value is not None and (
            not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
        ):
            raise _fail(where, f"param {key!r} must be a non-empty list of column names")

    def number(key: str, low: float | None = None, high: float | None = None) -> None:
        value = params.get(key)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(where, f"param {key!r} must be a number, got {value!r}")
        if (low is not None and value <= low) or (high is not None and value >= high):
            raise _fail(where, f"param {key!r} must be in ({low}, {high}), got {value!r}")

    strings("columns")
    strings("features")
    if kind == "load":
        if not isinstance(params["source"], str) or not params["source"]:
            raise _fail(where, f"param 'source' must be a string, got {params['source']!r}")
        fallback = params.get("fallback")
        if fallback is not None:
            if not isinstance(fallback, dict) or "fallback" in fallback:
                raise _fail(where, "param 'fallback' must be a mapping of load params")
            _check_params(name, kind, fallback)
        rename = params.get("rename")
        if rename is not None and (
            not isinstance(rename, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in rename.items())
        ):
            raise _fail(where, "param 'rename' must map column names to new names")
        if params.get("query") is not None and not isinstance(params["query"], str):
            raise _fail(where, "param 'query' must be a pandas query string")
    elif kind == "split":
        number("test_size", 0.0, 1.0)
        if params.get("seed") is not None and not isinstance(params["seed"], int):
            raise _fail(where, f"param 'seed' must be an integer, got {params['seed']!r}")
    elif kind == "train":
        if params["estimator"] not in ESTIMATORS:
            raise _fail(
                where,
                f"param 'estimator' must be one of {', '.join(ESTIMATORS)}, "
                f"got {params['estimator']!r}",
            )
        if not isinstance(params.get("estimator_params", {}), dict):
            raise _fail(where, "param 'estimator_params' must be a mapping")
        if not isinstance(params["label"], str):
            raise _fail(where, "param 'label' must be a column name")
    elif kind == "evaluate":
        chosen = params.get("metrics", list(METRICS))
        if not isinstance(chosen, list) or not set(chosen) <= set(METRICS) or not chosen:
            raise _fail(where, f"param 'metrics' must be a list drawn from {', '.join(METRICS)}")
    elif kind == "promote":
        if params["metric"] not in METRICS:
            raise _fail(where, f"param 'metric' must be one of {', '.join(METRICS)}")
        number("min")
        number("max")
        number("margin")
        for alias_key in ("must_beat", "alias"):
            if alias_key in params and not isinstance(params[alias_key], str):
                raise _fail(where, f"param {alias_key!r} must be an alias name such as 'champion'")
        if not {"min", "max", "must_beat"} & set(params):
            raise _fail(where, "a promotion gate needs at least one of 'min', 'max', 'must_beat'")


def _set_dotted(raw: dict[str, Any], path: str, value: Any) -> None:
    step_name, _, rest = path.partition(".")
    if not rest:
        raise ConfigurationError(f"param override {path!r} must look like 'step.param[.key...]'")
    steps = raw.get("steps")
    matches = [s for s in steps or [] if isinstance(s, dict) and s.get("name") == step_name]
    if not matches:
        raise ConfigurationError(f"param override {path!r}: the pipeline has no step {step_name!r}")
    node = matches[0].setdefault("params", {})
    keys = rest.split(".")
    for key in keys[:-1]:
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            raise ConfigurationError(
                f"param override {path!r}: step {step_name!r} param {key!r} is not a mapping"
            )
        node = child
    node[keys[-1]] = value


@dataclass(frozen=True)
class PipelineSpec:
    """A validated pipeline: name, experiment, model name and steps.

    Parameters
    ----------
    name : str
        Pipeline name (lineage node ``pipeline:<name>``).
    experiment : str
        Experiment that receives one run per pipeline run.
    model : str
        Registered model name used by ``register`` and ``promote`` steps.
    steps : tuple of StepSpec
        Steps in a topological order.
    base_dir : Path or None
        Folder that relative file paths (``load`` sources, schema files) are
        resolved against: the YAML file's folder.
    path : Path or None
        The YAML file the spec was read from (recorded with each run; not
        part of equality).

    Examples
    --------
    >>> spec = PipelineSpec.from_dict({
    ...     "name": "p", "experiment": "e", "model": "m",
    ...     "steps": [{"name": "load", "kind": "load", "params": {"source": "input:train"}},
    ...               {"name": "split", "kind": "split"}]})
    >>> spec.steps[1].inputs
    ('load',)
    """

    name: str
    experiment: str
    model: str
    steps: tuple[StepSpec, ...]
    base_dir: Path | None = None
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def from_yaml(cls, path: str | Path) -> PipelineSpec:
        """Read and validate a pipeline YAML file.

        Raises
        ------
        ConfigurationError
            If the file is missing, is not YAML, or the pipeline is invalid.
        """
        file = Path(path)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"pipeline file {str(file)!r} cannot be read: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(
                f"pipeline file {str(file)!r} is not valid YAML: {exc}"
            ) from exc
        spec = cls.from_dict(data, base_dir=file.resolve().parent)
        return dataclasses.replace(spec, path=file.resolve())

    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | Path | None = None) -> PipelineSpec:
        """Validate a pipeline given as plain data (as parsed from YAML)."""
        if not isinstance(data, dict):
            raise ConfigurationError(
                "pipeline must be a mapping with name, experiment, model, steps"
            )
        unknown = sorted(set(data) - {"name", "experiment", "model", "steps"})
        if unknown:
            raise _fail("", f"unknown field(s) {', '.join(map(str, unknown))}")
        name = _text(data, "name", "")
        where = repr(name)
        experiment = _text(data, "experiment", where)
        model = _text(data, "model", where)
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise _fail(where, "field 'steps' must be a non-empty list")
        steps: list[StepSpec] = []
        for index, raw in enumerate(raw_steps):
            steps.append(cls._parse_step(raw, index, [s.name for s in steps]))
        return cls(
            name=name,
            experiment=experiment,
            model=model,
            steps=tuple(steps),
            base_dir=None if base_dir is None else Path(base_dir),
        )

    @staticmethod
    def _parse_step(raw: Any, index: int, earlier: list[str]) -> StepSpec:
        label = f"step #{index + 1}"
        if not isinstance(raw, dict):
            raise _fail(label, "must be a mapping with 'name' and 'kind'")
        if not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise _fail(label, "field 'name' is required and must be a non-empty string")
        name = raw["name"]
        where = f"step {name!r}"
        if "." in name:
            raise _fail(where, "field 'name' must not contain '.'")
        if name in earlier:
            raise _fail(where, "field 'name' is used by an earlier step")
        unknown = sorted(set(raw) - {"name", "kind", "params", "inputs"})
        if unknown:
            raise _fail(where, f"unknown field(s) {', '.join(map(str, unknown))}")
        kind = raw.get("kind")
        if kind not in _KIND_PARAMS:
            raise _fail(where, f"field 'kind' must be one of {', '.join(STEP_KINDS)}, got {kind!r}")
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            raise _fail(where, "field 'params' must be a mapping")
        inputs = raw.get("inputs", earlier[-1:])
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise _fail(where, "field 'inputs' must be a list of step names")
        for upstream in inputs:
            if upstream not in earlier:
                raise _fail(
                    where, f"field 'inputs' names {upstream!r}, which is not an earlier step"
                )
        if kind == "load" and inputs:
            raise _fail(where, "field 'inputs' must be empty for a load step")
        if kind != "load" and not inputs:
            raise _fail(where, "field 'inputs' is empty; only load steps have no inputs")
        _check_params(name, kind, params)
        return StepSpec(name=name, kind=kind, params=copy.deepcopy(params), inputs=tuple(inputs))

    def with_params(self, overrides: Mapping[str, Any]) -> PipelineSpec:
        """A copy with step params overridden by dotted paths, re-validated.

        Parameters
        ----------
        overrides : mapping
            ``{"train.estimator_params.max_iter": 50, "split.test_size": 0.3}``.

        Raises
        ------
        ConfigurationError
            If a path names no step, or the result is invalid.
        """
        raw = self.to_dict()
        for path, value in overrides.items():
            _set_dotted(raw, path, copy.deepcopy(value))
        spec = PipelineSpec.from_dict(raw, base_dir=self.base_dir)
        return dataclasses.replace(spec, path=self.path)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal spec."""
        return {
            "name": self.name,
            "experiment": self.experiment,
            "model": self.model,
            "steps": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "params": copy.deepcopy(s.params),
                    "inputs": list(s.inputs),
                }
                for s in self.steps
            ],
        }

    def step(self, name: str) -> StepSpec:
        """The step called ``name``; raises :class:`ConfigurationError` if there is none."""
        for step in self.steps:
            if step.name == name:
                return step
        raise ConfigurationError(f"pipeline {self.name!r} has no step {name!r}")
