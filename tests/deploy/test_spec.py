"""Deployment spec YAML: round trip, defaults, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.deploy import CanarySpec, DeploymentSpec, ShadowSpec
from loopml.errors import ConfigurationError


def test_full_spec_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "name: prod\nmodel: flights\ncanary:\n  alias: challenger\n  weight: 10\n"
        "shadow:\n  alias: candidate\n"
    )
    spec = DeploymentSpec.from_yaml(path)
    assert spec == DeploymentSpec(
        name="prod", model="flights", champion="champion",
        canary=CanarySpec("challenger", 10.0), shadow=ShadowSpec("candidate"),
    )
    assert spec.aliases == {"champion": "champion", "canary": "challenger", "shadow": "candidate"}
    assert DeploymentSpec.from_dict(spec.to_dict()) == spec


def test_champion_only() -> None:
    spec = DeploymentSpec.from_dict({"name": "p", "model": "m"})
    assert spec.canary is None and spec.shadow is None
    assert spec.aliases == {"champion": "champion"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"model": "m"}, "'name'"),
        ({"name": "p"}, "'model'"),
        ({"name": "p", "model": "m", "canary": {"alias": "c", "weight": 0}}, "canary.weight"),
        ({"name": "p", "model": "m", "canary": {"alias": "c", "weight": 100}}, "canary.weight"),
        ({"name": "p", "model": "m", "canary": {"alias": "c", "weight": "10%"}}, "canary.weight"),
        ({"name": "p", "model": "m", "canary": {"weight": 5}}, "canary.alias"),
        ({"name": "p", "model": "m", "canary": {"alias": "c", "weight": 5, "x": 1}}, "x"),
        ({"name": "p", "model": "m", "shadow": "candidate"}, "'shadow'"),
        ({"name": "p", "model": "m", "shadow": {"alias": "champion"}}, "different aliases"),
        ({"name": "p", "model": "m", "routes": []}, "routes"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_invalid_specs_name_the_field(data: object, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        DeploymentSpec.from_dict(data)


def test_unreadable_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read deployment"):
        DeploymentSpec.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        DeploymentSpec.from_yaml(bad)
