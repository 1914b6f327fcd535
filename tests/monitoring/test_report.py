from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml.monitoring
from loopml.monitoring import (
    REPORT_SCHEMA_VERSION,
    MonitoringReport,
    compute_drift,
    realised_performance,
)
from loopml.schema import Schema

FrameMaker = Callable[..., pd.DataFrame]


def _report(schema: Schema, make_frame: FrameMaker, *, with_performance: bool) -> MonitoringReport:
    drift = compute_drift(
        make_frame(500, shifted=False, seed=1), make_frame(400, shifted=True, seed=2), schema
    )
    performance = realised_performance([1, 1, 1], [0.9, 0.2, 0.7]) if with_performance else None
    return MonitoringReport(
        model="churn",
        version=3,
        alias="champion",
        window_start=datetime(2024, 5, 1, tzinfo=UTC),
        window_end=datetime(2024, 5, 2, tzinfo=UTC),
        drift=drift,
        performance=performance,
        labelled_rows=3,
        created_at=datetime(2024, 5, 2, 12, tzinfo=UTC),
    )


def test_to_dict_shape(schema: Schema, make_frame: FrameMaker) -> None:
    data = _report(schema, make_frame, with_performance=True).to_dict()
    assert data["schema_version"] == REPORT_SCHEMA_VERSION == 2
    assert (data["model"], data["version"], data["alias"]) == ("churn", 3, "champion")
    assert data["window"] == {
        "start": "2024-05-01T00:00:00+00:00",
        "end": "2024-05-02T00:00:00+00:00",
    }
    assert data["created_at"] == "2024-05-02T12:00:00+00:00"
    assert (data["reference_rows"], data["current_rows"], data["labelled_rows"]) == (500, 400, 3)
    assert data["verdict"] == "no_drift"
    assert data["drift"]["drifted_columns"] == ["income", "city"]
    assert data["performance"]["roc_auc"] is None
    assert data["performance"]["finding"].startswith("only class 1")


def test_to_json_writes_strict_json(schema: Schema, make_frame: FrameMaker, tmp_path: Path) -> None:
    report = _report(schema, make_frame, with_performance=False)
    path = tmp_path / "report.json"
    text = report.to_json(path)
    assert path.read_text(encoding="utf-8").strip() == text
    loaded = json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert loaded["performance"] is None
    assert loaded == report.to_dict()


def test_verdict_follows_dataset_drift(schema: Schema, make_frame: FrameMaker) -> None:
    report = _report(schema, make_frame, with_performance=False)
    assert report.verdict == ("drift" if report.drift.dataset_drift else "no_drift")
    assert isinstance(np.float64(report.drift.share_drifted).item(), float)


def test_exported_members() -> None:
    assert sorted(loopml.monitoring.__all__) == [
        "CATEGORICAL_METHODS",
        "CBPE",
        "CBPEEstimate",
        "ColumnDrift",
        "ColumnKind",
        "ColumnQuality",
        "ConceptDriftResult",
        "Detection",
        "DriftConfig",
        "DriftReport",
        "MetricEstimate",
        "MonitoringReport",
        "NUMERIC_METHODS",
        "PerformanceResult",
        "PredictionDrift",
        "QualityReport",
        "REPORT_SCHEMA_VERSION",
        "WindowPerformance",
        "WindowedPerformance",
        "column_drift",
        "compute_drift",
        "data_quality",
        "detect_concept_drift",
        "performance_by_window",
        "prediction_drift",
        "realised_performance",
    ]


def test_reports_validate_against_the_published_json_schema(
    schema: Schema, make_frame: FrameMaker
) -> None:
    import jsonschema

    from loopml.monitoring.report import REPORT_JSON_SCHEMA

    published = json.loads(REPORT_JSON_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(published)
    for with_performance in (True, False):
        data = _report(schema, make_frame, with_performance=with_performance).to_dict()
        jsonschema.validate(data, published)
    broken = _report(schema, make_frame, with_performance=True).to_dict()
    broken["drift"]["columns"][0]["p_value"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, published)
