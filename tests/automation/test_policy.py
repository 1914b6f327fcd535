"""Policy YAML validation: defaults, relative paths, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.automation import Policy
from loopml.errors import ConfigurationError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_minimal_policy_gets_documented_defaults(tmp_path: Path) -> None:
    policy = Policy.from_yaml(_write(tmp_path, "model: m\npipeline: p.yaml\n"))
    assert policy.model == "m"
    assert policy.pipeline == (tmp_path / "p.yaml").resolve()
    assert policy.champion_alias == "champion"
    assert policy.triggers.drift_share == 0.3
    assert policy.triggers.min_labelled_rows == 500
    assert policy.challenger.metric == "roc_auc"
    assert policy.challenger.margin == 0.005
    assert policy.max_rows == 20_000


def test_shipped_demo_policy_is_valid() -> None:
    from importlib import resources

    source = resources.files("loopml.demo").joinpath("flights_policy.yaml")
    with resources.as_file(source) as path:
        policy = Policy.from_yaml(path)
    assert policy.model == "flights"
    assert policy.pipeline.name == "flights_pipeline.yaml"


def test_null_trigger_disables_it(tmp_path: Path) -> None:
    policy = Policy.from_yaml(
        _write(tmp_path, "model: m\npipeline: p.yaml\ntriggers:\n  drift_share: null\n")
    )
    assert policy.triggers.drift_share is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("pipeline: p.yaml\n", "'model'"),
        ("model: m\n", "'pipeline'"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  drift_share: 1.5\n", "triggers.drift_share"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  drift_share: high\n", "triggers.drift_share"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  min_labelled_rows: 0\n", "triggers.min_labelled_rows"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  drfit_share: 0.2\n", "drfit_share"),
        ("model: m\npipeline: p.yaml\nchallenger:\n  metric: auc\n", "challenger.metric"),
        ("model: m\npipeline: p.yaml\nchallenger:\n  holdout_fraction: 0.99\n", "holdout_fraction"),
        ("model: m\npipeline: p.yaml\nwindow: 5\n", "'window'"),
        ("- just\n- a list\n", "mapping"),
        ("model: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_policy_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.").replace("'", "'")):
        Policy.from_yaml(_write(tmp_path, text))


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read policy"):
        Policy.from_yaml(tmp_path / "nope.yaml")
