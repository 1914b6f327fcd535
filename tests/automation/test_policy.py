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
    assert policy.triggers.drift_share is None  # off by default (docs/loop-outcome.md)
    assert policy.triggers.performance_drop == 0.03
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
        ("model: m\npipeline: p.yaml\ntriggers:\n  schedule: every monday\n", "triggers.schedule"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  drift_share: {threshold: 0.2, min: 3}\n",
         "triggers.drift_share"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  drift_share: {threshold: 2}\n",
         "triggers.drift_share.threshold"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  column_drift: [distance]\n",
         "triggers.column_drift"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  column_drift: {distance: -1}\n",
         "triggers.column_drift.distance"),
        ("model: m\npipeline: p.yaml\ntriggers:\n  new_labelled_rows: 0\n",
         "triggers.new_labelled_rows"),
        ("model: m\npipeline: p.yaml\nchallenger:\n  alpha: 1\n", "challenger.alpha"),
        ("model: m\npipeline: p.yaml\nchallenger:\n  resamples: 10\n", "challenger.resamples"),
        ("model: m\npipeline: p.yaml\ncanary:\n  weight: 100\n", "canary.weight"),
        ("model: m\npipeline: p.yaml\ncanary:\n  alias: champion\n", "canary.alias"),
        ("model: m\npipeline: p.yaml\ncanary:\n  max_error_rate: 0.01\n", "serving.metrics_url"),
        ("model: m\npipeline: p.yaml\ncanary:\n  wieght: 5\n", "wieght"),
        ("model: m\npipeline: p.yaml\nrollback:\n  max_error_rate: 2\n", "rollback.max_error_rate"),
        ("model: m\npipeline: p.yaml\napproval:\n  approvers: alice\n", "approval.approvers"),
        ("model: m\npipeline: p.yaml\nwindow:\n  max_age_days: 0\n", "window.max_age_days"),
        ("model: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_policy_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.").replace("'", "'")):
        Policy.from_yaml(_write(tmp_path, text))


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read policy"):
        Policy.from_yaml(tmp_path / "nope.yaml")


def test_full_policy_round_trips_every_section(tmp_path: Path) -> None:
    text = """
model: flights
pipeline: p.yaml
triggers:
  min_rows: 800
  drift_share: {threshold: 0.4, min_rows: 2000}
  performance_drop: null
  estimated_performance_drop: 0.02
  column_drift: {distance: 0.2, origin: {threshold: 0.1, min_rows: 50}}
  schedule: "0 3 * * 1"
  new_labelled_rows: 5000
window: {max_rows: 5000, max_age_days: 30}
challenger: {metric: accuracy, margin: 0.01, alpha: 0.01, resamples: 500, seed: 3}
canary: {weight: 5, min_requests: 200, max_error_rate: 0.02, max_latency_p99_ms: 250}
rollback: {metric_drop: 0.04, min_labelled_rows: 100}
approval: {timeout_hours: 2, approvers: [alice]}
serving: {metrics_url: "http://127.0.0.1:8000/metrics"}
"""
    policy = Policy.from_yaml(_write(tmp_path, text))
    t = policy.triggers
    assert (t.drift_share, t.performance_drop, t.estimated_performance_drop) == (0.4, None, 0.02)
    assert dict(t.column_drift) == {"distance": 0.2, "origin": 0.1}
    assert (t.schedule, t.new_labelled_rows) == ("0 3 * * 1", 5000)
    assert t.min_evidence("drift_share") == 2000
    assert t.min_evidence("column_drift:origin") == 50
    assert t.min_evidence("column_drift:distance") == 800  # logged rows: min_rows
    assert t.min_evidence("performance_drop") == 500  # labelled rows: min_labelled_rows
    assert (policy.max_rows, policy.max_age_days) == (5000, 30.0)
    c = policy.challenger
    assert (c.metric, c.margin, c.alpha, c.resamples, c.seed) == ("accuracy", 0.01, 0.01, 500, 3)
    assert policy.canary is not None and policy.canary.alias == "canary"
    assert (policy.canary.weight, policy.canary.min_requests) == (5.0, 200)
    assert policy.canary.max_error_rate == 0.02 and policy.canary.max_latency_p99_ms == 250
    assert policy.rollback is not None and policy.rollback.metric_drop == 0.04
    assert policy.approval is not None and policy.approval.approvers == ("alice",)
    assert policy.metrics_url == "http://127.0.0.1:8000/metrics"


def test_optional_stages_are_off_by_default(tmp_path: Path) -> None:
    policy = Policy.from_yaml(_write(tmp_path, "model: m\npipeline: p.yaml\n"))
    assert policy.canary is None and policy.rollback is None and policy.approval is None
    assert policy.triggers.schedule is None and policy.triggers.new_labelled_rows is None
    assert policy.challenger.alpha == 0.05 and policy.challenger.resamples == 2000
