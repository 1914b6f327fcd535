from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from loopml.errors import ConfigurationError
from loopml.pipeline import PipelineSpec

VALID: dict[str, Any] = {
    "name": "flights-delay",
    "experiment": "flights",
    "model": "flights",
    "steps": [
        {"name": "load", "kind": "load", "params": {"source": "data.csv"}},
        {"name": "validate", "kind": "validate", "params": {"label": "y"}},
        {"name": "split", "kind": "split", "params": {"test_size": 0.25, "seed": 3}},
        {
            "name": "train",
            "kind": "train",
            "params": {
                "estimator": "logistic_regression",
                "estimator_params": {"C": 1.0},
                "features": ["a", "b"],
                "label": "y",
            },
        },
        {"name": "evaluate", "kind": "evaluate"},
        {"name": "register", "kind": "register"},
        {"name": "promote", "kind": "promote", "params": {"metric": "roc_auc", "min": 0.5}},
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """VALID with one field replaced: path like 'steps.3.params.estimator'."""
    data = copy.deepcopy(VALID)
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is ...:
        del node[last]
    else:
        node[last] = value
    return data


def test_valid_spec_defaults_inputs_to_previous_step() -> None:
    spec = PipelineSpec.from_dict(VALID, base_dir="/pipelines")
    assert [s.name for s in spec.steps][:3] == ["load", "validate", "split"]
    assert spec.steps[0].inputs == ()
    assert spec.steps[4].inputs == ("train",)
    assert spec.step("promote").params == {"metric": "roc_auc", "min": 0.5}
    assert spec.base_dir == Path("/pipelines")
    assert PipelineSpec.from_dict(spec.to_dict(), base_dir="/pipelines") == spec


def test_from_yaml_resolves_base_dir(tmp_path: Path) -> None:
    import yaml

    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(VALID))
    spec = PipelineSpec.from_yaml(file)
    assert spec.base_dir == tmp_path
    assert spec.name == "flights-delay"


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigurationError, match="bad.yaml.*not valid YAML"):
        PipelineSpec.from_yaml(bad)
    with pytest.raises(ConfigurationError, match="missing.yaml"):
        PipelineSpec.from_yaml(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("model", ..., "field 'model' is required"),
        ("steps", [], "field 'steps' must be a non-empty list"),
        ("owner", "me", "unknown field.*owner"),
        ("steps.1.kind", "clean", r"step 'validate'.*'kind' must be one of"),
        ("steps.2.name", "load", r"step 'load'.*used by an earlier step"),
        ("steps.2.params.test_size", 1.5, r"step 'split' \(split\).*'test_size'"),
        ("steps.2.params.seed", "x", r"step 'split'.*'seed' must be an integer"),
        ("steps.3.params.estimator", "svm", r"step 'train'.*'estimator' must be one of"),
        ("steps.3.params.features", "a", r"step 'train'.*'features'"),
        ("steps.3.params.label", ..., r"step 'train'.*missing required param.*label"),
        ("steps.3.params.depth", 3, r"step 'train'.*unknown param.*depth"),
        ("steps.3.inputs", ["promote"], r"step 'train'.*'promote', which is not an earlier step"),
        ("steps.4.params", {"metrics": ["f1"]}, r"step 'evaluate'.*'metrics'"),
        ("steps.6.params", {"metric": "roc_auc"}, r"step 'promote'.*at least one of"),
        ("steps.6.params", {"metric": "r2", "min": 0.1}, r"step 'promote'.*'metric'"),
        ("steps.0.params", {}, r"step 'load'.*missing required param.*source"),
        ("steps.0.inputs", ["load"], r"step 'load'.*not an earlier step"),
        ("steps.5", "register", r"step #6.*must be a mapping"),
    ],
)
def test_errors_name_the_step_and_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PipelineSpec.from_dict(_with(path, value))


def test_param_overrides_by_dotted_path() -> None:
    spec = PipelineSpec.from_dict(VALID)
    changed = spec.with_params({"train.estimator_params.C": 0.1, "split.test_size": 0.3})
    assert changed.step("train").params["estimator_params"] == {"C": 0.1}
    assert changed.step("split").params["test_size"] == 0.3
    assert spec.step("train").params["estimator_params"] == {"C": 1.0}  # original untouched
    deeper = spec.with_params({"train.estimator_params.class_weight": "balanced"})
    assert deeper.step("train").params["estimator_params"]["class_weight"] == "balanced"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fit.max_iter": 3}, "no step 'fit'"),
        ({"train": 3}, "must look like 'step.param"),
        ({"train.label.x": 1}, "'label' is not a mapping"),
        ({"split.test_size": -1}, r"step 'split'.*test_size"),
    ],
)
def test_bad_overrides_are_configuration_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PipelineSpec.from_dict(VALID).with_params(overrides)
