"""``loopml monitor``: drift settings from the command line, clear errors without data."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.cli.monitor import drift_config
from loopml.settings import Settings

runner = CliRunner()


def test_settings_become_a_drift_config() -> None:
    config = drift_config(["wasserstein_threshold=0.2", "drift_share=0.3", "large_reference=500"])
    assert config.wasserstein_threshold == 0.2
    assert config.drift_share == 0.3
    assert config.large_reference == 500


@pytest.mark.parametrize("item", ["nope=1", "drift_share", "drift_share=2", "ks_threshold=abc"])
def test_bad_settings_are_usage_errors(item: str) -> None:
    with pytest.raises(typer.BadParameter):
        drift_config([item])


def test_monitor_without_reference_or_traffic_is_one_line(home: Settings, package: Path) -> None:
    with loopml.connect(home) as client:
        client.registry.register("m", package, reason="first")
        client.registry.set_alias("m", "champion", 1, reason="test")
    result = runner.invoke(app, ["monitor", "m@champion"])
    assert result.exit_code == 1
    assert "no stored reference data" in result.output
    assert "Traceback" not in result.output
    unknown = runner.invoke(app, ["monitor", "ghost@champion"])
    assert unknown.exit_code == 1 and "ghost" in unknown.output
